package licenses_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
)

// Every restricted call refuses an actor without its role with an
// *allot.ForbiddenError (code forbidden, HTTP 403) and changes nothing;
// the roles that allow it are named in it. Reads included.
func TestLicenses_RoleRefusals(t *testing.T) {
	f := newFixture(t, 3)
	f.active("design", "bo@acme.test")
	f.invite("sales", "cy@acme.test", time.Time{})
	f.roles.Grant(org, "sal@acme.test", licenses.TeamAdmin("sales"))
	const eve = "eve@acme.test" // no role at all
	for _, c := range []struct {
		name string
		need []allot.Role
		call func() error
	}{
		{"PurchaseByOrgAdmin", []allot.Role{allot.Vendor}, func() error {
			return errOf(f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: admin, Quantity: 1, RequestID: "p"}))
		}},
		{"ReduceByOrgAdmin", []allot.Role{allot.Vendor}, func() error {
			return errOf(f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: admin, Quantity: 1, RequestID: "p"}))
		}},
		{"PurchaseByTeamAdmin", []allot.Role{allot.Vendor}, func() error {
			return errOf(f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: "sal@acme.test", Quantity: 1, RequestID: "p"}))
		}},
		{"CreateTeamByVendor", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Actor: vendor, Team: "qa"}))
		}},
		{"InviteOtherTeam", []allot.Role{licenses.OrgAdmin, licenses.TeamAdmin("design")}, func() error {
			return errOf(f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Actor: "sal@acme.test", Team: "design", Email: "di@acme.test", RequestID: "i"}))
		}},
		{"RemoveOtherTeam", []allot.Role{licenses.OrgAdmin, licenses.TeamAdmin("design")}, func() error {
			return errOf(f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: "sal@acme.test", Team: "design", Email: "bo@acme.test", RequestID: "r"}))
		}},
		{"AcceptByAnother", nil, func() error {
			return errOf(f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Actor: admin, Email: "cy@acme.test"}))
		}},
		{"DeleteByTeamAdmin", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Actor: "sal@acme.test", Email: "cy@acme.test", RequestID: "d"}))
		}},
		{"ReassignByVendor", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, Actor: vendor, From: "bo@acme.test", To: "di@acme.test", RequestID: "m"}))
		}},
		{"SummaryByTeamAdmin", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.Summary(f.ctx, licenses.SummaryParams{Org: org, Actor: "sal@acme.test"}))
		}},
		{"MemberByOtherTeamsAdmin", []allot.Role{licenses.OrgAdmin, licenses.TeamAdmin("design")}, func() error {
			return errOf(f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: "sal@acme.test", Email: "bo@acme.test"}))
		}},
		{"MemberByAnother", []allot.Role{licenses.OrgAdmin, licenses.TeamAdmin("sales")}, func() error {
			return errOf(f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: "bo@acme.test", Email: "cy@acme.test"}))
		}},
		{"MemberUnknownByNobody", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: eve, Email: "zz@acme.test"}))
		}},
		{"MembersAllByTeamAdmin", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.MembersPage(f.ctx, licenses.MembersParams{Org: org, Actor: "sal@acme.test"}))
		}},
		{"MembersOtherTeam", []allot.Role{licenses.OrgAdmin, licenses.TeamAdmin("design")}, func() error {
			return errOf(f.svc.MembersPage(f.ctx, licenses.MembersParams{Org: org, Actor: "sal@acme.test", Team: "design"}))
		}},
		{"TeamsByTeamAdmin", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.TeamsPage(f.ctx, licenses.TeamsParams{Org: org, Actor: "sal@acme.test"}))
		}},
		{"HistoryByAnother", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.HistoryPage(f.ctx, licenses.HistoryParams{Org: org, Actor: "cy@acme.test", Email: "bo@acme.test"}))
		}},
		{"HistoryByTeamAdmin", []allot.Role{licenses.OrgAdmin}, func() error {
			return errOf(f.svc.HistoryPage(f.ctx, licenses.HistoryParams{Org: org, Actor: "sal@acme.test", Email: "bo@acme.test"}))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.snapshot()
			err := c.call()
			f.refused(before, err, allot.ErrForbidden)
			var fe *allot.ForbiddenError
			if !errors.As(err, &fe) || allot.ErrorCode(err) != allot.CodeForbidden || allot.HTTPStatus(err) != 403 {
				t.Fatalf("error %v, want a *allot.ForbiddenError, code forbidden, 403", err)
			}
			if !slices.Equal(fe.Need, c.need) {
				t.Errorf("Need = %v, want %v", fe.Need, c.need)
			}
			if fe.Org != org {
				t.Errorf("Org = %q", fe.Org)
			}
		})
	}
	// No Roles at all: everything restricted is refused.
	none, err := licenses.New(f.ms.Licenses(), &licenses.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Summary(f.ctx, licenses.SummaryParams{Org: org, Actor: admin}); !errors.Is(err, licenses.ErrForbidden) {
		t.Errorf("Summary with nil Roles = %v, want forbidden", err)
	}
	if _, err := none.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 1, RequestID: "x"}); !errors.Is(err, licenses.ErrForbidden) {
		t.Errorf("Purchase with nil Roles = %v, want forbidden", err)
	}
	// A malformed actor is invalid, before any role is asked.
	_, err = f.svc.Summary(f.ctx, licenses.SummaryParams{Org: org, Actor: "a@@b"})
	var ie *licenses.InvalidError
	if !errors.As(err, &ie) || ie.Field != "Actor" {
		t.Errorf("Summary by a malformed actor = %v, want invalid Actor", err)
	}
}

