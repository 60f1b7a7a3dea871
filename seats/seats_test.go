package seats_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/allot-dev/allot/table"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

var start = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// organizer is an Event organizer, and "billing" the vendor, of every
// organization; "ana" is an Entitlement manager of acme, "gus" of globex.
const organizer = "organizer"

func testRoles() *allottest.Roles {
	r := &allottest.Roles{}
	r.Grant(allottest.Everywhere, "billing", allot.Vendor)
	r.Grant(allottest.Everywhere, organizer, seats.EventOrganizer)
	r.Grant("acme", "ana", seats.EntitlementManager)
	r.Grant("globex", "gus", seats.EntitlementManager)
	return r
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	ms    *memstore.Store
	clock *clock.Fake
	roles *allottest.Roles
	svc   *seats.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), ms: memstore.New(), clock: clock.NewFake(start), roles: testRoles()}
	svc, err := seats.New(f.ms.Seats(), &seats.Options{Clock: f.clock, Roles: f.roles})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) buy(org string, p seats.Product, n int64, req string) {
	f.t.Helper()
	_, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: org, Product: p, Quantity: n, Subscription: "sub-" + org, Actor: "billing", RequestID: req})
	f.must(err)
}

// event creates an event starting startH hours after start, lasting durH.
func (f *fixture) event(org, id string, startH, durH int, participants int64, modules ...string) {
	f.t.Helper()
	s := start.Add(time.Duration(startH) * time.Hour)
	_, err := f.svc.CreateEvent(f.ctx, seats.CreateEventParams{Actor: organizer, ID: id, Org: org, Name: "Event " + id, Start: s, End: s.Add(time.Duration(durH) * time.Hour), Participants: participants, Modules: modules})
	f.must(err)
}

func (f *fixture) seats(org, actor, event string, n int64, req string) (seats.Transaction, error) {
	return f.svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: org, Actor: actor, Event: event, Quantity: n, RequestID: req})
}

func (f *fixture) module(org, actor, event, module, req string) (seats.Transaction, error) {
	return f.svc.TransferModule(f.ctx, seats.TransferModuleParams{Org: org, Actor: actor, Event: event, Module: module, RequestID: req})
}

// state is everything the store holds for the test's organizations.
type state struct {
	Ledger storetest.State
	Pools  []seats.Pool
	Events []seats.Event
}

func (f *fixture) snapshot() state {
	f.t.Helper()
	var st state
	var err error
	st.Ledger, err = storetest.Snapshot(f.ctx, f.ms)
	f.must(err)
	f.must(f.ms.Seats().InTx(f.ctx, func(tx seats.Tx) error {
		for _, org := range []string{"acme", "globex"} {
			ps, err := tx.PoolList(f.ctx, org)
			if err != nil {
				return err
			}
			es, err := tx.EventList(f.ctx, seats.EventListParams{Org: org})
			if err != nil {
				return err
			}
			st.Pools = append(st.Pools, ps...)
			st.Events = append(st.Events, es...)
		}
		return nil
	}))
	return st
}

var cmpOpts = cmp.Options{cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })}

func (f *fixture) unchanged(before state) {
	f.t.Helper()
	if diff := cmp.Diff(before, f.snapshot(), cmpOpts); diff != "" {
		f.t.Errorf("a refused operation changed the store (-before +after):\n%s", diff)
	}
}

func (f *fixture) pool(org string, p seats.Product) seats.Pool {
	f.t.Helper()
	var out seats.Pool
	f.must(f.ms.Seats().InTx(f.ctx, func(tx seats.Tx) error {
		var err error
		out, err = tx.PoolLock(f.ctx, org, p)
		return err
	}))
	return out
}

func (f *fixture) getEvent(org, id string) seats.Event {
	f.t.Helper()
	e, err := f.svc.Event(f.ctx, seats.EventParams{Org: org, Actor: organizer, ID: id})
	f.must(err)
	return e
}

// standard: acme has 10 seats and 2 polls modules, events live (e1) and
// past (e0) and upcoming (e9); globex has 5 seats and its event g1.
func standard(t *testing.T) *fixture {
	f := newFixture(t)
	f.buy("acme", seats.Seats, 10, "p1")
	f.buy("acme", seats.Module("polls"), 2, "p2")
	f.buy("globex", seats.Seats, 5, "p1")
	f.event("acme", "e0", -48, 8, 3)
	f.event("acme", "e1", -1, 8, 4, "polls")
	f.event("acme", "e9", 48, 8, 2)
	f.event("globex", "g1", -1, 8, 2)
	return f
}

