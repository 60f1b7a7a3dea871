package licenses_test

import (
	"context"
	"errors"
	"iter"
	"math"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

// leak matches what no message may show an API client: an internal ledger
// ID ("licenses/acme/pool", ".../member/...", ".../request/..."), a Go
// identifier, a Go slice or a formatting mistake.
var leak = regexp.MustCompile(`licenses/|/issuer|/pool|/member/|/request/|/balance|/req/|Options\.|licenses\.Tx|\bint64\b|\[\]|%!`)

// wantCode checks what a service sees of err: its code, its HTTP status,
// the sentinel it still matches, and a message free of internal IDs and Go
// identifiers.
func wantCode(t *testing.T, err error, code string, status int, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with code %s", code)
	}
	// ErrorCode falls back to internal, canceled or timeout for an error
	// without a code: ask the error itself.
	var coder interface{ Code() string }
	if !errors.As(err, &coder) {
		t.Errorf("error %v has no Code method in its chain", err)
	}
	if got := allot.ErrorCode(err); got != code {
		t.Errorf("ErrorCode(%v) = %q, want %q", err, got, code)
	}
	if got := allot.HTTPStatus(err); got != status {
		t.Errorf("HTTPStatus(%v) = %d, want %d", err, got, status)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %v does not match %v", err, sentinel)
	}
	if m := leak.FindString(err.Error()); m != "" {
		t.Errorf("message %q shows %q", err, m)
	}
}

