package seats_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/seats"
	"github.com/google/go-cmp/cmp"
)

// The fuzz targets feed the service's entry points IDs, actors, quantities
// and times on memstore, starting from the standard fixture. Each call
// either fails with an error matching one of the package's sentinels and
// changes nothing, or succeeds with books that Audit and Verify find
// clean; a successful write retried gives the first result and changes
// nothing.

var fuzzSentinels = []error{
	seats.ErrForbidden, seats.ErrUnknownEvent, seats.ErrEventExists, seats.ErrNoPool,
	seats.ErrInsufficient, seats.ErrModuleAlreadyAssigned, seats.ErrRequestReused, seats.ErrInvalid,
}

// fuzzIDs are edge cases for every ID and actor argument.
var fuzzIDs = []string{
	"acme", "globex", "e1", "e0", "ana", "ÄNA", "gus", "", " ", "a b", "a\x00", "\xff", "a/b", "50%", "%2F", "a%2Fb",
	"module:x", "ÄNN@x.test", "änn@x.test", "@", "a@", string(make([]byte, 201)),
}

// fuzzQuantities are edge cases for every quantity argument.
var fuzzQuantities = []int64{0, 1, -1, 3, 10, math.MaxInt64, math.MinInt64, math.MaxInt64 - 9}

// fuzzTimes are edge cases for every time argument, as Unix seconds.
var fuzzTimes = []int64{0, start.Unix(), -62135596800 - 1, 253402300799, 253402300800, math.MaxInt64, math.MinInt64}

// fuzzOrgs are the organizations the fixture's books are audited for, plus
// the one a call names.
func fuzzAudit(t *testing.T, f *fixture, orgs ...string) {
	t.Helper()
	for _, org := range append([]string{"acme", "globex"}, orgs...) {
		fs, err := f.svc.Audit(f.ctx, org)
		if errors.Is(err, seats.ErrInvalid) {
			continue // not an organization's ID; nothing can have been stored for it
		}
		if err != nil || len(fs) != 0 {
			t.Fatalf("Audit(%q) = %v, %v; want no findings", org, fs, err)
		}
	}
	r, err := mustLedger(t, f).Verify(f.ctx)
	if err != nil || !r.OK() {
		t.Fatalf("Verify = %v, %v", r.Discrepancies, err)
	}
}

// fuzzOutcome checks one call: a clear refusal that changed nothing, or a
// success that leaves clean books.
func fuzzOutcome(t *testing.T, f *fixture, before state, err error, orgs ...string) {
	t.Helper()
	if err != nil {
		clear := false
		for _, s := range fuzzSentinels {
			clear = clear || errors.Is(err, s)
		}
		if !clear {
			t.Fatalf("error matches no sentinel of the package: %v", err)
		}
		f.unchanged(before)
		return
	}
	fuzzAudit(t, f, orgs...)
}

