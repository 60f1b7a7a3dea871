package licenses

import (
	"errors"
	"fmt"
)

// Sentinel errors name the categories of refusal. Match them with errors.Is;
// the typed errors below carry the details and match their sentinel. A
// refused operation changes nothing.
var (
	// ErrInvalid: the request is malformed (an ID, e-mail, quantity or expiry).
	ErrInvalid = errors.New("licenses: invalid request")
	// ErrForbidden: the actor may not do this in this organization or team.
	ErrForbidden = errors.New("licenses: forbidden")
	// ErrUnknownOrg: the organization has no licenses record yet.
	ErrUnknownOrg = errors.New("licenses: unknown organization")
	// ErrUnknownTeam: the team does not exist in the organization.
	ErrUnknownTeam = errors.New("licenses: unknown team")
	// ErrUnknownMember: no member with this e-mail in the organization.
	ErrUnknownMember = errors.New("licenses: unknown member")
	// ErrNoLicenseAvailable: every purchased license is pending, active or
	// unassigned, so a new member cannot be invited.
	ErrNoLicenseAvailable = errors.New("licenses: no license available")
	// ErrLicensesInUse: the purchased count cannot drop below the licenses
	// members hold.
	ErrLicensesInUse = errors.New("licenses: licenses in use")
	// ErrIllegalTransition: the event cannot happen in the member's state.
	ErrIllegalTransition = errors.New("licenses: illegal transition")
	// ErrNoInvitation: the member has no pending invitation to accept.
	ErrNoInvitation = errors.New("licenses: no pending invitation")
	// ErrInvitationExpired: the invitation expired before it was accepted.
	ErrInvitationExpired = errors.New("licenses: invitation expired")
	// ErrNotInTeam: the member is not in the team it is being removed from.
	ErrNotInTeam = errors.New("licenses: member not in team")
	// ErrRequestReused: the request ID was used before for a different
	// request (another act, member, invitation, quantity or actor).
	ErrRequestReused = errors.New("licenses: request ID reused for a different request")
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

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ForbiddenError says who was refused what.
type ForbiddenError struct {
	Actor  string
	Action string // e.g. "invite to team design"
	Org    string
	Need   string // the role that would allow it
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("licenses: %q may not %s in organization %q: %s", e.Actor, e.Action, e.Org, e.Need)
}

// Is makes a *ForbiddenError match ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

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
