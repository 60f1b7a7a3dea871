package pgxstore_test

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// seatsSentinels are the error categories of the seats service.
var seatsSentinels = []error{
	seats.ErrForbidden, seats.ErrUnknownEvent, seats.ErrEventExists, seats.ErrNoPool,
	seats.ErrInsufficient, seats.ErrModuleAlreadyAssigned, seats.ErrRequestReused, seats.ErrInvalid,
}

// The model's IDs include '/' and '%', which derived ledger IDs escape, and
// events and requests every organization uses.
var (
	seatsModelOrgs     = []string{"acme", "acme", "globex", "a/b%"}
	seatsModelProducts = []seats.Product{seats.Seats, seats.Seats, seats.Module("polls"), seats.Module("q/a%")}
	seatsModelModules  = []string{"polls", "q/a%", "agenda"} // no pool of agenda is ever bought
	seatsModelEvents   = []string{"e0", "e1", "e2", "e/3", "e%2F3"}
	seatsModelRequests = []string{"r0", "r1", "r2", "r3", "r4", "r/5", "r%2F5", "r7"}
	// Each organization's Entitlement manager, as granted.
	seatsModelManagers = map[string]string{"acme": "ana", "globex": "gus", "a/b%": "Änn@B.test"}
)

// seatsOrganizer is an Event organizer, and "billing" the vendor, of every
// organization in seatsRoles.
const seatsOrganizer = "organizer"

func seatsRoles() *allottest.Roles {
	r := &allottest.Roles{}
	r.Grant(allottest.Everywhere, "billing", allot.Vendor)
	r.Grant(allottest.Everywhere, seatsOrganizer, seats.EventOrganizer)
	return r
}

