package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// seatsSentinels are the error categories of the seats service.
var seatsSentinels = []error{
	seats.ErrNotEntitlementManager, seats.ErrUnknownEvent, seats.ErrEventExists, seats.ErrNoPool,
	seats.ErrInsufficient, seats.ErrModuleAlreadyAssigned, seats.ErrRequestReused, seats.ErrInvalid,
}

var (
	seatsModelOrgs     = []string{"acme", "acme", "globex"}
	seatsModelProducts = []seats.Product{seats.Seats, seats.Seats, seats.Module("polls"), seats.Module("qna")}
	seatsModelModules  = []string{"polls", "qna", "agenda"} // no pool of agenda is ever bought
	seatsModelEvents   = []string{"e0", "e1", "e2", "e3", "e4"}
	seatsModelRequests = []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"}
)

// TestModelSeats checks that the seats service on pgxstore behaves as on
// memstore: purchases, events, participants, seat and module transfers and
// consumption checks give the same results and errors, and the same views
// and ledger state after every step.
func TestModelSeats(t *testing.T) {
	ctx, start := context.Background(), modelStart
	checkModel(t, func(t *rapid.T, pgs *pgxstore.Store) {
		clk := clock.NewFake(start)
		roles := &seats.StaticRoles{}
		roles.Grant("acme", "ana")
		roles.Grant("globex", "gus")
		memS := memstore.New()
		mem, _ := seats.New(memS.Seats(), &seats.Options{Clock: clk, Roles: roles})
		pg, _ := seats.New(pgs.Seats(), &seats.Options{Clock: clk, Roles: roles})
		svcs := [2]*seats.Service{mem, pg}
		actor := func(t *rapid.T, org string) string {
			if rapid.IntRange(0, 9).Draw(t, "stranger") == 0 {
				return "mallory"
			}
			return map[string]string{"acme": "ana", "globex": "gus"}[org]
		}
		t.Repeat(map[string]func(*rapid.T){
			"purchase": func(t *rapid.T) {
				r := seats.PurchaseRequest{
					Org:          rapid.SampledFrom(seatsModelOrgs).Draw(t, "org"),
					Product:      rapid.SampledFrom(seatsModelProducts).Draw(t, "product"),
					Quantity:     rapid.Int64Range(0, 12).Draw(t, "quantity"),
					Subscription: "sub",
					Actor:        "billing",
					RequestID:    rapid.SampledFrom(seatsModelRequests).Draw(t, "request"),
				}
				mv, merr := mem.Purchase(ctx, r)
				pv, perr := pg.Purchase(ctx, r)
				sameIn(t, seatsSentinels, "Purchase", mv, merr, pv, perr)
			},
			"createEvent": func(t *rapid.T) {
				s := clk.Now().Add(time.Duration(rapid.IntRange(-4, 4).Draw(t, "startH")) * time.Hour)
				n := seats.NewEvent{
					ID:           rapid.SampledFrom(seatsModelEvents).Draw(t, "id"),
					Org:          rapid.SampledFrom(seatsModelOrgs).Draw(t, "org"),
					Name:         rapid.SampledFrom([]string{"", "Kickoff"}).Draw(t, "name"),
					Start:        s,
					End:          s.Add(time.Duration(rapid.IntRange(1, 4).Draw(t, "durH")) * time.Hour),
					Participants: rapid.Int64Range(0, 8).Draw(t, "participants"),
					Modules:      rapid.SliceOfDistinct(rapid.SampledFrom(seatsModelModules), rapid.ID[string]).Draw(t, "modules"),
				}
				mv, merr := mem.CreateEvent(ctx, n)
				pv, perr := pg.CreateEvent(ctx, n)
				sameIn(t, seatsSentinels, "CreateEvent", mv, merr, pv, perr)
			},
			"setParticipants": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				id := rapid.SampledFrom(seatsModelEvents).Draw(t, "event")
				n := rapid.Int64Range(-1, 12).Draw(t, "participants")
				mv, merr := mem.SetParticipants(ctx, org, id, n)
				pv, perr := pg.SetParticipants(ctx, org, id, n)
				sameIn(t, seatsSentinels, "SetParticipants", mv, merr, pv, perr)
			},
			"transferSeats": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				r := seats.SeatTransfer{Org: org, Actor: actor(t, org),
					Event:     rapid.SampledFrom(seatsModelEvents).Draw(t, "event"),
					Quantity:  rapid.Int64Range(0, 6).Draw(t, "quantity"),
					RequestID: rapid.SampledFrom(seatsModelRequests).Draw(t, "request")}
				mv, merr := mem.TransferSeats(ctx, r)
				pv, perr := pg.TransferSeats(ctx, r)
				sameIn(t, seatsSentinels, "TransferSeats", mv, merr, pv, perr)
			},
			"transferModule": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				r := seats.ModuleTransfer{Org: org, Actor: actor(t, org),
					Event:     rapid.SampledFrom(seatsModelEvents).Draw(t, "event"),
					Module:    rapid.SampledFrom(seatsModelModules).Draw(t, "module"),
					RequestID: rapid.SampledFrom(seatsModelRequests).Draw(t, "request")}
				mv, merr := mem.TransferModule(ctx, r)
				pv, perr := pg.TransferModule(ctx, r)
				sameIn(t, seatsSentinels, "TransferModule", mv, merr, pv, perr)
			},
			"checkConsumption": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				mv, merr := mem.CheckConsumption(ctx, org)
				pv, perr := pg.CheckConsumption(ctx, org)
				sameIn(t, seatsSentinels, "CheckConsumption", mv, merr, pv, perr)
			},
			"advance": func(t *rapid.T) {
				clk.Advance(time.Duration(rapid.IntRange(0, 3).Draw(t, "halfHours")) * 30 * time.Minute)
			},
			"": func(t *rapid.T) {
				for _, org := range []string{"acme", "globex"} {
					manager := map[string]string{"acme": "ana", "globex": "gus"}[org]
					var ov [2][]seats.Pool
					var ws [2][]seats.Workspace
					var hs [2][]seats.Transaction
					var errs [2]error
					for i, svc := range svcs {
						if ov[i], errs[i] = svc.Overview(ctx, org, manager); errs[i] != nil {
							t.Fatalf("Overview(%s): %v", org, errs[i])
						}
						for _, p := range ov[i] {
							if p.Purchased != p.Available()+p.Assigned || p.Available() < 0 {
								t.Fatalf("store %d oversold %s of %s: %+v", i, p.Product, org, p)
							}
						}
						q := seats.WorkspaceQuery{Org: org, Actor: manager, Limit: 2}
						for {
							page, err := svc.Workspaces(ctx, q)
							if err != nil {
								t.Fatalf("Workspaces(%s): %v", org, err)
							}
							ws[i] = append(ws[i], page.Workspaces...)
							if q.Cursor = page.Next; q.Cursor == "" {
								break
							}
						}
						page, err := svc.History(ctx, seats.HistoryQuery{Org: org, Actor: manager, Limit: 1000})
						if err != nil {
							t.Fatalf("History(%s): %v", org, err)
						}
						hs[i] = page.Transactions
					}
					same(t, "Overview "+org, ov[0], nil, ov[1], nil)
					same(t, "Workspaces "+org, ws[0], nil, ws[1], nil)
					same(t, "History "+org, hs[0], nil, hs[1], nil)
				}
				for _, org := range []string{"acme", "globex"} {
					for i, svc := range svcs {
						if fs, err := svc.Audit(ctx, org); err != nil || len(fs) != 0 {
							t.Fatalf("store %d: Audit(%s) = %v, %v; want no findings", i, org, fs, err)
						}
					}
				}
				ms, merr := storetest.Snapshot(ctx, memS)
				ps, perr := storetest.Snapshot(ctx, pgs)
				same(t, "ledger state", ms, merr, ps, perr)
			},
		})
	})
}

