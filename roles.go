package allot

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
)

// Role names what an actor may do in an organization. Each family defines
// the roles its product has (passes.WorkspaceAdmin, seats.EntitlementManager,
// licenses.OrgAdmin and licenses.TeamAdmin(team)); Vendor is the one role all
// three share. A role is a plain string, so a service may keep grants in its
// own tables.
type Role string

// Vendor is the seller's role: purchases and reductions are the vendor's
// acts in every family, never a customer's. In each product a customer asks
// and the vendor adds: Powtoon's "+ Add licenses" e-mails the vendor, SpotMe
// sells seats and modules under subscriptions, and ThinkTank sells passes.
// A service grants Vendor to its billing system's actor (for instance
// "billing") in every organization it sells to.
const Vendor Role = "vendor"

// SystemActor is the actor of work a service runs on a schedule rather than
// for a person, such as seats' periodic consumption check. A call that
// accepts it says so; everywhere else it is an ordinary actor with whatever
// roles Roles gives it.
const SystemActor = "system"

// Roles says which actors hold which roles in which organization. Every
// family checks its restricted calls through it, with the actor in the
// library's one canonical form (an e-mail address trimmed and case folded,
// any other actor trimmed and case folded). One implementation serves all
// three families; StaticRoles is a ready one.
type Roles interface {
	HasRole(ctx context.Context, org, actor string, role Role) (bool, error)
}

// ErrForbidden matches every refusal of an actor, in every family: the
// actor lacks the role the act needs. The error is a *ForbiddenError.
var ErrForbidden error = errcode.New(errcode.Forbidden, "allot: forbidden")

// ForbiddenError says who was refused what, and which role would allow it.
type ForbiddenError struct {
	Org    string
	Actor  string // canonical form
	Action string // what was refused, in the product's words, e.g. "export the usage log"
	Need   []Role // holding any one of these would allow it; none when no role does (Action says who may)
}

func (e *ForbiddenError) Error() string {
	if len(e.Need) == 0 {
		return fmt.Sprintf("%q may not %s in organization %q", e.Actor, e.Action, e.Org)
	}
	need := make([]string, len(e.Need))
	for i, r := range e.Need {
		need[i] = string(r)
	}
	return fmt.Sprintf("%q may not %s in organization %q: that needs the role %s",
		e.Actor, e.Action, e.Org, strings.Join(need, " or "))
}

// Code returns "forbidden".
func (e *ForbiddenError) Code() string { return errcode.Forbidden }

// Is makes a *ForbiddenError match ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// StaticRoles is a ready in-memory Roles, for tests, examples and services
// whose grants are few and fixed. Its zero value grants nothing and is ready
// to use; it is safe for concurrent use.
type StaticRoles struct {
	mu     sync.RWMutex
	grants map[grant]bool
}

type grant struct {
	org, actor string
	role       Role
}

var _ Roles = (*StaticRoles)(nil)

// Grant gives actor the roles in org. It returns an error matching the code
// "invalid", and grants nothing, when org is not an ID or actor is not an
// actor (an address holding '@' that is no e-mail address, or an empty one).
func (r *StaticRoles) Grant(org, actor string, roles ...Role) error {
	g, err := newGrant(org, actor)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.grants == nil {
		r.grants = make(map[grant]bool)
	}
	for _, role := range roles {
		g.role = role
		r.grants[g] = true
	}
	return nil
}

// Revoke takes the roles in org away from actor.
func (r *StaticRoles) Revoke(org, actor string, roles ...Role) {
	g, err := newGrant(org, actor)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, role := range roles {
		g.role = role
		delete(r.grants, g)
	}
}

// HasRole implements Roles.
func (r *StaticRoles) HasRole(_ context.Context, org, actor string, role Role) (bool, error) {
	a, _ := input.Actor(actor)
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.grants[grant{org: org, actor: a, role: role}], nil
}

var errInvalidGrant = errcode.New(errcode.Invalid, "allot: invalid grant")

func newGrant(org, actor string) (grant, error) {
	if reason := input.ID(org); reason != "" {
		return grant{}, fmt.Errorf("%w: organization %q %s", errInvalidGrant, org, reason)
	}
	a, reason := input.Actor(actor)
	if reason != "" {
		return grant{}, fmt.Errorf("%w: actor %q %s", errInvalidGrant, actor, reason)
	}
	return grant{org: org, actor: a}, nil
}
