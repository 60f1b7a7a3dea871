package licenses_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/allot-dev/allot"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

const (
	org    = "acme"
	admin  = "ada@acme.test" // the Org Admin
	vendor = "billing"       // holds allot.Vendor: adds and takes back licenses
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 123456000, time.UTC)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	ms    *memstore.Store
	clock *clock.Fake
	roles *allot.StaticRoles
	svc   *licenses.Service
	req   int
}

// newFixture: org acme with an Org Admin, licenses purchased and teams
// design, sales and ops.
func newFixture(t *testing.T, purchased int64) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), ms: memstore.New(), clock: clock.NewFake(t0), roles: &allot.StaticRoles{}}
	f.roles.Grant(org, admin, licenses.OrgAdmin)
	f.roles.Grant(org, vendor, allot.Vendor)
	svc, err := licenses.New(f.ms.Licenses(), &licenses.Options{Clock: f.clock, Roles: f.roles})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	if purchased > 0 {
		f.purchase(purchased)
	}
	for _, team := range []string{"design", "sales", "ops"} {
		if _, err := svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: team, Actor: admin}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) nextReq() string {
	f.req++
	return fmt.Sprintf("r%d", f.req)
}

func (f *fixture) purchase(n int64) allot.Purchase {
	f.t.Helper()
	s, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: f.nextReq(), Quantity: n})
	if err != nil {
		f.t.Fatalf("Purchase(%d): %v", n, err)
	}
	return s
}

func (f *fixture) invite(team, email string, expires time.Time) licenses.Member {
	f.t.Helper()
	m, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: team, Email: email, Actor: admin, RequestID: f.nextReq(), ExpiresAt: expires})
	if err != nil {
		f.t.Fatalf("Invite(%s, %s): %v", team, email, err)
	}
	return m
}

func (f *fixture) accept(email string) licenses.Member {
	f.t.Helper()
	m, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: email, Actor: email})
	if err != nil {
		f.t.Fatalf("Accept(%s): %v", email, err)
	}
	return m
}

func (f *fixture) active(team, email string) licenses.Member {
	f.t.Helper()
	f.invite(team, email, time.Time{})
	return f.accept(email)
}

func (f *fixture) remove(team, email string) licenses.Member {
	f.t.Helper()
	m, err := f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Team: team, Email: email, Actor: admin, RequestID: f.nextReq()})
	if err != nil {
		f.t.Fatalf("Remove(%s, %s): %v", team, email, err)
	}
	return m
}

func (f *fixture) del(email string) {
	f.t.Helper()
	if _, err := f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: email, Actor: admin, RequestID: f.nextReq()}); err != nil {
		f.t.Fatalf("Delete(%s): %v", email, err)
	}
}

func (f *fixture) summary() licenses.Summary {
	f.t.Helper()
	s, err := f.svc.Summary(f.ctx, licenses.SummaryParams{Org: org, Actor: admin})
	if err != nil {
		f.t.Fatalf("Summary: %v", err)
	}
	return s
}

func (f *fixture) member(email string) licenses.Member {
	f.t.Helper()
	m, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: email})
	if err != nil {
		f.t.Fatalf("Member(%s): %v", email, err)
	}
	return m
}

// counts is the part of a summary most tests compare.
type counts struct{ Purchased, Active, Pending, Unassigned, Available, Expired int64 }

func (f *fixture) wantCounts(want counts) {
	f.t.Helper()
	s := f.summary()
	got := counts{s.Purchased, s.Active, s.Pending, s.Unassigned, s.Available, s.Expired}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Errorf("Summary() mismatch (-want +got):\n%s", diff)
	}
	f.checkLedger(s)
}

