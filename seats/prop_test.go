package seats_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

var (
	propOrgs     = []string{"acme", "globex"}
	propProducts = []seats.Product{seats.Seats, seats.Module("polls"), seats.Module("qna")}
	propModules  = []string{"polls", "qna"}
)

type modelPool struct{ purchased, assigned int64 }

type modelEvent struct {
	org             string
	start, end      time.Time
	participants    int64
	modules         []string
	seats           int64
	modulesAssigned []string
}

type modelRequest struct {
	do  func() (any, error)
	got any // a seats.Transaction or an allot.Purchase
}

// machine is the seats service against a plain model.
type machine struct {
	ctx      context.Context
	ms       *memstore.Store
	clock    *clock.Fake
	svc      *seats.Service
	l        *ledger.Ledger
	pools    map[string]map[seats.Product]*modelPool
	events   map[string]*modelEvent
	eventIDs []string
	done     []modelRequest // successful requests, to retry
	n        int
}

func newMachine() *machine {
	m := &machine{ctx: context.Background(), ms: memstore.New(), clock: clock.NewFake(start),
		pools: map[string]map[seats.Product]*modelPool{}, events: map[string]*modelEvent{}}
	m.svc, _ = seats.New(m.ms.Seats(), &seats.Options{Clock: m.clock, Roles: testRoles()})
	m.l, _ = ledger.New(m.ms, nil)
	for _, o := range propOrgs {
		m.pools[o] = map[seats.Product]*modelPool{}
	}
	return m
}

func (m *machine) reqID() string { m.n++; return fmt.Sprintf("q%d", m.n) }

func (m *machine) purchase(t *rapid.T) {
	org := rapid.SampledFrom(propOrgs).Draw(t, "org")
	p := rapid.SampledFrom(propProducts).Draw(t, "product")
	n := rapid.Int64Range(1, 20).Draw(t, "quantity")
	r := seats.PurchaseParams{Org: org, Product: p, Quantity: n, Subscription: "sub", Actor: "billing", RequestID: m.reqID()}
	do := func() (any, error) { return m.svc.Purchase(m.ctx, r) }
	got, err := do()
	if err != nil {
		t.Fatalf("Purchase: %v", err)
	}
	mp := m.pools[org][p]
	if mp == nil {
		mp = &modelPool{}
		m.pools[org][p] = mp
	}
	mp.purchased += n
	m.done = append(m.done, modelRequest{do, got})
}

func (m *machine) createEvent(t *rapid.T) {
	org := rapid.SampledFrom(propOrgs).Draw(t, "org")
	id := fmt.Sprintf("e%d", len(m.eventIDs))
	s := m.clock.Now().Add(time.Duration(rapid.IntRange(-6, 6).Draw(t, "startH")) * time.Hour)
	e := &modelEvent{org: org, start: s, end: s.Add(time.Duration(rapid.IntRange(1, 6).Draw(t, "durH")) * time.Hour),
		participants: rapid.Int64Range(0, 15).Draw(t, "participants"),
		modules:      rapid.SliceOfDistinct(rapid.SampledFrom(propModules), rapid.ID[string]).Draw(t, "modules")}
	slices.Sort(e.modules)
	if len(e.modules) == 0 {
		e.modules = nil
	}
	if _, err := m.svc.CreateEvent(m.ctx, seats.CreateEventParams{Actor: organizer, ID: id, Org: org, Start: e.start, End: e.end, Participants: e.participants, Modules: e.modules}); err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	m.events[id] = e
	m.eventIDs = append(m.eventIDs, id)
}

func (m *machine) anyEvent(t *rapid.T) (string, *modelEvent) {
	if len(m.eventIDs) == 0 {
		t.Skip("no events yet")
	}
	id := rapid.SampledFrom(m.eventIDs).Draw(t, "event")
	return id, m.events[id]
}

func (m *machine) setParticipants(t *rapid.T) {
	id, e := m.anyEvent(t)
	n := rapid.Int64Range(0, 25).Draw(t, "participants")
	if _, err := m.svc.SetParticipants(m.ctx, seats.SetParticipantsParams{Org: e.org, Actor: organizer, Event: id, Participants: n}); err != nil {
		t.Fatalf("SetParticipants: %v", err)
	}
	e.participants = n
}

