package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
)

func runLicenses(t *testing.T, newStore Factory) {
	t.Run("TxSentinels", func(t *testing.T) { testLicensesSentinels(t, newStore) })
	t.Run("Rollback", func(t *testing.T) { testLicensesRollback(t, newStore) })
	t.Run("CopySafety", func(t *testing.T) { testLicensesCopySafety(t, newStore) })
	t.Run("RoundTrip", func(t *testing.T) { testLicensesRoundTrip(t, newStore) })
	t.Run("ListOrdering", func(t *testing.T) { testLicensesListOrdering(t, newStore) })
	t.Run("ExpiredCount", func(t *testing.T) { testLicensesExpiredCount(t, newStore) })
	t.Run("ConcurrentInvites", func(t *testing.T) { testLicensesConcurrentInvites(t, newStore) })
	t.Run("ConcurrentAcceptDelete", func(t *testing.T) { testLicensesConcurrentAcceptDelete(t, newStore) })
	t.Run("EdgeInputs", func(t *testing.T) { testLicensesEdgeInputs(t, newStore) })
}

// testLicensesEdgeInputs runs the service with the edges of what it
// accepts (IDs of 200 bytes holding '/', '%' and non-ASCII letters,
// case-folded e-mail addresses, an expiry in the year 9999): the store keeps
// each as given, organizations whose IDs would meet if joined plainly stay
// apart, and Audit finds the books in agreement.
func testLicensesEdgeInputs(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	long := strings.Repeat("é", 99) + "/%"
	long2 := strings.Repeat("é", 99) + "%/" // another request ID of 200 bytes
	orgs := []string{"a/b", "a%2Fb", long}
	roles := &allot.StaticRoles{}
	for _, o := range orgs {
		roles.Grant(o, "Ädmin@x.test", licenses.OrgAdmin, allot.Vendor)
	}
	svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clock.NewFake(start), Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	for i, o := range orgs {
		if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: o, Actor: "äDMIN@X.test", RequestID: long, Quantity: int64(i + 1)}); err != nil {
			t.Fatalf("Purchase(%q): %v", o, err)
		}
		if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: o, Team: long, Actor: "ädmin@x.test"}); err != nil {
			t.Fatal(err)
		}
		m, err := svc.Invite(ctx, licenses.InviteParams{Org: o, Team: long, Email: "ÄNN/50%@X.test", Actor: "ädmin@x.test", RequestID: long2, ExpiresAt: far})
		if err != nil {
			t.Fatalf("Invite in %q: %v", o, err)
		}
		got, err := svc.Member(ctx, licenses.MemberParams{Org: o, Actor: "ädmin@x.test", Email: "änn/50%@x.test"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("Member in %q mismatch (-invited +stored):\n%s", o, diff)
		}
	}
	for i, o := range orgs {
		sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: o, Actor: "ädmin@x.test"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Purchased != int64(i+1) || sum.Pending != 1 || len(sum.Teams) != 1 || sum.Teams[0].ID != long {
			t.Errorf("Summary(%q) = %+v", o, sum)
		}
		if fs, err := svc.Audit(ctx, o); err != nil || len(fs) > 0 {
			t.Errorf("Audit(%q) = %v, %v", o, fs, err)
		}
	}
}

// licTx runs fn in a licenses transaction and fails the test on error.
func licTx(t *testing.T, s Store, fn func(ctx context.Context, tx licenses.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Licenses().InTx(ctx, func(tx licenses.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// licErr runs fn in a transaction of its own and returns its error.
func licErr(s Store, fn func(ctx context.Context, tx licenses.Tx) error) error {
	ctx := context.Background()
	return s.Licenses().InTx(ctx, func(tx licenses.Tx) error { return fn(ctx, tx) })
}

var licT0 = start

func licSeed(t *testing.T, s Store) {
	t.Helper()
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseOrgInsert(ctx, licenses.Org{ID: "acme", Purchased: 5, CreatedAt: licT0, UpdatedAt: licT0}); err != nil {
			return err
		}
		for _, id := range []string{"sales", "design", "ops"} {
			if err := tx.LicenseTeamInsert(ctx, "acme", licenses.Team{ID: id}); err != nil {
				return err
			}
		}
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "bo@acme.test", State: licenses.StateActive, Teams: []string{"design"}, UpdatedAt: licT0})
	})
}