// checkLedger checks the summary against the ledger: the pool's available
// balance is the licenses available, and the journal verifies.
func (f *fixture) checkLedger(s licenses.Summary) {
	f.t.Helper()
	l, err := ledger.New(f.ms, &ledger.Options{Clock: f.clock})
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := l.Balance(f.ctx, licenses.PoolAccount(org))
	if err != nil {
		f.t.Fatal(err)
	}
	if !b.Available.Equal(decimal.NewFromInt(s.Available)) {
		f.t.Errorf("pool available %s in the ledger, summary says %d", b.Available, s.Available)
	}
	r, err := l.Verify(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range r.Discrepancies {
		f.t.Errorf("Verify: %s", d)
	}
	f.audit()
}

// audit fails the test if Audit finds anything.
func (f *fixture) audit() {
	f.t.Helper()
	fs, err := f.svc.Audit(f.ctx, org)
	if err != nil {
		f.t.Fatalf("Audit: %v", err)
	}
	for _, x := range fs {
		f.t.Errorf("Audit: %s", x)
	}
}

// state is everything the store holds for the organization.
type state struct {
	Ledger  storetest.State
	Org     licenses.Org
	Teams   []licenses.Team
	Members []licenses.Member
}

func (f *fixture) snapshot() state {
	f.t.Helper()
	var st state
	var err error
	if st.Ledger, err = storetest.Snapshot(f.ctx, f.ms); err != nil {
		f.t.Fatal(err)
	}
	err = f.ms.Licenses().InTx(f.ctx, func(tx licenses.Tx) error {
		var err error
		if st.Org, err = tx.LicenseOrgGet(f.ctx, org); err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return err
		}
		if st.Teams, err = tx.LicenseTeamList(f.ctx, licenses.TeamListParams{Org: org}); err != nil {
			return err
		}
		st.Members, err = tx.LicenseMemberList(f.ctx, licenses.MemberListParams{Org: org})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

var cmpDecimal = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

// refused checks that err matches want and that the store did not change.
func (f *fixture) refused(before state, err, want error) {
	f.t.Helper()
	if !errors.Is(err, want) {
		f.t.Errorf("error = %v, want one matching %v", err, want)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		f.t.Errorf("a refused operation changed the store (-before +after):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	if _, err := licenses.New(nil, nil); err == nil {
		t.Error("New(nil store) succeeded")
	}
	// With no Roles, nothing that checks a role is allowed.
	svc, err := licenses.New(memstore.New().Licenses(), nil)
	if err != nil {
		t.Fatalf("New(nil options) = %v", err)
	}
	_, err = svc.Purchase(context.Background(), licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 1})
	if !errors.Is(err, licenses.ErrForbidden) {
		t.Errorf("Purchase with default roles = %v, want ErrForbidden", err)
	}
}

func TestLicenses_Lifecycle(t *testing.T) {
	f := newFixture(t, 10)
	m := f.invite("design", " Bo@ACME.test ", time.Time{})
	if m.Email != "bo@acme.test" || m.State != licenses.StatePending {
		t.Fatalf("Invite = %+v, want bo@acme.test pending", m)
	}
	f.wantCounts(counts{Purchased: 10, Pending: 1, Available: 9})

	m = f.accept("BO@acme.test")
	if m.State != licenses.StateActive || !m.AcceptedAt.Equal(t0) {
		t.Errorf("Accept = %+v, want active at %v", m, t0)
	}
	f.wantCounts(counts{Purchased: 10, Active: 1, Available: 9})

	// Two more teams: still one license.
	f.invite("sales", "bo@acme.test", time.Time{})
	m = f.invite("ops", "bo@acme.test", time.Time{})
	if diff := cmp.Diff([]string{"design", "ops", "sales"}, m.Teams); diff != "" {
		t.Errorf("Teams mismatch (-want +got):\n%s", diff)
	}
	f.wantCounts(counts{Purchased: 10, Active: 1, Available: 9})
	s := f.summary()
	want := []licenses.Team{{ID: "design", Active: 1}, {ID: "ops", Active: 1}, {ID: "sales", Active: 1}}
	if diff := cmp.Diff(want, s.Teams); diff != "" {
		t.Errorf("Teams mismatch (-want +got):\n%s", diff)
	}

	// Out of two teams: still active; out of the last: unassigned.
	f.remove("design", "bo@acme.test")
	if m := f.remove("ops", "bo@acme.test"); m.State != licenses.StateActive {
		t.Errorf("after leaving 2 of 3 teams: %s, want active", m.State)
	}
	if m := f.remove("sales", "bo@acme.test"); m.State != licenses.StateUnassigned || len(m.Teams) != 0 {
		t.Errorf("after leaving the last team: %+v, want unassigned in no team", m)
	}
	f.wantCounts(counts{Purchased: 10, Unassigned: 1, Available: 9})

	// Joining a team makes it active again, with no acceptance.
	if m := f.invite("ops", "bo@acme.test", time.Time{}); m.State != licenses.StateActive {
		t.Errorf("unassigned member invited to a team: %s, want active", m.State)
	}
	f.wantCounts(counts{Purchased: 10, Active: 1, Available: 9})

	f.del("bo@acme.test")
	f.wantCounts(counts{Purchased: 10, Available: 10})
	if _, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "bo@acme.test"}); !errors.Is(err, licenses.ErrUnknownMember) {
		t.Errorf("Member after Delete = %v, want ErrUnknownMember", err)
	}
}

func TestLicenses_InviteSameTeamTwiceIsHarmless(t *testing.T) {
	f := newFixture(t, 2)
	first := f.invite("design", "bo@acme.test", time.Time{})
	before := f.snapshot()
	again := f.invite("design", "BO@acme.test", time.Time{})
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("second Invite mismatch (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		t.Errorf("second Invite changed the store (-before +after):\n%s", diff)
	}
}

func TestLicenses_PendingInTwoTeams(t *testing.T) {
	f := newFixture(t, 2)
	f.invite("design", "bo@acme.test", time.Time{})
	f.invite("sales", "bo@acme.test", time.Time{})
	f.wantCounts(counts{Purchased: 2, Pending: 1, Available: 1})
	f.accept("bo@acme.test")
	s := f.summary()
	want := []licenses.Team{{ID: "design", Active: 1}, {ID: "ops"}, {ID: "sales", Active: 1}}
	if diff := cmp.Diff(want, s.Teams); diff != "" {
		t.Errorf("Teams mismatch (-want +got):\n%s", diff)
	}
}

func TestLicenses_RemovePendingFromLastTeamWithdraws(t *testing.T) {
	f := newFixture(t, 1)
	f.invite("design", "bo@acme.test", time.Time{})
	f.invite("sales", "bo@acme.test", time.Time{})
	if m := f.remove("design", "bo@acme.test"); m.State != licenses.StatePending {
		t.Errorf("pending member out of one of two teams: %s, want pending", m.State)
	}
	if m := f.remove("sales", "bo@acme.test"); m.State != licenses.StateNone {
		t.Errorf("pending member out of its last team: %s, want none (withdrawn)", m.State)
	}
	f.wantCounts(counts{Purchased: 1, Available: 1})
	if _, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"}); !errors.Is(err, licenses.ErrNoInvitation) {
		t.Errorf("Accept of a withdrawn invitation = %v, want ErrNoInvitation", err)
	}
}