// The reads allow who the Roles table says.
func TestLicenses_ReadRoles(t *testing.T) {
	f := newFixture(t, 3)
	f.active("design", "bo@acme.test")
	f.roles.Grant(org, "des@acme.test", licenses.TeamAdmin("design"))
	for name, call := range map[string]func() error{
		"Member by itself, any case": func() error {
			return errOf(f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: "BO@acme.test", Email: "bo@acme.test"}))
		},
		"Member by its team's admin": func() error {
			return errOf(f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: "des@acme.test", Email: "bo@acme.test"}))
		},
		"Members of its team by the team's admin": func() error {
			return errOf(f.svc.MembersPage(f.ctx, licenses.MembersParams{Org: org, Actor: "des@acme.test", Team: "design"}))
		},
		"History by the member": func() error {
			return errOf(f.svc.HistoryPage(f.ctx, licenses.HistoryParams{Org: org, Actor: "bo@acme.test", Email: "bo@acme.test"}))
		},
		"Teams by the Org Admin": func() error {
			return errOf(f.svc.TeamsPage(f.ctx, licenses.TeamsParams{Org: org, Actor: admin}))
		},
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The member itself, unknown: not found, not forbidden.
	if _, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: "zz@acme.test", Email: "zz@acme.test"}); !errors.Is(err, licenses.ErrUnknownMember) {
		t.Errorf("Member of an unknown e-mail by itself = %v, want ErrUnknownMember", err)
	}
}

// Purchases are the vendor's: the allot.Purchase comes back from the
// ledger, the same on a retry whatever happened since.
func TestLicenses_VendorPurchase(t *testing.T) {
	f := newFixture(t, 0)
	p := licenses.PurchaseParams{Org: org, Actor: " BILLING ", Quantity: 3, Subscription: "order-7", RequestID: "buy-1"}
	got, err := f.svc.Purchase(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := allot.Purchase{Org: org, Product: "license", Quantity: 3, Subscription: "order-7", Actor: "billing", RequestID: "buy-1", At: t0.Truncate(time.Microsecond), Purchased: 3, Available: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Purchase (-want +got):\n%s", diff)
	}
	f.invite("design", "bo@acme.test", time.Time{})
	f.clock.Advance(time.Hour)
	red, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, Quantity: 1, RequestID: "red-1"})
	if err != nil || red.Quantity != -1 || red.Purchased != 2 || red.Available != 1 || !red.At.Equal(want.At.Add(time.Hour)) {
		t.Errorf("Reduce = %+v, %v; want -1, 2 purchased, 1 available", red, err)
	}
	again, err := f.svc.Purchase(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("retried Purchase after a reduction (-first +retry):\n%s", diff)
	}
	tr, err := ledgerOf(t, f).Transfer(f.ctx, ledger.TransferID("licenses/acme/request/buy-1"))
	if err != nil || tr.Metadata["subscription"] != "order-7" {
		t.Errorf("the purchase's transfer = %+v, %v; want the subscription in its metadata", tr, err)
	}
	before := f.snapshot()
	p.Subscription = "order-8"
	_, err = f.svc.Purchase(f.ctx, p)
	f.refused(before, err, licenses.ErrRequestReused)
	_, err = f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 1, Subscription: "bad id", RequestID: "buy-2"})
	f.refused(before, err, licenses.ErrInvalid)
}

