package seats

import (
	"context"
	"sync"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/input"
)

// Roles tells who holds the Entitlement manager role in an organization. The
// embedding service implements it over its own membership data, or uses
// StaticRoles. The service passes member in its canonical form (see
// CanonicalActor), so an implementation keyed by canonical forms finds a
// member however the caller wrote it. Implementations must be safe for
// concurrent use.
type Roles interface {
	IsEntitlementManager(ctx context.Context, org, member string) (bool, error)
}

// CanonicalActor returns the one form in which the package compares, checks
// and records an actor (the member of a transfer or view, the recorder of a
// purchase, Options.CheckActor, a StaticRoles grant), or an error matching
// ErrInvalid. It is the library's one rule for actors, the same in every
// family:
//
//   - an actor holding '@' is an e-mail address and must be one: trimmed
//     and Unicode case folded, so "ÄNN@x.test" and "änn@x.test" are one
//     member;
//   - any other actor (a system such as "billing") is trimmed of white space
//     and Unicode case folded the same way, and must not be empty.
//
// Either way the actor must be valid UTF-8 without NUL.
func CanonicalActor(actor string) (string, error) {
	a, reason := input.Actor(actor)
	if reason != "" {
		return "", invalid("Actor", "%q %s", actor, reason)
	}
	return a, nil
}

// StaticRoles is an in-memory Roles: the members granted the role in each
// organization, kept in their canonical form (CanonicalActor). Its zero
// value grants nobody; it is safe for concurrent use.
type StaticRoles struct {
	mu       sync.RWMutex
	managers map[string]map[string]struct{} // org -> members
}

// Grant gives member the Entitlement manager role in org. A member that
// CanonicalActor refuses could never act, and is not granted.
func (r *StaticRoles) Grant(org, member string) {
	member, err := CanonicalActor(member)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.managers == nil {
		r.managers = make(map[string]map[string]struct{})
	}
	m := r.managers[org]
	if m == nil {
		m = make(map[string]struct{})
		r.managers[org] = m
	}
	m[member] = struct{}{}
}

// Revoke takes the Entitlement manager role in org away from member.
func (r *StaticRoles) Revoke(org, member string) {
	member, err := CanonicalActor(member)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.managers[org], member)
}

// IsEntitlementManager implements Roles. It compares canonical forms, so a
// member passed as written by a caller is found too.
func (r *StaticRoles) IsEntitlementManager(_ context.Context, org, member string) (bool, error) {
	member, err := CanonicalActor(member)
	if err != nil {
		return false, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.managers[org][member]
	return ok, nil
}

// EntitlementManager is the role of a SpotMe Entitlement manager: only they
// transfer seats and modules to the organization's events, and they read the
// Entitlements tab.
const EntitlementManager allot.Role = "seats.entitlement_manager"

// EventOrganizer is the role of whoever creates the organization's events
// and keeps their participants and modules current (an Entitlement manager
// may do that too).
const EventOrganizer allot.Role = "seats.event_organizer"