// first returns the first error an iterator yields.
func first[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// corrupt changes a member's record behind the service's back, so that the
// ledger disagrees with it.
func (f *fixture) corrupt(email string, change func(m *licenses.Member)) {
	f.t.Helper()
	err := f.ms.Licenses().InTx(f.ctx, func(tx licenses.Tx) error {
		m, err := tx.LicenseMemberGet(f.ctx, org, email)
		if err != nil {
			return err
		}
		change(&m)
		return tx.LicenseMemberUpdate(f.ctx, m)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// Every refusal the package can return, provoked through the public API:
// each has the code its situation names in every family, keeps matching
// its sentinel and typed error, and says nothing of the ledger's internal
// IDs. A refusal whose sentinel or typed error had no code would read as
// internal here and fail.
func TestLicenses_ErrorCodes(t *testing.T) {
	type target = any // a pointer to the typed error errors.As must find
	past := t0.Add(-time.Hour)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		setup    func(f *fixture)
		do       func(f *fixture) error
		code     string
		status   int
		sentinel error
		as       target
		field    string // of an *InvalidError
	}{
		// invalid: the field is named.
		{name: "PurchaseOrg", do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: "a c", Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Org"},
		{name: "PurchaseRequestIDEmpty", do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 1})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "RequestID"},
		{name: "PurchaseRequestIDNUL", do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "r\x00", Quantity: 1})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "RequestID"},
		{name: "PurchaseActor", do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: "", RequestID: "x", Quantity: 1})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Actor"},
		{name: "PurchaseQuantity", do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 0})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Quantity"},
		{name: "PurchaseOverflow", setup: func(f *fixture) {
			if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "max", Quantity: math.MaxInt64 - 2}); err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 10})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Quantity"},
		{name: "CreateTeamTeam", do: func(f *fixture) error {
			return errOf(f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Team: "", Actor: admin}))
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Team"},
		{name: "InviteEmail", do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "not an address", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "email"},
		{name: "InviteExpiresInThePast", do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "x", ExpiresAt: past})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "ExpiresAt"},
		{name: "InviteExpiresInYear10000", do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "x", ExpiresAt: far})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "ExpiresAt"},
		{name: "ReassignToItself", setup: func(f *fixture) { f.active("design", "bo@acme.test") }, do: func(f *fixture) error {
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "BO@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "To"},
		{name: "ReassignFromNoTeam", setup: func(f *fixture) {
			f.active("design", "bo@acme.test")
			f.remove("design", "bo@acme.test")
		}, do: func(f *fixture) error {
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Team"},
		{name: "MemberEmail", do: func(f *fixture) error {
			_, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "@"})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "email"},
		{name: "MemberOrg", do: func(f *fixture) error {
			_, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: "", Actor: admin, Email: "bo@acme.test"})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Org"},
		{name: "MembersOrg", do: func(f *fixture) error {
			return first(f.svc.Members(f.ctx, licenses.MembersParams{Org: "ac\xffme", Actor: admin}))
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Org"},
		{name: "HistoryOrg", do: func(f *fixture) error {
			return first(f.svc.History(f.ctx, licenses.HistoryParams{Org: "a/../\x00", Actor: admin, Email: "bo@acme.test"}))
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Org"},
		{name: "HistoryEmail", do: func(f *fixture) error {
			return first(f.svc.History(f.ctx, licenses.HistoryParams{Org: org, Actor: admin, Email: "bo"}))
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "email"},
		{name: "SummaryOrg", do: func(f *fixture) error {
			_, err := f.svc.Summary(f.ctx, licenses.SummaryParams{Org: "", Actor: admin})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Org"},
		{name: "AuditOrg", do: func(f *fixture) error {
			_, err := f.svc.Audit(f.ctx, "a b")
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "Org"},
		{name: "CounterOverflow", setup: func(f *fixture) {
			err := f.ms.Licenses().InTx(f.ctx, func(tx licenses.Tx) error {
				o, err := tx.LicenseOrgLock(f.ctx, org)
				if err != nil {
					return err
				}
				o.Pending = math.MaxInt64
				return tx.LicenseOrgUpdate(f.ctx, o)
			})
			if err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeInvalid, status: 400, sentinel: licenses.ErrInvalid, as: new(*licenses.InvalidError), field: "count"},

		// forbidden
		{name: "PurchaseNotOrgAdmin", do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: "eve@acme.test", RequestID: "x", Quantity: 1})
			return err
		}, code: allot.CodeForbidden, status: 403, sentinel: licenses.ErrForbidden, as: new(*allot.ForbiddenError)},
		{name: "InviteTeamAdminOfAnotherTeam", setup: func(f *fixture) { f.roles.Grant(org, "sam@acme.test", licenses.TeamAdmin("sales")) }, do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: "sam@acme.test", RequestID: "x"})
			return err
		}, code: allot.CodeForbidden, status: 403, sentinel: licenses.ErrForbidden, as: new(*allot.ForbiddenError)},
		{name: "AcceptByAnother", setup: func(f *fixture) { f.invite("design", "bo@acme.test", time.Time{}) }, do: func(f *fixture) error {
			_, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: admin})
			return err
		}, code: allot.CodeForbidden, status: 403, sentinel: licenses.ErrForbidden, as: new(*allot.ForbiddenError)},

		// not_found
		{name: "ReduceUnknownOrg", do: func(f *fixture) error {
			f.roles.Grant("ghost", admin, licenses.OrgAdmin)
			f.roles.Grant("ghost", vendor, allot.Vendor)
			_, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: "ghost", Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownOrg, as: new(*licenses.NotFoundError)},
		{name: "SummaryUnknownOrg", do: func(f *fixture) error {
			f.roles.Grant("ghost", admin, licenses.OrgAdmin)
			_, err := f.svc.Summary(f.ctx, licenses.SummaryParams{Org: "ghost", Actor: admin})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownOrg, as: new(*licenses.NotFoundError)},
		{name: "AuditUnknownOrg", do: func(f *fixture) error {
			_, err := f.svc.Audit(f.ctx, "ghost")
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownOrg, as: new(*licenses.NotFoundError)},
		{name: "InviteUnknownTeam", do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "legal", Email: "bo@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownTeam, as: new(*licenses.NotFoundError)},
		{name: "RemoveUnknownMember", do: func(f *fixture) error {
			_, err := f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "rm-1"})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownMember, as: new(*licenses.NotFoundError)},
		{name: "DeleteUnknownMember", do: func(f *fixture) error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "x"}))
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownMember, as: new(*licenses.NotFoundError)},
		{name: "ReassignUnknownMember", do: func(f *fixture) error {
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownMember, as: new(*licenses.NotFoundError)},
		{name: "MemberUnknown", do: func(f *fixture) error {
			_, err := f.svc.Member(f.ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "bo@acme.test"})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownMember, as: new(*licenses.NotFoundError)},
		{name: "HistoryOfNobody", do: func(f *fixture) error {
			return first(f.svc.History(f.ctx, licenses.HistoryParams{Org: org, Actor: admin, Email: "bo@acme.test"}))
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrUnknownMember, as: new(*licenses.NotFoundError)},
		{name: "AcceptNoInvitation", do: func(f *fixture) error {
			_, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrNoInvitation, as: new(*licenses.NotFoundError)},
		{name: "RemoveNotInTeam", setup: func(f *fixture) { f.active("design", "bo@acme.test") }, do: func(f *fixture) error {
			_, err := f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Team: "sales", Email: "bo@acme.test", Actor: admin, RequestID: "rm-2"})
			return err
		}, code: allot.CodeNotFound, status: 404, sentinel: licenses.ErrNotInTeam},

		// request_reused
		{name: "PurchaseRequestReused", setup: func(f *fixture) {
			if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: 1}); err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: 2})
			return err
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},
		{name: "ReduceRequestReused", setup: func(f *fixture) {
			if _, err := f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: 1}); err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			_, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: 1})
			return err
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},
		{name: "InviteRequestReused", setup: func(f *fixture) {
			if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "inv"}); err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin, RequestID: "inv"})
			return err
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},
		{name: "InviteRequestOfAcceptedInvitation", setup: func(f *fixture) {
			if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "inv"}); err != nil {
				f.t.Fatal(err)
			}
			f.accept("bo@acme.test")
		}, do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "cy@acme.test", Actor: admin, RequestID: "inv"})
			return err
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},
		{name: "DeleteRequestReused", setup: func(f *fixture) {
			f.active("design", "bo@acme.test")
			f.active("design", "cy@acme.test")
			if _, err := f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "del"}); err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "cy@acme.test", Actor: admin, RequestID: "del"}))
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},
		{name: "DeleteUnknownMemberRequestReused", setup: func(f *fixture) {
			f.active("design", "bo@acme.test")
			if _, err := f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "del"}); err != nil {
				f.t.Fatal(err)
			}
		}, do: func(f *fixture) error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "zz@acme.test", Actor: admin, RequestID: "del"}))
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},
		{name: "ReassignRequestReused", setup: func(f *fixture) {
			f.active("design", "bo@acme.test")
			f.purchase(1)
		}, do: func(f *fixture) error {
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "r1"})
			return err
		}, code: allot.CodeRequestReused, status: 409, sentinel: licenses.ErrRequestReused, as: new(*licenses.RequestReusedError)},

		// insufficient
		{name: "InviteNoLicense", setup: func(f *fixture) {
			f.invite("design", "bo@acme.test", time.Time{})
			f.invite("design", "cy@acme.test", time.Time{})
		}, do: func(f *fixture) error {
			_, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "di@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeInsufficient, status: 409, sentinel: licenses.ErrNoLicenseAvailable, as: new(*licenses.NoLicenseError)},
		{name: "ReassignFromExpiredNoLicense", setup: func(f *fixture) {
			f.invite("design", "bo@acme.test", t0.Add(time.Hour))
			f.active("design", "cy@acme.test")
			f.clock.Advance(2 * time.Hour)
			f.invite("design", "di@acme.test", time.Time{}) // takes the license bo's invitation held
		}, do: func(f *fixture) error {
			// bo's expired invitation frees nothing for ed.
			_, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "ed@acme.test", Actor: admin, RequestID: "x"})
			return err
		}, code: allot.CodeInsufficient, status: 409, sentinel: licenses.ErrNoLicenseAvailable, as: new(*licenses.NoLicenseError)},

		// in_use
		{name: "ReduceInUse", setup: func(f *fixture) { f.active("design", "bo@acme.test") }, do: func(f *fixture) error {
			_, err := f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 2})
			return err
		}, code: allot.CodeInUse, status: 409, sentinel: licenses.ErrLicensesInUse, as: new(*licenses.InUseError)},

		// illegal_transition
		{name: "TransitionUnassignedAccept", do: func(f *fixture) error {
			_, err := licenses.Transition(licenses.StateUnassigned, licenses.EventAccept)
			return err
		}, code: allot.CodeIllegalTransition, status: 409, sentinel: licenses.ErrIllegalTransition, as: new(*licenses.TransitionError)},
		{name: "Transition", do: func(*fixture) error {
			_, err := licenses.Transition(licenses.StateNone, licenses.EventAccept)
			return err
		}, code: allot.CodeIllegalTransition, status: 409, sentinel: licenses.ErrIllegalTransition, as: new(*licenses.TransitionError)},

		// expired
		{name: "AcceptExpired", setup: func(f *fixture) {
			f.invite("design", "bo@acme.test", t0.Add(time.Hour))
			f.clock.Advance(2 * time.Hour)
		}, do: func(f *fixture) error {
			_, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
			return err
		}, code: allot.CodeExpired, status: 410, sentinel: licenses.ErrInvitationExpired},
		{name: "AcceptHoldReleasedByAFasterClock", setup: func(f *fixture) {
			f.invite("design", "bo@acme.test", t0.Add(time.Hour))
			f.clock.Advance(2*time.Hour + time.Minute)
			f.purchase(1) // the ledger releases bo's expired hold
		}, do: func(f *fixture) error {
			behind, err := licenses.New(f.ms.Licenses(), &licenses.Options{Clock: lagging{f.clock, 2 * time.Hour}, Roles: f.roles})
			if err != nil {
				return err
			}
			_, err = behind.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
			return err
		}, code: allot.CodeExpired, status: 410, sentinel: licenses.ErrInvitationExpired},

		// internal: the ledger disagrees with the records.
		{name: "DeleteMemberWhoseLicenseIsNotOnItsAccount", setup: func(f *fixture) {
			f.invite("design", "bo@acme.test", time.Time{})
			f.corrupt("bo@acme.test", func(m *licenses.Member) { m.State = licenses.StateUnassigned })
		}, do: func(f *fixture) error {
			return errOf(f.svc.Delete(f.ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "x"}))
		}, code: allot.CodeInternal, status: 500, sentinel: ledger.ErrInsufficientBalance, as: new(*licenses.InternalError)},
		{name: "AcceptInvitationWithoutHold", setup: func(f *fixture) {
			f.invite("design", "bo@acme.test", time.Time{})
			f.corrupt("bo@acme.test", func(m *licenses.Member) { m.Hold = "no such hold" })
		}, do: func(f *fixture) error {
			_, err := f.svc.Accept(f.ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
			return err
		}, code: allot.CodeInternal, status: 500, sentinel: ledger.ErrNotFound, as: new(*licenses.InternalError)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 2)
			if tt.setup != nil {
				tt.setup(f)
			}
			before := f.snapshot()
			err := tt.do(f)
			wantCode(t, err, tt.code, tt.status, tt.sentinel)
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("error %v is not a %T", err, tt.as)
			}
			if tt.field != "" {
				var ie *licenses.InvalidError
				if errors.As(err, &ie) && ie.Field != tt.field {
					t.Errorf("error %v names field %q, want %q", err, ie.Field, tt.field)
				}
			}
			f.refused(before, err, tt.sentinel)
		})
	}
}

