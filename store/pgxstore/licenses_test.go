package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/allot-dev/allot"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
	"pgregory.net/rapid"
)

// licensesSentinels are the error categories of the licenses service.
var licensesSentinels = []error{
	licenses.ErrInvalid, licenses.ErrForbidden, licenses.ErrUnknownOrg, licenses.ErrUnknownTeam,
	licenses.ErrUnknownMember, licenses.ErrNoLicenseAvailable, licenses.ErrLicensesInUse,
	licenses.ErrIllegalTransition, licenses.ErrNoInvitation, licenses.ErrInvitationExpired, licenses.ErrNotInTeam,
	licenses.ErrRequestReused,
}

// lagClock is a clock behind another by a drawn duration: a replica whose
// clock is behind.
type lagClock struct {
	c   *clock.Fake
	lag *time.Duration
}

func (l lagClock) Now() time.Time { return l.c.Now().Add(-*l.lag) }

var (
	licModelTeams  = []string{"design", "sales", "ops", "nope"} // nope is never created
	licModelEmails = []string{"ann@x.test", "ANN@x.test", "bob@x.test", "cat@x.test", "dan@x.test"}
	licModelActors = []string{"ada@x.test", "ada@x.test", "ada@x.test", "sal@x.test", "eve@x.test"}
)