func TestLicenses_DeleteInEveryState(t *testing.T) {
	for _, st := range []licenses.State{licenses.StatePending, licenses.StateActive, licenses.StateUnassigned, licenses.StateExpired} {
		t.Run(string(st), func(t *testing.T) {
			f := newFixture(t, 1)
			switch st {
			case licenses.StatePending:
				f.invite("design", "bo@acme.test", time.Time{})
			case licenses.StateActive:
				f.active("design", "bo@acme.test")
			case licenses.StateUnassigned:
				f.active("design", "bo@acme.test")
				f.remove("design", "bo@acme.test")
			case licenses.StateExpired:
				f.invite("design", "bo@acme.test", t0.Add(time.Hour))
				f.clock.Advance(time.Hour)
			}
			if got := f.member("bo@acme.test").State; got != st {
				t.Fatalf("set-up state %s, want %s", got, st)
			}
			f.del("bo@acme.test")
			f.wantCounts(counts{Purchased: 1, Available: 1})
			// The freed license can be given to someone else.
			f.invite("sales", "cy@acme.test", time.Time{})
			f.wantCounts(counts{Purchased: 1, Pending: 1})
		})
	}
}

func TestLicenses_Expiry(t *testing.T) {
	f := newFixture(t, 2)
	exp := t0.Add(72 * time.Hour)
	f.invite("design", "bo@acme.test", exp)
	f.invite("design", "cy@acme.test", time.Time{})
	f.wantCounts(counts{Purchased: 2, Pending: 2})

	f.clock.Set(exp.Add(-time.Microsecond))
	f.wantCounts(counts{Purchased: 2, Pending: 2})
	f.clock.Set(exp) // half-open: expired at its expiry
	f.wantCounts(counts{Purchased: 2, Pending: 1, Available: 1, Expired: 1})
	if got := f.summary().Teams[0]; got != (licenses.Team{ID: "design", Pending: 1}) {
		t.Errorf("design usage %+v, want 1 pending (the expired one left out)", got)
	}
	if got := f.member("bo@acme.test").State; got != licenses.StateExpired {
		t.Errorf("member state %s, want expired", got)
	}

	// Its license can go to someone else with no write having touched it.
	f.invite("sales", "di@acme.test", time.Time{})
	f.wantCounts(counts{Purchased: 2, Pending: 2, Expired: 1})

	// Accepting now is refused, and changes nothing.
	before := f.snapshot()
	_, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
	f.refused(before, err, licenses.ErrInvitationExpired)

	// Inviting it again needs a new license.
	_, err = f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "again"})
	f.refused(before, err, licenses.ErrNoLicenseAvailable)
	f.purchase(1)
	m := f.invite("design", "bo@acme.test", time.Time{})
	if m.State != licenses.StatePending || !m.ExpiresAt.IsZero() {
		t.Errorf("re-invited: %+v, want pending with no expiry", m)
	}
	f.wantCounts(counts{Purchased: 3, Pending: 3})
	f.accept("bo@acme.test")
	f.wantCounts(counts{Purchased: 3, Active: 1, Pending: 2})
}

