package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func runSeats(t *testing.T, newStore Factory) {
	t.Run("Sentinels", func(t *testing.T) { testSeatsSentinels(t, newStore) })
	t.Run("RoundTripAndCopies", func(t *testing.T) { testSeatsRoundTrip(t, newStore) })
	t.Run("Rollback", func(t *testing.T) { testSeatsRollback(t, newStore) })
	t.Run("ListOrdering", func(t *testing.T) { testSeatsListOrdering(t, newStore) })
	t.Run("Loads", func(t *testing.T) { testSeatsLoads(t, newStore) })
	t.Run("ConcurrentNoOversell", func(t *testing.T) { testSeatsConcurrent(t, newStore) })
	t.Run("Retries", func(t *testing.T) { testSeatsRetries(t, newStore) })
	t.Run("EventsReplay", func(t *testing.T) { testSeatsReplay(t, newStore) })
}

// seatsService is a seats service over s in which "billing" is the vendor
// and "ana" an Entitlement manager of acme.
func seatsService(t *testing.T, s Store, clk clock.Clock) *seats.Service {
	t.Helper()
	roles := &allot.StaticRoles{}
	if err := roles.Grant("acme", "billing", allot.Vendor); err != nil {
		t.Fatal(err)
	}
	if err := roles.Grant("acme", "ana", seats.EntitlementManager); err != nil {
		t.Fatal(err)
	}
	svc, err := seats.New(s.Seats(), &seats.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// testSeatsRetries: every seats write, retried after the store committed
// it and after later writes, returns its first result and changes nothing;
// a request ID reused with other contents is request_reused and changes
// nothing.
func testSeatsRetries(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	clk := clock.NewFake(start)
	svc := seatsService(t, s, clk)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	same := func(what string, first, again any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s retried: %v", what, err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("%s retried (-first +again):\n%s", what, diff)
		}
	}
	buy := seats.PurchaseParams{Org: "acme", Actor: "Billing", Product: seats.Seats, Quantity: 10, Subscription: "sub-1", RequestID: "p1"}
	bought, err := svc.Purchase(ctx, buy)
	must(err)
	if bought.Purchased != 10 || bought.Available != 10 || bought.Actor != "billing" || bought.Product != "seat" {
		t.Errorf("Purchase = %+v; want 10 purchased and available, by billing", bought)
	}
	create := seats.CreateEventParams{Org: "acme", Actor: "ana", ID: "e1", Name: "Kick-off", Start: start.Add(-time.Hour), End: start.Add(time.Hour), Participants: 6, Modules: []string{"qna", "polls"}}
	created, err := svc.CreateEvent(ctx, create)
	must(err)
	clk.Advance(time.Minute)
	moved, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 4, RequestID: "t1"})
	must(err)
	_, err = svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Module("polls"), Quantity: 1, RequestID: "p2"})
	must(err)
	mod, err := svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "e1", Module: "polls", RequestID: "t2"})
	must(err)
	clk.Advance(time.Minute)
	_, err = svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 5, RequestID: "p3"})
	must(err)
	checked, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
	must(err)
	if len(checked.Assigned) != 1 || checked.Assigned[0].Seats != 2 {
		t.Fatalf("CheckConsumption assigned %+v; want 2 seats to e1", checked.Assigned)
	}

	// Each retry comes after later writes, and later still for the event's.
	clk.Advance(time.Minute)
	again, err := svc.Purchase(ctx, buy)
	same("Purchase", bought, again, err)
	againT, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 4, RequestID: "t1"})
	same("TransferSeats", moved, againT, err)
	againT, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "e1", Module: "polls", RequestID: "t2"})
	same("TransferModule", mod, againT, err)
	before, err := Snapshot(ctx, s)
	must(err)
	rerun, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: "ana"})
	must(err)
	if len(rerun.Assigned) != 0 || len(rerun.Missing) != 1 || rerun.Missing[0].ModulesMissing[0] != "qna" {
		t.Errorf("CheckConsumption again = %+v; want nothing assigned, e1 missing qna", rerun)
	}
	after, err := Snapshot(ctx, s)
	must(err)
	if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
		t.Errorf("a second consumption check changed the ledger (-before +after):\n%s", diff)
	}
	ev, err := svc.Event(ctx, seats.EventParams{Org: "acme", Actor: "ana", ID: "e1"})
	must(err)
	if ev.SeatsAssigned != 6 || !ev.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("Event = %+v; want 6 seats assigned", ev)
	}
	againE, err := svc.CreateEvent(ctx, create)
	same("CreateEvent", ev, againE, err)
	setP := seats.SetParticipantsParams{Org: "acme", Actor: "ana", Event: "e1", Participants: 8}
	setM := seats.SetModulesParams{Org: "acme", Actor: "ana", Event: "e1", Modules: []string{"polls"}}
	changed, err := svc.SetParticipants(ctx, setP)
	must(err)
	changed, err = svc.SetModules(ctx, setM)
	must(err)
	if !changed.UpdatedAt.Equal(clk.Now().Truncate(time.Microsecond)) || changed.Participants != 8 {
		t.Errorf("SetModules = %+v; want 8 participants, updated now", changed)
	}
	clk.Advance(time.Minute)
	againE, err = svc.SetParticipants(ctx, setP)
	same("SetParticipants", changed, againE, err)
	setM.Modules = []string{"polls", "polls"}
	againE, err = svc.SetModules(ctx, setM)
	same("SetModules", changed, againE, err)
	stored, err := svc.Event(ctx, seats.EventParams{Org: "acme", Actor: "ana", ID: "e1"})
	same("Event after the retries", changed, stored, err)

	// The same request IDs for other requests.
	before, err = Snapshot(ctx, s)
	must(err)
	for name, call := range map[string]func() error{
		"Purchase": func() error {
			_, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 10, Subscription: "sub-2", RequestID: "p1"})
			return err
		},
		"PurchaseAsTransfer": func() error {
			_, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 4, RequestID: "t1"})
			return err
		},
		"TransferSeats": func() error {
			_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "t1"})
			return err
		},
		"TransferModule": func() error {
			_, err := svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "e1", Module: "polls", RequestID: "t1"})
			return err
		},
	} {
		if err := call(); !errors.Is(err, seats.ErrRequestReused) || allot.ErrorCode(err) != allot.CodeRequestReused {
			t.Errorf("%s with a used request ID: %v (code %q); want request_reused", name, err, allot.ErrorCode(err))
		}
	}
	create.Name = "Other"
	if _, err := svc.CreateEvent(ctx, create); !errors.Is(err, seats.ErrEventExists) {
		t.Errorf("CreateEvent with other details: %v; want ErrEventExists", err)
	}
	after, err = Snapshot(ctx, s)
	must(err)
	if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
		t.Errorf("a reused request ID changed the ledger (-before +after):\n%s", diff)
	}
	if ev, err := svc.Event(ctx, seats.EventParams{Org: "acme", Actor: "ana", ID: "e1"}); err != nil || !ev.UpdatedAt.Equal(changed.UpdatedAt) || ev.Name != "Kick-off" {
		t.Errorf("Event after refused writes = %+v, %v; want it unchanged", ev, err)
	}
}

