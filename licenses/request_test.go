package licenses_test

import (
	"errors"
	"github.com/allot-dev/allot"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
)

// A Delete's request ID names one deletion of one membership. Sent again
// after the member was invited anew and accepted, it is a retry of that
// deletion: it returns the same deleted Member and changes nothing (the new
// membership keeps its license, which stays freeable). Before, the ledger
// took the freeing transfer for a retry of the first one, nothing moved,
// yet the member was deleted: its license was stranded on its account.
func TestLicenses_DeleteRequestIDReusedForAnotherMembership(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	del := licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "d1"}
	first, err := f.svc.Delete(f.ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	if first.State != licenses.StateDeleted || first.Email != "bo@acme.test" || first.Hold == "" {
		t.Errorf("Delete = %+v, want bo in state deleted with its invitation", first)
	}
	// A true retry succeeds, returns the same and moves nothing.
	before := f.snapshot()
	f.clock.Advance(time.Hour)
	again, err := f.svc.Delete(f.ctx, del)
	if err != nil {
		t.Fatalf("retried Delete = %v, want success", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retried Delete returned another member (-first +retry):\n%s", diff)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		t.Errorf("a retried Delete changed the store (-before +after):\n%s", diff)
	}
	f.active("design", "bo@acme.test")
	f.wantCounts(counts{Purchased: 1, Active: 1})

	// Still a retry of the first deletion: bo's new membership is untouched.
	before = f.snapshot()
	again, err = f.svc.Delete(f.ctx, del)
	if err != nil || !cmp.Equal(first, again) {
		t.Errorf("Delete retried after bo came back = %+v, %v; want %+v", again, err, first)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		t.Errorf("a retried Delete changed the store (-before +after):\n%s", diff)
	}
	// Another member under the same ID is refused too.
	f.purchase(1)
	f.active("sales", "cy@acme.test")
	before = f.snapshot()
	_, err = f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "cy@acme.test", Actor: admin, RequestID: "d1"})
	f.refused(before, err, licenses.ErrRequestReused)
	// An unknown member under a used ID is a reused ID, not a retry.
	_, err = f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "zz@acme.test", Actor: admin, RequestID: "d1"})
	f.refused(before, err, licenses.ErrRequestReused)
	f.wantCounts(counts{Purchased: 2, Active: 2})

	// With a new ID the license goes back to the pool and serves another.
	f.del("bo@acme.test")
	f.wantCounts(counts{Purchased: 2, Active: 1, Available: 1})
	f.invite("design", "di@acme.test", time.Time{})
	f.wantCounts(counts{Purchased: 2, Active: 1, Pending: 1})
}

// Reassign's request ID names one move of one membership's license.
func TestLicenses_ReassignRequestIDReused(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	p := licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "mv"}
	first, err := f.svc.Reassign(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// A retry returns To and moves nothing.
	before := f.snapshot()
	again, err := f.svc.Reassign(f.ctx, p)
	if err != nil {
		t.Fatalf("retried Reassign = %v", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retried Reassign returned another member (-first +retry):\n%s", diff)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		t.Errorf("a retried Reassign changed the store (-before +after):\n%s", diff)
	}
	// bo is back and active (cy deleted): the same request is still a
	// retry of the first move; it returns To as it reads now (no member)
	// and changes nothing.
	f.del("cy@acme.test")
	f.active("design", "bo@acme.test")
	before = f.snapshot()
	again, err = f.svc.Reassign(f.ctx, p)
	if err != nil || again.State != licenses.StateNone || again.Email != "cy@acme.test" {
		t.Errorf("Reassign retried after cy's deletion = %+v, %v; want cy with no record", again, err)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		t.Errorf("a retried Reassign changed the store (-before +after):\n%s", diff)
	}
	// The same ID for a move to someone else is refused.
	p.To = "di@acme.test"
	_, err = f.svc.Reassign(f.ctx, p)
	f.refused(before, err, licenses.ErrRequestReused)
	wantReused(t, err, "mv")
	f.wantCounts(counts{Purchased: 1, Active: 1})
}

// Accepting an invitation already accepted, as a retried request does,
// returns the member and changes nothing.
func TestLicenses_AcceptRetry(t *testing.T) {
	f := newFixture(t, 1)
	f.invite("design", "bo@acme.test", time.Time{})
	first := f.accept("bo@acme.test")
	f.clock.Advance(time.Minute)
	before := f.snapshot()
	if again := f.accept("BO@acme.test"); !cmp.Equal(first, again) {
		t.Errorf("retried Accept = %+v, want %+v", again, first)
	}
	if diff := cmp.Diff(before, f.snapshot(), cmpDecimal); diff != "" {
		t.Errorf("a retried Accept changed the store (-before +after):\n%s", diff)
	}
	f.wantCounts(counts{Purchased: 1, Active: 1})
}

// Every act's request ID refused when reused with other contents, with a
// *RequestReusedError that names no ledger ID.
func TestLicenses_RequestReused(t *testing.T) {
	f := newFixture(t, 3)
	if _, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "red", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "red", Quantity: 1}); err != nil {
		t.Fatalf("retried Reduce = %v", err)
	}
	before := f.snapshot()
	_, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "red", Quantity: 2})
	f.refused(before, err, licenses.ErrRequestReused)
	wantReused(t, err, "red")

	if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "inv"}); err != nil {
		t.Fatal(err)
	}
	before = f.snapshot()
	_, err = f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin, RequestID: "inv"})
	f.refused(before, err, licenses.ErrRequestReused)
	wantReused(t, err, "inv")
	f.wantCounts(counts{Purchased: 2, Pending: 1, Available: 1})
}