func TestNew(t *testing.T) {
	if _, err := seats.New(nil, nil); err == nil {
		t.Error("New(nil) succeeded, want an error")
	}
	svc, err := seats.New(memstore.New().Seats(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The default roles grant nobody: every call that checks a role is
	// refused, and the periodic consumption check alone runs.
	ctx := context.Background()
	for name, err := range map[string]error{
		"Purchase": second(svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 1, RequestID: "p1"})),
		"CreateEvent": second(svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana", ID: "e1",
			Start: start, End: start.Add(time.Hour)})),
		"Event":            second(svc.Event(ctx, seats.EventParams{Org: "acme", Actor: "ana", ID: "e1"})),
		"SetParticipants":  second(svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: "ana", Event: "e1"})),
		"SetModules":       second(svc.SetModules(ctx, seats.SetModulesParams{Org: "acme", Actor: "ana", Event: "e1"})),
		"TransferSeats":    second(svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "r1"})),
		"TransferModule":   second(svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "e1", Module: "polls", RequestID: "r1"})),
		"CheckConsumption": second(svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: "ana"})),
		"Overview":         second(svc.Overview(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})),
		"OverviewTable":    second(svc.OverviewTable(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})),
		"HistoryPage":      second(svc.HistoryPage(ctx, seats.HistoryParams{Org: "acme", Actor: "ana"})),
		"HistoryTable":     second(svc.HistoryTable(ctx, seats.HistoryParams{Org: "acme", Actor: "ana"})),
		"EventsPage":       second(svc.EventsPage(ctx, seats.EventsParams{Org: "acme", Actor: "ana"})),
		"EventsTable":      second(svc.EventsTable(ctx, seats.EventsParams{Org: "acme", Actor: "ana"})),
	} {
		var fe *allot.ForbiddenError
		if !errors.As(err, &fe) || allot.ErrorCode(err) != allot.CodeForbidden {
			t.Errorf("%s with no Roles = %v; want forbidden", name, err)
		}
	}
	if _, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor}); err != nil {
		t.Errorf("the periodic check with no Roles: %v", err)
	}
}