// A retried Accept returns the member, never "cannot accept", even once
// removed from its teams since; a retried Remove returns the member, never
// ErrNotInTeam.
func TestLicenses_AcceptAndRemoveRetries(t *testing.T) {
	f := newFixture(t, 2)
	f.invite("design", "bo@acme.test", time.Time{})
	acc := licenses.AcceptParams{Org: org, Actor: "bo@acme.test", Email: "bo@acme.test"}
	first, err := f.svc.Accept(f.ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	before := f.snapshot()
	if again, err := f.svc.Accept(f.ctx, acc); err != nil || !cmp.Equal(first, again) {
		t.Errorf("retried Accept = %+v, %v; want %+v", again, err, first)
	}
	f.unchanged(before)
	rm := licenses.RemoveParams{Org: org, Actor: admin, Team: "design", Email: "bo@acme.test", RequestID: "rm-bo"}
	removed, err := f.svc.Remove(f.ctx, rm)
	if err != nil || removed.State != licenses.StateUnassigned {
		t.Fatalf("Remove = %+v, %v", removed, err)
	}
	before = f.snapshot()
	if again, err := f.svc.Remove(f.ctx, rm); err != nil || !cmp.Equal(removed, again) {
		t.Errorf("retried Remove = %+v, %v; want %+v", again, err, removed)
	}
	if again, err := f.svc.Accept(f.ctx, acc); err != nil || again.State != licenses.StateUnassigned {
		t.Errorf("Accept retried once unassigned = %+v, %v; want the unassigned member", again, err)
	}
	f.unchanged(before)
	// Another removal under its ID is refused; a new one is not in the team.
	_, err = f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "sales", Email: "bo@acme.test", RequestID: "rm-bo"})
	f.refused(before, err, licenses.ErrRequestReused)
	_, err = f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "design", Email: "bo@acme.test", RequestID: "rm-bo-2"})
	f.refused(before, err, licenses.ErrNotInTeam)
	// A pending member removed from its last team is withdrawn; the retry
	// says so again.
	f.invite("sales", "cy@acme.test", time.Time{})
	rm = licenses.RemoveParams{Org: org, Actor: admin, Team: "sales", Email: "cy@acme.test", RequestID: "rm-cy"}
	if m, err := f.svc.Remove(f.ctx, rm); err != nil || m.State != licenses.StateNone {
		t.Fatalf("Remove of a pending member = %+v, %v", m, err)
	}
	before = f.snapshot()
	if m, err := f.svc.Remove(f.ctx, rm); err != nil || m.State != licenses.StateNone {
		t.Errorf("retried withdrawal = %+v, %v; want no member", m, err)
	}
	f.unchanged(before)
	f.audit()
}

// Deleting a pending member withdraws its invitation and returns it as
// deleted; the retry returns the same, never not found.
func TestLicenses_DeletePendingRetry(t *testing.T) {
	f := newFixture(t, 1)
	inv := f.invite("design", "bo@acme.test", time.Time{})
	del := licenses.DeleteParams{Org: org, Actor: admin, Email: "bo@acme.test", RequestID: "del-bo"}
	first, err := f.svc.Delete(f.ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	want := licenses.Member{Org: org, Email: "bo@acme.test", State: licenses.StateDeleted, Hold: inv.Hold, UpdatedAt: t0.Truncate(time.Microsecond)}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("Delete (-want +got):\n%s", diff)
	}
	f.wantCounts(counts{Purchased: 1, Available: 1})
	before := f.snapshot()
	f.clock.Advance(time.Hour)
	if again, err := f.svc.Delete(f.ctx, del); err != nil || !cmp.Equal(first, again) {
		t.Errorf("retried Delete = %+v, %v; want %+v", again, err, first)
	}
	f.unchanged(before)
	f.audit()
}

