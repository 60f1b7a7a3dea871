package licenses_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// The fuzz targets feed the service's entry points IDs, e-mail addresses,
// actors, quantities and times on memstore. Each iteration must not panic,
// and either refuse with an error matching one of the package's sentinels
// and change nothing, or succeed with books that pass Audit and the
// ledger's Verify.

var licensesSentinels = []error{
	licenses.ErrInvalid, licenses.ErrForbidden, licenses.ErrUnknownOrg, licenses.ErrUnknownTeam,
	licenses.ErrUnknownMember, licenses.ErrNoLicenseAvailable, licenses.ErrLicensesInUse,
	licenses.ErrIllegalTransition, licenses.ErrNoInvitation, licenses.ErrInvitationExpired,
	licenses.ErrNotInTeam, licenses.ErrRequestReused,
}

// Seeds shared by the targets: edge cases of each kind of input.
var (
	fuzzIDs    = []string{"acme", "design", "a/b", "50%", "a%2Fb", "", "a b", "x\x00", "\xff", "Zürich", string(make([]byte, 201))}
	fuzzEmails = []string{"bo@acme.test", "BO@ACME.test", "cy@acme.test", "Änn@x.test", "ÄNN@X.TEST", "a/b@x.test", "50%@x.test", "bo\x00@acme.test", "bo\xff@acme.test", "not an address", ""}
	fuzzQty    = []int64{1, 0, -1, 2, math.MaxInt64, math.MinInt64}
	// Expiries as Unix seconds; 0 is none.
	fuzzExpiry = []int64{0, t0.Add(time.Hour).Unix(), t0.Unix(), 253402300800, -62135596801, math.MaxInt64}
)

// fuzzState is what the store holds for the organizations concerned.
type fuzzState struct {
	Ledger storetest.State
	Orgs   map[string]state
}

// newFuzzFixture: org acme with 3 licenses, bo active in design, cy
// pending in sales until an hour from now; the admin is an Org Admin of
// acme and of the fuzzed org too.
func newFuzzFixture(t *testing.T, org string) *fixture {
	f := newFixture(t, 3)
	f.roles.Grant(org, admin, licenses.OrgAdmin)
	f.roles.Grant(org, vendor, allot.Vendor)
	f.active("design", "bo@acme.test")
	f.invite("sales", "cy@acme.test", t0.Add(time.Hour))
	f.clock.Advance(time.Minute)
	return f
}

func (f *fixture) fuzzSnapshot(orgs ...string) fuzzState {
	f.t.Helper()
	st := fuzzState{Orgs: map[string]state{}}
	var err error
	if st.Ledger, err = storetest.Snapshot(f.ctx, f.ms); err != nil {
		f.t.Fatal(err)
	}
	for _, o := range orgs {
		var s state
		err := f.ms.Licenses().InTx(f.ctx, func(tx licenses.Tx) error {
			var err error
			if s.Org, err = tx.LicenseOrgGet(f.ctx, o); err != nil && !errors.Is(err, ledger.ErrNotFound) {
				return err
			}
			if s.Teams, err = tx.LicenseTeamList(f.ctx, licenses.TeamListParams{Org: o}); err != nil {
				return err
			}
			s.Members, err = tx.LicenseMemberList(f.ctx, licenses.MemberListParams{Org: o})
			return err
		})
		if err != nil {
			f.t.Fatal(err)
		}
		st.Orgs[o] = s
	}
	return st
}