// seatsTx runs fn in a seats transaction and fails the test on error.
func seatsTx(t *testing.T, s Store, fn func(ctx context.Context, tx seats.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Seats().InTx(ctx, func(tx seats.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func seatsEvent(org, id string, start time.Time) seats.Event {
	return seats.Event{ID: id, Org: org, Name: "Event " + id, Start: start, End: start.Add(time.Hour),
		Participants: 3, Modules: []string{"polls"}, CreatedAt: start, UpdatedAt: start}
}

func testSeatsSentinels(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		if _, err := tx.PoolLock(ctx, "acme", seats.Seats); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("PoolLock(missing) = %v, want ErrNotFound", err)
		}
		if err := tx.PoolUpdate(ctx, seats.Pool{Org: "acme", Product: seats.Seats}); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("PoolUpdate(missing) = %v, want ErrNotFound", err)
		}
		if _, err := tx.EventGet(ctx, "acme", "nope"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("EventGet(missing) = %v, want ErrNotFound", err)
		}
		if err := tx.EventUpdate(ctx, seatsEvent("acme", "nope", start)); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("EventUpdate(missing) = %v, want ErrNotFound", err)
		}
		if ps, err := tx.PoolList(ctx, "acme"); err != nil || len(ps) != 0 {
			t.Errorf("PoolList(empty) = %v, %v", ps, err)
		}
		if es, err := tx.EventList(ctx, seats.EventListParams{Org: "acme"}); err != nil || len(es) != 0 {
			t.Errorf("EventList(empty) = %v, %v", es, err)
		}
		if err := tx.PoolInsert(ctx, seats.Pool{Org: "acme", Product: seats.Seats, CreatedAt: start}); err != nil {
			return err
		}
		return tx.EventInsert(ctx, seatsEvent("acme", "e1", start))
	})
	// A taken key is ErrAlreadyExists, each in a transaction of its own.
	err := s.Seats().InTx(ctx, func(tx seats.Tx) error {
		return tx.PoolInsert(ctx, seats.Pool{Org: "acme", Product: seats.Seats})
	})
	if !errors.Is(err, ledger.ErrAlreadyExists) {
		t.Errorf("PoolInsert(taken) = %v, want ErrAlreadyExists", err)
	}
	err = s.Seats().InTx(ctx, func(tx seats.Tx) error { return tx.EventInsert(ctx, seatsEvent("acme", "e1", start)) })
	if !errors.Is(err, ledger.ErrAlreadyExists) {
		t.Errorf("EventInsert(taken key) = %v, want ErrAlreadyExists", err)
	}
	// The same product or event ID in another organization is another
	// record: keys are (org, ID), and one organization never sees the
	// other's.
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		if _, err := tx.EventGet(ctx, "globex", "e1"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("EventGet(other org's ID) = %v, want ErrNotFound", err)
		}
		if err := tx.EventUpdate(ctx, seatsEvent("globex", "e1", start)); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("EventUpdate(other org's ID) = %v, want ErrNotFound", err)
		}
		if err := tx.PoolInsert(ctx, seats.Pool{Org: "globex", Product: seats.Seats}); err != nil {
			return err
		}
		g := seatsEvent("globex", "e1", start.Add(time.Hour))
		g.Name = "Globex's own e1"
		if err := tx.EventInsert(ctx, g); err != nil {
			return fmt.Errorf("EventInsert(same ID, other org): %w", err)
		}
		g.Participants = 7
		if err := tx.EventUpdate(ctx, g); err != nil {
			return err
		}
		for org, want := range map[string]string{"acme": "Event e1", "globex": "Globex's own e1"} {
			got, err := tx.EventGet(ctx, org, "e1")
			if err != nil {
				return err
			}
			if got.Org != org || got.Name != want {
				t.Errorf("EventGet(%s, e1) = %+v, want %s's event %q", org, got, org, want)
			}
			if org == "acme" && got.Participants != 3 {
				t.Errorf("updating globex's e1 changed acme's: %+v", got)
			}
		}
		return nil
	})
}

