package passes

import (
	"encoding/base64"

	"github.com/allot-dev/allot/internal/input"
)

// Cursor kinds: a cursor names the listing and the workspace it pages, so a
// cursor of another listing or another workspace is refused rather than
// read as a place in this one.
const (
	cursorSessions = "sessions"
	cursorLog      = "log"
)

// encodeCursor returns the opaque cursor of the place after key in the
// listing kind of org's records.
func encodeCursor(kind, org, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(input.Join(kind, org, key)))
}

// decodeCursor returns the key encodeCursor(kind, org, key) holds, or false
// for a cursor it did not make for that listing and workspace.
func decodeCursor(kind, org, cursor string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	parts, ok := input.Split(string(b))
	if !ok || len(parts) != 3 || parts[0] != kind || parts[1] != org {
		return "", false
	}
	return parts[2], true
}
