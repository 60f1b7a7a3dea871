package licenses

import (
	"errors"
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/ledger"
)

// Sentinel errors name the categories of refusal. Match them with errors.Is;
// the typed errors below carry the details and match their sentinel. A
// refused operation changes nothing. Every error the Service returns has a
// code (see allot.ErrorCode): its sentinel's or typed error's, and
// "internal", "canceled" or "timeout" for a failure of the store or the
// context; the package doc's Errors section lists them.
var (
	// ErrInvalid: the request is malformed (an ID, e-mail, quantity or expiry).
	ErrInvalid error = errcode.New(errcode.Invalid, "licenses: invalid request")
	// ErrForbidden: the actor may not do this in this organization or team.
	// It is allot.ErrForbidden, the one refusal of every family; the error
	// is an *allot.ForbiddenError.
	ErrForbidden = allot.ErrForbidden
	// ErrUnknownOrg: the organization has no licenses record yet.
	ErrUnknownOrg error = errcode.New(errcode.NotFound, "licenses: unknown organization")
	// ErrUnknownTeam: the team does not exist in the organization.
	ErrUnknownTeam error = errcode.New(errcode.NotFound, "licenses: unknown team")
	// ErrUnknownMember: no member with this e-mail in the organization.
	ErrUnknownMember error = errcode.New(errcode.NotFound, "licenses: unknown member")
	// ErrNoLicenseAvailable: every purchased license is pending, active or
	// unassigned, so a new member cannot be invited.
	ErrNoLicenseAvailable error = errcode.New(errcode.Insufficient, "licenses: no license available")
	// ErrLicensesInUse: the purchased count cannot drop below the licenses
	// members hold.
	ErrLicensesInUse error = errcode.New(errcode.InUse, "licenses: licenses in use")
	// ErrIllegalTransition: the event cannot happen in the member's state.
	ErrIllegalTransition error = errcode.New(errcode.IllegalTransition, "licenses: illegal transition")
	// ErrNoInvitation: the member has no pending invitation to accept.
	ErrNoInvitation error = errcode.New(errcode.NotFound, "licenses: no pending invitation")
	// ErrInvitationExpired: the invitation expired before it was accepted.
	ErrInvitationExpired error = errcode.New(errcode.Expired, "licenses: invitation expired")
	// ErrNotInTeam: the member is not in the team it is being removed from.
	ErrNotInTeam error = errcode.New(errcode.NotFound, "licenses: member not in team")
	// ErrRequestReused: the request ID was used before for a different
	// request (another act, member, invitation, quantity or actor).
	ErrRequestReused error = errcode.New(errcode.RequestReused, "licenses: request ID reused for a different request")
)