func TestLicenses_ExpiredMemberTouchedByWrite(t *testing.T) {
	// A write touching an expired member marks it expired in the store; the
	// summary reads the same before and after.
	f := newFixture(t, 2)
	f.invite("design", "bo@acme.test", t0.Add(time.Hour))
	f.invite("sales", "bo@acme.test", time.Time{})
	f.clock.Advance(2 * time.Hour)
	want := counts{Purchased: 2, Available: 2, Expired: 1}
	f.wantCounts(want)
	before := f.summary()
	if m := f.remove("design", "bo@acme.test"); m.State != licenses.StateExpired {
		t.Errorf("Remove of an expired member: %s, want expired", m.State)
	}
	f.wantCounts(want)
	if diff := cmp.Diff(before.Teams, f.summary().Teams); diff != "" {
		t.Errorf("Teams changed (-before +after):\n%s", diff)
	}
	if m := f.remove("sales", "bo@acme.test"); m.State != licenses.StateNone {
		t.Errorf("expired member out of its last team: %s, want none", m.State)
	}
	f.wantCounts(counts{Purchased: 2, Available: 2})
}

func TestLicenses_Purchase(t *testing.T) {
	f := newFixture(t, 0)
	p := licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: 5}
	for range 2 { // a retry adds nothing twice
		if _, err := f.svc.Purchase(f.ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	f.wantCounts(counts{Purchased: 5, Available: 5})
	p.Quantity = 6
	before := f.snapshot()
	_, err := f.svc.Purchase(f.ctx, p)
	f.refused(before, err, licenses.ErrRequestReused)
	wantReused(t, err, "buy")
	f.wantCounts(counts{Purchased: 5, Available: 5})
}

func TestLicenses_Reduce(t *testing.T) {
	f := newFixture(t, 5)
	f.active("design", "bo@acme.test")
	f.invite("design", "cy@acme.test", time.Time{})
	f.active("sales", "di@acme.test")
	f.remove("sales", "di@acme.test") // unassigned still holds one

	before := f.snapshot()
	_, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "red-1", Quantity: 3})
	f.refused(before, err, licenses.ErrLicensesInUse)
	var iu *licenses.InUseError
	if !errors.As(err, &iu) || iu.InUse != 3 || iu.Purchased != 5 {
		t.Errorf("error %v, want an *InUseError with 3 of 5 in use", err)
	}
	if err != nil && !strings.Contains(err.Error(), "3 are in use") {
		t.Errorf("message %q does not say how many are in use", err)
	}

	for range 2 { // a retry takes nothing twice
		if _, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "red-2", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
	}
	f.wantCounts(counts{Purchased: 3, Active: 1, Pending: 1, Unassigned: 1})
}

func TestLicenses_ReduceCountsExpiredAsAvailable(t *testing.T) {
	f := newFixture(t, 2)
	f.invite("design", "bo@acme.test", t0.Add(time.Hour))
	f.clock.Advance(time.Hour)
	if _, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "red", Quantity: 2}); err != nil {
		t.Fatalf("Reduce by 2 with only an expired invitation: %v", err)
	}
	f.wantCounts(counts{Purchased: 0, Expired: 1})
}

func TestLicenses_NoLicenseAvailable(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	before := f.snapshot()
	_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin, RequestID: "x"})
	f.refused(before, err, licenses.ErrNoLicenseAvailable)
	var nl *licenses.NoLicenseError
	if !errors.As(err, &nl) || nl.Purchased != 1 || nl.InUse != 1 {
		t.Errorf("error %v, want a *NoLicenseError with 1 purchased and 1 in use", err)
	}
	for _, s := range []string{"buy more licenses", "delete members"} {
		if err != nil && !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not say %q", err, s)
		}
	}
	// An existing member needs nothing new.
	f.invite("sales", "bo@acme.test", time.Time{})
}

func TestLicenses_Reassign(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	f.invite("sales", "bo@acme.test", time.Time{})
	m, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "Cy@acme.test", Actor: admin, RequestID: "mv"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Email != "cy@acme.test" || m.State != licenses.StatePending || len(m.Teams) != 2 {
		t.Errorf("Reassign = %+v, want cy pending in bo's two teams", m)
	}
	f.wantCounts(counts{Purchased: 1, Pending: 1})
	if _, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "bo@acme.test"}); !errors.Is(err, licenses.ErrUnknownMember) {
		t.Errorf("bo after Reassign: %v, want ErrUnknownMember", err)
	}

	// To a named team.
	f.accept("cy@acme.test")
	if m, err = f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "cy@acme.test", To: "di@acme.test", Team: "ops", Actor: admin, RequestID: "mv2"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ops"}, m.Teams); diff != "" {
		t.Errorf("Teams mismatch (-want +got):\n%s", diff)
	}
	f.wantCounts(counts{Purchased: 1, Pending: 1})
}