// fuzzCheck runs op and checks its outcome as the targets require.
func fuzzCheck(t *testing.T, org string, op func(f *fixture) error) {
	f := newFuzzFixture(t, org)
	before := f.fuzzSnapshot(org, "acme")
	err := op(f)
	if err != nil {
		matched := false
		for _, s := range licensesSentinels {
			matched = matched || errors.Is(err, s)
		}
		if !matched || err.Error() == "" {
			t.Fatalf("error %v matches no sentinel of licenses", err)
		}
		// A refusal of input is the caller's: it has its own code, never
		// the internal that stands for a bug or a broken store.
		var c interface{ Code() string }
		if !errors.As(err, &c) || allot.ErrorCode(err) == allot.CodeInternal {
			t.Fatalf("error %v has code %q, want a refusal's", err, allot.ErrorCode(err))
		}
		if diff := cmp.Diff(before, f.fuzzSnapshot(org, "acme"), cmpDecimal); diff != "" {
			t.Fatalf("refused with %v, yet the store changed (-before +after):\n%s", err, diff)
		}
		return
	}
	for _, o := range []string{org, "acme"} {
		fs, err := f.svc.Audit(f.ctx, o)
		if errors.Is(err, licenses.ErrUnknownOrg) && o != "acme" {
			continue
		}
		if err != nil || len(fs) > 0 {
			t.Fatalf("Audit(%q) after success = %v, %v", o, fs, err)
		}
	}
	l, err := ledger.New(f.ms, &ledger.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Verify(f.ctx); err != nil || !r.OK() {
		t.Fatalf("Verify after success = %v, %v", r.Discrepancies, err)
	}
}

func expiryOf(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func FuzzPurchase(f *testing.F) {
	for i, id := range fuzzIDs {
		f.Add(id, fuzzIDs[(i+1)%len(fuzzIDs)], admin, fuzzQty[i%len(fuzzQty)])
	}
	f.Add("acme", "r1", admin, int64(math.MaxInt64)) // r1 bought 3: a reused ID
	f.Add("acme", "r1", admin, int64(3))             // a retry
	f.Fuzz(func(t *testing.T, org, req, actor string, n int64) {
		fuzzCheck(t, org, func(fx *fixture) error {
			_, err := fx.svc.Purchase(fx.ctx, licenses.PurchaseParams{Org: org, Actor: actor, RequestID: req, Quantity: n})
			return err
		})
	})
}

func FuzzReduce(f *testing.F) {
	for i, id := range fuzzIDs {
		f.Add(id, fuzzIDs[(i+2)%len(fuzzIDs)], admin, fuzzQty[i%len(fuzzQty)])
	}
	f.Add("acme", "r1", admin, int64(1)) // r1 was a purchase
	f.Fuzz(func(t *testing.T, org, req, actor string, n int64) {
		fuzzCheck(t, org, func(fx *fixture) error {
			_, err := fx.svc.Reduce(fx.ctx, licenses.ReduceParams{Org: org, Actor: actor, RequestID: req, Quantity: n})
			return err
		})
	})
}

func FuzzCreateTeam(f *testing.F) {
	for i, id := range fuzzIDs {
		f.Add(fuzzIDs[(i+3)%len(fuzzIDs)], id, admin)
	}
	f.Add("acme", "ops", "ADA@acme.test")
	f.Add("acme", "new", "ada@acme.test\x00")
	f.Fuzz(func(t *testing.T, org, team, actor string) {
		fuzzCheck(t, org, func(fx *fixture) error {
			return errOf(fx.svc.CreateTeam(fx.ctx, licenses.CreateTeamParams{Org: org, Team: team, Actor: actor}))
		})
	})
}

func FuzzInvite(f *testing.F) {
	for i, e := range fuzzEmails {
		f.Add("acme", fuzzIDs[i%len(fuzzIDs)], e, admin, fuzzIDs[(i+1)%len(fuzzIDs)], fuzzExpiry[i%len(fuzzExpiry)])
	}
	f.Add("acme", "design", "dan@acme.test", admin, "r5", int64(0)) // r5 was cy's invitation
	f.Add("acme", "sales", "bo@acme.test", "ADA@ACME.TEST", "n", int64(0))
	f.Fuzz(func(t *testing.T, org, team, email, actor, req string, exp int64) {
		fuzzCheck(t, org, func(fx *fixture) error {
			_, err := fx.svc.Invite(fx.ctx, licenses.InviteParams{Org: org, Team: team, Email: email, Actor: actor, RequestID: req, ExpiresAt: expiryOf(exp)})
			return err
		})
	})
}

func FuzzAccept(f *testing.F) {
	for i, e := range fuzzEmails {
		f.Add(fuzzIDs[i%2], e, e)
	}
	f.Add("acme", "cy@acme.test", "CY@acme.test")
	f.Add("acme", "bo@acme.test", "bo@acme.test")
	f.Add("acme", "cy@acme.test", "cy@acme.test\x00")
	f.Fuzz(func(t *testing.T, org, email, actor string) {
		fuzzCheck(t, org, func(fx *fixture) error {
			_, err := fx.svc.Accept(fx.ctx, licenses.AcceptParams{Org: org, Email: email, Actor: actor})
			return err
		})
	})
}

func FuzzRemove(f *testing.F) {
	for i, e := range fuzzEmails {
		f.Add("acme", []string{"design", "sales", "a/b"}[i%3], e, admin)
	}
	f.Add("acme", "sales", "cy@acme.test", "nobody")
	f.Fuzz(func(t *testing.T, org, team, email, actor string) {
		fuzzCheck(t, org, func(fx *fixture) error {
			_, err := fx.svc.Remove(fx.ctx, licenses.RemoveParams{Org: org, Team: team, Email: email, Actor: actor, RequestID: "rm-1"})
			return err
		})
	})
}

func FuzzDelete(f *testing.F) {
	for i, e := range fuzzEmails {
		f.Add("acme", e, admin, fuzzIDs[i%len(fuzzIDs)])
	}
	f.Add("acme", "bo@acme.test", admin, "r1") // r1 was a purchase: another act
	f.Fuzz(func(t *testing.T, org, email, actor, req string) {
		fuzzCheck(t, org, func(fx *fixture) error {
			return errOf(fx.svc.Delete(fx.ctx, licenses.DeleteParams{Org: org, Email: email, Actor: actor, RequestID: req}))
		})
	})
}

func FuzzReassign(f *testing.F) {
	for i, e := range fuzzEmails {
		f.Add("acme", []string{"bo@acme.test", "cy@acme.test"}[i%2], e, []string{"", "design", "sales", "a/b"}[i%4], admin, fuzzIDs[i%len(fuzzIDs)], fuzzExpiry[i%len(fuzzExpiry)])
	}
	f.Fuzz(func(t *testing.T, org, from, to, team, actor, req string, exp int64) {
		fuzzCheck(t, org, func(fx *fixture) error {
			_, err := fx.svc.Reassign(fx.ctx, licenses.ReassignParams{Org: org, From: from, To: to, Team: team, Actor: actor, RequestID: req, ExpiresAt: expiryOf(exp)})
			return err
		})
	})
}