// TestModelLicenses checks that the licenses service on pgxstore behaves as
// on memstore: every operation gives the same result and error, and the
// summary, the members and the ledger state agree after every step.
func TestModelLicenses(t *testing.T) {
	ctx, start := context.Background(), modelStart
	checkModel(t, func(t *rapid.T, pgs *pgxstore.Store) {
		clk := clock.NewFake(start)
		roles := &allot.StaticRoles{}
		roles.Grant("acme", "ada@x.test", licenses.OrgAdmin, allot.Vendor)
		roles.Grant("acme", "sal@x.test", licenses.TeamAdmin("sales"))
		memS := memstore.New()
		mem, _ := licenses.New(memS.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
		pg, _ := licenses.New(pgs.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
		svcs := [2]*licenses.Service{mem, pg}
		// A replica of each whose clock is behind.
		var lag time.Duration
		lagging := lagClock{clk, &lag}
		memLag, _ := licenses.New(memS.Licenses(), &licenses.Options{Clock: lagging, Roles: roles})
		pgLag, _ := licenses.New(pgs.Licenses(), &licenses.Options{Clock: lagging, Roles: roles})
		req := 0
		var used []string // request IDs sent, to send again
		nextReq := func() string {
			req++
			id := "r" + strconv.Itoa(req)
			used = append(used, id)
			return id
		}
		// reqID draws a new request ID, or one sent before.
		reqID := func(t *rapid.T) string {
			if len(used) > 0 && rapid.IntRange(0, 4).Draw(t, "reuse") == 0 {
				return rapid.SampledFrom(used).Draw(t, "used")
			}
			return nextReq()
		}
		both := func(t *rapid.T, op string, fn func(*licenses.Service) (any, error)) {
			mv, merr := fn(mem)
			pv, perr := fn(pg)
			sameIn(t, licensesSentinels, op, mv, merr, pv, perr)
		}
		bothLagging := func(t *rapid.T, op string, fn func(*licenses.Service) (any, error)) {
			lag = time.Duration(rapid.IntRange(1, 4).Draw(t, "lagQuarters")) * 15 * time.Minute
			mv, merr := fn(memLag)
			pv, perr := fn(pgLag)
			sameIn(t, licensesSentinels, op, mv, merr, pv, perr)
		}
		for _, team := range licModelTeams[:3] {
			both(t, "CreateTeam", func(s *licenses.Service) (any, error) {
				return s.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: team, Actor: "ada@x.test"})
			})
		}
		expiry := func(t *rapid.T) time.Time {
			if k := rapid.IntRange(0, 3).Draw(t, "expiresHalfHours"); k > 0 {
				return clk.Now().Add(time.Duration(k) * 30 * time.Minute)
			}
			return time.Time{}
		}
		t.Repeat(map[string]func(*rapid.T){
			"purchase": func(t *rapid.T) {
				p := licenses.PurchaseParams{Org: "acme", Actor: rapid.SampledFrom(licModelActors).Draw(t, "actor"), RequestID: reqID(t), Quantity: rapid.Int64Range(0, 3).Draw(t, "n")}
				both(t, "Purchase", func(s *licenses.Service) (any, error) { return s.Purchase(ctx, p) })
			},
			"reduce": func(t *rapid.T) {
				p := licenses.ReduceParams{Org: "acme", Actor: "ada@x.test", RequestID: reqID(t), Quantity: rapid.Int64Range(1, 3).Draw(t, "n")}
				both(t, "Reduce", func(s *licenses.Service) (any, error) { return s.Reduce(ctx, p) })
			},
			"invite": func(t *rapid.T) {
				p := licenses.InviteParams{Org: "acme", Team: rapid.SampledFrom(licModelTeams).Draw(t, "team"), Email: rapid.SampledFrom(licModelEmails).Draw(t, "email"),
					Actor: rapid.SampledFrom(licModelActors).Draw(t, "actor"), RequestID: reqID(t), ExpiresAt: expiry(t)}
				both(t, "Invite", func(s *licenses.Service) (any, error) { return s.Invite(ctx, p) })
			},
			"accept": func(t *rapid.T) {
				e := rapid.SampledFrom(licModelEmails).Draw(t, "email")
				both(t, "Accept", func(s *licenses.Service) (any, error) {
					return s.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: e, Actor: e})
				})
			},
			"remove": func(t *rapid.T) {
				p := licenses.RemoveParams{Org: "acme", Team: rapid.SampledFrom(licModelTeams).Draw(t, "team"), Email: rapid.SampledFrom(licModelEmails).Draw(t, "email"),
					Actor: rapid.SampledFrom(licModelActors).Draw(t, "actor"), RequestID: reqID(t)}
				both(t, "Remove", func(s *licenses.Service) (any, error) { return s.Remove(ctx, p) })
			},
			"removeLagging": func(t *rapid.T) {
				p := licenses.RemoveParams{Org: "acme", Team: rapid.SampledFrom(licModelTeams).Draw(t, "team"), Email: rapid.SampledFrom(licModelEmails).Draw(t, "email"),
					Actor: "ada@x.test", RequestID: reqID(t)}
				bothLagging(t, "Remove", func(s *licenses.Service) (any, error) { return s.Remove(ctx, p) })
			},
			"deleteLagging": func(t *rapid.T) {
				p := licenses.DeleteParams{Org: "acme", Email: rapid.SampledFrom(licModelEmails).Draw(t, "email"), Actor: "ada@x.test", RequestID: reqID(t)}
				bothLagging(t, "Delete", func(s *licenses.Service) (any, error) { return s.Delete(ctx, p) })
			},
			"delete": func(t *rapid.T) {
				p := licenses.DeleteParams{Org: "acme", Email: rapid.SampledFrom(licModelEmails).Draw(t, "email"), Actor: "ada@x.test", RequestID: reqID(t)}
				both(t, "Delete", func(s *licenses.Service) (any, error) { return s.Delete(ctx, p) })
			},
			"reassign": func(t *rapid.T) {
				p := licenses.ReassignParams{Org: "acme", From: rapid.SampledFrom(licModelEmails).Draw(t, "from"), To: rapid.SampledFrom(licModelEmails).Draw(t, "to"),
					Team: rapid.SampledFrom(append([]string{""}, licModelTeams[:3]...)).Draw(t, "team"), Actor: "ada@x.test", RequestID: reqID(t), ExpiresAt: expiry(t)}
				both(t, "Reassign", func(s *licenses.Service) (any, error) { return s.Reassign(ctx, p) })
			},
			"advance": func(t *rapid.T) {
				clk.Advance(time.Duration(rapid.IntRange(1, 3).Draw(t, "quarters")) * 15 * time.Minute)
			},
			"": func(t *rapid.T) {
				both(t, "Summary", func(s *licenses.Service) (any, error) {
					return s.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@x.test"})
				})
				var ms [2][]licenses.Member
				for i, s := range svcs {
					for m, err := range s.Members(ctx, licenses.MembersParams{Org: "acme", Actor: "ada@x.test"}) {
						if err != nil {
							t.Fatalf("Members: %v", err)
						}
						ms[i] = append(ms[i], m)
					}
				}
				same(t, "Members", ms[0], nil, ms[1], nil)
				a, aerr := storetest.Snapshot(ctx, memS)
				b, berr := storetest.Snapshot(ctx, pgs)
				same(t, "ledger state", a, aerr, b, berr)
				// Each store's books agree with its ledger.
				for i, s := range svcs {
					fs, err := s.Audit(ctx, "acme")
					if err != nil && !errors.Is(err, licenses.ErrUnknownOrg) {
						t.Fatalf("Audit on store %d: %v", i, err)
					}
					if len(fs) > 0 {
						t.Fatalf("Audit on store %d: %v", i, fs)
					}
				}
			},
		})
	})
}