func testLicensesSentinels(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	checks := []struct {
		name string
		fn   func(ctx context.Context, tx licenses.Tx) error
		want error
	}{
		{"OrgGetMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseOrgGet(ctx, "nope")
			return err
		}, ledger.ErrNotFound},
		{"OrgInsertTaken", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseOrgInsert(ctx, licenses.Org{ID: "acme"})
		}, ledger.ErrAlreadyExists},
		{"OrgLockMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseOrgLock(ctx, "nope")
			return err
		}, ledger.ErrNotFound},
		{"OrgUpdateMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseOrgUpdate(ctx, licenses.Org{ID: "nope"})
		}, ledger.ErrNotFound},
		{"TeamGetMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseTeamGet(ctx, "acme", "nope")
			return err
		}, ledger.ErrNotFound},
		{"TeamGetOtherOrg", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseTeamGet(ctx, "other", "design")
			return err
		}, ledger.ErrNotFound},
		{"TeamInsertTaken", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseTeamInsert(ctx, "acme", licenses.Team{ID: "design"})
		}, ledger.ErrAlreadyExists},
		{"TeamUpdateMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "nope"})
		}, ledger.ErrNotFound},
		{"MemberGetMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseMemberGet(ctx, "acme", "nope@acme.test")
			return err
		}, ledger.ErrNotFound},
		{"MemberInsertTaken", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "bo@acme.test", State: licenses.StatePending})
		}, ledger.ErrAlreadyExists},
		{"MemberUpdateMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "nope@acme.test"})
		}, ledger.ErrNotFound},
		{"MemberDeleteMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberDelete(ctx, "acme", "nope@acme.test")
		}, ledger.ErrNotFound},
		{"MemberDeleteOtherOrg", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberDelete(ctx, "other", "bo@acme.test")
		}, ledger.ErrNotFound},
	}
	for _, c := range checks {
		if err := licErr(s, c.fn); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want an error matching %v", c.name, err, c.want)
		}
	}
	// Listing an unknown organization is empty, not an error.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "nope"}); err != nil || len(ts) != 0 {
			t.Errorf("LicenseTeamList(unknown) = %v, %v", ts, err)
		}
		if ms, err := tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "nope"}); err != nil || len(ms) != 0 {
			t.Errorf("LicenseMemberList(unknown) = %v, %v", ms, err)
		}
		if c, err := tx.LicenseExpiredCount(ctx, "nope", licT0); err != nil || c != 0 {
			t.Errorf("LicenseExpiredCount(unknown) = %v, %v", c, err)
		}
		return nil
	})
}

// licState reads everything the facet holds for org acme.
func licState(t *testing.T, s Store, at time.Time) (st struct {
	Org     licenses.Org
	Teams   []licenses.Team
	Members []licenses.Member
	Expired int64
	TeamsAt []licenses.Team // with PendingAt: at
}) {
	t.Helper()
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		var err error
		if st.Org, err = tx.LicenseOrgGet(ctx, "acme"); err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return err
		}
		if st.Teams, err = tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"}); err != nil {
			return err
		}
		if st.TeamsAt, err = tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme", PendingAt: at}); err != nil {
			return err
		}
		if st.Members, err = tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "acme"}); err != nil {
			return err
		}
		st.Expired, err = tx.LicenseExpiredCount(ctx, "acme", at)
		return err
	})
	return st
}

