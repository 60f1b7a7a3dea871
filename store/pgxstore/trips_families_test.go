package pgxstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/pgxstore"
)

// countedStore returns a store over a pool of one counted connection.
func countedStore(t *testing.T, c *tripCounter) *pgxstore.Store {
	t.Helper()
	s, err := pgxstore.New(c.countedPool(t, newTestDB(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrips_Passes(t *testing.T) {
	var c tripCounter
	svc, err := passes.New(countedStore(t, &c).Passes(), &passes.Options{Roles: passesRoles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 1 << 40, RequestID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@acme.example"}); err != nil {
		t.Fatal(err)
	}
	checkTrips(t, &c, []tripBudget{
		// Goal 3 reached: LoginLoad (the request, session, fields, the
		// guest's window locked, the balance), Post's lock, the commit
		// with every write.
		{"LoginCharging", 3, func(ctx context.Context, i int) error {
			id := fmt.Sprint("g", i)
			d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: id + "@x.example", RequestID: id})
			if err == nil && d.Passes != 1 {
				err = fmt.Errorf("login spent %d passes, want 1", d.Passes)
			}
			return err
		}},
		// Goal 2 reached: LoginLoad, the commit with every write.
		{"LoginInWindow", 2, func(ctx context.Context, i int) error {
			d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: "g0@x.example", RequestID: fmt.Sprint("w", i)})
			if err == nil && !d.InWindow {
				err = fmt.Errorf("login outside the window: %+v", d)
			}
			return err
		}},
	})
}

func TestRoundTrips_Seats(t *testing.T) {
	var c tripCounter
	roles := seatsRoles()
	roles.Grant("acme", "ana", seats.EntitlementManager)
	svc, err := seats.New(countedStore(t, &c).Seats(), &seats.Options{Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []seats.Product{seats.Seats, seats.Module("polls")} {
		if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: p, Quantity: 1 << 40, RequestID: "p-" + string(p)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	event := func(org, id string, start time.Time, participants int64) {
		t.Helper()
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Org: org, Actor: seatsOrganizer, ID: id, Start: start, End: start.Add(time.Hour), Participants: participants}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		event("acme", fmt.Sprint("e", i), now.Add(24*time.Hour), 0)
	}
	checkTrips(t, &c, []tripBudget{
		// One round trip for the pool's lock, the request's earlier post
		// and the event (PoolTransferLoad), one for the ledger's lock, one
		// for the writes and the commit. The first seat transfer to an
		// event and a module transfer also open the event's account: the
		// ledger's EnsureAccount sends it with the lock, at no round trip.
		{"TransferSeatsFirst", 3, func(ctx context.Context, i int) error {
			_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: fmt.Sprint("e", i), Quantity: 1, RequestID: fmt.Sprint("first", i)})
			return err
		}},
		{"TransferSeats", 3, func(ctx context.Context, i int) error {
			_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: fmt.Sprint("e", i), Quantity: 1, RequestID: fmt.Sprint("later", i)})
			return err
		}},
		// A retry reads, finds its first result and commits nothing.
		{"TransferSeatsRetried", 2, func(ctx context.Context, i int) error {
			_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e0", Quantity: 1, RequestID: "later0"})
			return err
		}},
		{"TransferModule", 3, func(ctx context.Context, i int) error {
			_, err := svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: fmt.Sprint("e", i), Module: "polls", RequestID: fmt.Sprint("module", i)})
			return err
		}},
	})

	// A consumption check takes as many round trips for 50 events that
	// lack seats as for 5: it reads the seat pool and the events that lack
	// something in one round trip (PoolCheckLoad), opens the events' new
	// seat accounts in one ensure that travels with the ledger's lock,
	// posts all its transfers in one group (the lock, then its writes) and
	// commits with the events' updates: four, whether the accounts are new
	// or the events already hold seats.
	check := func(org string, n int, more bool) (int, []string) {
		t.Helper()
		if !more {
			if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: org, Actor: "billing", Product: seats.Seats, Quantity: 1 << 40, RequestID: "p"}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if more {
				if _, err := svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: org, Actor: seatsOrganizer, Event: fmt.Sprint("e", i), Participants: 5}); err != nil {
					t.Fatal(err)
				}
			} else {
				event(org, fmt.Sprint("e", i), now.Add(-time.Hour), 3)
			}
		}
		// Events that lack nothing are not read.
		for i := range 3 {
			event(org, fmt.Sprintf("covered%d-%t", i, more), now.Add(-time.Hour), 0)
		}
		trips, sqls, err := c.count(func() error {
			res, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
			if err == nil && len(res.Assigned) != n {
				err = fmt.Errorf("the check assigned seats to %d events, want %d", len(res.Assigned), n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return trips, sqls
	}
	check("warm5", 5, false)
	check("warm50", 50, false)
	five, _ := check("five", 5, false)
	fifty, sqls := check("fifty", 50, false)
	if five > 4 || fifty > 4 {
		t.Errorf("a consumption check took %d round trips for 5 events, %d for 50, budget 4; statements for 50:\n\t%s", five, fifty, strings.Join(sqls, "\n\t"))
	} else {
		t.Logf("a consumption check: %d round trips for 5 events, %d for 50 (budget 4)", five, fifty)
	}
	five, _ = check("five", 5, true)
	fifty, sqls = check("fifty", 50, true)
	if five > 4 || fifty > 4 {
		t.Errorf("a consumption check of events that hold seats took %d round trips for 5 events, %d for 50, budget 4; statements for 50:\n\t%s", five, fifty, strings.Join(sqls, "\n\t"))
	} else {
		t.Logf("a consumption check of events that hold seats: %d round trips for 5 events, %d for 50 (budget 4)", five, fifty)
	}
}

func TestRoundTrips_Licenses(t *testing.T) {
	var c tripCounter
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada", licenses.OrgAdmin, allot.Vendor)
	svc, err := licenses.New(countedStore(t, &c).Licenses(), &licenses.Options{Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "ada", RequestID: "buy", Quantity: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "ada"}); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(7 * 24 * time.Hour)
	email := func(i int) string { return fmt.Sprintf("m%d@x.test", i) }
	checkTrips(t, &c, []tripBudget{
		// Each reads what it needs in one round trip (LicenseLoad: the
		// organization's lock, the count of its expired invitations that
		// its events' exact counts need, the teams and the member); an
		// invitation's hold, whose member account Book.EnsureAccount sends
		// with the hold's lock, or an acceptance's settlement takes one
		// more; the writes and events go with the commit.
		{"Invite", 3, func(ctx context.Context, i int) error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: email(i), Actor: "ada", RequestID: email(i), ExpiresAt: exp})
			return err
		}},
		{"Accept", 3, func(ctx context.Context, i int) error {
			_, err := svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: email(i), Actor: email(i)})
			return err
		}},
	})
}
