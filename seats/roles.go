package seats

import (
	"context"
	"sync"
)

// Roles tells who holds the Entitlement manager role in an organization. The
// embedding service implements it over its own membership data, or uses
// StaticRoles. Implementations must be safe for concurrent use.
type Roles interface {
	IsEntitlementManager(ctx context.Context, org, member string) (bool, error)
}

// StaticRoles is an in-memory Roles: the members granted the role in each
// organization. Its zero value grants nobody; it is safe for concurrent use.
type StaticRoles struct {
	mu       sync.RWMutex
	managers map[string]map[string]struct{} // org -> members
}

// Grant gives member the Entitlement manager role in org.
func (r *StaticRoles) Grant(org, member string) {
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
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.managers[org], member)
}

// IsEntitlementManager implements Roles.
func (r *StaticRoles) IsEntitlementManager(_ context.Context, org, member string) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.managers[org][member]
	return ok, nil
}