// Listing: Cursor and Limit checked, pages in a row equal the iterator,
// teams and history page too.
func TestLicenses_Paging(t *testing.T) {
	f := newFixture(t, 10)
	for _, e := range []string{"a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test", "e@acme.test"} {
		f.active("design", e)
	}
	f.invite("sales", "f@acme.test", time.Time{})
	for _, c := range []struct {
		name  string
		p     licenses.MembersParams
		field string
	}{
		{"BadLimit", licenses.MembersParams{Limit: -1}, "Limit"},
		{"LimitTooBig", licenses.MembersParams{Limit: allot.MaxLimit + 1}, "Limit"},
		{"BadCursor", licenses.MembersParams{Cursor: "!!"}, "Cursor"},
		{"ForeignCursor", licenses.MembersParams{Cursor: teamsCursor(t, f)}, "Cursor"},
		{"BadState", licenses.MembersParams{State: licenses.StateDeleted}, "State"},
		{"BadTeam", licenses.MembersParams{Team: "a b"}, "Team"},
	} {
		c.p.Org, c.p.Actor = org, admin
		_, err := f.svc.MembersPage(f.ctx, c.p)
		var ie *licenses.InvalidError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
		}
	}
	if _, err := f.svc.MembersPage(f.ctx, licenses.MembersParams{Org: org, Actor: admin, Team: "nope"}); !errors.Is(err, licenses.ErrUnknownTeam) {
		t.Errorf("members of an unknown team: %v", err)
	}
	var paged []string
	p := licenses.MembersParams{Org: org, Actor: admin, State: licenses.StateActive, Team: "design", Limit: 2}
	for {
		page, err := f.svc.MembersPage(f.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			paged = append(paged, m.Email)
		}
		if page.Next == "" {
			break
		}
		p.Cursor = page.Next
	}
	if diff := cmp.Diff([]string{"a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test", "e@acme.test"}, paged); diff != "" {
		t.Errorf("active members of design (-want +got):\n%s", diff)
	}
	var iterated []string
	for m, err := range f.svc.Members(f.ctx, licenses.MembersParams{Org: org, Actor: admin, State: licenses.StateActive, Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		iterated = append(iterated, m.Email)
	}
	if diff := cmp.Diff(paged, iterated); diff != "" {
		t.Errorf("iterator against pages (-pages +iterator):\n%s", diff)
	}
	var teams []string
	for tm, err := range f.svc.Teams(f.ctx, licenses.TeamsParams{Org: org, Actor: admin, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		teams = append(teams, tm.ID)
	}
	if diff := cmp.Diff([]string{"design", "ops", "sales"}, teams); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
	f.del("a@acme.test")
	f.active("design", "a@acme.test")
	page, err := f.svc.HistoryPage(f.ctx, licenses.HistoryParams{Org: org, Actor: admin, Email: "a@acme.test", Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("first history page = %+v, %v", page, err)
	}
	rest, err := f.svc.HistoryPage(f.ctx, licenses.HistoryParams{Org: org, Actor: "a@acme.test", Email: "a@acme.test", Limit: 2, Cursor: page.Next})
	if err != nil || len(rest.Items) != 1 || rest.Next != "" {
		t.Errorf("second history page = %+v, %v", rest, err)
	}
	_, err = f.svc.HistoryPage(f.ctx, licenses.HistoryParams{Org: org, Actor: admin, Email: "b@acme.test", Cursor: page.Next})
	if allot.ErrorCode(err) != allot.CodeInvalid {
		t.Errorf("another member's history cursor: %v, want invalid", err)
	}
}

func teamsCursor(t *testing.T, f *fixture) string {
	t.Helper()
	page, err := f.svc.TeamsPage(f.ctx, licenses.TeamsParams{Org: org, Actor: admin, Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("teams page = %+v, %v", page, err)
	}
	return page.Next
}

func ledgerOf(t *testing.T, f *fixture) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(f.ms, &ledger.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// unchanged fails unless the store reads as before.
func (f *fixture) unchanged(before state) {
	f.t.Helper()
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		f.t.Errorf("the store changed (-before +after):\n%s", diff)
	}
}
