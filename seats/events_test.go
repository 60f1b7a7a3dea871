package seats_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/seats"
	"github.com/google/go-cmp/cmp"
)

// outbox returns every event of the fixture's store, without their Seq.
func outbox(t *testing.T, f *fixture) []events.Event {
	t.Helper()
	var out []events.Event
	for e, err := range events.NewReader(f.ms).All(f.ctx, events.Query{}) {
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
	f := newFixture(t)
	svc, err := seats.New(f.ms.Seats(), &seats.Options{Clock: f.clock, Roles: f.roles, Thresholds: []int{50, 100},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	f.must(err)
	f.svc = svc
	live := start.Add(-time.Hour)
	f.buy("acme", seats.Seats, 10, "p1")
	f.buy("acme", seats.Seats, 10, "p1") // a retry: nothing new
	create := seats.CreateEventParams{Org: "acme", Actor: organizer, ID: "e1", Start: live, End: live.Add(4 * time.Hour), Participants: 4, Modules: []string{"polls"}}
	f.must(second(f.svc.CreateEvent(f.ctx, create)))
	f.must(second(f.svc.CreateEvent(f.ctx, create))) // a retry
	f.must(second(f.svc.CreateEvent(f.ctx, seats.CreateEventParams{Org: "acme", Actor: organizer, ID: "e2", Start: live, End: live.Add(time.Hour)})))
	f.clock.Advance(time.Minute)
	at1 := f.clock.Now()
	f.must(second(f.seats("acme", "ana", "e1", 4, "r1")))
	f.must(second(f.seats("acme", "ana", "e1", 4, "r1"))) // a retry
	if _, err := f.seats("acme", "ana", "e1", 40, "r2"); !errors.Is(err, seats.ErrInsufficient) {
		t.Fatal(err)
	}
	if _, err := f.seats("acme", "bob", "e1", 1, "r3"); !errors.Is(err, seats.ErrForbidden) {
		t.Fatal(err)
	}
	f.must(second(f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e1"}))) // covered
	f.must(second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: 7})))
	f.must(second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: 7}))) // a retry
	f.must(second(f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e2", Modules: []string{"qna", "polls"}})))
	f.clock.Advance(time.Minute)
	at2 := f.clock.Now()
	f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})))
	f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: "ana"}))) // nothing to do

	purchase := events.Event{Type: events.SeatsPurchased, Org: "acme", At: start, Actor: "billing", RequestID: "p1",
		Payload: allot.Purchase{Org: "acme", Product: "seat", Quantity: 10, Subscription: "sub-acme", Actor: "billing", RequestID: "p1", At: start, Purchased: 10, Available: 10}}
	want := []events.Event{
		purchase,
		{Type: events.SeatsEventLacking, Org: "acme", At: start, Actor: organizer, Payload: events.EventLacking{Event: "e1", Seats: 4, Modules: []string{"polls"}}},
		{Type: events.SeatsModuleMissing, Org: "acme", At: start, Actor: organizer, Payload: events.ModuleMissing{Event: "e1", Module: "polls"}},
		{Type: events.SeatsTransferred, Org: "acme", At: at1, Actor: "ana", RequestID: "r1", Payload: events.Transferred{Event: "e1", Product: "seat", Quantity: 4, Available: 6, Assigned: 4}},
		{Type: events.SeatsEventCovered, Org: "acme", At: at1, Actor: organizer, Payload: events.EventCovered{Event: "e1"}},
		{Type: events.SeatsEventLacking, Org: "acme", At: at1, Actor: organizer, Payload: events.EventLacking{Event: "e1", Seats: 3}},
		{Type: events.SeatsEventLacking, Org: "acme", At: at1, Actor: organizer, Payload: events.EventLacking{Event: "e2", Modules: []string{"polls", "qna"}}},
		{Type: events.SeatsModuleMissing, Org: "acme", At: at1, Actor: organizer, Payload: events.ModuleMissing{Event: "e2", Module: "polls"}},
		{Type: events.SeatsModuleMissing, Org: "acme", At: at1, Actor: organizer, Payload: events.ModuleMissing{Event: "e2", Module: "qna"}},
		{Type: events.SeatsAssigned, Org: "acme", At: at2, Actor: "system", Payload: events.Transferred{Event: "e1", Product: "seat", Quantity: 3, Available: 3, Assigned: 7}},
		{Type: events.SeatsEventCovered, Org: "acme", At: at2, Actor: "system", Payload: events.EventCovered{Event: "e1"}},
		{Type: events.PoolThreshold, Org: "acme", At: at2, Actor: "system", Payload: events.Threshold{Product: "seat", Percent: 50, Up: true, Used: 7, Purchased: 10}},
	}
	if d := cmp.Diff(want, outbox(t, f)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for _, s := range []string{
		`level=INFO msg="seats: purchase retried; returning its first result" org=acme request_id=p1`,
		`level=INFO msg="seats: create event retried; returning its first result" org=acme request_id=""`,
		`level=INFO msg="seats: transfer retried; returning its first result" org=acme request_id=r1`,
		`level=DEBUG msg="seats: transfer refused" org=acme request_id=r2 code=insufficient`,
		`level=DEBUG msg="seats: transfer refused" org=acme request_id=r3 code=forbidden`,
	} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("the log lacks %q:\n%s", s, logs.String())
		}
	}
}

