package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
)

func TestReal_NowIsUTC(t *testing.T) {
	if loc := (clock.Real{}).Now().Location(); loc != time.UTC {
		t.Fatalf("Real.Now() location = %v, want UTC", loc)
	}
}

func TestFake_SetAndAdvance(t *testing.T) {
	start := time.Date(2026, 3, 29, 0, 30, 0, 0, time.FixedZone("CET", 3600))
	f := clock.NewFake(start)
	if got := f.Now(); !got.Equal(start) || got.Location() != time.UTC {
		t.Fatalf("Now() = %v, want %v in UTC", got, start)
	}
	if got, want := f.Advance(4*time.Hour), start.Add(4*time.Hour); !got.Equal(want) {
		t.Fatalf("Advance(4h) = %v, want %v", got, want)
	}
	later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Set(later)
	if got := f.Now(); !got.Equal(later) {
		t.Fatalf("after Set, Now() = %v, want %v", got, later)
	}
}

func TestFake_ConcurrentAdvance(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := clock.NewFake(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				f.Advance(time.Second)
				_ = f.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := f.Now(), start.Add(800*time.Second); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v: an Advance was lost", got, want)
	}
}