func testSeatsRoundTrip(t *testing.T, newStore Factory) {
	s := newStore(t)
	at := start.Add(1500 * time.Microsecond)
	pool := seats.Pool{Org: "acme", Product: seats.Module("polls"), Purchased: 7, Assigned: 2, CreatedAt: at}
	e := seatsEvent("acme", "e1", at)
	e.Modules = []string{"polls", "qna"}
	e.ModulesAssigned = []string{"polls"}
	e.SeatsAssigned = 2
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		if err := tx.PoolInsert(ctx, pool); err != nil {
			return err
		}
		in := e
		in.Modules = append([]string(nil), e.Modules...)
		if err := tx.EventInsert(ctx, in); err != nil {
			return err
		}
		in.Modules[0] = "changed" // the store kept its own copy
		return nil
	})
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		got, err := tx.PoolLock(ctx, "acme", seats.Module("polls"))
		if err != nil {
			return err
		}
		if diff := cmp.Diff(pool, got); diff != "" {
			t.Errorf("pool round trip (-want +got):\n%s", diff)
		}
		ge, err := tx.EventGet(ctx, "acme", "e1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(e, ge); diff != "" {
			t.Errorf("event round trip (-want +got):\n%s", diff)
		}
		ge.Modules[0] = "changed" // a returned copy
		ge.ModulesAssigned[0] = "changed"
		again, err := tx.EventGet(ctx, "acme", "e1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Errorf("changing a returned event changed the store (-want +got):\n%s", diff)
		}
		// EventUpdate changes the mutable fields only.
		up := again
		up.Start, up.End = at.Add(time.Hour), at.Add(2*time.Hour)
		up.Name, up.Participants, up.Modules, up.SeatsAssigned, up.ModulesAssigned, up.UpdatedAt = "Renamed", 9, nil, 5, []string{"polls", "qna"}, at.Add(time.Minute)
		if err := tx.EventUpdate(ctx, up); err != nil {
			return err
		}
		up.ModulesAssigned[1] = "changed"
		got2, err := tx.EventGet(ctx, "acme", "e1")
		if err != nil {
			return err
		}
		want := e
		want.Name, want.Participants, want.Modules, want.SeatsAssigned, want.ModulesAssigned, want.UpdatedAt = "Renamed", 9, nil, 5, []string{"polls", "qna"}, at.Add(time.Minute)
		if diff := cmp.Diff(want, got2); diff != "" {
			t.Errorf("after EventUpdate (-want +got):\n%s", diff)
		}
		pool.Purchased, pool.Assigned = 9, 4
		return tx.PoolUpdate(ctx, pool)
	})
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		ps, err := tx.PoolList(ctx, "acme")
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]seats.Pool{pool}, ps); diff != "" {
			t.Errorf("PoolList after PoolUpdate (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testSeatsRollback(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		if err := tx.PoolInsert(ctx, seats.Pool{Org: "acme", Product: seats.Seats, Purchased: 5}); err != nil {
			return err
		}
		return tx.EventInsert(ctx, seatsEvent("acme", "e1", start))
	})
	boom := errors.New("boom")
	err := s.Seats().InTx(ctx, func(tx seats.Tx) error {
		if err := tx.PoolUpdate(ctx, seats.Pool{Org: "acme", Product: seats.Seats, Purchased: 50, Assigned: 5}); err != nil {
			return err
		}
		if err := tx.PoolInsert(ctx, seats.Pool{Org: "acme", Product: seats.Module("qna")}); err != nil {
			return err
		}
		e := seatsEvent("acme", "e1", start)
		e.SeatsAssigned = 5
		if err := tx.EventUpdate(ctx, e); err != nil {
			return err
		}
		if err := tx.EventInsert(ctx, seatsEvent("acme", "e0", start.Add(-time.Hour))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		ps, err := tx.PoolList(ctx, "acme")
		if err != nil {
			return err
		}
		if len(ps) != 1 || ps[0].Purchased != 5 || ps[0].Assigned != 0 {
			t.Errorf("pools after rollback = %+v, want the seat pool with 5 purchased", ps)
		}
		es, err := tx.EventList(ctx, seats.EventListParams{Org: "acme"})
		if err != nil {
			return err
		}
		if len(es) != 1 || es[0].ID != "e1" || es[0].SeatsAssigned != 0 {
			t.Errorf("events after rollback = %+v, want e1 unchanged", es)
		}
		return nil
	})
}