func testLicensesRollback(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: licT0.Add(time.Hour)})
	})
	later := licT0.Add(2 * time.Hour)
	before := licState(t, s, later)
	if before.Expired != 1 {
		t.Fatalf("set-up: %d expired, want 1", before.Expired)
	}
	boom := errors.New("boom")
	err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		o, _ := tx.LicenseOrgGet(ctx, "acme")
		o.Purchased, o.Active = 99, 7
		if err := tx.LicenseOrgUpdate(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamInsert(ctx, "acme", licenses.Team{ID: "aaa"}); err != nil {
			return err
		}
		if err := tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "sales", Active: 3}); err != nil {
			return err
		}
		if err := tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "di@acme.test", State: licenses.StatePending, Teams: []string{"ops"}, ExpiresAt: licT0.Add(time.Minute)}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StateActive, Teams: []string{"sales"}}); err != nil {
			return err
		}
		if err := tx.LicenseMemberDelete(ctx, "acme", "bo@acme.test"); err != nil {
			return err
		}
		if err := tx.LicenseOrgInsert(ctx, licenses.Org{ID: "other"}); err != nil {
			return err
		}
		// Records written more than once go back to their first value.
		o.Pending, o.Expired = 8, 9
		if err := tx.LicenseOrgUpdate(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "sales", Pending: 4}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StatePending, Teams: []string{"design", "sales"}, ExpiresAt: licT0.Add(3 * time.Hour)}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "di@acme.test", State: licenses.StateActive, Teams: []string{"ops"}}); err != nil {
			return err
		}
		if err := tx.LicenseMemberDelete(ctx, "acme", "cy@acme.test"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if diff := cmp.Diff(before, licState(t, s, later)); diff != "" {
		t.Errorf("rolled-back transaction changed the facet (-before +after):\n%s", diff)
	}
	if err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		_, err := tx.LicenseOrgGet(ctx, "other")
		return err
	}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("organization inserted in a rolled-back transaction: %v", err)
	}
}

func testLicensesCopySafety(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	teams := []string{"design", "sales"}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StateActive, Teams: teams}); err != nil {
			return err
		}
		teams[0] = "CHANGED"
		m, err := tx.LicenseMemberGet(ctx, "acme", "cy@acme.test")
		if err != nil {
			return err
		}
		m.Teams[1] = "CHANGED"
		ms, err := tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "acme"})
		if err != nil {
			return err
		}
		for _, m := range ms {
			if len(m.Teams) > 0 {
				m.Teams[0] = "CHANGED"
			}
		}
		upd := licenses.Member{Org: "acme", Email: "bo@acme.test", State: licenses.StateActive, Teams: []string{"ops"}}
		if err := tx.LicenseMemberUpdate(ctx, upd); err != nil {
			return err
		}
		upd.Teams[0] = "CHANGED"
		// An update that keeps the member's teams does not keep the slice
		// it was given either.
		same := []string{"design", "sales"}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StateUnassigned, Teams: same}); err != nil {
			return err
		}
		same[1] = "CHANGED"
		ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"})
		if err != nil {
			return err
		}
		ts[0].Active = 42
		return nil
	})
	st := licState(t, s, licT0)
	want := map[string][]string{"bo@acme.test": {"ops"}, "cy@acme.test": {"design", "sales"}}
	for _, m := range st.Members {
		if diff := cmp.Diff(want[m.Email], m.Teams); diff != "" {
			t.Errorf("member %s teams changed through a copy (-want +got):\n%s", m.Email, diff)
		}
	}
	for _, tm := range st.Teams {
		if tm.Active != 0 {
			t.Errorf("team %s changed through a copy: %+v", tm.ID, tm)
		}
	}
}

func testLicensesRoundTrip(t *testing.T, newStore Factory) {
	s := newStore(t)
	o := licenses.Org{ID: "acme", Purchased: 10, Active: 3, Pending: 2, Unassigned: 1, Expired: 4, CreatedAt: licT0, UpdatedAt: licT0.Add(time.Second)}
	tm := licenses.Team{ID: "design", Active: 2, Pending: 1}
	m := licenses.Member{
		Org: "acme", Email: "bo@acme.test", State: licenses.StatePending, Teams: []string{"design"},
		Hold: "licenses/acme/r1/invite", ExpiresAt: licT0.Add(72 * time.Hour), InvitedBy: "ada@acme.test",
		InvitedAt: licT0, UpdatedAt: licT0,
	}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseOrgInsert(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamInsert(ctx, "acme", tm); err != nil {
			return err
		}
		return tx.LicenseMemberInsert(ctx, m)
	})
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		gotO, err := tx.LicenseOrgGet(ctx, "acme")
		if err != nil {
			return err
		}
		gotT, err := tx.LicenseTeamGet(ctx, "acme", "design")
		if err != nil {
			return err
		}
		gotM, err := tx.LicenseMemberGet(ctx, "acme", "bo@acme.test")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(o, gotO); diff != "" {
			t.Errorf("Org round trip (-put +got):\n%s", diff)
		}
		if diff := cmp.Diff(tm, gotT); diff != "" {
			t.Errorf("Team round trip (-put +got):\n%s", diff)
		}
		if diff := cmp.Diff(m, gotM); diff != "" {
			t.Errorf("Member round trip (-put +got):\n%s", diff)
		}
		return nil
	})
}