func TestLicenses_ReassignAtomic(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	// The invitation part fails (a past expiry): the deletion is undone.
	before := f.snapshot()
	_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "mv", ExpiresAt: t0.Add(-time.Hour)})
	f.refused(before, err, licenses.ErrInvalid)
	// The invitation part fails (an unknown team): the deletion is undone.
	_, err = f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Team: "nope", Actor: admin, RequestID: "mv"})
	f.refused(before, err, licenses.ErrUnknownTeam)
	// From in no team and no team named.
	f.remove("design", "bo@acme.test")
	before = f.snapshot()
	_, err = f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "mv"})
	f.refused(before, err, licenses.ErrInvalid)
	_, err = f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "BO@acme.test", Team: "ops", Actor: admin, RequestID: "mv"})
	f.refused(before, err, licenses.ErrInvalid)
}

func TestLicenses_Refusals(t *testing.T) {
	f := newFixture(t, 3)
	f.active("design", "bo@acme.test")
	f.invite("sales", "cy@acme.test", time.Time{})
	f.active("ops", "un@acme.test")
	f.remove("ops", "un@acme.test")
	f.roles.Grant(org, "sal@acme.test", licenses.TeamAdmin("sales"))
	f.clock.Advance(time.Minute)
	ctx := f.ctx
	svc := f.svc
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"AcceptUnknown", func() error {
			_, err := svc.Accept(ctx, licenses.AcceptParams{Org: org, Email: "zz@acme.test", Actor: "zz@acme.test"})
			return err
		}, licenses.ErrNoInvitation},
		{"AcceptBySomeoneElse", func() error {
			_, err := svc.Accept(ctx, licenses.AcceptParams{Org: org, Email: "cy@acme.test", Actor: admin})
			return err
		}, licenses.ErrForbidden},
		{"RemoveNotInTeam", func() error {
			_, err := svc.Remove(ctx, licenses.RemoveParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: admin, RequestID: "rm-2"})
			return err
		}, licenses.ErrNotInTeam},
		{"RemoveUnknownMember", func() error {
			_, err := svc.Remove(ctx, licenses.RemoveParams{Org: org, Team: "sales", Email: "zz@acme.test", Actor: admin, RequestID: "rm-3"})
			return err
		}, licenses.ErrUnknownMember},
		{"RemoveUnknownTeam", func() error {
			_, err := svc.Remove(ctx, licenses.RemoveParams{Org: org, Team: "nope", Email: "bo@acme.test", Actor: admin, RequestID: "rm-4"})
			return err
		}, licenses.ErrUnknownTeam},
		{"InviteUnknownTeam", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "nope", Email: "zz@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, licenses.ErrUnknownTeam},
		{"InviteUnknownOrg", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: "other", Team: "design", Email: "zz@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, licenses.ErrForbidden}, // roles are checked first: ada is no admin of "other"
		{"InviteBadEmail", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "not an address", Actor: admin, RequestID: "x"})
			return err
		}, licenses.ErrInvalid},
		{"InviteNoRequestID", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "zz@acme.test", Actor: admin})
			return err
		}, licenses.ErrInvalid},
		{"InviteLongRequestID", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "zz@acme.test", Actor: admin, RequestID: strings.Repeat("r", 201)})
			return err
		}, licenses.ErrInvalid},
		{"InvitePastExpiry", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "zz@acme.test", Actor: admin, RequestID: "x", ExpiresAt: t0})
			return err
		}, licenses.ErrInvalid},
		{"InviteReusedRequestID", func() error {
			// r2 named bo's accepted invitation.
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo2@acme.test", Actor: admin, RequestID: "r2"})
			return err
		}, licenses.ErrRequestReused},
		{"TeamAdminOtherTeam", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "zz@acme.test", Actor: "sal@acme.test", RequestID: "x"})
			return err
		}, licenses.ErrForbidden},
		{"TeamAdminRemoveOtherTeam", func() error {
			_, err := svc.Remove(ctx, licenses.RemoveParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: "sal@acme.test", RequestID: "rm-5"})
			return err
		}, licenses.ErrForbidden},
		{"TeamAdminDelete", func() error {
			return errOf(svc.Delete(ctx, licenses.DeleteParams{Org: org, Email: "cy@acme.test", Actor: "sal@acme.test", RequestID: "x"}))
		}, licenses.ErrForbidden},
		{"TeamAdminPurchase", func() error {
			_, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: "sal@acme.test", RequestID: "x", Quantity: 1})
			return err
		}, licenses.ErrForbidden},
		{"TeamAdminReduce", func() error {
			_, err := svc.Reduce(ctx, licenses.ReduceParams{Org: org, Actor: "sal@acme.test", RequestID: "x", Quantity: 1})
			return err
		}, licenses.ErrForbidden},
		{"TeamAdminCreateTeam", func() error {
			return errOf(svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Team: "new", Actor: "sal@acme.test"}))
		}, licenses.ErrForbidden},
		{"TeamAdminReassign", func() error {
			_, err := svc.Reassign(ctx, licenses.ReassignParams{Org: org, From: "cy@acme.test", To: "zz@acme.test", Actor: "sal@acme.test", RequestID: "x"})
			return err
		}, licenses.ErrForbidden},
		{"StrangerInvite", func() error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "sales", Email: "zz@acme.test", Actor: "eve@evil.test", RequestID: "x"})
			return err
		}, licenses.ErrForbidden},
		{"DeleteUnknown", func() error {
			return errOf(svc.Delete(ctx, licenses.DeleteParams{Org: org, Email: "zz@acme.test", Actor: admin, RequestID: "x"}))
		}, licenses.ErrUnknownMember},
		{"ReassignUnknown", func() error {
			_, err := svc.Reassign(ctx, licenses.ReassignParams{Org: org, From: "zz@acme.test", To: "yy@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, licenses.ErrUnknownMember},
		{"PurchaseZero", func() error {
			_, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 0})
			return err
		}, licenses.ErrInvalid},
		{"ReduceNegative", func() error {
			_, err := svc.Reduce(ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "x", Quantity: -1})
			return err
		}, licenses.ErrInvalid},
		{"BadOrg", func() error {
			_, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "a b", Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		}, licenses.ErrInvalid},
		{"BadTeam", func() error {
			return errOf(svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Team: "a b", Actor: admin}))
		}, licenses.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			before := f.snapshot()
			f.refused(before, tt.do(), tt.want)
		})
	}
}

