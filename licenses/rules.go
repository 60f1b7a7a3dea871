package licenses

import (
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/input"
)

// State is where a member is in its license lifecycle.
type State string

const (
	// StateNone is no member: not yet invited, or deleted. A member in this
	// state holds no license and has no record.
	StateNone State = ""
	// StatePending: invited to a team, the invitation not yet accepted. The
	// member's license is reserved by a hold on the pool.
	StatePending State = "pending"
	// StateActive: accepted and in at least one team; the license is on the
	// member's account.
	StateActive State = "active"
	// StateUnassigned: removed from every team; the member keeps the license.
	StateUnassigned State = "unassigned"
	// StateExpired: the invitation expired before it was accepted. The member
	// holds no license; inviting it again reserves a new one.
	StateExpired State = "expired"
	// StateDeleted is the state of the Member Delete returns: the member's
	// record is gone and it holds no license. No stored member is in it,
	// and the lifecycle (Transition) never leads to it: it names the
	// result of a deletion, which reads the same on every retry.
	StateDeleted State = "deleted"
)

// HoldsLicense reports whether a member in state s holds a license (reserved
// or posted).
func (s State) HoldsLicense() bool {
	return s == StatePending || s == StateActive || s == StateUnassigned
}

// Event is something that happens to a member.
type Event string

const (
	// EventInvite: the member is invited to a team it is not in.
	EventInvite Event = "invite"
	// EventAccept: the member accepts its invitation.
	EventAccept Event = "accept"
	// EventLeave: the member is removed from a team, and is still in others.
	EventLeave Event = "leave"
	// EventLeaveLast: the member is removed from the last team it was in.
	EventLeaveLast Event = "leave-last"
	// EventDelete: the member is deleted from the organization.
	EventDelete Event = "delete"
	// EventExpire: the invitation's expiry passes (applied lazily).
	EventExpire Event = "expire"
)

// transitions is the whole lifecycle: every legal (state, event) pair and
// the state it leads to. Anything missing is illegal.
var transitions = map[State]map[Event]State{
	StateNone: {
		EventInvite: StatePending, // reserves a license
	},
	StatePending: {
		EventInvite:    StatePending, // another team: nothing new reserved
		EventAccept:    StateActive,  // the hold is posted
		EventLeave:     StatePending,
		EventLeaveLast: StateNone, // the invitation is withdrawn: the hold is voided
		EventDelete:    StateNone, // the hold is voided
		EventExpire:    StateExpired,
	},
	StateActive: {
		EventInvite:    StateActive, // another team: nothing new reserved
		EventLeave:     StateActive,
		EventLeaveLast: StateUnassigned, // keeps the license
		EventDelete:    StateNone,       // the license goes back to the pool
	},
	StateUnassigned: {
		EventInvite: StateActive, // joins a team: active again, no acceptance needed
		EventDelete: StateNone,   // the license goes back to the pool
	},
	StateExpired: {
		EventInvite:    StatePending, // a new invitation reserves a new license
		EventLeave:     StateExpired,
		EventLeaveLast: StateNone,
		EventDelete:    StateNone,
	},
}

// Transition returns the state a member in state from reaches on ev, or an
// error matching ErrIllegalTransition if ev cannot happen in from.
func Transition(from State, ev Event) (State, error) {
	to, ok := transitions[from][ev]
	if !ok {
		return from, &TransitionError{From: from, Event: ev}
	}
	return to, nil
}

// expired reports whether an invitation with expiry at has expired at now.
// The zero time never expires. It agrees with the ledger: a hold counts
// while now is before its expiry.
func expired(at, now time.Time) bool {
	return !at.IsZero() && !now.Before(at)
}

// NormalizeEmail returns the canonical form of an e-mail address, the form
// members are identified by, or an error matching ErrInvalid (an
// *InvalidError for field "email") if it is not a plain address. It is the
// library's one e-mail rule, input.Email: trimmed, a bare address net/mail
// parses to itself, compared by Unicode simple case folding, so
// "Änn@X.test" and "äNN@x.TEST" are one member.
func NormalizeEmail(email string) (string, error) {
	e, reason := input.Email(email)
	if reason != "" {
		return "", invalid("email", "%s", reason)
	}
	return e, nil
}

// validID checks an organization, team or request ID by the library's ID
// rule (input.ID): 1 to 200 bytes of valid UTF-8 without white space or
// control characters. Any other character, '/' and '%' included, is
// allowed: derived ledger IDs escape them (input.Join).
func validID(field, id string) error {
	if r := input.ID(id); r != "" {
		return invalid(field, "%q %s", id, r)
	}
	return nil
}

// validRequestID checks a request ID, which ledger transfer IDs are made of.
func validRequestID(id string) error {
	if id == "" {
		return invalid("RequestID", "empty; give each request an ID so a retry moves nothing twice")
	}
	return validID("RequestID", id)
}

// validTime checks a time a request gives: within the years 1 to 9999
// every store keeps.
func validTime(field string, t time.Time) error {
	if r := input.Time(t); r != "" {
		return invalid(field, "%s", r)
	}
	return nil
}

// available is the number of licenses free to reserve.
func available(purchased, active, pending, unassigned int64) int64 {
	return purchased - active - pending - unassigned
}

func (s State) String() string {
	if s == StateNone {
		return "none"
	}
	return string(s)
}

var _ fmt.Stringer = StateNone