func testLicensesListOrdering(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	emails := []string{"zed@acme.test", "amy@acme.test", "max@acme.test", "bob@acme.test"}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, e := range emails {
			if err := tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: e, State: licenses.StateUnassigned}); err != nil {
				return err
			}
		}
		// Another organization's records never show.
		if err := tx.LicenseTeamInsert(ctx, "other", licenses.Team{ID: "aaa"}); err != nil {
			return err
		}
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "other", Email: "aaa@other.test", State: licenses.StateUnassigned})
	})
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"})
		if err != nil {
			return err
		}
		var ids []string
		for _, tm := range ts {
			ids = append(ids, tm.ID)
		}
		if diff := cmp.Diff([]string{"design", "ops", "sales"}, ids); diff != "" {
			t.Errorf("LicenseTeamList order (-want +got):\n%s", diff)
		}
		var got []string
		after := ""
		for {
			page, err := tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "acme", After: after, Limit: 2})
			if err != nil {
				return err
			}
			for _, m := range page {
				got = append(got, m.Email)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].Email
		}
		want := []string{"amy@acme.test", "bo@acme.test", "bob@acme.test", "max@acme.test", "zed@acme.test"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("LicenseMemberList pages (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testLicensesExpiredCount(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	h := func(n int) time.Time { return licT0.Add(time.Duration(n) * time.Hour) }
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, m := range []licenses.Member{
			{Org: "acme", Email: "a@acme.test", State: licenses.StatePending, Teams: []string{"design", "sales"}, ExpiresAt: h(1)},
			{Org: "acme", Email: "b@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: h(2)},
			{Org: "acme", Email: "c@acme.test", State: licenses.StatePending, Teams: []string{"ops"}, ExpiresAt: h(2)},
			{Org: "acme", Email: "d@acme.test", State: licenses.StatePending, Teams: []string{"ops"}},                                // never expires
			{Org: "acme", Email: "e@acme.test", State: licenses.StateActive, Teams: []string{"ops"}, ExpiresAt: h(1)},                // accepted
			{Org: "acme", Email: "f@acme.test", State: licenses.StateExpired, Teams: []string{"ops"}, ExpiresAt: h(1)},               // already marked
			{Org: "other", Email: "g@other.test", State: licenses.StatePending, ExpiresAt: h(1)},                                     // other organization
			{Org: "acme", Email: "h@acme.test", State: licenses.StatePending, Teams: []string{"design"}, ExpiresAt: h(3).Add(-1000)}, // a microsecond before h(3)
		} {
			if err := tx.LicenseMemberInsert(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	// The teams' stored counters, as the service would keep them.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, tm := range []licenses.Team{{ID: "design", Pending: 2}, {ID: "ops", Active: 1, Pending: 2}, {ID: "sales", Pending: 2}} {
			if err := tx.LicenseTeamUpdate(ctx, "acme", tm); err != nil {
				return err
			}
		}
		return nil
	})
	type counts struct {
		Total   int64
		Pending map[string]int64 // by team, at the instant
	}
	count := func(at time.Time) counts {
		c := counts{Pending: map[string]int64{}}
		licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
			var err error
			if c.Total, err = tx.LicenseExpiredCount(ctx, "acme", at); err != nil {
				return err
			}
			ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme", PendingAt: at})
			for _, tm := range ts {
				c.Pending[tm.ID] = tm.Pending
			}
			return err
		})
		return c
	}
	pending := func(design, ops, sales int64) map[string]int64 {
		return map[string]int64{"design": design, "ops": ops, "sales": sales}
	}
	tests := []struct {
		at   time.Time
		want counts
	}{
		{h(1).Add(-time.Microsecond), counts{0, pending(2, 2, 2)}},
		{h(1), counts{1, pending(1, 2, 1)}}, // at its expiry: expired
		{h(2), counts{3, pending(1, 1, 0)}},
		{h(3), counts{4, pending(0, 1, 0)}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, count(tt.at)); diff != "" {
			t.Errorf("at %v: expired counts mismatch (-want +got):\n%s", tt.at, diff)
		}
	}
	// Without PendingAt, Pending is as stored.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"})
		for _, tm := range ts {
			if tm.Pending != 2 {
				t.Errorf("team %s stored Pending %d, want 2", tm.ID, tm.Pending)
			}
		}
		return err
	})
	// Updates and deletes keep the index current.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "a@acme.test", State: licenses.StateExpired, Teams: []string{"design", "sales"}, ExpiresAt: h(1)}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "b@acme.test", State: licenses.StatePending, Teams: []string{"design"}, ExpiresAt: h(2)}); err != nil {
			return err
		}
		return tx.LicenseMemberDelete(ctx, "acme", "c@acme.test")
	})
	if diff := cmp.Diff(counts{2, pending(0, 2, 2)}, count(h(3))); diff != "" {
		t.Errorf("after updates, expired counts mismatch (-want +got):\n%s", diff)
	}
}