func TestLicenses_UnknownOrg(t *testing.T) {
	f := newFixture(t, 0)
	f.roles.Grant("ghost", admin, licenses.OrgAdmin)
	f.roles.Grant("ghost", vendor, allot.Vendor)
	if _, err := f.svc.Summary(f.ctx, licenses.SummaryParams{Org: "ghost", Actor: admin}); !errors.Is(err, licenses.ErrUnknownOrg) {
		t.Errorf("Summary(ghost) = %v, want ErrUnknownOrg", err)
	}
	_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: "ghost", Team: "design", Email: "zz@acme.test", Actor: admin, RequestID: "x"})
	if !errors.Is(err, licenses.ErrUnknownOrg) {
		t.Errorf("Invite to ghost = %v, want ErrUnknownOrg", err)
	}
	_, err = f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: "ghost", Actor: vendor, RequestID: "x", Quantity: 1})
	if !errors.Is(err, licenses.ErrUnknownOrg) {
		t.Errorf("Reduce ghost = %v, want ErrUnknownOrg", err)
	}
}

func TestLicenses_TeamAdmin(t *testing.T) {
	f := newFixture(t, 2)
	f.roles.Grant(org, "Sal@acme.test", licenses.TeamAdmin("sales"))
	m, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: "sal@ACME.test", RequestID: "x"})
	if err != nil || m.InvitedBy != "sal@acme.test" { // the actor in canonical form
		t.Fatalf("Team Admin Invite = %+v, %v", m, err)
	}
	if _, err := f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: "sal@acme.test", RequestID: "rm-6"}); err != nil {
		t.Fatalf("Team Admin Remove: %v", err)
	}
	f.roles.Revoke(org, "sal@acme.test", licenses.TeamAdmin("sales"))
	_, err = f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: "sal@acme.test", RequestID: "y"})
	var fe *allot.ForbiddenError
	if !errors.As(err, &fe) || fe.Action != `invite to team "sales"` {
		t.Errorf("revoked Team Admin Invite = %v, want a *ForbiddenError for %q", err, "invite to team sales")
	}
	_, err = f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: "sal@acme.test", RequestID: "rm-2"})
	if !errors.As(err, &fe) || fe.Action != `remove from team "sales"` {
		t.Errorf("revoked Team Admin Remove = %v, want a *ForbiddenError for %q", err, "remove from team sales")
	}
	f.roles.Revoke(org, vendor, allot.Vendor)
	if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "z", Quantity: 1}); !errors.Is(err, licenses.ErrForbidden) {
		t.Errorf("revoked vendor Purchase = %v, want ErrForbidden", err)
	}
}

func TestLicenses_MembersAndHistory(t *testing.T) {
	f := newFixture(t, 600)
	for i := range 510 { // more than one page
		f.invite("design", fmt.Sprintf("m%03d@acme.test", i), time.Time{})
	}
	n, last := 0, ""
	for m, err := range f.svc.Members(f.ctx, licenses.MembersParams{Org: org, Actor: admin}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Email <= last {
			t.Fatalf("Members out of order: %q after %q", m.Email, last)
		}
		last = m.Email
		n++
	}
	if n != 510 {
		t.Errorf("Members yielded %d, want 510", n)
	}
	for range f.svc.Members(f.ctx, licenses.MembersParams{Org: org, Actor: admin}) {
		break // stopping early is fine
	}
	for _, err := range f.svc.History(f.ctx, licenses.HistoryParams{Org: org, Actor: admin, Email: "not an address"}) {
		if !errors.Is(err, licenses.ErrInvalid) {
			t.Errorf("History(bad address) = %v, want ErrInvalid", err)
		}
	}
}

