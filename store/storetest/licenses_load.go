package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
)

// testLicensesLoad checks LicenseLoad: the organization as stored, its
// expired invitations counted at the instant asked and at its UpdatedAt
// (another organization's left out), the teams named and the member's,
// each once, ordered by ID, appended to dst, the member, and the sentinels:
// an unknown organization is not found; an unknown member, a member of
// another organization and an unknown team are simply absent. Writes after
// a load (which pgxstore sends later) land, and roll back with the
// transaction.
func testLicensesLoad(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s) // acme, updated at licT0: teams sales, design, ops; bo active in design
	at := licT0.Add(time.Hour)
	p2 := licenses.Member{Org: "acme", Email: "p2@acme.test", State: licenses.StatePending, Teams: []string{"design", "ops"},
		Hold: "h2", ExpiresAt: licT0.Add(30 * time.Minute), InvitedBy: "ada@acme.test", InvitedAt: licT0, UpdatedAt: licT0}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, m := range []licenses.Member{
			{Org: "acme", Email: "p1@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: licT0}, // expired by UpdatedAt
			p2, // expired by at, not by UpdatedAt
			{Org: "acme", Email: "p3@acme.test", State: licenses.StatePending, Teams: []string{"sales"}},                                      // never expires
			{Org: "acme", Email: "p4@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: at.Add(time.Microsecond)}, // after at
			{Org: "acme", Email: "e5@acme.test", State: licenses.StateExpired, ExpiresAt: licT0.Add(-time.Hour)},
			{Org: "other", Email: "p2@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: licT0.Add(-time.Hour)},
		} {
			if err := tx.LicenseMemberInsert(ctx, m); err != nil {
				return err
			}
		}
		if err := tx.LicenseOrgInsert(ctx, licenses.Org{ID: "other", Purchased: 1, CreatedAt: licT0, UpdatedAt: at}); err != nil {
			return err
		}
		return tx.LicenseTeamInsert(ctx, "other", licenses.Team{ID: "design", Active: 7})
	})
	org := licenses.Org{ID: "acme", Purchased: 5, CreatedAt: licT0, UpdatedAt: licT0}
	load := func(p licenses.LoadParams, dst []licenses.Team) licenses.Loaded {
		t.Helper()
		var got licenses.Loaded
		licTx(t, s, func(ctx context.Context, tx licenses.Tx) (err error) {
			got, err = tx.LicenseLoad(ctx, p, dst)
			return err
		})
		return got
	}
	for _, c := range []struct {
		name string
		p    licenses.LoadParams
		dst  []licenses.Team
		want licenses.Loaded
	}{
		{"MemberAndTeams", licenses.LoadParams{Org: "acme", At: at, Email: "p2@acme.test", Teams: []string{"sales", "nope", "design", "sales"}}, nil,
			licenses.Loaded{Org: org, Expired: 2, ExpiredByUpdate: 1, Teams: []licenses.Team{{ID: "design"}, {ID: "ops"}, {ID: "sales"}}, Member: p2, Found: true}},
		{"AppendedToDst", licenses.LoadParams{Org: "acme", At: at, Teams: []string{"ops"}}, []licenses.Team{{ID: "kept"}},
			licenses.Loaded{Org: org, Expired: 2, ExpiredByUpdate: 1, Teams: []licenses.Team{{ID: "kept"}, {ID: "ops"}}}},
		{"OrgOnly", licenses.LoadParams{Org: "acme", At: licT0}, nil,
			licenses.Loaded{Org: org, Expired: 1, ExpiredByUpdate: 1}},
		{"MemberMissing", licenses.LoadParams{Org: "acme", At: at, Email: "nope@acme.test", Teams: []string{"sales"}}, nil,
			licenses.Loaded{Org: org, Expired: 2, ExpiredByUpdate: 1, Teams: []licenses.Team{{ID: "sales"}}}},
		{"OtherOrg", licenses.LoadParams{Org: "other", At: at, Email: "bo@acme.test", Teams: []string{"design", "sales"}}, nil,
			licenses.Loaded{Org: licenses.Org{ID: "other", Purchased: 1, CreatedAt: licT0, UpdatedAt: at}, Expired: 1, ExpiredByUpdate: 1,
				Teams: []licenses.Team{{ID: "design", Active: 7}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := load(c.p, c.dst)
			if len(got.Teams) == 0 {
				got.Teams = nil
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("LicenseLoad(%+v) (-want +got):\n%s", c.p, d)
			}
		})
	}
	if err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		_, err := tx.LicenseLoad(ctx, licenses.LoadParams{Org: "nope", At: at, Email: "bo@acme.test", Teams: []string{"design"}}, nil)
		return err
	}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("LicenseLoad(unknown organization): %v, want an error matching %v", err, ledger.ErrNotFound)
	}

	// What a load returns is a copy.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		l, err := tx.LicenseLoad(ctx, licenses.LoadParams{Org: "acme", At: at, Email: "p2@acme.test"}, nil)
		if err != nil {
			return err
		}
		l.Member.Teams[0], l.Teams[0].Active = "CHANGED", 42
		return nil
	})
	if got := load(licenses.LoadParams{Org: "acme", At: at, Email: "p2@acme.test"}, nil); got.Member.Teams[0] != "design" || got.Teams[0].Active != 0 {
		t.Errorf("a load's copy changed the store: %+v", got)
	}

	// The writes that follow a load: they land, and roll back with their
	// transaction.
	before := licState(t, s, at)
	write := func(ctx context.Context, tx licenses.Tx) error {
		l, err := tx.LicenseLoad(ctx, licenses.LoadParams{Org: "acme", At: at, Email: "p2@acme.test", Teams: []string{"sales"}}, nil)
		if err != nil {
			return err
		}
		m := l.Member
		m.State, m.UpdatedAt = licenses.StateExpired, at
		if err := tx.LicenseMemberUpdate(ctx, m); err != nil {
			return err
		}
		o := l.Org
		o.Pending, o.Expired, o.UpdatedAt = 3, 1, at
		if err := tx.LicenseOrgUpdate(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "sales", Pending: 3}); err != nil {
			return err
		}
		if err := tx.LicenseMemberDelete(ctx, "acme", "p3@acme.test"); err != nil {
			return err
		}
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "n6@acme.test", State: licenses.StateActive, Teams: []string{"sales"}, UpdatedAt: at})
	}
	boom := errors.New("boom")
	if err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		if err := write(ctx, tx); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("a failing function: %v", err)
	}
	if d := cmp.Diff(before, licState(t, s, at)); d != "" {
		t.Errorf("writes after a load, rolled back, changed the store (-before +after):\n%s", d)
	}
	licTx(t, s, write)
	after := licState(t, s, at)
	var states []string
	for _, m := range after.Members {
		states = append(states, m.Email+" "+string(m.State))
	}
	want := []string{"bo@acme.test active", "e5@acme.test expired", "n6@acme.test active", "p1@acme.test pending", "p2@acme.test expired", "p4@acme.test pending"}
	if d := cmp.Diff(want, states); d != "" {
		t.Errorf("members after writes that follow a load (-want +got):\n%s", d)
	}
	if after.Org.Pending != 3 || after.Org.Expired != 1 || !after.Org.UpdatedAt.Equal(at) || after.Teams[2] != (licenses.Team{ID: "sales", Pending: 3}) {
		t.Errorf("after writes that follow a load: %+v, teams %+v", after.Org, after.Teams)
	}
	// Deleting a member the load did not find is refused as not found.
	err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		if _, err := tx.LicenseLoad(ctx, licenses.LoadParams{Org: "acme", At: at, Email: "gone@acme.test"}, nil); err != nil {
			return err
		}
		return tx.LicenseMemberDelete(ctx, "acme", "gone@acme.test")
	})
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("deleting a member a load did not find: %v, want an error matching %v", err, ledger.ErrNotFound)
	}
}
