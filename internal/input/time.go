package input

import (
	"fmt"
	"time"
)

// MinTime and MaxTime bound the times every store keeps: years 1 to 9999
// UTC, which PostgreSQL's timestamptz, RFC 3339 and JSON all represent. A
// time outside [MinTime, MaxTime] is refused wherever one is accepted.
var (
	MinTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, time.December, 31, 23, 59, 59, 999999000, time.UTC)
)

// Time returns why t cannot be stored, or "". The zero time (which callers
// use for "unset") is MinTime and passes.
func Time(t time.Time) string {
	if t.Before(MinTime) || t.After(MaxTime) {
		return fmt.Sprintf("%s is outside the years 1 to 9999 that every store keeps", t.UTC().Format(time.RFC3339Nano))
	}
	return ""
}