func TestNew_NoStoreIsInvalid(t *testing.T) {
	_, err := licenses.New(nil, nil)
	wantCode(t, err, allot.CodeInvalid, http.StatusBadRequest, licenses.ErrInvalid)
	var ie *licenses.InvalidError
	if !errors.As(err, &ie) || ie.Field != "store" {
		t.Errorf("New(nil) = %v, want an *InvalidError for the store", err)
	}
}

func TestNormalizeEmail_Code(t *testing.T) {
	_, err := licenses.NormalizeEmail("bo at acme")
	wantCode(t, err, allot.CodeInvalid, http.StatusBadRequest, licenses.ErrInvalid)
}

// failingStore fails every transaction as a broken disk would, or returns
// the context's error first as a store does.
type failingStore struct{ licenses.Store }

var errDisk = errors.New("disk on fire")

func (s failingStore) InTx(ctx context.Context, fn func(tx licenses.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return errDisk
}

// calls makes every call of the Service that reaches the store, with valid
// input an Org Admin may send.
func calls(svc *licenses.Service) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Purchase": func(ctx context.Context) error {
			_, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		},
		"Reduce": func(ctx context.Context) error {
			_, err := svc.Reduce(ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 1})
			return err
		},
		"CreateTeam": func(ctx context.Context) error {
			return errOf(svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Team: "design", Actor: admin}))
		},
		"Invite": func(ctx context.Context) error {
			_, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "x"})
			return err
		},
		"Accept": func(ctx context.Context) error {
			_, err := svc.Accept(ctx, licenses.AcceptParams{Org: org, Email: "bo@acme.test", Actor: "bo@acme.test"})
			return err
		},
		"Remove": func(ctx context.Context) error {
			_, err := svc.Remove(ctx, licenses.RemoveParams{Org: org, Team: "design", Email: "bo@acme.test", Actor: admin, RequestID: "rm-3"})
			return err
		},
		"Delete": func(ctx context.Context) error {
			return errOf(svc.Delete(ctx, licenses.DeleteParams{Org: org, Email: "bo@acme.test", Actor: admin, RequestID: "x"}))
		},
		"Reassign": func(ctx context.Context) error {
			_, err := svc.Reassign(ctx, licenses.ReassignParams{Org: org, From: "bo@acme.test", To: "cy@acme.test", Actor: admin, RequestID: "x"})
			return err
		},
		"Member": func(ctx context.Context) error {
			_, err := svc.Member(ctx, licenses.MemberParams{Org: org, Actor: admin, Email: "bo@acme.test"})
			return err
		},
		"Members": func(ctx context.Context) error {
			return first(svc.Members(ctx, licenses.MembersParams{Org: org, Actor: admin}))
		},
		"History": func(ctx context.Context) error {
			return first(svc.History(ctx, licenses.HistoryParams{Org: org, Actor: admin, Email: "bo@acme.test"}))
		},
		"Summary": func(ctx context.Context) error {
			_, err := svc.Summary(ctx, licenses.SummaryParams{Org: org, Actor: admin})
			return err
		},
		"Audit": func(ctx context.Context) error {
			_, err := svc.Audit(ctx, org)
			return err
		},
	}
}