// lagging is a clock behind another.
type lagging struct {
	c   *clock.Fake
	lag time.Duration
}

func (l lagging) Now() time.Time { return l.c.Now().Add(-l.lag) }

// Near an invitation's expiry, a replica whose clock is behind still reads
// the invitation as pending after a write of another replica released its
// hold as expired. Remove, Delete and Reassign treat it as the expired
// invitation it is instead of failing with the ledger's "hold is not
// pending".
func TestLicenses_ClockBehindHoldAlreadyExpired(t *testing.T) {
	for _, tt := range []struct {
		name string
		do   func(f *fixture, svc *licenses.Service) error
		want counts
	}{
		{"Delete", func(f *fixture, svc *licenses.Service) error {
			return errOf(svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "d"}))
		}, counts{Purchased: 3, Available: 3}},
		{"RemoveLastTeam", func(f *fixture, svc *licenses.Service) error {
			_, err := svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "rm-1"})
			return err
		}, counts{Purchased: 3, Available: 3}},
		{"Reassign", func(f *fixture, svc *licenses.Service) error {
			_, err := svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "mv"})
			return err
		}, counts{Purchased: 3, Pending: 1, Available: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 2)
			behind, err := licenses.New(f.ms.Licenses(), &licenses.Options{Clock: lagging{f.clock, 2 * time.Hour}, Roles: f.roles})
			if err != nil {
				t.Fatal(err)
			}
			f.invite("design", "bo@acme.test", t0.Add(time.Hour))
			f.clock.Advance(2*time.Hour + time.Minute)
			f.purchase(1) // locks the pool: the ledger releases bo's expired hold
			if err := tt.do(f, behind); err != nil {
				t.Fatalf("%s by a replica whose clock is behind: %v", tt.name, err)
			}
			if _, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "bo@acme.test"}); !errors.Is(err, licenses.ErrUnknownMember) {
				t.Errorf("Member(bo) = %v, want ErrUnknownMember", err)
			}
			f.wantCounts(tt.want)
		})
	}
}

// Counts that an int64 cannot hold are refused, never wrapped.
func TestLicenses_PurchaseOverflow(t *testing.T) {
	f := newFixture(t, 0)
	if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "max", Quantity: math.MaxInt64}); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot()
	_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "more", Quantity: 1})
	f.refused(before, err, licenses.ErrInvalid)
	_, err = f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "max2", Quantity: math.MaxInt64})
	f.refused(before, err, licenses.ErrInvalid)
	// A retry of the first purchase adds nothing, so it is no overflow.
	if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "max", Quantity: math.MaxInt64}); err != nil {
		t.Fatalf("retried Purchase = %v", err)
	}
	f.wantCounts(counts{Purchased: math.MaxInt64, Available: math.MaxInt64})
}