func TestSeats_TransferSeats(t *testing.T) {
	f := standard(t)
	tr, err := f.seats("acme", "ana", "e1", 4, "r1")
	f.must(err)
	want := seats.Transaction{Kind: seats.KindTransfer, Org: "acme", Product: seats.Seats, Quantity: 4, From: "pool", To: "event:e1", Event: "e1", Actor: "ana", RequestID: "r1"}
	got := tr
	got.Seq, got.ID, got.At = 0, "", time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transaction mismatch (-want +got):\n%s", diff)
	}
	if !tr.At.Equal(start) {
		t.Errorf("At = %v, want %v", tr.At, start)
	}
	if p := f.pool("acme", seats.Seats); p.Purchased != 10 || p.Assigned != 4 || p.Available() != 6 {
		t.Errorf("pool = %+v, want 10 purchased, 4 assigned", p)
	}
	if e := f.getEvent("acme", "e1"); e.SeatsAssigned != 4 {
		t.Errorf("e1 SeatsAssigned = %d, want 4", e.SeatsAssigned)
	}

	t.Run("RetryTransfersOnce", func(t *testing.T) {
		before := f.snapshot()
		again, err := f.seats("acme", "ana", "e1", 4, "r1")
		f.must(err)
		if again.Seq != tr.Seq || again.ID != tr.ID {
			t.Errorf("retry returned %+v, want the original %+v", again, tr)
		}
		f.unchanged(before)
	})
	t.Run("ToPastAndUpcomingEvents", func(t *testing.T) {
		f.must(second(f.seats("acme", "ana", "e0", 1, "r-past")))
		f.must(second(f.seats("acme", "ana", "e9", 1, "r-up")))
	})

	refusals := []struct {
		name string
		do   func() error
		want error
	}{
		{"NotManager", func() error { return second(f.seats("acme", "bob", "e1", 1, "x1")) }, seats.ErrForbidden},
		{"ManagerOfAnotherOrg", func() error { return second(f.seats("acme", "gus", "e1", 1, "x2")) }, seats.ErrForbidden},
		{"EmptyActor", func() error { return second(f.seats("acme", "", "e1", 1, "x3")) }, seats.ErrInvalid},
		{"UnknownEvent", func() error { return second(f.seats("acme", "ana", "nope", 1, "x4")) }, seats.ErrUnknownEvent},
		{"EventOfAnotherOrg", func() error { return second(f.seats("acme", "ana", "g1", 1, "x5")) }, seats.ErrUnknownEvent},
		{"MoreThanThePool", func() error { return second(f.seats("acme", "ana", "e1", 5, "x6")) }, seats.ErrInsufficient},
		{"ZeroQuantity", func() error { return second(f.seats("acme", "ana", "e1", 0, "x7")) }, seats.ErrInvalid},
		{"NegativeQuantity", func() error { return second(f.seats("acme", "ana", "e1", -1, "x8")) }, seats.ErrInvalid},
		{"NoRequestID", func() error { return second(f.seats("acme", "ana", "e1", 1, "")) }, seats.ErrInvalid},
		{"RequestReusedOtherQuantity", func() error { return second(f.seats("acme", "ana", "e1", 1, "r1")) }, seats.ErrRequestReused},
		{"RequestReusedOtherEvent", func() error { return second(f.seats("acme", "ana", "e0", 4, "r1")) }, seats.ErrRequestReused},
		{"RequestReusedByModule", func() error { return second(f.module("acme", "ana", "e1", "polls", "r1")) }, seats.ErrRequestReused},
		{"NoPoolInOrg", func() error { return second(f.module("acme", "ana", "e1", "qna", "x9")) }, seats.ErrNoPool},
		{"BadOrg", func() error { return second(f.seats("a b", "ana", "e1", 1, "x10")) }, seats.ErrInvalid},
		{"BadEvent", func() error { return second(f.seats("acme", "ana", "e\x001", 1, "x11")) }, seats.ErrInvalid},
		{"BadRequestID", func() error { return second(f.seats("acme", "ana", "e1", 1, "x\xff")) }, seats.ErrInvalid},
		{"BadActor", func() error { return second(f.seats("acme", "ana@", "e1", 1, "x12")) }, seats.ErrInvalid},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot()
			err := tc.do()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			f.unchanged(before)
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestSeats_TransferModule(t *testing.T) {
	f := standard(t)
	tr, err := f.module("acme", "ana", "e1", "polls", "m1")
	f.must(err)
	if tr.Quantity != 1 || tr.Product != seats.Module("polls") || tr.Kind != seats.KindTransfer {
		t.Errorf("transaction = %+v, want 1 module:polls", tr)
	}
	if e := f.getEvent("acme", "e1"); !cmp.Equal(e.ModulesAssigned, []string{"polls"}) {
		t.Errorf("ModulesAssigned = %v, want [polls]", e.ModulesAssigned)
	}
	t.Run("RetrySameRequest", func(t *testing.T) {
		before := f.snapshot()
		f.must(second(f.module("acme", "ana", "e1", "polls", "m1")))
		f.unchanged(before)
	})
	t.Run("SecondTimeRefused", func(t *testing.T) {
		before := f.snapshot()
		_, err := f.module("acme", "ana", "e1", "polls", "m2")
		var me *seats.ModuleAlreadyAssignedError
		if !errors.Is(err, seats.ErrModuleAlreadyAssigned) || !errors.As(err, &me) || me.Event != "e1" || me.Module != "polls" {
			t.Errorf("err = %v, want *ModuleAlreadyAssignedError for e1/polls", err)
		}
		f.unchanged(before)
	})
	t.Run("PoolEmpties", func(t *testing.T) {
		f.must(second(f.module("acme", "ana", "e0", "polls", "m3")))
		before := f.snapshot()
		_, err := f.module("acme", "ana", "e9", "polls", "m4")
		var ie *seats.InsufficientError
		if !errors.As(err, &ie) || ie.Available != 0 || ie.Requested != 1 {
			t.Errorf("err = %v, want *InsufficientError 0 available, 1 requested", err)
		}
		f.unchanged(before)
	})
	t.Run("EmptyModuleName", func(t *testing.T) {
		if _, err := f.module("acme", "ana", "e1", "", "m5"); !errors.Is(err, seats.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})
}

// A purchase is the vendor's act and returns its record: the counts right
// after it, from the ledger; a retry returns the very same record, whatever
// happened since.
func TestSeats_Purchase(t *testing.T) {
	f := newFixture(t)
	first, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Actor: "Billing", Product: seats.Seats, Quantity: 10, Subscription: "sub-1", RequestID: "p1"})
	f.must(err)
	want := allot.Purchase{Org: "acme", Product: "seat", Quantity: 10, Subscription: "sub-1", Actor: "billing", RequestID: "p1",
		At: start, Purchased: 10, Available: 10}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("Purchase (-want +got):\n%s", diff)
	}
	f.clock.Advance(time.Hour)
	f.event("acme", "e1", -2, 4, 3)
	f.must(second(f.seats("acme", "ana", "e1", 3, "r1")))
	second5, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 5, RequestID: "p2"})
	f.must(err)
	if second5.Purchased != 15 || second5.Available != 12 || second5.Subscription != "" || !second5.At.Equal(start.Add(time.Hour)) {
		t.Errorf("second purchase = %+v; want 15 purchased, 12 available, no subscription", second5)
	}
	f.clock.Advance(time.Hour)
	before := f.snapshot()
	again, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 10, Subscription: "sub-1", RequestID: "p1"})
	f.must(err)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retry (-first +again):\n%s", diff)
	}
	f.unchanged(before)
	if p := f.pool("acme", seats.Seats); p.Purchased != 15 || p.Assigned != 3 {
		t.Errorf("pool = %+v, want 15 purchased, 3 assigned", p)
	}
	page, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Product: seats.Seats})
	f.must(err)
	if got := []string{page.Items[0].From, page.Items[2].From}; got[0] != "subscription:sub-1" || got[1] != "vendor" {
		t.Errorf("purchases come from %v; want the subscription, then the vendor", got)
	}
	for _, tc := range []struct {
		name string
		r    seats.PurchaseParams
		want error
	}{
		{"Reused", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 11, Subscription: "sub-1", Actor: "billing", RequestID: "p1"}, seats.ErrRequestReused},
		{"OtherSubscription", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 10, Subscription: "sub-2", Actor: "billing", RequestID: "p1"}, seats.ErrRequestReused},
		{"NoActor", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "s", RequestID: "p3"}, seats.ErrInvalid},
		{"BadProduct", seats.PurchaseParams{Org: "acme", Product: "gold", Quantity: 1, Subscription: "s", Actor: "billing", RequestID: "p3"}, seats.ErrInvalid},
		{"ZeroQuantity", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Subscription: "s", Actor: "billing", RequestID: "p3"}, seats.ErrInvalid},
		{"NoRequest", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "s", Actor: "billing"}, seats.ErrInvalid},
		{"EntitlementManager", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Actor: "ana", RequestID: "p3"}, seats.ErrForbidden},
		{"VendorOfAnotherOrg", seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Actor: "seller", RequestID: "p3"}, seats.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.roles.Grant("globex", "seller", allot.Vendor)
			before := f.snapshot()
			if _, err := f.svc.Purchase(f.ctx, tc.r); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			f.unchanged(before)
		})
	}
}