// TestReplicas_Licenses invites, accepts and deletes from several replicas
// at once, each with a pool of connections of its own: the pool is never
// exceeded, no error but the documented refusals surfaces, and the
// counters agree with the ledger.
func TestReplicas_Licenses(t *testing.T) {
	db := newTestDB(t)
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada", licenses.OrgAdmin, allot.Vendor)
	var svcs []*licenses.Service
	for range 4 {
		svc, err := licenses.New(db.store(t, 3, nil).Licenses(), &licenses.Options{Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	ctx := context.Background()
	const stock = 15
	if _, err := svcs[0].Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "ada", RequestID: "buy", Quantity: stock}); err != nil {
		t.Fatal(err)
	}
	for _, team := range []string{"design", "sales"} {
		if _, err := svcs[1].CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: team, Actor: "ada"}); err != nil {
			t.Fatal(err)
		}
	}
	const workers, each = 4, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	invited := 0
	for w := range workers {
		wg.Go(func() {
			svc := svcs[w]
			for i := range each {
				email := fmt.Sprintf("w%d-%d@x.test", w, i)
				team := []string{"design", "sales"}[i%2]
				_, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: team, Email: email, Actor: "ada", RequestID: email})
				switch {
				case errors.Is(err, licenses.ErrNoLicenseAvailable):
					continue
				case err != nil:
					t.Errorf("Invite: %v", err)
					continue
				}
				mu.Lock()
				invited++
				mu.Unlock()
				switch i % 3 {
				case 0:
					if _, err := svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: email, Actor: email}); err != nil {
						t.Errorf("Accept: %v", err)
					}
				case 1:
					if _, err := svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Email: email, Actor: "ada", RequestID: "del-" + email}); err != nil {
						t.Errorf("Delete: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	sum, err := svcs[2].Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Purchased != stock || sum.Available < 0 || sum.Purchased != sum.Available+sum.Active+sum.Pending+sum.Unassigned {
		t.Errorf("summary %+v breaks purchased = available + pending + active + unassigned", sum)
	}
	n := int64(0)
	for m, err := range svcs[3].Members(ctx, licenses.MembersParams{Org: "acme", Actor: "ada"}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.State.HoldsLicense() {
			n++
		}
	}
	if n != sum.InUse() {
		t.Errorf("%d members hold a license, the summary says %d", n, sum.InUse())
	}
	l, _ := ledger.New(db.store(t, 1, nil), nil)
	pool, err := l.Balance(ctx, licenses.PoolAccount("acme"))
	if err != nil {
		t.Fatal(err)
	}
	if pool.Available.IntPart() != sum.Available {
		t.Errorf("pool available %s in the ledger, summary says %d", pool.Available, sum.Available)
	}
	if r, err := l.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify: %v %v", r.Discrepancies, err)
	}
	if invited < stock {
		t.Errorf("only %d invitations went through with %d licenses and deletions freeing some", invited, stock)
	}
	if fs, err := svcs[0].Audit(ctx, "acme"); err != nil || len(fs) > 0 {
		t.Errorf("Audit = %v, %v", fs, err)
	}
}

// BenchmarkPgx_LicensesInviteAccept: a new member invited to a team (a
// hold on the organization's pool) and accepted (the hold posted), each in
// its own transaction, every op locking the same organization and pool.
func BenchmarkPgx_LicensesInviteAccept(b *testing.B) {
	db := newTestDB(b)
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada", licenses.OrgAdmin, allot.Vendor)
	svc, err := licenses.New(db.store(b, 2, nil).Licenses(), &licenses.Options{Roles: roles})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "ada", RequestID: "buy", Quantity: 1 << 40}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "ada"}); err != nil {
		b.Fatal(err)
	}
	prefix := string(benchID("m"))
	exp := time.Now().Add(7 * 24 * time.Hour)
	b.ResetTimer()
	for i := range b.N {
		email := prefix + "-" + strconv.Itoa(i) + "@x.test"
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: email, Actor: "ada", RequestID: email, ExpiresAt: exp}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: email, Actor: email}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "members/s")
}