// fuzzRetry runs a successful write again: the first result, nothing changed.
func fuzzRetry[T any](t *testing.T, f *fixture, first T, do func() (T, error)) {
	t.Helper()
	before := f.snapshot()
	again, err := do()
	if err != nil {
		t.Fatalf("retry = %v, want the first result", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Fatalf("retry differs (-first +again):\n%s", diff)
	}
	f.unchanged(before)
}

// fuzzPrepare gives org what a call needs to succeed, where the inputs
// allow: actor as its Entitlement manager, 10 seats and one module, and a
// live event. Refusals here are the calls' own business; prepare ignores
// them, and the books stay audited.
func fuzzPrepare(fx *fixture, org, actor, event, module string) {
	fx.roles.Grant(org, actor)
	_, _ = fx.svc.Purchase(fx.ctx, seats.PurchaseParams{Org: org, Product: seats.Seats, Quantity: 10, Subscription: "s", Actor: "billing", RequestID: "prep-seats"})
	if module != "" {
		_, _ = fx.svc.Purchase(fx.ctx, seats.PurchaseParams{Org: org, Product: seats.Module(module), Quantity: 1, Subscription: "s", Actor: "billing", RequestID: "prep-module"})
	}
	_, _ = fx.svc.CreateEvent(fx.ctx, seats.CreateEventParams{Actor: organizer, ID: event, Org: org, Start: start.Add(-time.Hour), End: start.Add(time.Hour), Participants: 5})
}

func seedStrings(f *testing.F, n int, add func(args ...string)) {
	for i, id := range fuzzIDs {
		args := make([]string, n)
		for j := range args {
			args[j] = fuzzIDs[(i+j*7)%len(fuzzIDs)]
		}
		args[0] = id
		add(args...)
	}
}

func FuzzPurchase(f *testing.F) {
	f.Add("acme", "", int64(5), "sub", "billing", "p9")
	f.Add("acme", "", int64(math.MaxInt64), "sub", "billing", "p9")
	f.Add("acme", "polls", int64(1), "sub-\xfc", "billing", "p9")
	f.Add("acme", "", int64(10), "sub-acme", "BILLING", "p1")
	f.Add("a/b", "x/y%", int64(1), "s\x00", "ÄNN@x.test", "p/1")
	for i, q := range fuzzQuantities {
		f.Add(fuzzIDs[i%len(fuzzIDs)], fuzzIDs[(i+3)%len(fuzzIDs)], q, fuzzIDs[(i+5)%len(fuzzIDs)], fuzzIDs[(i+6)%len(fuzzIDs)], fuzzIDs[(i+9)%len(fuzzIDs)])
	}
	f.Fuzz(func(t *testing.T, org, module string, qty int64, sub, actor, req string) {
		fx := standard(t)
		p := seats.Seats
		if module != "" {
			p = seats.Module(module)
		}
		r := seats.PurchaseParams{Org: org, Product: p, Quantity: qty, Subscription: sub, Actor: actor, RequestID: req}
		before := fx.snapshot()
		tr, err := fx.svc.Purchase(fx.ctx, r)
		fuzzOutcome(t, fx, before, err, org)
		if err == nil {
			fuzzRetry(t, fx, tr, func() (allot.Purchase, error) { return fx.svc.Purchase(fx.ctx, r) })
		}
	})
}

func FuzzCreateEvent(f *testing.F) {
	f.Add("e5", "acme", "Launch", start.Unix(), int64(0), start.Unix()+3600, int64(3), "polls")
	f.Add("e1", "acme", "Event e1", start.Unix()-3600, int64(0), start.Unix()+7*3600, int64(4), "polls")
	f.Add("e1", "globex", "", start.Unix(), int64(0), start.Unix()+1, int64(0), "")
	f.Add("e/1", "a%", "N\x00", int64(253402300799), int64(999999999), int64(253402300800), int64(math.MaxInt64), "x/y")
	for i, ts := range fuzzTimes {
		f.Add(fuzzIDs[i], fuzzIDs[i+1], fuzzIDs[i+2], ts, int64(i), fuzzTimes[(i+1)%len(fuzzTimes)], fuzzQuantities[i%len(fuzzQuantities)], fuzzIDs[i+3])
	}
	f.Fuzz(func(t *testing.T, id, org, name string, startSec, startNsec, endSec, participants int64, module string) {
		fx := standard(t)
		n := seats.CreateEventParams{Actor: organizer, ID: id, Org: org, Name: name, Start: time.Unix(startSec, startNsec).UTC(), End: time.Unix(endSec, 0).UTC(), Participants: participants}
		if module != "" {
			n.Modules = []string{module, module}
		}
		before := fx.snapshot()
		e, err := fx.svc.CreateEvent(fx.ctx, n)
		fuzzOutcome(t, fx, before, err, org)
		if err == nil {
			fuzzRetry(t, fx, e, func() (seats.Event, error) { return fx.svc.CreateEvent(fx.ctx, n) })
		}
	})
}

func FuzzSetParticipants(f *testing.F) {
	for i, q := range fuzzQuantities {
		f.Add("acme", "e1", q)
		f.Add(fuzzIDs[i], fuzzIDs[(i+2)%len(fuzzIDs)], q)
	}
	f.Add("globex", "e1", int64(2))
	f.Fuzz(func(t *testing.T, org, event string, n int64) {
		fx := standard(t)
		before := fx.snapshot()
		_, err := fx.svc.SetParticipants(fx.ctx, seats.SetParticipantsParams{Org: org, Actor: organizer, Event: event, Participants: n})
		fuzzOutcome(t, fx, before, err, org)
		if err == nil {
			// The check that follows serves the grown event, or refuses
			// nothing: the books stay clean.
			_, err := fx.svc.CheckConsumption(fx.ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
			fuzzOutcome(t, fx, fx.snapshot(), err, org)
		}
	})
}

func FuzzSetModules(f *testing.F) {
	seedStrings(f, 4, func(a ...string) { f.Add(a[0], a[1], a[2], a[3]) })
	f.Add("acme", "e1", "polls", "x/y%")
	f.Add("acme", "e9", "", "a b")
	f.Fuzz(func(t *testing.T, org, event, m1, m2 string) {
		fx := standard(t)
		before := fx.snapshot()
		_, err := fx.svc.SetModules(fx.ctx, seats.SetModulesParams{Org: org, Actor: organizer, Event: event, Modules: []string{m1, m2}})
		fuzzOutcome(t, fx, before, err, org)
	})
}

func FuzzTransferSeats(f *testing.F) {
	f.Add("acme", "ana", "e1", int64(4), "r1")
	f.Add("acme", "ANA", "e1", int64(10), "p1")
	f.Add("acme", "ana", "g1", int64(1), "r/1")
	f.Add("globex", "gus", "g1", int64(math.MaxInt64), "r%1")
	for i, q := range fuzzQuantities {
		f.Add(fuzzIDs[i], fuzzIDs[i+4], fuzzIDs[i+2], q, fuzzIDs[i+6])
	}
	f.Fuzz(func(t *testing.T, org, actor, event string, qty int64, req string) {
		fx := standard(t)
		fuzzPrepare(fx, org, actor, event, "")
		r := seats.TransferSeatsParams{Org: org, Actor: actor, Event: event, Quantity: qty, RequestID: req}
		before := fx.snapshot()
		tr, err := fx.svc.TransferSeats(fx.ctx, r)
		fuzzOutcome(t, fx, before, err, org)
		if err == nil {
			fuzzRetry(t, fx, tr, func() (seats.Transaction, error) { return fx.svc.TransferSeats(fx.ctx, r) })
		}
	})
}

func FuzzTransferModule(f *testing.F) {
	f.Add("acme", "ana", "e1", "polls", "m1")
	f.Add("acme", "ana", "e1", "qna", "p2")
	f.Add("acme", "Ana ", "e0", "polls", "m/1")
	seedStrings(f, 5, func(a ...string) { f.Add(a[0], a[1], a[2], a[3], a[4]) })
	f.Fuzz(func(t *testing.T, org, actor, event, module, req string) {
		fx := standard(t)
		fuzzPrepare(fx, org, actor, event, module)
		r := seats.TransferModuleParams{Org: org, Actor: actor, Event: event, Module: module, RequestID: req}
		before := fx.snapshot()
		tr, err := fx.svc.TransferModule(fx.ctx, r)
		fuzzOutcome(t, fx, before, err, org)
		if err == nil {
			fuzzRetry(t, fx, tr, func() (seats.Transaction, error) { return fx.svc.TransferModule(fx.ctx, r) })
		}
	})
}

func FuzzCheckConsumption(f *testing.F) {
	f.Add("acme", int64(0), int64(9))
	f.Add("acme", int64(48*3600), int64(math.MaxInt64))
	f.Add("globex", int64(-3600), int64(0))
	for i, id := range fuzzIDs {
		f.Add(id, int64(i*3600), fuzzQuantities[i%len(fuzzQuantities)])
	}
	f.Fuzz(func(t *testing.T, org string, advance, participants int64) {
		fx := standard(t)
		if participants >= 0 {
			fx.must(second(fx.svc.SetParticipants(fx.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: participants})))
		}
		fx.clock.Advance(time.Duration(advance%(1000*3600)) * time.Second)
		before := fx.snapshot()
		res, err := fx.svc.CheckConsumption(fx.ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
		fuzzOutcome(t, fx, before, err, org)
		if err == nil {
			after := fx.snapshot()
			again, err := fx.svc.CheckConsumption(fx.ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
			if err != nil || len(again.Assigned) != 0 {
				t.Fatalf("second check = %+v, %v; want nothing assigned (first %+v)", again, err, res)
			}
			fx.unchanged(after)
		}
	})
}

func FuzzHistory(f *testing.F) {
	f.Add("acme", "ana", "", "", int64(0), int64(0), "", 0)
	f.Add("acme", "ana", "polls", "e1", start.Unix(), start.Unix()+3600, "seat/1", 1)
	f.Add("acme", "ÄNA", "x/y", "e/1", int64(253402300800), int64(math.MinInt64), "module:x%2Fy/3", 1000)
	f.Add("acme", "ana", "", "", int64(0), int64(0), "seat/-1", -1)
	for i, ts := range fuzzTimes {
		f.Add(fuzzIDs[i], fuzzIDs[i+1], fuzzIDs[i+2], fuzzIDs[i+3], ts, fuzzTimes[(i+2)%len(fuzzTimes)], fuzzIDs[i+4], i*300)
	}
	f.Fuzz(func(t *testing.T, org, actor, module, event string, from, to int64, cursor string, limit int) {
		fx := standard(t)
		fx.must(second(fx.seats("acme", "ana", "e1", 2, "r1")))
		fuzzPrepare(fx, org, actor, event, module)
		_, _ = fx.seats(org, actor, event, 1, "r/1")
		q := seats.HistoryParams{Org: org, Actor: actor, Event: event, Cursor: cursor, Limit: limit}
		if module == "seat" {
			q.Product = seats.Seats
		} else if module != "" {
			q.Product = seats.Module(module)
		}
		if from != 0 {
			q.From = time.Unix(from, 0).UTC()
		}
		if to != 0 {
			q.To = time.Unix(to, 0).UTC()
		}
		before := fx.snapshot()
		page, err := fx.svc.HistoryPage(fx.ctx, q)
		fuzzOutcome(t, fx, before, err, org)
		for err == nil && page.Next != "" {
			q.Cursor = page.Next
			if page, err = fx.svc.HistoryPage(fx.ctx, q); err != nil {
				t.Fatalf("next page at %q: %v", q.Cursor, err)
			}
		}
	})
}
