package licenses

import (
	"fmt"
	"strings"
	"time"
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

// NormalizeEmail returns the canonical form of an e-mail address (trimmed,
// lower case), the form members are identified by, or an error matching
// ErrInvalid if it does not look like an address.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.IndexByte(e, '@')
	switch {
	case e == "":
		return "", invalid("email", "empty; give the member's e-mail address")
	case len(e) > 254:
		return "", invalid("email", "%d characters, more than the 254 an address may have", len(e))
	case at <= 0 || at != strings.LastIndexByte(e, '@'):
		return "", invalid("email", "%q is not of the form name@example.com", email)
	case containsAny(e, &notInEmail):
		return "", invalid("email", "%q contains a character an address may not hold", email)
	}
	domain := e[at+1:]
	if dot := strings.IndexByte(domain, '.'); dot <= 0 || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", invalid("email", "%q has no valid domain, e.g. example.com", email)
	}
	return e, nil
}

// The bytes an e-mail address and an ID may not hold, as tables: every
// request checks its addresses and IDs, and strings.ContainsAny would build
// its table anew each time.
var (
	notInEmail = byteSet(" \t\r\n/\\<>\",;:()[]")
	notInID    = byteSet(" \t\r\n/")
)

func byteSet(chars string) (set [256]bool) {
	for i := range len(chars) {
		set[chars[i]] = true
	}
	return set
}

// containsAny reports whether s holds a byte of set.
func containsAny(s string, set *[256]bool) bool {
	for i := range len(s) {
		if set[s[i]] {
			return true
		}
	}
	return false
}

// validID checks an organization or team ID: 1 to 128 characters, none of
// them white space or '/', since IDs become parts of ledger account IDs.
func validID(field, id string) error {
	switch {
	case id == "":
		return invalid(field, "empty")
	case len(id) > 128:
		return invalid(field, "%d characters, more than 128", len(id))
	case containsAny(id, &notInID):
		return invalid(field, "%q contains white space or '/'", id)
	}
	return nil
}

// validRequestID checks a request ID, which ledger transfer IDs are made of.
func validRequestID(id string) error {
	switch {
	case id == "":
		return invalid("RequestID", "empty; give each request an ID so a retry moves nothing twice")
	case len(id) > 200:
		return invalid("RequestID", "%d characters, more than 200", len(id))
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