func TestSeats_Events(t *testing.T) {
	f := newFixture(t)
	n := seats.CreateEventParams{Actor: organizer, ID: "e1", Org: "acme", Name: "Kickoff", Start: start, End: start.Add(time.Hour), Participants: 3, Modules: []string{"qna", "polls", "qna"}}
	e, err := f.svc.CreateEvent(f.ctx, n)
	f.must(err)
	if !cmp.Equal(e.Modules, []string{"polls", "qna"}) {
		t.Errorf("Modules = %v, want sorted and unique", e.Modules)
	}
	if _, err := f.svc.CreateEvent(f.ctx, n); err != nil {
		t.Errorf("creating the same event again = %v, want nil", err)
	}
	// Another organization's event of the same ID is its own event.
	other := n
	other.Org, other.Name, other.Participants = "globex", "Globex kickoff", 8
	if _, err := f.svc.CreateEvent(f.ctx, other); err != nil {
		t.Errorf("same ID in another org = %v, want its own event", err)
	}
	if g, a := f.getEvent("globex", "e1"), f.getEvent("acme", "e1"); g.Name != "Globex kickoff" || a.Name != "Kickoff" || g.Participants != 8 || a.Participants != 3 {
		t.Errorf("globex's e1 = %+v, acme's = %+v: each organization must read its own", g, a)
	}
	before := f.snapshot()
	changed := n
	changed.Participants = 4
	if _, err := f.svc.CreateEvent(f.ctx, changed); !errors.Is(err, seats.ErrEventExists) || strings.Contains(err.Error(), "globex") {
		t.Errorf("same ID, same org, other details = %v, want ErrEventExists naming acme only", err)
	}
	for name, bad := range map[string]seats.CreateEventParams{
		"EndBeforeStart":      {ID: "x", Org: "acme", Start: start, End: start},
		"NoStart":             {ID: "x", Org: "acme", End: start},
		"NegativeParticipant": {ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour), Participants: -1},
		"BadModule":           {ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour), Modules: []string{"a b"}},
		"NoID":                {Org: "acme", Start: start, End: start.Add(time.Hour)},
		"SubMicrosecond":      {ID: "x", Org: "acme", Start: start, End: start.Add(time.Nanosecond)},
	} {
		if _, err := f.svc.CreateEvent(f.ctx, bad); !errors.Is(err, seats.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	var ie *seats.InvalidError
	if _, err := f.svc.CreateEvent(f.ctx, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", End: start}); !errors.As(err, &ie) || ie.Field != "Start" {
		t.Errorf("no Start: err = %v, want an *InvalidError naming Start", err)
	}
	if _, err := f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: -1}); !errors.Is(err, seats.ErrInvalid) {
		t.Errorf("SetParticipants(-1) = %v, want ErrInvalid", err)
	}
	if _, err := f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "initech", Actor: organizer, Event: "e1", Participants: 1}); !errors.Is(err, seats.ErrUnknownEvent) {
		t.Errorf("SetParticipants(other org) = %v, want ErrUnknownEvent", err)
	}
	if _, err := f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e1", Modules: []string{"a b"}}); !errors.Is(err, seats.ErrInvalid) {
		t.Errorf("SetModules(bad) = %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Event(f.ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: "nope"}); !errors.Is(err, seats.ErrUnknownEvent) {
		t.Errorf("Event(nope) = %v, want ErrUnknownEvent", err)
	}
	f.unchanged(before)

	f.clock.Advance(time.Minute)
	e, err = f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: 9})
	f.must(err)
	if e.Participants != 9 || !e.UpdatedAt.Equal(start.Add(time.Minute)) {
		t.Errorf("after SetParticipants: %+v", e)
	}
	e, err = f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e1", Modules: nil})
	f.must(err)
	if e.Modules != nil || e.Participants != 9 {
		t.Errorf("after SetModules(nil): %+v", e)
	}
}