// TestReplicas_LicensesFirstPurchase has several replicas make the first
// purchase of a new organization, and create its first team, at the same
// moment: each must succeed, the losers of the race to create the records
// included, and every purchase must count once.
func TestReplicas_LicensesFirstPurchase(t *testing.T) {
	db := newTestDB(t)
	roles := &allot.StaticRoles{}
	roles.Grant("newco", "ada", licenses.OrgAdmin, allot.Vendor)
	const replicas = 6
	var svcs []*licenses.Service
	for range replicas {
		svc, err := licenses.New(db.store(t, 2, nil).Licenses(), &licenses.Options{Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	ctx := context.Background()
	for round := range 3 {
		org := fmt.Sprintf("newco-%d", round)
		roles.Grant(org, "ada", licenses.OrgAdmin, allot.Vendor)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for r, svc := range svcs {
			wg.Go(func() {
				<-start
				if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: "ada", RequestID: fmt.Sprintf("buy-%d", r), Quantity: 2}); err != nil {
					t.Errorf("replica %d: Purchase: %v", r, err)
				}
				if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Team: "design", Actor: "ada"}); err != nil {
					t.Errorf("replica %d: CreateTeam: %v", r, err)
				}
			})
		}
		close(start)
		wg.Wait()
		sum, err := svcs[0].Summary(ctx, licenses.SummaryParams{Org: org, Actor: "ada"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Purchased != 2*replicas || sum.Available != 2*replicas {
			t.Errorf("%s: purchased %d, available %d; want %d each", org, sum.Purchased, sum.Available, 2*replicas)
		}
	}
}

// TestLicenses_ClockBehindAfterExpiry: a replica whose clock is behind
// deletes, removes or reassigns a member whose invitation it still reads as
// pending, after another replica's write released the invitation's hold as
// expired. Each succeeds as for the expired invitation it is, and the
// books agree with the ledger.
func TestLicenses_ClockBehindAfterExpiry(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	for i, act := range []string{"delete", "remove", "reassign"} {
		org := "acme-" + act
		roles := &allot.StaticRoles{}
		roles.Grant(org, "ada", licenses.OrgAdmin, allot.Vendor)
		clk := clock.NewFake(modelStart)
		lag := 2 * time.Hour
		ahead, _ := licenses.New(db.store(t, 2, nil).Licenses(), &licenses.Options{Clock: clk, Roles: roles})
		behind, _ := licenses.New(db.store(t, 2, nil).Licenses(), &licenses.Options{Clock: lagClock{clk, &lag}, Roles: roles})
		if _, err := ahead.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: "ada", RequestID: "buy", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := ahead.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Team: "design", Actor: "ada"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ahead.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@x.test", Actor: "ada", RequestID: "inv", ExpiresAt: modelStart.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(2*time.Hour + time.Minute)
		// Locks the pool: the ledger releases bo's expired hold.
		if _, err := ahead.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: "ada", RequestID: "buy-more", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		var err error
		switch act {
		case "delete":
			_, err = behind.Delete(ctx, licenses.DeleteParams{Org: org, Email: "bo@x.test", Actor: "ada", RequestID: "del"})
		case "remove":
			_, err = behind.Remove(ctx, licenses.RemoveParams{Org: org, Team: "design", Email: "bo@x.test", Actor: "ada", RequestID: "rm-" + org})
		case "reassign":
			_, err = behind.Reassign(ctx, licenses.ReassignParams{Org: org, From: "bo@x.test", To: "cy@x.test", Actor: "ada", RequestID: "mv"})
		}
		if err != nil {
			t.Fatalf("%s by the replica behind: %v", act, err)
		}
		sum, err := ahead.Summary(ctx, licenses.SummaryParams{Org: org, Actor: "ada"})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(3 - i/2); sum.Available != want {
			t.Errorf("%s: %d available, want %d", act, sum.Available, want)
		}
		if fs, err := ahead.Audit(ctx, org); err != nil || len(fs) > 0 {
			t.Errorf("%s: Audit = %v, %v", act, fs, err)
		}
	}
}
