package passes_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
)

// outbox returns every event of the fixture's store.
func outbox(t *testing.T, f *fixture) []events.Event {
	t.Helper()
	var out []events.Event
	for e, err := range events.NewReader(f.mem).All(f.ctx, events.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		e.Seq = 0
		out = append(out, e)
	}
	return out
}

func TestEvents_EveryActEmitsOnce(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, &passes.Options{Thresholds: []int{50, 100}, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
	if got := outbox(t, f); len(got) != 0 {
		t.Fatalf("sessions emitted %v", got)
	}
	f.buy("acme", 2, "o1")
	f.buy("acme", 2, "o1") // a retry: nothing new
	f.mustLogin("acme", "day", "ann@x.example", "r1")
	f.mustLogin("acme", "day", "ann@x.example", "r1") // a retry
	f.clock.Advance(time.Hour)
	f.mustLogin("acme", "day", "ann@x.example", "r2") // inside the window
	f.mustLogin("acme", "day", "bob@x.example", "r3") // 2 of 2 spent
	if _, err := f.login("acme", "day", "cy@x.example", "r4"); !errors.Is(err, passes.ErrInsufficientPasses) {
		t.Fatal(err)
	}
	f.mustLogin("acme", "demo", "dan@x.example", "r5")
	opened := f.clock.Now()
	f.clock.Advance(5 * time.Hour)
	for _, req := range []string{"r6", "r7"} { // two refusals, one lock
		if _, err := f.login("acme", "demo", "eve@x.example", req); !errors.Is(err, passes.ErrDemoLocked) {
			t.Fatal(err)
		}
	}
	locks := opened.Add(4 * time.Hour)
	later := f.clock.Now()
	at1 := t0.Add(time.Hour)
	want := []events.Event{
		{Type: events.PassesPurchased, Org: "acme", At: t0, Actor: vendor, RequestID: "o1"},
		{Type: events.PassesAdmitted, Org: "acme", At: t0, Actor: "ann@x.example", RequestID: "r1", Payload: events.GuestAdmitted{Session: "day", Guest: "ann@x.example", PassType: "day", Passes: 1, Until: t0.Add(24 * time.Hour), Balance: 1}},
		{Type: events.PoolThreshold, Org: "acme", At: t0, Actor: "ann@x.example", RequestID: "r1", Payload: events.Threshold{Product: "pass", Percent: 50, Up: true, Used: 1, Purchased: 2}},
		{Type: events.PassesAdmitted, Org: "acme", At: at1, Actor: "ann@x.example", RequestID: "r2", Payload: events.GuestAdmitted{Session: "day", Guest: "ann@x.example", PassType: "day", InWindow: true, Until: t0.Add(24 * time.Hour), Balance: 1}},
		{Type: events.PassesAdmitted, Org: "acme", At: at1, Actor: "bob@x.example", RequestID: "r3", Payload: events.GuestAdmitted{Session: "day", Guest: "bob@x.example", PassType: "day", Passes: 1, Until: at1.Add(24 * time.Hour), Balance: 0}},
		{Type: events.PoolThreshold, Org: "acme", At: at1, Actor: "bob@x.example", RequestID: "r3", Payload: events.Threshold{Product: "pass", Percent: 100, Up: true, Used: 2, Purchased: 2}},
		{Type: events.PassesLoginRefused, Org: "acme", At: at1, Actor: "cy@x.example", RequestID: "r4", Payload: events.LoginRefused{Session: "day", Guest: "cy@x.example", Reason: "insufficient_passes"}},
		{Type: events.PassesAdmitted, Org: "acme", At: at1, Actor: "dan@x.example", RequestID: "r5", Payload: events.GuestAdmitted{Session: "demo", Guest: "dan@x.example", PassType: "demo", Until: locks}},
		{Type: events.PassesDemoOpened, Org: "acme", At: at1, Actor: "dan@x.example", RequestID: "r5", Payload: events.DemoOpened{Session: "demo", LocksAt: locks}},
		{Type: events.PassesLoginRefused, Org: "acme", At: later, Actor: "eve@x.example", RequestID: "r6", Payload: events.LoginRefused{Session: "demo", Guest: "eve@x.example", Reason: "demo_locked"}},
		{Type: events.PassesDemoLocked, Org: "acme", At: locks, Actor: "eve@x.example", RequestID: "r6", Payload: events.DemoLocked{Session: "demo", LockedAt: locks}},
		{Type: events.PassesLoginRefused, Org: "acme", At: later, Actor: "eve@x.example", RequestID: "r7", Payload: events.LoginRefused{Session: "demo", Guest: "eve@x.example", Reason: "demo_locked"}},
	}
	got := outbox(t, f)
	// The purchase's payload is the allot.Purchase it returned.
	if len(got) > 0 {
		want[0].Payload = got[0].Payload
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for _, s := range []string{`level=INFO msg="passes: purchase retried; returning its first result" org=acme request_id=o1`,
		`level=INFO msg="passes: login retried; returning its first result" org=acme request_id=r1`,
		`level=DEBUG msg="passes: login refused" org=acme request_id=r4 code=insufficient`} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("the log lacks %q:\n%s", s, logs.String())
		}
	}
}

func TestEvents_ThresholdsChecked(t *testing.T) {
	for _, ts := range [][]int{{0}, {101}, {80, -1}} {
		_, err := passes.New(newFixture(t, nil).mem.Passes(), &passes.Options{Thresholds: ts})
		var ie *passes.InvalidError
		if !errors.As(err, &ie) || ie.Field != "Thresholds" {
			t.Errorf("Thresholds %v: %v", ts, err)
		}
	}
	// A purchase takes the use back down.
	f := newFixture(t, nil)
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.buy("acme", 1, "o1")
	f.mustLogin("acme", "day", "ann@x.example", "r1") // 100 %: up 80 and 100
	f.buy("acme", 1, "o2")                            // 50 %: down 100 and 80
	var th []events.Threshold
	for _, e := range outbox(t, f) {
		if p, ok := e.Payload.(events.Threshold); ok {
			th = append(th, p)
		}
	}
	want := []events.Threshold{
		{Product: "pass", Percent: 80, Up: true, Used: 1, Purchased: 1}, {Product: "pass", Percent: 100, Up: true, Used: 1, Purchased: 1},
		{Product: "pass", Percent: 80, Used: 1, Purchased: 2}, {Product: "pass", Percent: 100, Used: 1, Purchased: 2},
	}
	if d := cmp.Diff(want, th); d != "" {
		t.Errorf("thresholds (-want +got):\n%s", d)
	}
	_ = context.Background
}