func TestEvents_ModuleTransferAndThresholds(t *testing.T) {
	for _, ts := range [][]int{{0}, {101}, {80, -1}} {
		_, err := seats.New(newFixture(t).ms.Seats(), &seats.Options{Thresholds: ts})
		var ie *seats.InvalidError
		if !errors.As(err, &ie) || ie.Field != "Thresholds" {
			t.Errorf("Thresholds %v: %v", ts, err)
		}
	}
	f := newFixture(t) // default thresholds: 80 and 100
	f.buy("acme", seats.Module("polls"), 1, "p1")
	f.event("acme", "e1", -1, 4, 0, "polls")
	f.must(second(f.module("acme", "ana", "e1", "polls", "r1"))) // 100 %: up 80 and 100; e1 covered
	f.buy("acme", seats.Module("polls"), 1, "p2")                // 50 %: down 100 and 80
	var got []any
	for _, e := range outbox(t, f) {
		switch e.Type {
		case events.SeatsTransferred, events.SeatsEventCovered, events.PoolThreshold:
			got = append(got, e.Payload)
		}
	}
	want := []any{
		events.Transferred{Event: "e1", Product: "module:polls", Quantity: 1, Available: 0, Assigned: 1},
		events.EventCovered{Event: "e1"},
		events.Threshold{Product: "module:polls", Percent: 80, Up: true, Used: 1, Purchased: 1},
		events.Threshold{Product: "module:polls", Percent: 100, Up: true, Used: 1, Purchased: 1},
		events.Threshold{Product: "module:polls", Percent: 80, Used: 1, Purchased: 2},
		events.Threshold{Product: "module:polls", Percent: 100, Used: 1, Purchased: 2},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

// A refused or rolled-back act emits nothing.
func TestEvents_RefusedEmitsNothing(t *testing.T) {
	f := standard(t)
	before := len(outbox(t, f))
	svc := f.hooked(func(tx seats.Tx) seats.Tx { return driftedTx{tx, 100} }) // the ledger refuses
	if _, err := svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 11, RequestID: "x"}); err == nil {
		t.Fatal("the transfer succeeded")
	}
	if _, err := f.module("acme", "ana", "e1", "nope", "y"); !errors.Is(err, seats.ErrNoPool) {
		t.Fatal(err)
	}
	if after := outbox(t, f); len(after) != before {
		t.Errorf("refused acts emitted %v", after[before:])
	}
}