func testSeatsListOrdering(t *testing.T, newStore Factory) {
	s := newStore(t)
	// Inserted out of order; two share a start.
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		for _, e := range []seats.Event{
			seatsEvent("acme", "c", start.Add(2*time.Hour)),
			seatsEvent("acme", "b", start),
			seatsEvent("globex", "g", start),
			seatsEvent("globex", "a", start.Add(-3*time.Hour)), // an ID acme uses too
			seatsEvent("acme", "a", start),
			seatsEvent("acme", "d", start.Add(-time.Hour)),
		} {
			if err := tx.EventInsert(ctx, e); err != nil {
				return err
			}
		}
		for _, p := range []seats.Product{seats.Module("qna"), seats.Seats, seats.Module("polls")} {
			if err := tx.PoolInsert(ctx, seats.Pool{Org: "acme", Product: p}); err != nil {
				return err
			}
		}
		return tx.PoolInsert(ctx, seats.Pool{Org: "globex", Product: seats.Seats})
	})
	ids := func(es []seats.Event) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		for _, tc := range []struct {
			name string
			p    seats.EventListParams
			want []string
		}{
			{"All", seats.EventListParams{Org: "acme"}, []string{"d", "a", "b", "c"}},
			{"Limit", seats.EventListParams{Org: "acme", Limit: 2}, []string{"d", "a"}},
			{"AfterSameStart", seats.EventListParams{Org: "acme", AfterStart: start, AfterID: "a"}, []string{"b", "c"}},
			{"AfterMissingKey", seats.EventListParams{Org: "acme", AfterStart: start, AfterID: "aa"}, []string{"b", "c"}},
			{"StartedBy", seats.EventListParams{Org: "acme", StartedBy: start}, []string{"d", "a", "b"}},
			{"StartedByBeforeAll", seats.EventListParams{Org: "acme", StartedBy: start.Add(-2 * time.Hour)}, []string{}},
			{"OtherOrg", seats.EventListParams{Org: "globex"}, []string{"a", "g"}},
			{"NoSuchOrg", seats.EventListParams{Org: "initech"}, []string{}},
		} {
			es, err := tx.EventList(ctx, tc.p)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(tc.want, ids(es)); diff != "" {
				t.Errorf("EventList %s (-want +got):\n%s", tc.name, diff)
			}
		}
		ps, err := tx.PoolList(ctx, "acme")
		if err != nil {
			return err
		}
		var got []seats.Product
		for _, p := range ps {
			got = append(got, p.Product)
		}
		if diff := cmp.Diff([]seats.Product{seats.Module("polls"), seats.Module("qna"), seats.Seats}, got); diff != "" {
			t.Errorf("PoolList order (-want +got):\n%s", diff)
		}
		return nil
	})
}