// A request ID names one invitation: once that invitation was withdrawn, the
// same ID cannot reserve a license for its invitee again.
func TestLicenses_InviteRequestIDOfWithdrawnInvitation(t *testing.T) {
	f := newFixture(t, 2)
	p := licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "inv-bo"}
	if _, err := f.svc.Invite(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	f.remove("design", "bo@acme.test") // withdrawn: the hold is voided
	before := f.snapshot()
	_, err := f.svc.Invite(f.ctx, p)
	f.refused(before, err, licenses.ErrRequestReused)
	wantReused(t, err, "inv-bo")
}

func TestLicenses_MemberMalformedEmail(t *testing.T) {
	f := newFixture(t, 1)
	if _, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "not an address"}); !errors.Is(err, licenses.ErrInvalid) {
		t.Errorf("Member(not an address) = %v, want ErrInvalid", err)
	}
}

// rolesErr is a Roles whose backend fails.
type rolesErr struct{}

func (rolesErr) HasRole(context.Context, string, string, allot.Role) (bool, error) {
	return false, errors.New("directory down")
}

func TestLicenses_RolesFailure(t *testing.T) {
	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Roles: rolesErr{}})
	_, err := svc.Purchase(context.Background(), licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 1})
	if err == nil || !strings.Contains(err.Error(), "directory down") || errors.Is(err, licenses.ErrForbidden) {
		t.Errorf("Purchase with failing roles = %v, want the roles error, not ErrForbidden", err)
	}
	_, err = svc.Invite(context.Background(), licenses.InviteParams{Org: org, Team: "t", Email: "a@b.test", Actor: admin, RequestID: "x"})
	if err == nil || !strings.Contains(err.Error(), "directory down") {
		t.Errorf("Invite with failing roles = %v, want the roles error", err)
	}
	// Not an Org Admin, and the Team Admin check fails.
	svc, _ = licenses.New(memstore.New().Licenses(), &licenses.Options{Roles: teamRolesErr{}})
	_, err = svc.Remove(context.Background(), licenses.RemoveParams{Org: org, Team: "t", Email: "a@b.test", Actor: admin, RequestID: "rm-7"})
	if err == nil || !strings.Contains(err.Error(), "directory down") || errors.Is(err, licenses.ErrForbidden) {
		t.Errorf("Remove with failing team roles = %v, want the roles error, not ErrForbidden", err)
	}
}

// teamRolesErr knows no Org Admin and fails to tell Team Admins.
type teamRolesErr struct{}

func (teamRolesErr) HasRole(_ context.Context, _, _ string, r allot.Role) (bool, error) {
	if r == licenses.OrgAdmin {
		return false, nil
	}
	return false, errors.New("directory down")
}

// Found by the model test against PostgreSQL: a member removed from its
// last team has no teams, read as nil from every store (not an empty list
// from one and nil from another).
func TestLicenses_RemoveLastTeamLeavesNilTeams(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	if m := f.remove("design", "bo@acme.test"); m.Teams != nil {
		t.Errorf("Remove returned Teams %#v, want nil", m.Teams)
	}
	if m := f.member("bo@acme.test"); m.Teams != nil {
		t.Errorf("Member returned Teams %#v, want nil", m.Teams)
	}
}

// An invitation's expiry is stored in UTC, truncated to microseconds, on
// the member and on its hold alike, however the caller gave it.
func TestLicenses_InviteExpiryNormalised(t *testing.T) {
	f := newFixture(t, 3)
	zone := time.FixedZone("UTC+5", 5*3600)
	given := t0.Add(time.Hour + 789*time.Nanosecond).In(zone)
	want := t0.Add(time.Hour)
	l, err := ledger.New(f.ms, &ledger.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, m licenses.Member) {
		t.Helper()
		if m.ExpiresAt != want {
			t.Errorf("%s: member expires at %v, want %v", what, m.ExpiresAt, want)
		}
		if stored := f.member(m.Email); stored.ExpiresAt != want {
			t.Errorf("%s: stored member expires at %v, want %v", what, stored.ExpiresAt, want)
		}
		h, err := l.Hold(f.ctx, m.Hold)
		if err != nil {
			t.Fatal(err)
		}
		if h.ExpiresAt != want {
			t.Errorf("%s: hold expires at %v, want %v", what, h.ExpiresAt, want)
		}
	}
	m, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "r-bo", ExpiresAt: given})
	if err != nil {
		t.Fatal(err)
	}
	check("Invite", m)
	// A retry with the expiry given the same way is the same invitation.
	if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: admin, RequestID: "r-bo", ExpiresAt: given}); err != nil {
		t.Fatal(err)
	}
	m, err = f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "r-cy", ExpiresAt: given})
	if err != nil {
		t.Fatal(err)
	}
	check("Reassign", m)
}