// licService is a licenses service over a fresh store with n licenses and
// one team.
func licService(t *testing.T, s Store, n int64) *licenses.Service {
	t.Helper()
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "admin", licenses.OrgAdmin, allot.Vendor)
	svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clock.NewFake(start), Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "admin", RequestID: "buy", Quantity: n}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "admin"}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// The hot path: many concurrent invitations of new people into one pool
// never take more licenses than it has.
func testLicensesConcurrentInvites(t *testing.T, newStore Factory) {
	s := newStore(t)
	const workers, each, pool = 8, 10, 37
	svc := licService(t, s, pool)
	ctx := context.Background()
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok, refused := 0, 0
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				email := fmt.Sprintf("w%d-%d@acme.test", w, i)
				_, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: email, Actor: "admin", RequestID: email})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, licenses.ErrNoLicenseAvailable):
					refused++
				default:
					t.Errorf("Invite under contention: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != pool || refused != workers*each-pool {
		t.Errorf("%d invited and %d refused, want %d and %d", ok, refused, pool, workers*each-pool)
	}
	sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pending != pool || sum.Available != 0 || len(sum.Teams) != 1 || sum.Teams[0].Pending != pool {
		t.Errorf("summary %+v, want %d pending and none available", sum, pool)
	}
	f := &fixture{t: t, ctx: ctx, store: s, l: mustLedger(t, s)}
	f.verify()
}

// Accepting and deleting the same member concurrently: exactly one
// settlement of the hold wins, and the license is counted once.
func testLicensesConcurrentAcceptDelete(t *testing.T, newStore Factory) {
	s := newStore(t)
	const people = 12
	svc := licService(t, s, people)
	ctx := context.Background()
	for i := range people {
		email := fmt.Sprintf("p%d@acme.test", i)
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: email, Actor: "admin", RequestID: email}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range people {
		email := fmt.Sprintf("p%d@acme.test", i)
		wg.Go(func() { _, _ = svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: email, Actor: email}) })
		wg.Go(func() {
			if _, err := svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Email: email, Actor: "admin", RequestID: "del-" + email}); err != nil {
				t.Errorf("Delete(%s) racing Accept: %v", email, err)
			}
		})
	}
	wg.Wait()
	sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	// Every member was deleted, before or after accepting.
	if sum.Active != 0 || sum.Pending != 0 || sum.Available != people {
		t.Errorf("summary %+v, want all %d licenses available", sum, people)
	}
	f := &fixture{t: t, ctx: ctx, store: s, l: mustLedger(t, s)}
	b := f.balance(licenses.PoolAccount("acme"))
	if !b.Available.Equal(d(fmt.Sprint(people))) {
		t.Errorf("pool available %s, want %d", b.Available, people)
	}
	f.verify()
}

func mustLedger(t *testing.T, s Store) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(s, &ledger.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