// testSeatsLoads: PoolTransferLoad and PoolCheckLoad read what PoolLock,
// TransfersGet, EventGet and EventList read, report what is missing by
// their Found fields, keep organizations apart, return copies and see the
// transaction's own writes; PoolCheckLoad keeps only the started events
// that lack seats or modules.
func testSeatsLoads(t *testing.T, newStore Factory) {
	s := newStore(t)
	seatPool := seats.Pool{Org: "acme", Product: seats.Seats, Purchased: 10, Assigned: 2, CreatedAt: start}
	pollsPool := seats.Pool{Org: "acme", Product: seats.Module("polls"), Purchased: 1, CreatedAt: start}
	ev := func(org, id string, at time.Duration, participants, assigned int64, modules, modulesAssigned []string) seats.Event {
		e := seatsEvent(org, id, start.Add(at))
		e.Participants, e.SeatsAssigned, e.Modules, e.ModulesAssigned = participants, assigned, modules, modulesAssigned
		return e
	}
	polls := []string{"polls"}
	evs := []seats.Event{
		ev("acme", "e", time.Hour, 5, 0, nil, nil),                            // not started
		ev("acme", "d", 0, 1, 0, nil, nil),                                    // starts at the check: started
		ev("acme", "c", -time.Hour, 0, 0, []string{"polls", "qna"}, polls),    // lacks a module only
		ev("acme", "b", -time.Hour, 2, 2, polls, polls),                       // lacks nothing
		ev("acme", "f", -time.Hour, 1, 4, nil, nil),                           // more seats than it needs
		ev("acme", "a", -2*time.Hour, 3, 1, polls, nil),                       // lacks seats and a module
		ev("globex", "a", -3*time.Hour, 9, 0, nil, nil),                       // acme's ID, globex's event
		ev("globex", "g", -time.Hour, 0, 0, []string{"qna"}, []string{"qna"}), // lacks nothing
	}
	var posted ledger.Transfer
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		for _, p := range []seats.Pool{seatPool, pollsPool, {Org: "globex", Product: seats.Seats, Purchased: 3, CreatedAt: start}} {
			if err := tx.PoolInsert(ctx, p); err != nil {
				return err
			}
		}
		for _, e := range evs {
			if err := tx.EventInsert(ctx, e); err != nil {
				return err
			}
		}
		b := ledger.NewBook(tx, start)
		if _, err := b.DefineUnit(ctx, ledger.Unit{Code: "seat"}); err != nil {
			return err
		}
		for _, id := range []ledger.AccountID{"load-x", "load-y"} {
			if _, err := b.CreateAccount(ctx, ledger.Account{ID: id, Unit: "seat"}); err != nil {
				return err
			}
		}
		var err error
		posted, err = b.Post(ctx, ledger.Transfer{ID: "load-t1", Debit: "load-x", Credit: "load-y", Amount: decimal.NewFromInt(2), Code: "c"})
		return err
	})
	byID := func(org, id string) seats.Event {
		for _, e := range evs {
			if e.Org == org && e.ID == id {
				return e
			}
		}
		t.Fatalf("no event %s/%s", org, id)
		return seats.Event{}
	}
	ids := func(es []seats.Event) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.Org+"/"+e.ID)
		}
		return out
	}

	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		for _, tc := range []struct {
			name string
			p    seats.TransferLoadParams
			want seats.TransferLoad
		}{
			{"AllFound", seats.TransferLoadParams{Org: "acme", Product: seats.Seats, Event: "a", Transfer: "load-t1"},
				seats.TransferLoad{Pool: seatPool, PoolFound: true, Prior: posted, PriorFound: true, Event: byID("acme", "a"), EventFound: true}},
			{"ModulePool", seats.TransferLoadParams{Org: "acme", Product: seats.Module("polls"), Event: "c", Transfer: "load-none"},
				seats.TransferLoad{Pool: pollsPool, PoolFound: true, Event: byID("acme", "c"), EventFound: true}},
			{"NoPool", seats.TransferLoadParams{Org: "acme", Product: seats.Module("qna"), Event: "a", Transfer: "load-t1"},
				seats.TransferLoad{Prior: posted, PriorFound: true, Event: byID("acme", "a"), EventFound: true}},
			{"NoEvent", seats.TransferLoadParams{Org: "acme", Product: seats.Seats, Event: "g", Transfer: "load-none"},
				seats.TransferLoad{Pool: seatPool, PoolFound: true}},
			{"OtherOrgsEvent", seats.TransferLoadParams{Org: "globex", Product: seats.Seats, Event: "b", Transfer: "load-none"},
				seats.TransferLoad{Pool: seats.Pool{Org: "globex", Product: seats.Seats, Purchased: 3, CreatedAt: start}, PoolFound: true}},
			{"SameIDOtherOrg", seats.TransferLoadParams{Org: "globex", Product: seats.Seats, Event: "a", Transfer: "load-none"},
				seats.TransferLoad{Pool: seats.Pool{Org: "globex", Product: seats.Seats, Purchased: 3, CreatedAt: start}, PoolFound: true, Event: byID("globex", "a"), EventFound: true}},
			{"NoOrg", seats.TransferLoadParams{Org: "initech", Product: seats.Seats, Event: "a", Transfer: "load-none"},
				seats.TransferLoad{}},
		} {
			got, err := tx.PoolTransferLoad(ctx, tc.p)
			if err != nil {
				return fmt.Errorf("PoolTransferLoad %s: %w", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got, cmpOpts); diff != "" {
				t.Errorf("PoolTransferLoad %s (-want +got):\n%s", tc.name, diff)
			}
		}
		for _, tc := range []struct {
			name     string
			p        seats.CheckLoadParams
			pool     seats.Pool
			poolSeen bool
			want     []string
		}{
			{"Started", seats.CheckLoadParams{Org: "acme", StartedBy: start}, seatPool, true, []string{"acme/a", "acme/c", "acme/d"}},
			{"StartedEarlier", seats.CheckLoadParams{Org: "acme", StartedBy: start.Add(-time.Microsecond)}, seatPool, true, []string{"acme/a", "acme/c"}},
			{"All", seats.CheckLoadParams{Org: "acme", StartedBy: start.Add(24 * time.Hour)}, seatPool, true, []string{"acme/a", "acme/c", "acme/d", "acme/e"}},
			{"OtherOrg", seats.CheckLoadParams{Org: "globex", StartedBy: start}, seats.Pool{Org: "globex", Product: seats.Seats, Purchased: 3, CreatedAt: start}, true, []string{"globex/a"}},
			{"NoOrg", seats.CheckLoadParams{Org: "initech", StartedBy: start}, seats.Pool{}, false, []string{}},
		} {
			got, err := tx.PoolCheckLoad(ctx, tc.p)
			if err != nil {
				return fmt.Errorf("PoolCheckLoad %s: %w", tc.name, err)
			}
			if diff := cmp.Diff(tc.pool, got.Pool); diff != "" || got.PoolFound != tc.poolSeen {
				t.Errorf("PoolCheckLoad %s: pool found %v, want %v (-want +got):\n%s", tc.name, got.PoolFound, tc.poolSeen, diff)
			}
			if diff := cmp.Diff(tc.want, ids(got.Events)); diff != "" {
				t.Errorf("PoolCheckLoad %s events (-want +got):\n%s", tc.name, diff)
			}
			for _, e := range got.Events {
				if diff := cmp.Diff(byID(e.Org, e.ID), e); diff != "" {
					t.Errorf("PoolCheckLoad %s: event %s/%s (-want +got):\n%s", tc.name, e.Org, e.ID, diff)
				}
			}
		}
		return nil
	})

	// The loads return copies and see the transaction's own writes.
	seatsTx(t, s, func(ctx context.Context, tx seats.Tx) error {
		p := seats.TransferLoadParams{Org: "acme", Product: seats.Seats, Event: "a", Transfer: "load-t1"}
		got, err := tx.PoolTransferLoad(ctx, p)
		if err != nil {
			return err
		}
		got.Event.Modules[0] = "changed"
		got.Prior.Metadata = map[string]string{"changed": "yes"}
		check, err := tx.PoolCheckLoad(ctx, seats.CheckLoadParams{Org: "acme", StartedBy: start})
		if err != nil {
			return err
		}
		check.Events[0].Modules[0] = "changed"
		again, err := tx.PoolTransferLoad(ctx, p)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(byID("acme", "a"), again.Event); diff != "" {
			t.Errorf("changing a loaded event changed the store (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(posted, again.Prior, cmpOpts); diff != "" {
			t.Errorf("changing a loaded transfer changed the store (-want +got):\n%s", diff)
		}
		pool := again.Pool
		pool.Assigned = 5
		if err := tx.PoolUpdate(ctx, pool); err != nil {
			return err
		}
		e := again.Event
		e.SeatsAssigned, e.ModulesAssigned = 3, []string{"polls"}
		if err := tx.EventUpdate(ctx, e); err != nil {
			return err
		}
		after, err := tx.PoolTransferLoad(ctx, p)
		if err != nil {
			return err
		}
		if after.Pool.Assigned != 5 || after.Event.SeatsAssigned != 3 {
			t.Errorf("PoolTransferLoad after updates = pool %+v, event %+v; want 5 assigned and 3 seats", after.Pool, after.Event)
		}
		checked, err := tx.PoolCheckLoad(ctx, seats.CheckLoadParams{Org: "acme", StartedBy: start})
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]string{"acme/c", "acme/d"}, ids(checked.Events)); diff != "" || checked.Pool.Assigned != 5 {
			t.Errorf("PoolCheckLoad after acme/a got all it lacked: pool %+v (-want +got events):\n%s", checked.Pool, diff)
		}
		return nil
	})
}