// One operation may touch more teams than it keeps at hand: a member in
// every team accepts, and its license moves to another person in all of
// them.
func TestLicenses_ManyTeamsInOneOperation(t *testing.T) {
	f := newFixture(t, 2)
	teams := []string{"design", "ops", "sales", "support"}
	if _, err := f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: "support", Actor: admin}); err != nil {
		t.Fatal(err)
	}
	for _, team := range teams {
		f.invite(team, "bo@acme.test", time.Time{})
	}
	f.accept("bo@acme.test")
	pending, active := map[string]int64{}, map[string]int64{}
	for _, tm := range f.summary().Teams {
		active[tm.ID], pending[tm.ID] = tm.Active, tm.Pending
	}
	for _, team := range teams {
		if active[team] != 1 || pending[team] != 0 {
			t.Errorf("after Accept, team %s has %d active and %d pending, want 1 and 0", team, active[team], pending[team])
		}
	}
	m, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(teams, m.Teams); diff != "" {
		t.Errorf("Reassign teams mismatch (-want +got):\n%s", diff)
	}
	for _, tm := range f.summary().Teams {
		if tm.Active != 0 || tm.Pending != 1 {
			t.Errorf("after Reassign, team %s has %d active and %d pending, want 0 and 1", tm.ID, tm.Active, tm.Pending)
		}
	}
	f.wantCounts(counts{Purchased: 2, Pending: 1, Available: 1})
}

// retryStore runs every function twice: the first run is rolled back, as a
// store does after a transient conflict at commit, and the second commits.
type retryStore struct{ licenses.Store }

func (s retryStore) InTx(ctx context.Context, fn func(tx licenses.Tx) error) error {
	return storetest.RunTwice(ctx, s.Store.InTx, fn)
}

// An operation whose transaction the store runs again starts from a clean
// state: the counters it keeps for the organization and its teams move once.
func TestLicenses_StoreRunsTransactionTwice(t *testing.T) {
	run := func(f *fixture) (licenses.Summary, []licenses.Member) {
		f.t.Helper()
		f.purchase(4)
		f.invite("design", "bo@acme.test", time.Time{})
		f.invite("sales", "bo@acme.test", time.Time{})
		f.accept("bo@acme.test")
		f.invite("sales", "cy@acme.test", time.Time{})
		f.remove("design", "bo@acme.test")
		if _, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: f.nextReq(), Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "cy@acme.test", To: "di@acme.test", Actor: admin, RequestID: f.nextReq()}); err != nil {
			t.Fatal(err)
		}
		f.active("ops", "ed@acme.test")
		f.del("ed@acme.test")
		var ms []licenses.Member
		for m, err := range f.svc.Members(f.ctx, licenses.MembersParams{Org: org, Actor: admin}) {
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return f.summary(), ms
	}
	once := newFixture(t, 0)
	wantSum, wantMembers := run(once)

	twice := newFixture(t, 0)
	svc, err := licenses.New(retryStore{twice.ms.Licenses()}, &licenses.Options{Clock: twice.clock, Roles: twice.roles})
	if err != nil {
		t.Fatal(err)
	}
	twice.svc = svc
	gotSum, gotMembers := run(twice)
	if diff := cmp.Diff(wantSum, gotSum); diff != "" {
		t.Errorf("Summary, run twice by the store, mismatch (-once +twice):\n%s", diff)
	}
	if diff := cmp.Diff(wantMembers, gotMembers); diff != "" {
		t.Errorf("Members, run twice by the store, mismatch (-once +twice):\n%s", diff)
	}
	twice.wantCounts(counts{Purchased: 3, Active: 1, Pending: 1, Available: 1})
}

// wantReused checks that err is a *RequestReusedError naming the
// organization's request ID, saying what to do, and naming no ledger ID.
func wantReused(t *testing.T, err error, requestID string) {
	t.Helper()
	var re *licenses.RequestReusedError
	if !errors.As(err, &re) || re.Org != org || re.RequestID != requestID {
		t.Fatalf("error = %v, want a *RequestReusedError for request %q of %q", err, requestID, org)
	}
	if msg := err.Error(); !strings.Contains(msg, "pick a new ID only for a new request") || strings.Contains(msg, "licenses/") || errors.Is(err, ledger.ErrConflict) {
		t.Errorf("message %q should name the request, say what to do and name no ledger ID", msg)
	}
}

// errOf drops a call's result and keeps its error.
func errOf[T any](_ T, err error) error { return err }