func TestSeats_CheckConsumption(t *testing.T) {
	f := standard(t)
	// e0 (past) needs 3, e1 (live) 4, e9 (upcoming) 2 is skipped.
	res, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
	f.must(err)
	want := []seats.Assignment{{Event: "e0", Seats: 3, Reached: 3}, {Event: "e1", Seats: 4, Reached: 4}}
	if diff := cmp.Diff(want, res.Assigned); diff != "" {
		t.Errorf("Assigned mismatch (-want +got):\n%s", diff)
	}
	// e1 still misses its module.
	if len(res.Missing) != 1 || res.Missing[0].ID != "e1" || res.Missing[0].SeatsMissing != 0 || !cmp.Equal(res.Missing[0].ModulesMissing, []string{"polls"}) {
		t.Errorf("Missing = %+v, want e1 missing polls only", res.Missing)
	}
	if p := f.pool("acme", seats.Seats); p.Assigned != 7 {
		t.Errorf("pool assigned = %d, want 7", p.Assigned)
	}

	t.Run("SecondRunChangesNothing", func(t *testing.T) {
		before := f.snapshot()
		res, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
		f.must(err)
		if len(res.Assigned) != 0 {
			t.Errorf("second run assigned %v", res.Assigned)
		}
		f.unchanged(before)
	})
	t.Run("PartialWhenShort", func(t *testing.T) {
		// 3 seats left; e1 grows by 5: it gets 3 and misses 2.
		f.must(second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: 9})))
		res, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
		f.must(err)
		if diff := cmp.Diff([]seats.Assignment{{Event: "e1", Seats: 3, Reached: 7}}, res.Assigned); diff != "" {
			t.Errorf("Assigned mismatch (-want +got):\n%s", diff)
		}
		if len(res.Missing) != 1 || res.Missing[0].SeatsMissing != 2 {
			t.Errorf("Missing = %+v, want e1 missing 2 seats", res.Missing)
		}
		before := f.snapshot()
		f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})))
		f.unchanged(before)
	})
	t.Run("UpcomingCoveredOnceLive", func(t *testing.T) {
		f.buy("acme", seats.Seats, 10, "p3")
		f.clock.Advance(48 * time.Hour)
		res, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
		f.must(err)
		want := []seats.Assignment{{Event: "e1", Seats: 2, Reached: 9}, {Event: "e9", Seats: 2, Reached: 2}}
		if diff := cmp.Diff(want, res.Assigned); diff != "" {
			t.Errorf("Assigned mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("History", func(t *testing.T) {
		page, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Event: "e1"})
		f.must(err)
		var got []string
		for _, tr := range page.Items {
			got = append(got, fmt.Sprintf("%s %s %d %s %s", tr.Kind, tr.Actor, tr.Quantity, tr.To, tr.ID))
		}
		want := []string{
			"auto system 4 event:e1 seats/acme/auto/e1/4",
			"auto system 3 event:e1 seats/acme/auto/e1/7",
			"auto system 2 event:e1 seats/acme/auto/e1/9",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("history mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("NoSeatPool", func(t *testing.T) {
		g := newFixture(t)
		g.event("acme", "e1", -1, 2, 5)
		res, err := g.svc.CheckConsumption(g.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
		g.must(err)
		if len(res.Assigned) != 0 || len(res.Missing) != 1 || res.Missing[0].SeatsMissing != 5 {
			t.Errorf("res = %+v, want nothing assigned and e1 missing 5", res)
		}
	})
	t.Run("BadOrg", func(t *testing.T) {
		if _, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "", Actor: allot.SystemActor}); !errors.Is(err, seats.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	})
}

func TestSeats_History(t *testing.T) {
	f := standard(t)
	f.clock.Advance(time.Hour)
	f.must(second(f.seats("acme", "ana", "e1", 2, "r1")))
	f.must(second(f.module("acme", "ana", "e1", "polls", "r2")))
	f.clock.Advance(time.Hour)
	f.must(second(f.seats("acme", "ana", "e0", 1, "r3")))
	f.must(second(f.seats("globex", "gus", "g1", 1, "r1")))

	ids := func(q seats.HistoryParams) []string {
		t.Helper()
		q.Org, q.Actor = "acme", "ana"
		var out []string
		for {
			page, err := f.svc.HistoryPage(f.ctx, q)
			f.must(err)
			for _, tr := range page.Items {
				out = append(out, tr.RequestID)
			}
			if page.Next == "" {
				return out
			}
			q.Cursor = page.Next
		}
	}
	for _, tc := range []struct {
		name string
		q    seats.HistoryParams
		want []string
	}{
		{"All", seats.HistoryParams{}, []string{"p1", "p2", "r1", "r2", "r3"}},
		{"Paged", seats.HistoryParams{Limit: 2}, []string{"p1", "p2", "r1", "r2", "r3"}},
		{"Product", seats.HistoryParams{Product: seats.Seats}, []string{"p1", "r1", "r3"}},
		{"Module", seats.HistoryParams{Product: seats.Module("polls"), Limit: 1}, []string{"p2", "r2"}},
		{"Event", seats.HistoryParams{Event: "e1"}, []string{"r1", "r2"}},
		{"EventAndProduct", seats.HistoryParams{Event: "e1", Product: seats.Seats}, []string{"r1"}},
		{"From", seats.HistoryParams{From: start.Add(time.Hour)}, []string{"r1", "r2", "r3"}},
		{"To", seats.HistoryParams{To: start.Add(2 * time.Hour)}, []string{"p1", "p2", "r1", "r2"}},
		{"EventWithoutTransfers", seats.HistoryParams{Event: "e9"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ids(tc.q)); diff != "" {
				t.Errorf("history mismatch (-want +got):\n%s", diff)
			}
		})
	}
	page, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Limit: 1})
	f.must(err)
	p := page.Items[0]
	if p.Kind != seats.KindPurchase || p.From != "subscription:sub-acme" || p.To != "pool" || p.Actor != "billing" || p.Subscription != "sub-acme" || p.Quantity != 10 || !p.At.Equal(start) {
		t.Errorf("first transaction = %+v", p)
	}
	for name, q := range map[string]seats.HistoryParams{
		"NotManager":   {Org: "acme", Actor: "gus"},
		"BadLimit":     {Org: "acme", Actor: "ana", Limit: 1001},
		"BadCursor":    {Org: "acme", Actor: "ana", Cursor: "x"},
		"CursorSeq":    {Org: "acme", Actor: "ana", Cursor: "seat/-1"},
		"CursorProd":   {Org: "acme", Actor: "ana", Cursor: "gold/1"},
		"BadProduct":   {Org: "acme", Actor: "ana", Product: "gold"},
		"UnknownEvent": {Org: "acme", Actor: "ana", Event: "g1"},
	} {
		if _, err := f.svc.HistoryPage(f.ctx, q); err == nil {
			t.Errorf("%s: History succeeded, want an error", name)
		}
	}
}