// testSeatsConcurrent runs manual transfers, retries, module transfers and
// consumption checks on one pool from many goroutines: the pool never
// oversells, no request moves twice and the counters equal the ledger.
func testSeatsConcurrent(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	clk := clock.NewFake(start)
	svc := seatsService(t, s, clk)
	const stock, events, workers = 40, 8, 8
	for _, p := range []seats.Product{seats.Seats, seats.Module("polls")} {
		if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: p, Quantity: stock, Subscription: "s", RequestID: "buy-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range events {
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana", ID: fmt.Sprint("e", i), Start: start.Add(-time.Hour), End: start.Add(time.Hour), Participants: 4}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*20)
	for w := range workers {
		wg.Go(func() {
			for i := range 10 {
				ev := fmt.Sprint("e", (w+i)%events)
				var err error
				switch i % 4 {
				case 0, 1:
					// Two workers share each request ID: a raced retry.
					_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: ev, Quantity: 3, RequestID: fmt.Sprint("r", w/2, "-", i)})
				case 2:
					_, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: ev, Module: "polls", RequestID: fmt.Sprint("m", w, "-", i)})
				case 3:
					_, err = svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
				}
				if err != nil && !errors.Is(err, seats.ErrInsufficient) && !errors.Is(err, seats.ErrModuleAlreadyAssigned) && !errors.Is(err, seats.ErrRequestReused) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	CheckSeatsBooks(t, s, svc, "acme", "ana", stock, events)
}

// CheckSeatsBooks checks an organization's seats books after concurrent
// work on the events e0 .. e(events-1): each product's pool holds what its
// counters say is available, purchased = available + assigned with
// purchased equal to stock, every event's counters equal the units its ledger
// accounts hold, no event holds a module twice, and neither Verify nor the
// service's Audit finds anything.
// actor must be an Entitlement manager of org.
func CheckSeatsBooks(t *testing.T, s ledger.Store, svc *seats.Service, org, actor string, stock int64, events int) {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	bal := func(id string) int64 {
		b, err := l.Balance(ctx, ledger.AccountID(id))
		if errors.Is(err, ledger.ErrNotFound) {
			return 0
		}
		if err != nil {
			t.Fatalf("Balance(%s): %v", id, err)
		}
		return b.Posted.IntPart()
	}
	pools, err := svc.Overview(ctx, seats.OverviewParams{Org: org, Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		var held int64
		for i := range events {
			e, err := svc.Event(ctx, seats.EventParams{Org: org, Actor: actor, ID: fmt.Sprint("e", i)})
			if err != nil {
				t.Fatal(err)
			}
			got := bal(fmt.Sprintf("seats/%s/event/e%d/%s", org, i, p.Product))
			held += got
			if p.Product == seats.Seats && got != e.SeatsAssigned {
				t.Errorf("e%d holds %d seats, its counter says %d", i, got, e.SeatsAssigned)
			}
			if p.Product.IsModule() && got != int64(len(e.ModulesAssigned)) {
				t.Errorf("e%d holds %d of %s, its counter lists %v", i, got, p.Product, e.ModulesAssigned)
			}
		}
		pool := bal(fmt.Sprintf("seats/%s/pool/%s", org, p.Product))
		if pool < 0 || pool != p.Available() || held != p.Assigned || p.Purchased != stock || p.Purchased != p.Available()+p.Assigned {
			t.Errorf("%s: pool account %d, events hold %d, counters %+v", p.Product, pool, held, p)
		}
	}
	r, err := l.Verify(ctx)
	if err != nil || !r.OK() {
		t.Errorf("Verify: %v %v", r.Discrepancies, err)
	}
	if fs, err := svc.Audit(ctx, org); err != nil || len(fs) != 0 {
		t.Errorf("Audit(%s) = %v, %v; want no findings", org, fs, err)
	}
}