// refusal is the error the model expects for a transfer, or nil.
func (m *machine) refusal(org, actor, event string, p seats.Product, qty int64) error {
	manager := (org == "acme" && actor == "ana") || (org == "globex" && actor == "gus")
	e := m.events[event]
	mp := m.pools[org][p]
	switch {
	case !manager:
		return seats.ErrForbidden
	case mp == nil:
		return seats.ErrNoPool
	case e.org != org:
		return seats.ErrUnknownEvent
	case p.IsModule() && slices.Contains(e.modulesAssigned, p.ModuleName()):
		return seats.ErrModuleAlreadyAssigned
	case mp.purchased-mp.assigned < qty:
		return seats.ErrInsufficient
	}
	return nil
}

func (m *machine) transfer(t *rapid.T, module bool) {
	id, e := m.anyEvent(t)
	org := rapid.SampledFrom(propOrgs).Draw(t, "org")
	actor := rapid.SampledFrom([]string{"ana", "gus", "bob"}).Draw(t, "actor")
	p, qty := seats.Seats, int64(1)
	var do func() (seats.Transaction, error)
	req := m.reqID()
	if module {
		name := rapid.SampledFrom(propModules).Draw(t, "module")
		p = seats.Module(name)
		do = func() (seats.Transaction, error) {
			return m.svc.TransferModule(m.ctx, seats.TransferModuleParams{Org: org, Actor: actor, Event: id, Module: name, RequestID: req})
		}
	} else {
		qty = rapid.Int64Range(1, 15).Draw(t, "quantity")
		do = func() (seats.Transaction, error) {
			return m.svc.TransferSeats(m.ctx, seats.TransferSeatsParams{Org: org, Actor: actor, Event: id, Quantity: qty, RequestID: req})
		}
	}
	want := m.refusal(org, actor, id, p, qty)
	before := m.counters()
	got, err := do()
	if want != nil {
		if !errors.Is(err, want) {
			t.Fatalf("transfer %s x%d to %s by %s in %s: err = %v, want %v", p, qty, id, actor, org, err, want)
		}
		if after := m.counters(); !slices.Equal(before, after) {
			t.Fatalf("a refused transfer changed the counters: %v -> %v", before, after)
		}
		return
	}
	if err != nil {
		t.Fatalf("transfer %s x%d to %s: %v", p, qty, id, err)
	}
	m.pools[org][p].assigned += qty
	if module {
		e.modulesAssigned = append(e.modulesAssigned, p.ModuleName())
		slices.Sort(e.modulesAssigned)
	} else {
		e.seats += qty
	}
	m.done = append(m.done, modelRequest{func() (any, error) { return do() }, got})
}

func (m *machine) retry(t *rapid.T) {
	if len(m.done) == 0 {
		t.Skip("nothing to retry")
	}
	r := rapid.SampledFrom(m.done).Draw(t, "request")
	got, err := r.do()
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := gocmp.Diff(r.got, got); diff != "" {
		t.Fatalf("retry (-first +again):\n%s", diff)
	}
}

// check runs the consumption check and compares it with the model's own
// plan: live and past events by (start, ID), each served while seats last.
func (m *machine) check(t *rapid.T) {
	org := rapid.SampledFrom(propOrgs).Draw(t, "org")
	now := m.clock.Now()
	var ids []string
	for _, id := range m.eventIDs {
		if e := m.events[id]; e.org == org && !now.Before(e.start) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(m.events[a].start.Compare(m.events[b].start), cmp.Compare(a, b))
	})
	var want []seats.Assignment
	if mp := m.pools[org][seats.Seats]; mp != nil {
		left := mp.purchased - mp.assigned
		for _, id := range ids {
			e := m.events[id]
			if need := e.participants - e.seats; need > 0 && left > 0 {
				n := min(need, left)
				left -= n
				want = append(want, seats.Assignment{Event: id, Seats: n, Reached: e.seats + n})
			}
		}
	}
	res, err := m.svc.CheckConsumption(m.ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
	if err != nil {
		t.Fatalf("CheckConsumption: %v", err)
	}
	if !slices.Equal(want, res.Assigned) {
		t.Fatalf("CheckConsumption assigned %v, want %v", res.Assigned, want)
	}
	for _, a := range want {
		m.events[a.Event].seats = a.Reached
		m.pools[org][seats.Seats].assigned += a.Seats
	}
	for _, w := range res.Missing {
		if w.SeatsMissing > 0 && m.pools[org][seats.Seats] != nil {
			if mp := m.pools[org][seats.Seats]; mp.purchased != mp.assigned {
				t.Fatalf("event %s still misses %d seats with %d in the pool", w.ID, w.SeatsMissing, mp.purchased-mp.assigned)
			}
		}
	}
}

func (m *machine) advance(t *rapid.T) {
	m.clock.Advance(time.Duration(rapid.IntRange(0, 4).Draw(t, "hours")) * time.Hour)
}