func TestSeats_EventsView(t *testing.T) {
	f := standard(t)
	f.must(second(f.seats("acme", "ana", "e0", 3, "r1")))
	list := func(q seats.EventsParams) []string {
		t.Helper()
		q.Org, q.Actor = "acme", "ana"
		var out []string
		for {
			page, err := f.svc.EventsPage(f.ctx, q)
			f.must(err)
			for _, w := range page.Items {
				out = append(out, fmt.Sprintf("%s %s %d/%d -%d %v", w.ID, w.Status, w.SeatsAssigned, w.Participants, w.SeatsMissing, w.ModulesMissing))
			}
			if page.Next == "" {
				return out
			}
			q.Cursor = page.Next
		}
	}
	all := []string{"e0 past 3/3 -0 []", "e1 live 0/4 -4 [polls]", "e9 upcoming 0/2 -2 []"}
	for _, tc := range []struct {
		name string
		q    seats.EventsParams
		want []string
	}{
		{"All", seats.EventsParams{}, all},
		{"PagedByOne", seats.EventsParams{Limit: 1}, all},
		{"LiveOrPast", seats.EventsParams{Statuses: []seats.Status{seats.StatusLive, seats.StatusPast}}, all[:2]},
		{"Upcoming", seats.EventsParams{Statuses: []seats.Status{seats.StatusUpcoming}}, all[2:]},
		{"OnlyMissing", seats.EventsParams{OnlyMissing: true, Limit: 1}, all[1:]},
		{"LiveOrPastMissing", seats.EventsParams{OnlyMissing: true, Statuses: []seats.Status{seats.StatusLive, seats.StatusPast}}, all[1:2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, list(tc.q)); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for name, q := range map[string]seats.EventsParams{
		"NotManager": {Org: "acme", Actor: "bob"},
		"BadLimit":   {Org: "acme", Actor: "ana", Limit: -1},
		"BadCursor":  {Org: "acme", Actor: "ana", Cursor: "nope"},
		"BadStatus":  {Org: "acme", Actor: "ana", Statuses: []seats.Status{"soon"}},
	} {
		if _, err := f.svc.EventsPage(f.ctx, q); err == nil {
			t.Errorf("%s: EventsPage succeeded, want an error", name)
		}
	}
}

// failingRoles fails every role check.
type failingRoles struct{}

func (failingRoles) HasRole(context.Context, string, string, allot.Role) (bool, error) {
	return false, errors.New("directory down")
}

func TestSeats_RolesError(t *testing.T) {
	f := standard(t)
	svc, _ := seats.New(f.ms.Seats(), &seats.Options{Clock: f.clock, Roles: failingRoles{}})
	before := f.snapshot()
	_, err := svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "x"})
	if err == nil || errors.Is(err, seats.ErrForbidden) || !strings.Contains(err.Error(), "directory down") {
		t.Errorf("err = %v, want the roles' own error", err)
	}
	f.unchanged(before)
}

// The ledger's balances agree with the counters.
func TestSeats_LedgerAgrees(t *testing.T) {
	f := standard(t)
	f.must(second(f.seats("acme", "ana", "e1", 2, "r1")))
	f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})))
	l, _ := ledger.New(f.ms, nil)
	pool, err := l.Balance(f.ctx, "seats/acme/pool/seat")
	f.must(err)
	issuer, err := l.Balance(f.ctx, "seats/acme/purchases/seat")
	f.must(err)
	p := f.pool("acme", seats.Seats)
	if !pool.Posted.Equal(decimal.NewFromInt(p.Available())) || !issuer.Posted.Neg().Equal(decimal.NewFromInt(p.Purchased)) {
		t.Errorf("ledger pool %s issuer %s, counters %+v", pool.Posted, issuer.Posted, p)
	}
	r, err := l.Verify(f.ctx)
	f.must(err)
	if !r.OK() {
		t.Errorf("Verify: %v", r.Discrepancies)
	}
}

// TestSeats_TableWrittenTwice writes the same multi-page export twice, as a
// service writing both CSV and XLSX does: both passes see every row.
func TestSeats_TableWrittenTwice(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.buy("acme", seats.Seats, 1, fmt.Sprint("buy-", i))
	}
	tb, err := f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Limit: 2})
	f.must(err)
	var first, second bytes.Buffer
	f.must(table.WriteCSV(&first, tb))
	f.must(table.WriteCSV(&second, tb))
	if n := strings.Count(first.String(), "\n"); n != 6 {
		t.Errorf("first pass wrote %d lines, want a header and 5 rows:\n%s", n, first.String())
	}
	if diff := cmp.Diff(first.String(), second.String()); diff != "" {
		t.Errorf("second pass differs (-first +second):\n%s", diff)
	}
}