// IDs may hold '/' and '%': derived ledger IDs escape them, so two
// organizations, or two requests, whose plain concatenations would meet
// never share an account or a transfer.
func TestLicenses_IDsInjective(t *testing.T) {
	f := newFixture(t, 0)
	for _, o := range []string{"a/b", "a", "a%2Fb"} {
		f.roles.Grant(o, admin, licenses.OrgAdmin)
		f.roles.Grant(o, vendor, allot.Vendor)
	}
	buy := func(o, req string, n int64) {
		t.Helper()
		if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: o, Actor: vendor, RequestID: req, Quantity: n}); err != nil {
			t.Fatalf("Purchase(%s, %s): %v", o, req, err)
		}
	}
	// Before, both were "licenses/a/b/r/purchase".
	buy("a/b", "r", 1)
	buy("a", "b/r", 2)
	buy("a%2Fb", "r", 3)
	for o, want := range map[string]int64{"a/b": 1, "a": 2, "a%2Fb": 3} {
		s, err := f.svc.Summary(f.ctx, licenses.SummaryParams{Org: o, Actor: admin})
		if err != nil || s.Purchased != want || s.Available != want {
			t.Errorf("Summary(%s) = %+v, %v; want %d purchased and available", o, s, err, want)
		}
		if fs, err := f.svc.Audit(f.ctx, o); err != nil || len(fs) > 0 {
			t.Errorf("Audit(%s) = %v, %v", o, fs, err)
		}
	}
	if licenses.MemberAccount("a", "b/member/c@x.test") == licenses.MemberAccount("a/member/b", "c@x.test") {
		t.Error("two members share an account")
	}
	if _, err := f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: "a/b", Team: "50%/x", Actor: admin}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: "a/b", Team: "50%/x", Email: "Bo/X@acme.test", Actor: admin, RequestID: "i/1"}); err != nil {
		t.Fatal(err)
	}
	if fs, err := f.svc.Audit(f.ctx, "a/b"); err != nil || len(fs) > 0 {
		t.Errorf("Audit(a/b) = %v, %v", fs, err)
	}
}

// What no store keeps is refused before a transaction opens, naming the
// field: IDs, text and times by the library's one rule.
func TestLicenses_InputRefused(t *testing.T) {
	f := newFixture(t, 2)
	f.active("design", "bo@acme.test")
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, field string
		do          func() error
	}{
		{"OrgNUL", "Org", func() error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: "ac\x00me", Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		}},
		{"OrgTooLong", "Org", func() error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: strings.Repeat("o", 201), Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		}},
		{"RequestInvalidUTF8", "RequestID", func() error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "r\xff", Quantity: 1})
			return err
		}},
		{"TeamSpace", "Team", func() error {
			return errOf(f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: "a\u2028b", Actor: admin}))
		}},
		{"ActorNUL", "Actor", func() error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin + "\x00", RequestID: "x"})
			return err
		}},
		{"ExpiryYear10000", "ExpiresAt", func() error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin, RequestID: "x", ExpiresAt: far})
			return err
		}},
		{"ReassignExpiryYear10000", "ExpiresAt", func() error {
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "x", ExpiresAt: far})
			return err
		}},
		{"EmailNUL", "email", func() error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy\x00@acme.test", Actor: admin, RequestID: "x"})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			before := f.snapshot()
			err := tt.do()
			f.refused(before, err, licenses.ErrInvalid)
			var ie *licenses.InvalidError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Errorf("error %v does not name field %s", err, tt.field)
			}
		})
	}
}

// E-mail addresses, of members and of actors, are one person whatever
// their case, by Unicode simple case folding.
func TestLicenses_EmailCaseFolding(t *testing.T) {
	f := newFixture(t, 2)
	f.roles.Grant(org, "Ünal@acme.test", licenses.TeamAdmin("sales"))
	if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "sales", Email: "ÄNN@acme.test", Actor: "üNAL@ACME.test", RequestID: "x"}); err != nil {
		t.Fatal(err)
	}
	m, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "änn@acme.test", Actor: "Änn@Acme.Test"})
	if err != nil || m.Email != "änn@acme.test" || m.State != licenses.StateActive {
		t.Fatalf("Accept = %+v, %v", m, err)
	}
	f.wantCounts(counts{Purchased: 2, Active: 1, Available: 1})
}