// InvalidError says which field of a request was wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("licenses: invalid %s: %s", e.Field, e.Reason)
}

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Code returns "invalid".
func (e *InvalidError) Code() string { return errcode.Invalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NoLicenseError refuses an invitation of a new member when every purchased
// license is in use.
type NoLicenseError struct {
	Org       string
	Purchased int64
	InUse     int64 // active + pending + unassigned
}

func (e *NoLicenseError) Error() string {
	return fmt.Sprintf("licenses: organization %q has no license available (%d purchased, %d in use); buy more licenses or delete members", e.Org, e.Purchased, e.InUse)
}

// Is makes a *NoLicenseError match ErrNoLicenseAvailable.
func (e *NoLicenseError) Is(target error) bool { return target == ErrNoLicenseAvailable }

// Code returns "insufficient".
func (e *NoLicenseError) Code() string { return errcode.Insufficient }

// InUseError refuses to reduce the purchased count below the licenses in use.
type InUseError struct {
	Org       string
	Purchased int64
	InUse     int64
	Reduce    int64 // how many the request asked to remove
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("licenses: organization %q cannot give back %d of its %d licenses: %d are in use, so at most %d can go; delete members first", e.Org, e.Reduce, e.Purchased, e.InUse, e.Purchased-e.InUse)
}

// Is makes an *InUseError match ErrLicensesInUse.
func (e *InUseError) Is(target error) bool { return target == ErrLicensesInUse }

// Code returns "in_use".
func (e *InUseError) Code() string { return errcode.InUse }

// TransitionError names an event that cannot happen in a state.
type TransitionError struct {
	From  State
	Event Event
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("licenses: a member in state %s cannot %s", e.From, e.Event)
}

// Is makes a *TransitionError match ErrIllegalTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

// Code returns "illegal_transition".
func (e *TransitionError) Code() string { return errcode.IllegalTransition }

// NotFoundError names the organization, team or member that does not exist.
type NotFoundError struct {
	Kind string // "organization", "team", "member"
	Org  string
	ID   string
}

func (e *NotFoundError) Error() string {
	switch e.Kind {
	case "organization":
		return fmt.Sprintf("licenses: unknown organization %q; purchase licenses for it first", e.Org)
	case "team":
		return fmt.Sprintf("licenses: organization %q has no team %q; create it first", e.Org, e.ID)
	}
	return fmt.Sprintf("licenses: organization %q has no member %q", e.Org, e.ID)
}

// Is makes a *NotFoundError match ErrUnknownOrg, ErrUnknownTeam or
// ErrUnknownMember, by its Kind.
func (e *NotFoundError) Is(target error) bool {
	switch e.Kind {
	case "organization":
		return target == ErrUnknownOrg
	case "team":
		return target == ErrUnknownTeam
	}
	return target == ErrUnknownMember
}

// Code returns "not_found".
func (e *NotFoundError) Code() string { return errcode.NotFound }

// RequestReusedError refuses a request whose RequestID the organization
// already used for a different request: another act, another member or
// invitation, or other contents. A retry of a request must repeat it
// exactly; a new request needs a new ID. Nothing changed.
type RequestReusedError struct {
	Org       string
	RequestID string
	Act       string // what this request asked: "purchase", "reduce", "invite", "delete", "reassign"
}

func (e *RequestReusedError) Error() string {
	return fmt.Sprintf("licenses: organization %q already used request ID %q for a different request than this %s; send a retry exactly as the first request, and pick a new ID only for a new request", e.Org, e.RequestID, e.Act)
}

// Is makes a *RequestReusedError match ErrRequestReused.
func (e *RequestReusedError) Is(target error) bool { return target == ErrRequestReused }

// Code returns "request_reused".
func (e *RequestReusedError) Code() string { return errcode.RequestReused }

// InternalError is a failure that is no caller's fault: the ledger refused
// what the organization's records allowed (they disagree, which Audit
// reports), or the clock reads a time the ledger cannot keep. Its message
// names the organization only; the ledger's error, whose message holds
// internal account and transfer IDs, stays reachable with errors.Is and
// errors.As (for a log) but is not shown. Nothing changed. A store's own
// failure is not an InternalError: it is returned as the store gave it,
// with the code "internal" (or "canceled", "timeout", "unavailable").
type InternalError struct {
	Org string
	Err error // the ledger's error
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("licenses: internal error in organization %q: the ledger refused the operation; nothing changed", e.Org)
}

// Unwrap returns the ledger's error.
func (e *InternalError) Unwrap() error { return e.Err }

// Code returns "internal".
func (e *InternalError) Code() string { return errcode.Internal }

// ledgerSentinels are the ledger's categories. An error matching one that
// reaches an exported method was not translated into this package's terms
// where it arose: the operation did not expect it.
var ledgerSentinels = []error{
	ledger.ErrNotFound, ledger.ErrAlreadyExists, ledger.ErrConflict,
	ledger.ErrInvalid, ledger.ErrInsufficientBalance, ledger.ErrHoldNotPending,
}

// wrap is every exported method's one wrap point: it prefixes err with what
// was asked, puts a ledger error the operation did not expect behind an
// *InternalError (so no message shows a ledger ID), and makes sure the
// result has a code. This package's own errors never wrap a ledger error.
func wrap(err error, org, format string, args ...any) error {
	for _, s := range ledgerSentinels {
		if errors.Is(err, s) {
			err = &InternalError{Org: org, Err: err}
			break
		}
	}
	return errcode.Ensure(fmt.Errorf(format+": %w", append(args, err)...))
}
