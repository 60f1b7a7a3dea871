package clock_test

import (
	"fmt"
	"time"

	"github.com/allot-dev/allot/clock"
)

func ExampleFake() {
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	c.Advance(4 * time.Hour)
	fmt.Println(c.Now().Format(time.RFC3339))
	// Output: 2026-11-02T13:00:00Z
}