// Audit reports the stranded license of defect "a Delete's request ID reused":
// the member deleted and its counters lowered, while its license stays
// posted on its account, as the service used to leave it.
func TestLicenses_AuditFindsStrandedLicense(t *testing.T) {
	f := newFixture(t, 1)
	f.active("design", "bo@acme.test")
	f.audit()
	err := f.ms.Licenses().InTx(f.ctx, func(tx licenses.Tx) error {
		o, err := tx.LicenseOrgLock(f.ctx, org)
		if err != nil {
			return err
		}
		o.Active--
		if err := tx.LicenseOrgUpdate(f.ctx, o); err != nil {
			return err
		}
		tm, err := tx.LicenseTeamGet(f.ctx, org, "design")
		if err != nil {
			return err
		}
		tm.Active--
		if err := tx.LicenseTeamUpdate(f.ctx, org, tm); err != nil {
			return err
		}
		return tx.LicenseMemberDelete(f.ctx, org, "bo@acme.test")
	})
	if err != nil {
		t.Fatal(err)
	}
	// The summary and the ledger's own Verify see nothing wrong.
	if s := f.summary(); s.Available != 1 {
		t.Fatalf("Summary says %d available", s.Available)
	}
	fs, err := f.svc.Audit(f.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.Finding{
		{Tenant: org, Record: "member bo@acme.test", Field: "license", Stored: "no member", Derived: "1 posted on its account"},
		{Tenant: org, Record: "pool account", Field: "available", Stored: "0", Derived: "1 (purchased less the licenses members hold)"},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("Audit() mismatch (-want +got):\n%s", diff)
	}
}

// Audit reports counters corrupted behind the service's back, and a
// member whose state disagrees with its account.
func TestLicenses_AuditFindsCorruptCounters(t *testing.T) {
	f := newFixture(t, 3)
	f.active("design", "bo@acme.test")
	f.invite("sales", "cy@acme.test", time.Time{})
	f.audit()
	err := f.ms.Licenses().InTx(f.ctx, func(tx licenses.Tx) error {
		o, err := tx.LicenseOrgLock(f.ctx, org)
		if err != nil {
			return err
		}
		o.Purchased, o.Pending = 7, 0
		if err := tx.LicenseOrgUpdate(f.ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamUpdate(f.ctx, org, licenses.Team{ID: "sales", Active: 2}); err != nil {
			return err
		}
		m, err := tx.LicenseMemberGet(f.ctx, org, "bo@acme.test")
		if err != nil {
			return err
		}
		m.State = licenses.StateUnassigned
		m.Teams = nil
		return tx.LicenseMemberUpdate(f.ctx, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := f.svc.Audit(f.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.Finding{
		{Tenant: org, Record: "organization", Field: "purchased", Stored: "7", Derived: "3"},
		{Tenant: org, Record: "organization", Field: "active", Stored: "1", Derived: "0"},
		{Tenant: org, Record: "organization", Field: "pending", Stored: "0", Derived: "1"},
		{Tenant: org, Record: "organization", Field: "unassigned", Stored: "0", Derived: "1"},
		{Tenant: org, Record: "team design", Field: "active", Stored: "1", Derived: "0"},
		{Tenant: org, Record: "team sales", Field: "active", Stored: "2", Derived: "0"},
		{Tenant: org, Record: "team sales", Field: "pending", Stored: "0", Derived: "1"},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("Audit() mismatch (-want +got):\n%s", diff)
	}
	if _, err := f.svc.Audit(f.ctx, "ghost"); !errors.Is(err, licenses.ErrUnknownOrg) {
		t.Errorf("Audit(ghost) = %v, want ErrUnknownOrg", err)
	}
}

// A request ID names one request, whatever act it was used for: reusing it
// for another kind of act is refused like reusing it for another member.
func TestLicenses_RequestReusedAcrossActs(t *testing.T) {
	f := newFixture(t, 3)
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: 1})
	ok(err)
	_, err = f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "inv"})
	ok(err)
	_, err = f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
	ok(err)
	_, err = f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin, RequestID: "inv-cy"})
	ok(err)
	_, err = f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "cy@acme.test", Actor: "cy@acme.test"})
	ok(err)
	ok(errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "cy@acme.test", Actor: admin, RequestID: "del"})))

	for _, tc := range []struct {
		name string
		req  string
		do   func(req string) error
	}{
		{"InviteWithAPurchasesID", "buy", func(req string) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "di@acme.test", Actor: admin, RequestID: req})
			return err
		}},
		{"ReduceWithAPurchasesID", "buy", func(req string) error {
			_, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: req, Quantity: 1})
			return err
		}},
		{"PurchaseWithAnInvitationsID", "inv", func(req string) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: req, Quantity: 1})
			return err
		}},
		{"DeleteWithAnInvitationsID", "inv", func(req string) error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: req}))
		}},
		{"DeleteWithAPurchasesID", "buy", func(req string) error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: req}))
		}},
		{"ReassignWithADeletionsID", "del", func(req string) error {
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "di@acme.test", Actor: admin, RequestID: req})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot()
			err := tc.do(tc.req)
			f.refused(before, err, licenses.ErrRequestReused)
			wantReused(t, err, tc.req)
		})
	}
}

// Actors follow the library's one rule: an e-mail address in any case is
// one actor, and an actor that holds '@' but is no address is refused.
func TestLicenses_ActorRule(t *testing.T) {
	f := newFixture(t, 1)
	if _, err := f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: "ops", Actor: " " + strings.ToUpper(admin) + " "}); err != nil {
		t.Errorf("CreateTeam by the admin in upper case: %v", err)
	}
	before := f.snapshot()
	_, err := f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: "qa", Actor: "ada@@acme.test"})
	f.refused(before, err, licenses.ErrInvalid)
	_, err = f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: "qa", Actor: " "})
	f.refused(before, err, licenses.ErrInvalid)
}