// A store that fails gives every call the code internal, its message kept;
// a cancelled context gives canceled, and a passed deadline timeout.
func TestLicenses_StoreAndContextFailureCodes(t *testing.T) {
	roles := &allot.StaticRoles{}
	roles.Grant(org, admin, licenses.OrgAdmin)
	roles.Grant(org, vendor, allot.Vendor)
	broken, err := licenses.New(failingStore{}, &licenses.Options{Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	late, stop := context.WithDeadline(context.Background(), t0)
	defer stop()
	for name, call := range calls(broken) {
		t.Run(name+"/DiskOnFire", func(t *testing.T) {
			err := call(context.Background())
			wantCode(t, err, allot.CodeInternal, http.StatusInternalServerError, errDisk)
		})
	}
	for name, call := range calls(svc) {
		t.Run(name+"/Canceled", func(t *testing.T) {
			wantCode(t, call(cancelled), allot.CodeCanceled, 499, context.Canceled)
		})
		t.Run(name+"/Timeout", func(t *testing.T) {
			wantCode(t, call(late), allot.CodeTimeout, http.StatusGatewayTimeout, context.DeadlineExceeded)
		})
	}
}

// A failing Roles is no refusal: the call fails with code internal.
func TestLicenses_RolesFailureCode(t *testing.T) {
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Roles: rolesErr{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Purchase(context.Background(), licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "x", Quantity: 1})
	wantCode(t, err, allot.CodeInternal, http.StatusInternalServerError, nil)
}