// A transfer of one product that took a lower Seq than another product's
// but committed after a page was read still comes on a later page: each
// product's journal is paged from its own place.
func TestSeats_HistoryLateCommit(t *testing.T) {
	f := standard(t)
	late, err := f.seats("acme", "ana", "e1", 2, "r1")
	f.must(err)
	f.must(second(f.module("acme", "ana", "e1", "polls", "r2")))
	f.must(second(f.seats("acme", "ana", "e0", 1, "r3")))

	hidden := []ledger.TransferID{late.ID}
	svc, err := seats.New(hookedStore{f.ms.Seats(), func(tx seats.Tx) seats.Tx { return uncommittedTx{tx, hidden} }},
		&seats.Options{Clock: f.clock, Roles: f.roles})
	f.must(err)
	q := seats.HistoryParams{Org: "acme", Actor: "ana", Limit: 3}
	var got []string
	for {
		page, err := svc.HistoryPage(f.ctx, q)
		f.must(err)
		for _, tr := range page.Items {
			got = append(got, tr.RequestID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
		hidden = nil // r1 commits between the pages
	}
	// r1 (Seq 3) was not committed when the first page gave r2 (Seq 4).
	if diff := cmp.Diff([]string{"p1", "p2", "r2", "r1", "r3"}, got); diff != "" {
		t.Errorf("history mismatch (-want +got):\n%s", diff)
	}
}

// hooked returns a service over f's store whose transactions go through wrap.
func (f *fixture) hooked(wrap func(seats.Tx) seats.Tx) *seats.Service {
	f.t.Helper()
	svc, err := seats.New(hookedStore{f.ms.Seats(), wrap}, &seats.Options{Clock: f.clock, Roles: f.roles})
	f.must(err)
	return svc
}

// The pool's ledger account refuses what its counters would allow: the
// ledger is the second line of defence, and its refusal reads as this
// package's.
func TestSeats_LedgerRefusesOversell(t *testing.T) {
	f := standard(t)
	svc := f.hooked(func(tx seats.Tx) seats.Tx { return driftedTx{tx, 100} })
	before := f.snapshot()
	_, err := svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 11, RequestID: "x"})
	var ie *seats.InsufficientError
	if !errors.As(err, &ie) || ie.Available != 10 || ie.Requested != 11 || !errors.Is(err, ledger.ErrInsufficientBalance) {
		t.Errorf("err = %v, want *InsufficientError with the ledger's 10 available, 11 requested", err)
	}
	f.unchanged(before)
}

// A request ID that a transfer of another product takes while this one
// runs (its pool is locked by the other request, not this one) is refused
// when the ledger posts it.
func TestSeats_RequestTakenConcurrently(t *testing.T) {
	f := standard(t)
	taken, err := f.module("acme", "ana", "e1", "polls", "r1")
	f.must(err)
	svc := f.hooked(func(tx seats.Tx) seats.Tx { return uncommittedTx{tx, []ledger.TransferID{taken.ID}} })
	before := f.snapshot()
	_, err = svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "r1"})
	var re *seats.RequestReusedError
	if !errors.As(err, &re) || re.RequestID != "r1" || !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("err = %v, want *RequestReusedError for r1", err)
	}
	if msg := err.Error(); strings.Contains(msg, "seats/") || !strings.Contains(msg, `"r1"`) {
		t.Errorf("message %q must name the request ID r1 and no ledger ID", msg)
	}
	f.unchanged(before)
}

// A first purchase that finds no pool, then finds it opened by a
// concurrent first purchase, adds to that pool.
func TestSeats_PurchasePoolOpenedConcurrently(t *testing.T) {
	f := standard(t)
	looked := false
	svc := f.hooked(func(tx seats.Tx) seats.Tx { return openedConcurrentlyTx{tx, &looked} })
	_, err := svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 5, Subscription: "sub-acme", Actor: "billing", RequestID: "p9"})
	f.must(err)
	if !looked {
		t.Fatal("the purchase never looked for the pool")
	}
	if p := f.pool("acme", seats.Seats); p.Purchased != 15 || p.Assigned != 0 {
		t.Errorf("pool = %+v, want 15 purchased", p)
	}
	checkPoolLedger(t, mustLedger(t, f), f.pool("acme", seats.Seats), nil, nil)
}

func mustLedger(t *testing.T, f *fixture) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(f.ms, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The consumption check's transfers record who ran it: allot.SystemActor
// for the periodic run, the Entitlement manager who ran it by hand.
func TestSeats_CheckConsumptionActor(t *testing.T) {
	f := standard(t)
	res, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
	f.must(err)
	if len(res.Assigned) == 0 {
		t.Fatal("the check assigned nothing")
	}
	f.must(second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: "ANA", Event: "e1", Participants: 9})))
	res, err = f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: "Ana"})
	f.must(err)
	if len(res.Assigned) != 1 {
		t.Fatalf("the check by hand assigned %+v; want one assignment", res.Assigned)
	}
	var actors []string
	for tr, err := range f.svc.History(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Product: seats.Seats}) {
		f.must(err)
		if tr.Kind == seats.KindAuto {
			actors = append(actors, tr.Actor)
		}
	}
	if diff := cmp.Diff([]string{"system", "system", "ana"}, actors); diff != "" {
		t.Errorf("actors of the check's transfers (-want +got):\n%s", diff)
	}
}