// counters reads every pool's and event's counters.
func (m *machine) counters() []int64 {
	var out []int64
	_ = m.ms.Seats().InTx(m.ctx, func(tx seats.Tx) error {
		for _, org := range propOrgs {
			ps, _ := tx.PoolList(m.ctx, org)
			for _, p := range ps {
				out = append(out, p.Purchased, p.Assigned)
			}
		}
		for _, id := range m.eventIDs {
			e, _ := tx.EventGet(m.ctx, m.events[id].org, id)
			out = append(out, e.SeatsAssigned, int64(len(e.ModulesAssigned)))
		}
		return nil
	})
	return out
}

// balance reads an account's posted balance, zero if it does not exist.
func balance(t interface{ Fatalf(string, ...any) }, l *ledger.Ledger, id ledger.AccountID) int64 {
	b, err := l.Balance(context.Background(), id)
	if errors.Is(err, ledger.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("Balance(%s): %v", id, err)
	}
	if !b.Posted.Equal(decimal.NewFromInt(b.Posted.IntPart())) {
		t.Fatalf("Balance(%s) = %s, not whole", id, b.Posted)
	}
	return b.Posted.IntPart()
}

// invariants checks the service against the model and the ledger.
func (m *machine) invariants(t *rapid.T) {
	for _, org := range propOrgs {
		if fs, err := m.svc.Audit(m.ctx, org); err != nil || len(fs) != 0 {
			t.Fatalf("Audit(%s) = %v, %v; want no findings", org, fs, err)
		}
	}
	for _, org := range propOrgs {
		actor := map[string]string{"acme": "ana", "globex": "gus"}[org]
		pools, err := m.svc.Overview(m.ctx, seats.OverviewParams{Org: org, Actor: actor})
		if err != nil {
			t.Fatalf("Overview: %v", err)
		}
		if len(pools) != len(m.pools[org]) {
			t.Fatalf("%s has %d pools, model %d", org, len(pools), len(m.pools[org]))
		}
		for _, p := range pools {
			mp := m.pools[org][p.Product]
			if mp == nil || p.Purchased != mp.purchased || p.Assigned != mp.assigned {
				t.Fatalf("%s %s: pool %+v, model %+v", org, p.Product, p, mp)
			}
			checkPoolLedger(t, m.l, p, m.eventIDs, func(id string) bool { return m.events[id].org == org })
		}
	}
	for _, id := range m.eventIDs {
		me := m.events[id]
		e, err := m.svc.Event(m.ctx, seats.EventParams{Org: me.org, Actor: organizer, ID: id})
		if err != nil {
			t.Fatalf("Event(%s): %v", id, err)
		}
		if e.SeatsAssigned != me.seats || !slices.Equal(e.ModulesAssigned, me.modulesAssigned) || e.Participants != me.participants {
			t.Fatalf("event %s = %+v, model %+v", id, e, me)
		}
		checkEventLedger(t, m.l, e)
	}
}

// checkPoolLedger: purchased = available + assigned, on the ledger too, and
// the pool never below zero.
func checkPoolLedger(t interface{ Fatalf(string, ...any) }, l *ledger.Ledger, p seats.Pool, events []string, inOrg func(string) bool) {
	issuer := balance(t, l, ledger.AccountID("seats/"+p.Org+"/purchases/"+string(p.Product)))
	pool := balance(t, l, ledger.AccountID("seats/"+p.Org+"/pool/"+string(p.Product)))
	var assigned int64
	for _, id := range events {
		if inOrg(id) {
			assigned += balance(t, l, ledger.AccountID("seats/"+p.Org+"/event/"+id+"/"+string(p.Product)))
		}
	}
	switch {
	case pool < 0:
		t.Fatalf("%s %s pool is %d, below zero", p.Org, p.Product, pool)
	case -issuer != p.Purchased:
		t.Fatalf("%s %s: ledger purchased %d, counter %d", p.Org, p.Product, -issuer, p.Purchased)
	case pool != p.Available():
		t.Fatalf("%s %s: ledger available %d, counter %d", p.Org, p.Product, pool, p.Available())
	case assigned != p.Assigned:
		t.Fatalf("%s %s: events hold %d, counter assigned %d", p.Org, p.Product, assigned, p.Assigned)
	case p.Purchased != p.Available()+p.Assigned:
		t.Fatalf("%s %s: purchased %d != available %d + assigned %d", p.Org, p.Product, p.Purchased, p.Available(), p.Assigned)
	}
}