// TestModelSeats checks that the seats service on pgxstore behaves as on
// memstore: purchases, events, participants, seat and module transfers and
// consumption checks give the same results and errors, and the same views
// and ledger state after every step.
func TestModelSeats(t *testing.T) {
	ctx, start := context.Background(), modelStart
	checkModel(t, func(t *rapid.T, pgs *pgxstore.Store) {
		clk := clock.NewFake(start)
		roles := seatsRoles()
		for org, m := range seatsModelManagers {
			roles.Grant(org, m, seats.EntitlementManager)
		}
		memS := memstore.New()
		mem, _ := seats.New(memS.Seats(), &seats.Options{Clock: clk, Roles: roles})
		pg, _ := seats.New(pgs.Seats(), &seats.Options{Clock: clk, Roles: roles})
		svcs := [2]*seats.Service{mem, pg}
		actor := func(t *rapid.T, org string) string {
			if rapid.IntRange(0, 9).Draw(t, "stranger") == 0 {
				return "mallory"
			}
			if org == "a/b%" {
				// One member, however the caller cases the address.
				return rapid.SampledFrom([]string{"Änn@B.test", "änn@b.test", "ÄNN@B.TEST"}).Draw(t, "manager")
			}
			return seatsModelManagers[org]
		}
		t.Repeat(map[string]func(*rapid.T){
			"purchase": func(t *rapid.T) {
				r := seats.PurchaseParams{
					Org:          rapid.SampledFrom(seatsModelOrgs).Draw(t, "org"),
					Product:      rapid.SampledFrom(seatsModelProducts).Draw(t, "product"),
					Quantity:     rapid.OneOf(rapid.Int64Range(0, 12), rapid.Just[int64](math.MaxInt64-1)).Draw(t, "quantity"),
					Subscription: rapid.SampledFrom([]string{"sub", "sub", "sub-\xfc"}).Draw(t, "subscription"),
					Actor:        "billing",
					RequestID:    rapid.SampledFrom(seatsModelRequests).Draw(t, "request"),
				}
				mv, merr := mem.Purchase(ctx, r)
				pv, perr := pg.Purchase(ctx, r)
				sameIn(t, seatsSentinels, "Purchase", mv, merr, pv, perr)
			},
			"createEvent": func(t *rapid.T) {
				s := clk.Now().Add(time.Duration(rapid.IntRange(-4, 4).Draw(t, "startH")) * time.Hour)
				n := seats.CreateEventParams{Actor: seatsOrganizer,
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
				mv, merr := mem.SetParticipants(ctx, seats.SetParticipantsParams{Org: org, Actor: seatsOrganizer, Event: id, Participants: n})
				pv, perr := pg.SetParticipants(ctx, seats.SetParticipantsParams{Org: org, Actor: seatsOrganizer, Event: id, Participants: n})
				sameIn(t, seatsSentinels, "SetParticipants", mv, merr, pv, perr)
			},
			"transferSeats": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				r := seats.TransferSeatsParams{Org: org, Actor: actor(t, org),
					Event:     rapid.SampledFrom(seatsModelEvents).Draw(t, "event"),
					Quantity:  rapid.Int64Range(0, 6).Draw(t, "quantity"),
					RequestID: rapid.SampledFrom(seatsModelRequests).Draw(t, "request")}
				mv, merr := mem.TransferSeats(ctx, r)
				pv, perr := pg.TransferSeats(ctx, r)
				sameIn(t, seatsSentinels, "TransferSeats", mv, merr, pv, perr)
			},
			"transferModule": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				r := seats.TransferModuleParams{Org: org, Actor: actor(t, org),
					Event:     rapid.SampledFrom(seatsModelEvents).Draw(t, "event"),
					Module:    rapid.SampledFrom(seatsModelModules).Draw(t, "module"),
					RequestID: rapid.SampledFrom(seatsModelRequests).Draw(t, "request")}
				mv, merr := mem.TransferModule(ctx, r)
				pv, perr := pg.TransferModule(ctx, r)
				sameIn(t, seatsSentinels, "TransferModule", mv, merr, pv, perr)
			},
			"checkConsumption": func(t *rapid.T) {
				org := rapid.SampledFrom(seatsModelOrgs).Draw(t, "org")
				mv, merr := mem.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
				pv, perr := pg.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
				sameIn(t, seatsSentinels, "CheckConsumption", mv, merr, pv, perr)
			},
			"advance": func(t *rapid.T) {
				clk.Advance(time.Duration(rapid.IntRange(0, 3).Draw(t, "halfHours")) * 30 * time.Minute)
			},
			"": func(t *rapid.T) {
				for _, org := range []string{"acme", "globex", "a/b%"} {
					manager := seatsModelManagers[org]
					var ov [2][]seats.Pool
					var ws [2][]seats.EventEntitlements
					var hs [2][]seats.Transaction
					var errs [2]error
					for i, svc := range svcs {
						if ov[i], errs[i] = svc.Overview(ctx, seats.OverviewParams{Org: org, Actor: manager}); errs[i] != nil {
							t.Fatalf("Overview(%s): %v", org, errs[i])
						}
						for _, p := range ov[i] {
							if p.Purchased != p.Available()+p.Assigned || p.Available() < 0 {
								t.Fatalf("store %d oversold %s of %s: %+v", i, p.Product, org, p)
							}
						}
						q := seats.EventsParams{Org: org, Actor: manager, Limit: 2}
						for {
							page, err := svc.EventsPage(ctx, q)
							if err != nil {
								t.Fatalf("Workspaces(%s): %v", org, err)
							}
							ws[i] = append(ws[i], page.Items...)
							if q.Cursor = page.Next; q.Cursor == "" {
								break
							}
						}
						page, err := svc.HistoryPage(ctx, seats.HistoryParams{Org: org, Actor: manager, Limit: 1000})
						if err != nil {
							t.Fatalf("History(%s): %v", org, err)
						}
						hs[i] = page.Items
					}
					same(t, "Overview "+org, ov[0], nil, ov[1], nil)
					same(t, "Workspaces "+org, ws[0], nil, ws[1], nil)
					same(t, "History "+org, hs[0], nil, hs[1], nil)
				}
				for _, org := range []string{"acme", "globex", "a/b%"} {
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
	roles := seatsRoles()
	roles.Grant("acme", "ana", seats.EntitlementManager)
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
		if _, err := svcs[0].Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: p, Quantity: stock, Subscription: "s", Actor: "billing", RequestID: "buy-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for i := range events {
		if _, err := svcs[1].CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: fmt.Sprint("e", i), Org: "acme", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Participants: 5}); err != nil {
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
					_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: o.event, Quantity: o.n, RequestID: "s-" + o.req})
				case 2:
					_, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: o.event, Module: "polls", RequestID: fmt.Sprint("m-", p, "-", o.req)})
				case 3:
					_, err = svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: seatsOrganizer, Event: o.event, Participants: 3 + o.n*3})
				case 4:
					_, err = svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
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
		if _, err := svcs[0].Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: p, Quantity: stock, Subscription: "s", Actor: "billing", RequestID: "buy-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range events {
		if _, err := svcs[0].CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: fmt.Sprint("e", i), Org: "acme", Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), Participants: 1000}); err != nil {
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
					_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: ev, Quantity: 1, RequestID: fmt.Sprint("s", w, "-", i)})
				case 2:
					_, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: ev, Module: "polls", RequestID: fmt.Sprint("m", w, "-", i)})
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
	roles := seatsRoles()
	for range replicas {
		svc, err := seats.New(db.store(t, 2, nil).Seats(), &seats.Options{Roles: roles})
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
				_, err := svc.Purchase(ctx, seats.PurchaseParams{Org: org, Product: seats.Seats, Quantity: 5, Subscription: "sub", Actor: "billing", RequestID: fmt.Sprintf("buy-%d", r)})
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

// newTestDBAt is newTestDB with the schema only migrated up to version.
func newTestDBAt(t *testing.T, version int) *testDB {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		t.Skipf("set %s to run the PostgreSQL tests", envURL)
	}
	var b [6]byte
	_, _ = cryptorand.Read(b[:])
	db := &testDB{url: url, schema: "allot_test_" + hex.EncodeToString(b[:])}
	ctx := context.Background()
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Errorf("connect to drop schema %s: %v", db.schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{db.schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", db.schema, err)
		}
	})
	if err := pgxstore.MigrateTo(ctx, db.pool(t, 1), db.schema, version); err != nil {
		t.Fatalf("migrate to version %d: %v", version, err)
	}
	return db
}