// Every listing reads as pages of Limit items, each page's Next leading to
// the following one, and its iterator yields what the pages hold; a cursor
// of another organization or listing is invalid.
func TestSeats_Paging(t *testing.T) {
	f := newFixture(t)
	for _, org := range []string{"acme", "globex"} {
		for i := range 5 {
			f.buy(org, seats.Seats, 1, fmt.Sprint("p", i))
			f.event(org, fmt.Sprint("e", i), i-10, 1, 2)
		}
	}
	hp := seats.HistoryParams{Org: "acme", Actor: "ana", Limit: 2}
	ep := seats.EventsParams{Org: "acme", Actor: "ana", Limit: 2}
	var pagesH []seats.Transaction
	var pagesE []seats.EventEntitlements
	var nextH, nextE string
	for n := 0; ; n++ {
		hp.Cursor = nextH
		page, err := f.svc.HistoryPage(f.ctx, hp)
		f.must(err)
		if len(page.Items) > 2 || (page.Next != "" && len(page.Items) != 2) {
			t.Fatalf("history page %d: %d items, next %q", n, len(page.Items), page.Next)
		}
		pagesH = append(pagesH, page.Items...)
		if nextH = page.Next; nextH == "" {
			break
		}
	}
	for n := 0; ; n++ {
		ep.Cursor = nextE
		page, err := f.svc.EventsPage(f.ctx, ep)
		f.must(err)
		if len(page.Items) > 2 || (page.Next != "" && len(page.Items) != 2) {
			t.Fatalf("events page %d: %d items, next %q", n, len(page.Items), page.Next)
		}
		pagesE = append(pagesE, page.Items...)
		if nextE = page.Next; nextE == "" {
			break
		}
	}
	if len(pagesH) != 5 || len(pagesE) != 5 {
		t.Fatalf("pages hold %d transactions and %d events; want 5 of each", len(pagesH), len(pagesE))
	}
	hp.Cursor, ep.Cursor = "", ""
	var iterH []seats.Transaction
	for tr, err := range f.svc.History(f.ctx, hp) {
		f.must(err)
		iterH = append(iterH, tr)
	}
	var iterE []seats.EventEntitlements
	for e, err := range f.svc.Events(f.ctx, ep) {
		f.must(err)
		iterE = append(iterE, e)
	}
	if diff := cmp.Diff(pagesH, iterH); diff != "" {
		t.Errorf("History iterator differs from the pages (-pages +iterator):\n%s", diff)
	}
	if diff := cmp.Diff(pagesE, iterE); diff != "" {
		t.Errorf("Events iterator differs from the pages (-pages +iterator):\n%s", diff)
	}
	// Limit 0 reads allot.DefaultLimit items: all five on one page.
	if page, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana"}); err != nil || len(page.Items) != 5 || page.Next != "" {
		t.Errorf("HistoryPage with Limit 0 = %d items, next %q, %v", len(page.Items), page.Next, err)
	}
	// The iterator starts at the given cursor.
	first, err := f.svc.EventsPage(f.ctx, ep)
	f.must(err)
	ep.Cursor = first.Next
	n := 0
	for _, err := range f.svc.Events(f.ctx, ep) {
		f.must(err)
		n++
	}
	if n != 3 {
		t.Errorf("Events from the second page yields %d; want 3", n)
	}
	// Cursors of globex, or of the other listing, are not acme's.
	gh, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "globex", Actor: "gus", Limit: 2})
	f.must(err)
	ge, err := f.svc.EventsPage(f.ctx, seats.EventsParams{Org: "globex", Actor: "gus", Limit: 2})
	f.must(err)
	for _, c := range []string{gh.Next, ge.Next, first.Next, "garbage"} {
		var ie *seats.InvalidError
		if _, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Cursor: c}); c != "" && (!errors.As(err, &ie) || ie.Field != "Cursor") {
			t.Errorf("HistoryPage with cursor %q = %v; want an invalid Cursor", c, err)
		}
	}
	for _, c := range []string{gh.Next, ge.Next, "garbage"} {
		var ie *seats.InvalidError
		if _, err := f.svc.EventsPage(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", Cursor: c}); !errors.As(err, &ie) || ie.Field != "Cursor" {
			t.Errorf("EventsPage with cursor %q = %v; want an invalid Cursor", c, err)
		}
	}
	for _, limit := range []int{-1, allot.MaxLimit + 1} {
		var ie *seats.InvalidError
		if _, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Limit: limit}); !errors.As(err, &ie) || ie.Field != "Limit" {
			t.Errorf("HistoryPage with Limit %d = %v; want an invalid Limit", limit, err)
		}
		if _, err := f.svc.EventsPage(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", Limit: limit}); !errors.As(err, &ie) || ie.Field != "Limit" {
			t.Errorf("EventsPage with Limit %d = %v; want an invalid Limit", limit, err)
		}
	}
}

// Creating an event again with its details, and setting participants or
// modules to what the event has, return the event as stored and change
// nothing; other details are ErrEventExists.
func TestSeats_EventWritesIdempotent(t *testing.T) {
	f := newFixture(t)
	n := seats.CreateEventParams{Org: "acme", Actor: organizer, ID: "e1", Name: "Kickoff", Start: start, End: start.Add(time.Hour), Participants: 3, Modules: []string{"qna", "polls"}}
	created, err := f.svc.CreateEvent(f.ctx, n)
	f.must(err)
	f.clock.Advance(time.Hour)
	before := f.snapshot()
	n.Modules = []string{"polls", "qna", "polls"} // the same set
	again, err := f.svc.CreateEvent(f.ctx, n)
	f.must(err)
	if diff := cmp.Diff(created, again); diff != "" {
		t.Errorf("CreateEvent retried (-first +again):\n%s", diff)
	}
	again, err = f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: "ana", Event: "e1", Participants: 3})
	f.must(err)
	if diff := cmp.Diff(created, again); diff != "" {
		t.Errorf("SetParticipants to the same count (-first +again):\n%s", diff)
	}
	again, err = f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e1", Modules: []string{"qna", "polls", "qna"}})
	f.must(err)
	if diff := cmp.Diff(created, again); diff != "" {
		t.Errorf("SetModules to the same set (-first +again):\n%s", diff)
	}
	f.unchanged(before)
	n.Participants = 4
	if _, err := f.svc.CreateEvent(f.ctx, n); !errors.Is(err, seats.ErrEventExists) {
		t.Errorf("CreateEvent with other details = %v; want ErrEventExists", err)
	}
	f.unchanged(before)
	changed, err := f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: 4})
	f.must(err)
	if !changed.UpdatedAt.Equal(start.Add(time.Hour)) {
		t.Errorf("a change left UpdatedAt at %v", changed.UpdatedAt)
	}
}