// seatsReplicas returns n seats services over the test's schema, each with
// a pool of its own: independent service replicas sharing one database.
func seatsReplicas(t *testing.T, db *testDB, n int, opts *pgxstore.Options) []*seats.Service {
	t.Helper()
	roles := &seats.StaticRoles{}
	roles.Grant("acme", "ana")
	out := make([]*seats.Service, n)
	for i := range out {
		svc, err := seats.New(db.store(t, 3, opts).Seats(), &seats.Options{Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = svc
	}
	return out
}

// TestReplicas_Seats runs seat transfers (some of them raced retries of one
// request), module transfers, participant changes and consumption checks on
// one organization's pools from several replicas: nothing is oversold,
// nothing moves twice, no error but the documented refusals surfaces, and
// the counters agree with the ledger.
func TestReplicas_Seats(t *testing.T) {
	db := newTestDB(t)
	svcs := seatsReplicas(t, db, 4, nil)
	ctx := context.Background()
	const stock, events = 60, 6
	for _, p := range []seats.Product{seats.Seats, seats.Module("polls")} {
		if _, err := svcs[0].Purchase(ctx, seats.PurchaseRequest{Org: "acme", Product: p, Quantity: stock, Subscription: "s", Actor: "billing", RequestID: "buy-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for i := range events {
		if _, err := svcs[1].CreateEvent(ctx, seats.NewEvent{ID: fmt.Sprint("e", i), Org: "acme", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Participants: 5}); err != nil {
			t.Fatal(err)
		}
	}
	// Draw every request before the goroutines start.
	const workers, each = 3, 12
	rng := rand.New(rand.NewPCG(3, 4))
	type op struct {
		kind  int
		event string
		n     int64
		req   string
	}
	plans := make([][]op, len(svcs)*workers)
	for p := range plans {
		for i := range each {
			o := op{kind: rng.IntN(5), event: fmt.Sprint("e", rng.IntN(events)), n: 1 + rng.Int64N(4)}
			// Workers p and p+1 share request IDs: raced retries.
			o.req = fmt.Sprintf("w%d-%d", p/2, i)
			plans[p] = append(plans[p], o)
		}
	}
	refusal := func(err error) bool {
		return errors.Is(err, seats.ErrInsufficient) || errors.Is(err, seats.ErrModuleAlreadyAssigned) || errors.Is(err, seats.ErrRequestReused)
	}
	var wg sync.WaitGroup
	for p, plan := range plans {
		svc := svcs[p%len(svcs)]
		wg.Go(func() {
			for _, o := range plan {
				var err error
				switch o.kind {
				case 0, 1:
					_, err = svc.TransferSeats(ctx, seats.SeatTransfer{Org: "acme", Actor: "ana", Event: o.event, Quantity: o.n, RequestID: "s-" + o.req})
				case 2:
					_, err = svc.TransferModule(ctx, seats.ModuleTransfer{Org: "acme", Actor: "ana", Event: o.event, Module: "polls", RequestID: fmt.Sprint("m-", p, "-", o.req)})
				case 3:
					_, err = svc.SetParticipants(ctx, "acme", o.event, 3+o.n*3)
				case 4:
					_, err = svc.CheckConsumption(ctx, "acme")
				}
				if err != nil && !refusal(err) {
					t.Errorf("worker %d: %v", p, err)
				}
			}
		})
	}
	wg.Wait()
	storetest.CheckSeatsBooks(t, db.store(t, 2, nil), svcs[0], "acme", "ana", stock, events)
}

// TestSeats_WritersQueueWithoutRetries turns retries off: writers of one
// pool still never fail, because PoolLock, their first statement, begins
// the transaction at READ COMMITTED, where they wait for each other's locks
// instead of meeting serialization failures.
func TestSeats_WritersQueueWithoutRetries(t *testing.T) {
	db := newTestDB(t)
	svcs := seatsReplicas(t, db, 3, &pgxstore.Options{MaxRetries: -1})
	ctx := context.Background()
	const stock, events = 1000, 3
	for _, p := range []seats.Product{seats.Seats, seats.Module("polls")} {
		if _, err := svcs[0].Purchase(ctx, seats.PurchaseRequest{Org: "acme", Product: p, Quantity: stock, Subscription: "s", Actor: "billing", RequestID: "buy-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range events {
		if _, err := svcs[0].CreateEvent(ctx, seats.NewEvent{ID: fmt.Sprint("e", i), Org: "acme", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), Participants: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 6 {
		svc := svcs[w%len(svcs)]
		wg.Go(func() {
			for i := range 15 {
				ev := fmt.Sprint("e", (w+i)%events)
				var err error
				switch i % 3 {
				case 0, 1:
					_, err = svc.TransferSeats(ctx, seats.SeatTransfer{Org: "acme", Actor: "ana", Event: ev, Quantity: 1, RequestID: fmt.Sprint("s", w, "-", i)})
				case 2:
					_, err = svc.TransferModule(ctx, seats.ModuleTransfer{Org: "acme", Actor: "ana", Event: ev, Module: "polls", RequestID: fmt.Sprint("m", w, "-", i)})
					if errors.Is(err, seats.ErrModuleAlreadyAssigned) {
						err = nil
					}
				}
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
				}
			}
		})
	}
	wg.Wait()
	storetest.CheckSeatsBooks(t, db.store(t, 2, nil), svcs[0], "acme", "ana", stock, events)
}

// TestReplicas_SeatsFirstPurchase has several replicas make the first
// purchase of a product for a new organization at the same moment: each must
// succeed, the losers of the race to open the pool included, and every
// purchase must count once.
func TestReplicas_SeatsFirstPurchase(t *testing.T) {
	db := newTestDB(t)
	const replicas = 6
	var svcs []*seats.Service
	for range replicas {
		svc, err := seats.New(db.store(t, 2, nil).Seats(), nil)
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	ctx := context.Background()
	for round := range 3 {
		org := fmt.Sprintf("newco-%d", round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r, svc := range svcs {
			wg.Go(func() {
				<-start
				_, err := svc.Purchase(ctx, seats.PurchaseRequest{Org: org, Product: seats.Seats, Quantity: 5, Subscription: "sub", Actor: "billing", RequestID: fmt.Sprintf("buy-%d", r)})
				if err != nil {
					t.Errorf("replica %d: Purchase: %v", r, err)
				}
			})
		}
		close(start)
		wg.Wait()
		l, _ := ledger.New(db.store(t, 1, nil), nil)
		r, err := l.Verify(ctx)
		if err != nil || !r.OK() {
			t.Fatalf("Verify = %+v, %v", r, err)
		}
		var purchased decimal.Decimal
		for e, err := range l.Entries(ctx, ledger.AccountID("seats/"+org+"/pool/seat"), time.Time{}, time.Time{}) {
			if err != nil {
				t.Fatal(err)
			}
			purchased = purchased.Add(e.Change)
		}
		if !purchased.Equal(decimal.NewFromInt(5 * replicas)) {
			t.Errorf("%s: pool received %s, want %d", org, purchased, 5*replicas)
		}
	}
}
