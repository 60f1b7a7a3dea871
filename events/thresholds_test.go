package events_test

import (
	"math"
	"slices"
	"testing"

	"github.com/allot-dev/allot/events"
)

func TestCrossed(t *testing.T) {
	ts := events.DefaultThresholds()
	collect := func(ub, pb, u, p int64) []events.Threshold {
		return slices.Collect(events.Crossed(ts, "seat", ub, pb, u, p))
	}
	if got := collect(79, 100, 80, 100); len(got) != 1 || got[0].Percent != 80 || !got[0].Up || got[0].Used != 80 {
		t.Errorf("79 → 80 of 100: %+v", got)
	}
	if got := collect(79, 100, 100, 100); len(got) != 2 {
		t.Errorf("79 → 100 of 100 crosses both: %+v", got)
	}
	if got := collect(100, 100, 100, 200); len(got) != 2 || got[0].Up || got[1].Up {
		t.Errorf("a purchase that halves the use crosses both down: %+v", got)
	}
	if got := collect(0, 0, 0, 0); len(got) != 0 {
		t.Errorf("nothing purchased: %+v", got)
	}
	if got := collect(0, math.MaxInt64, math.MaxInt64, math.MaxInt64); len(got) != 2 {
		t.Errorf("counts near MaxInt64 overflow: %+v", got)
	}
	if bad, ok := events.BadThreshold([]int{80, 0}); !ok || bad != 0 {
		t.Errorf("BadThreshold(80, 0) = %d, %v", bad, ok)
	}
	if _, ok := events.BadThreshold([]int{1, 100}); ok {
		t.Error("1 and 100 are thresholds")
	}
}