// TestMigrate_SeatsTenantKeys builds the schema as it was before the seats
// tenant keys (version 4), stores seats rows of that shape by SQL (events
// keyed by ID alone; ledger IDs joined with a plain '/', an organization
// and an event holding '%' and a request ID holding '/'), migrates, and
// reads and uses them through the store: the rows survive with their
// balances, a retry of an old request is still a retry, and another
// organization can now use an event ID the first one has.
func TestMigrate_SeatsTenantKeys(t *testing.T) {
	db := newTestDBAt(t, 4)
	ctx := context.Background()
	pool := db.pool(t, 2)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO allot_units (code, scale) VALUES ('seat', 0), ('module:p%', 0)`, nil},
		{`INSERT INTO allot_accounts (id, unit, owner, flags, created_at, scale, posted, version, last_posted_at) VALUES
			('seats/acme/purchases/seat', 'seat', 'acme', 0, $1, 0, -10, 1, $1),
			('seats/acme/pool/seat', 'seat', 'acme', 1, $1, 0, 6, 2, $1),
			('seats/acme/event/kickoff/seat', 'seat', 'acme', 0, $1, 0, 4, 1, $1),
			('seats/5%/purchases/module:p%', 'module:p%', '5%', 0, $1, 0, -2, 1, $1),
			('seats/5%/pool/module:p%', 'module:p%', '5%', 1, $1, 0, 1, 2, $1),
			('seats/5%/event/k%1/module:p%', 'module:p%', '5%', 0, $1, 0, 1, 1, $1),
			('seats/5%/purchases/seat', 'seat', '5%', 0, $1, 0, -3, 1, $1),
			('seats/5%/pool/seat', 'seat', '5%', 1, $1, 0, 0, 2, $1),
			('seats/5%/event/k%1/seat', 'seat', '5%', 0, $1, 0, 3, 1, $1)`, []any{at}},
		{`INSERT INTO allot_transfers (id, debit, credit, amount, unit, code, actor, metadata, posted_at, debit_balance, credit_balance) VALUES
			('seats/acme/req/p1', 'seats/acme/purchases/seat', 'seats/acme/pool/seat', 10, 'seat', 'seats.purchase', 'billing', '{"subscription": "sub"}', $1, -10, 10),
			('seats/acme/req/a/b', 'seats/acme/pool/seat', 'seats/acme/event/kickoff/seat', 4, 'seat', 'seats.transfer', 'ana', NULL, $1, 6, 4),
			('seats/5%/req/p%1', 'seats/5%/purchases/module:p%', 'seats/5%/pool/module:p%', 2, 'module:p%', 'seats.purchase', 'billing', '{"subscription": "s%"}', $1, -2, 2),
			('seats/5%/req/m/1%', 'seats/5%/pool/module:p%', 'seats/5%/event/k%1/module:p%', 1, 'module:p%', 'seats.transfer', 'ana', NULL, $1, 1, 1),
			('seats/5%/req/p2', 'seats/5%/purchases/seat', 'seats/5%/pool/seat', 3, 'seat', 'seats.purchase', 'billing', '{"subscription": "s"}', $1, -3, 3),
			('seats/5%/auto/k%1/3', 'seats/5%/pool/seat', 'seats/5%/event/k%1/seat', 3, 'seat', 'seats.auto', 'consumption-check', NULL, $1, 0, 3)`, []any{at}},
		{`INSERT INTO allot_seat_pools (org, product, purchased, assigned, created_at) VALUES
			('acme', 'seat', 10, 4, $1), ('5%', 'module:p%', 2, 1, $1), ('5%', 'seat', 3, 3, $1)`, []any{at}},
		{`INSERT INTO allot_seat_events (id, org, name, start_at, end_at, participants, modules, seats_assigned, modules_assigned, created_at, updated_at) VALUES
			('kickoff', 'acme', 'Kickoff', $1, $2, 4, '{}', 4, '{}', $1, $1),
			('k%1', '5%', 'K', $1, $2, 3, '{p%}', 3, '{p%}', $1, $1)`, []any{at, at.Add(8 * time.Hour)}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := pgxstore.Migrate(ctx, pool, ""); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	s := db.store(t, 2, nil)
	clk := clock.NewFake(at.Add(time.Hour))
	roles := seatsRoles()
	roles.Grant("acme", "ana", seats.EntitlementManager)
	roles.Grant("5%", "ana", seats.EntitlementManager)
	roles.Grant("globex", "gus", seats.EntitlementManager)
	svc, err := seats.New(s.Seats(), &seats.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ledger.New(s, nil)
	if r, err := l.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("Verify after Migrate = %+v, %v", r, err)
	}
	for _, org := range []string{"acme", "5%"} {
		if fs, err := svc.Audit(ctx, org); err != nil || len(fs) != 0 {
			t.Errorf("Audit(%s) after Migrate = %v, %v; want no findings", org, fs, err)
		}
	}
	if e, err := svc.Event(ctx, seats.EventParams{Org: "acme", Actor: seatsOrganizer, ID: "kickoff"}); err != nil || e.SeatsAssigned != 4 || e.Name != "Kickoff" {
		t.Errorf("Event(acme, kickoff) = %+v, %v", e, err)
	}
	if e, err := svc.Event(ctx, seats.EventParams{Org: "5%", Actor: seatsOrganizer, ID: "k%1"}); err != nil || e.SeatsAssigned != 3 || !slices.Equal(e.ModulesAssigned, []string{"p%"}) {
		t.Errorf("Event(5%%, k%%1) = %+v, %v", e, err)
	}
	// Old requests, whose IDs the escaping join writes differently, are
	// still found: a retry returns the first transfer, another use of the
	// ID is refused.
	old, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "kickoff", Quantity: 4, RequestID: "a/b"})
	if err != nil || old.RequestID != "a/b" || old.Seq == 0 || !old.At.Equal(at) {
		t.Errorf("retry of acme's a/b = %+v, %v; want the migrated transfer", old, err)
	}
	if _, err := svc.TransferModule(ctx, seats.TransferModuleParams{Org: "5%", Actor: "ana", Event: "k%1", Module: "p%", RequestID: "m/1%"}); err != nil {
		t.Errorf("retry of 5%%'s m/1%% = %v", err)
	}
	if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "5%", Product: seats.Module("p%"), Quantity: 2, Subscription: "s%", Actor: "billing", RequestID: "p%1"}); err != nil {
		t.Errorf("retry of 5%%'s p%%1 = %v", err)
	}
	if _, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "kickoff", Quantity: 1, RequestID: "a/b"}); !errors.Is(err, seats.ErrRequestReused) {
		t.Errorf("reuse of acme's a/b = %v, want ErrRequestReused", err)
	}
	// The consumption check of 5% finds its own automatic transfer.
	if res, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "5%", Actor: allot.SystemActor}); err != nil || len(res.Assigned) != 0 {
		t.Errorf("CheckConsumption(5%%) = %+v, %v; want nothing to assign", res, err)
	}
	page, err := svc.HistoryPage(ctx, seats.HistoryParams{Org: "5%", Actor: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range page.Items {
		got = append(got, fmt.Sprint(tr.Kind, " ", tr.RequestID, " ", tr.Event, " ", tr.Quantity, " ", tr.Subscription))
	}
	if diff := cmp.Diff([]string{"purchase p%1  2 s%", "transfer m/1% k%1 1 ", "purchase p2  3 s", "auto  k%1 3 "}, got); diff != "" {
		t.Errorf("History(5%%) after Migrate (-want +got):\n%s", diff)
	}
	// The old rows work on: new transfers, and another organization's
	// event of an ID acme uses.
	if _, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "kickoff", Quantity: 2, RequestID: "r2"}); err != nil {
		t.Errorf("new transfer to acme's kickoff: %v", err)
	}
	if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: "kickoff", Org: "globex", Start: at, End: at.Add(time.Hour)}); err != nil {
		t.Errorf("globex's kickoff: %v", err)
	}
	for _, org := range []string{"acme", "5%", "globex"} {
		if fs, err := svc.Audit(ctx, org); err != nil || len(fs) != 0 {
			t.Errorf("Audit(%s) = %v, %v; want no findings", org, fs, err)
		}
	}
	if r, err := l.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify = %+v, %v", r, err)
	}
}

// Both stores refuse the same bytes the same way, before any write: a
// subscription that is not valid UTF-8 (which PostgreSQL's JSON column
// would rewrite, so that a retry looked like another request) or holds
// NUL, an event name or an actor that does.
func TestSeats_SameRefusalsOnBothStores(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	clk := clock.NewFake(modelStart)
	roles := seatsRoles()
	roles.Grant("acme", "ana", seats.EntitlementManager)
	memS, pgs := memstore.New(), db.store(t, 2, nil)
	mem, _ := seats.New(memS.Seats(), &seats.Options{Clock: clk, Roles: roles})
	pg, _ := seats.New(pgs.Seats(), &seats.Options{Clock: clk, Roles: roles})
	buy := seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 5, Subscription: "sub-ü", Actor: "billing", RequestID: "p1"}
	for _, svc := range []*seats.Service{mem, pg} {
		if _, err := svc.Purchase(ctx, buy); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: "e1", Org: "acme", Start: modelStart, End: modelStart.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() [2]storetest.State {
		var out [2]storetest.State
		var err error
		if out[0], err = storetest.Snapshot(ctx, memS); err != nil {
			t.Fatal(err)
		}
		if out[1], err = storetest.Snapshot(ctx, pgs); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := snapshot()
	bad := func(change func(*seats.PurchaseParams)) seats.PurchaseParams {
		r := buy
		r.RequestID = "p2"
		change(&r)
		return r
	}
	for name, do := range map[string]func(*seats.Service) error{
		"SubscriptionNotUTF8": func(s *seats.Service) error {
			return second(s.Purchase(ctx, bad(func(r *seats.PurchaseParams) { r.Subscription = "sub-\xfc" })))
		},
		"SubscriptionNUL": func(s *seats.Service) error {
			return second(s.Purchase(ctx, bad(func(r *seats.PurchaseParams) { r.Subscription = "sub\x00" })))
		},
		"ActorNotUTF8": func(s *seats.Service) error {
			return second(s.Purchase(ctx, bad(func(r *seats.PurchaseParams) { r.Actor = "bill\xffing" })))
		},
		"RequestNotUTF8": func(s *seats.Service) error {
			return second(s.Purchase(ctx, bad(func(r *seats.PurchaseParams) { r.RequestID = "p\xff" })))
		},
		"RetryNotUTF8": func(s *seats.Service) error {
			return second(s.Purchase(ctx, bad(func(r *seats.PurchaseParams) { r.RequestID, r.Subscription = "p1", "sub-\xfc" })))
		},
		"EventNameNUL": func(s *seats.Service) error {
			return second(s.CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: "e2", Org: "acme", Name: "a\x00", Start: modelStart, End: modelStart.Add(time.Hour)}))
		},
		"EventIDNotUTF8": func(s *seats.Service) error {
			return second(s.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: seatsOrganizer, Event: "e\xff", Participants: 1}))
		},
		"EventEndYear10000": func(s *seats.Service) error {
			return second(s.CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: "e2", Org: "acme", Start: modelStart, End: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}))
		},
		"ActorNUL": func(s *seats.Service) error {
			return second(s.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana\x00", Event: "e1", Quantity: 1, RequestID: "r1"}))
		},
		"HistoryFromYear0": func(s *seats.Service) error {
			return second(s.HistoryPage(ctx, seats.HistoryParams{Org: "acme", Actor: "ana", From: time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)}))
		},
		"PurchaseBeyondInt64": func(s *seats.Service) error {
			return second(s.Purchase(ctx, bad(func(r *seats.PurchaseParams) { r.Quantity = math.MaxInt64 })))
		},
	} {
		merr, perr := do(mem), do(pg)
		if !errors.Is(merr, seats.ErrInvalid) || !errors.Is(perr, seats.ErrInvalid) || merr.Error() != perr.Error() {
			t.Errorf("%s: memstore %v, pgxstore %v; want one ErrInvalid on both", name, merr, perr)
		}
	}
	if diff := cmp.Diff(before, snapshot(), cmpOpts); diff != "" {
		t.Errorf("refused requests changed a store (-before +after):\n%s", diff)
	}
	// The valid purchase, retried, is the first one on both.
	for i, svc := range []*seats.Service{mem, pg} {
		tr, err := svc.Purchase(ctx, buy)
		if err != nil || tr.Subscription != "sub-ü" || tr.Quantity != 5 {
			t.Errorf("store %d: retry = %+v, %v", i, tr, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