// checkEventLedger: the event's counters are its accounts' balances, and it
// holds each module at most once.
func checkEventLedger(t interface{ Fatalf(string, ...any) }, l *ledger.Ledger, e seats.Event) {
	if got := balance(t, l, ledger.AccountID("seats/"+e.Org+"/event/"+e.ID+"/seat")); got != e.SeatsAssigned {
		t.Fatalf("event %s holds %d seats on the ledger, counter %d", e.ID, got, e.SeatsAssigned)
	}
	for _, name := range propModules {
		want := int64(0)
		if slices.Contains(e.ModulesAssigned, name) {
			want = 1
		}
		if got := balance(t, l, ledger.AccountID("seats/"+e.Org+"/event/"+e.ID+"/module:"+name)); got != want {
			t.Fatalf("event %s holds %d of module %s on the ledger, want %d", e.ID, got, name, want)
		}
	}
}

func TestSeats_StateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newMachine()
		t.Repeat(map[string]func(*rapid.T){
			"":                m.invariants,
			"purchase":        m.purchase,
			"createEvent":     m.createEvent,
			"setParticipants": m.setParticipants,
			"transferSeats":   func(t *rapid.T) { m.transfer(t, false) },
			"transferModule":  func(t *rapid.T) { m.transfer(t, true) },
			"retry":           m.retry,
			"check":           m.check,
			"advance":         m.advance,
		})
	})
}

// Concurrent transfers, module transfers, growth and consumption checks on
// one organization never oversell and keep every counter equal to the ledger.
func TestSeats_ConcurrentNeverOversells(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		runConcurrent(t, memstore.New())
	})
}

type concurrentOp struct {
	kind  int // 0 seats, 1 module, 2 grow, 3 check, 4 purchase
	event string
	n     int64
	req   string
}

func runConcurrent(t *rapid.T, ms *memstore.Store) {
	ctx := context.Background()
	clk := clock.NewFake(start)
	svc, _ := seats.New(ms.Seats(), &seats.Options{Clock: clk, Roles: testRoles()})
	events := []string{"a", "b", "c", "d"}
	for i, id := range events {
		s := start.Add(time.Duration(i-2) * time.Hour)
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Actor: organizer, ID: id, Org: "acme", Start: s, End: s.Add(3 * time.Hour), Participants: 3}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []seats.Product{seats.Seats, seats.Module("polls")} {
		if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: p, Quantity: rapid.Int64Range(1, 12).Draw(t, "stock"), Subscription: "s", Actor: "billing", RequestID: "init-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	// Draw everything first; requests may repeat IDs to race retries.
	ops := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) concurrentOp {
		return concurrentOp{
			kind:  rapid.IntRange(0, 4).Draw(t, "kind"),
			event: rapid.SampledFrom(events).Draw(t, "event"),
			n:     rapid.Int64Range(1, 6).Draw(t, "n"),
			req:   fmt.Sprintf("r%d", rapid.IntRange(0, 8).Draw(t, "req")),
		}
	}), 2, 24).Draw(t, "ops")
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() {
			var err error
			switch op.kind {
			case 0:
				_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: op.event, Quantity: op.n, RequestID: op.req})
			case 1:
				_, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: op.event, Module: "polls", RequestID: op.req})
			case 2:
				_, err = svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: op.event, Participants: 3 + op.n})
			case 3:
				_, err = svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
			case 4:
				_, err = svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: op.n, Subscription: "s", Actor: "billing", RequestID: fmt.Sprintf("buy%d", i)})
			}
			if err != nil && !errors.Is(err, seats.ErrInsufficient) && !errors.Is(err, seats.ErrRequestReused) && !errors.Is(err, seats.ErrModuleAlreadyAssigned) {
				t.Errorf("op %+v: unexpected error %v", op, err)
			}
		})
	}
	wg.Wait()

	l, _ := ledger.New(ms, nil)
	pools, err := svc.Overview(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		checkPoolLedger(t, l, p, events, func(string) bool { return true })
	}
	for _, id := range events {
		e, err := svc.Event(ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		checkEventLedger(t, l, e)
	}
	// A request ID moved units at most once.
	page, err := svc.HistoryPage(ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tr := range page.Items {
		if tr.RequestID == "" {
			continue
		}
		if seen[tr.RequestID] {
			t.Fatalf("request %s moved units twice", tr.RequestID)
		}
		seen[tr.RequestID] = true
	}
	if r, err := l.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("Verify: %v %v", r.Discrepancies, err)
	}
	if fs, err := svc.Audit(ctx, "acme"); err != nil || len(fs) != 0 {
		t.Fatalf("Audit = %v, %v; want no findings", fs, err)
	}
}
