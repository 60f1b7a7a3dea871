package licenses

import (
	"context"
	"strings"
	"sync"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/input"
)

// Roles decides who may act. Actors are free text chosen by the embedding
// service (typically the acting user's e-mail); licenses compares them by
// NormalizeActor: an actor that is an e-mail address by the library's one
// e-mail rule (input.Email) in its canonical form, any other trimmed and
// case-folded.
//
// An Org Admin does everything in the organization. A Team Admin invites to
// and removes from its own teams. Implementations must be safe for
// concurrent use.
type Roles interface {
	IsOrgAdmin(ctx context.Context, org, actor string) (bool, error)
	IsTeamAdmin(ctx context.Context, org, team, actor string) (bool, error)
}

// RoleSet is a ready in-memory Roles. Its zero value grants nothing and is
// ready to use; it is safe for concurrent use.
type RoleSet struct {
	mu         sync.RWMutex
	orgAdmins  map[orgActor]bool
	teamAdmins map[teamActor]bool
}

type orgActor struct{ org, actor string }
type teamActor struct{ org, team, actor string }

var _ Roles = (*RoleSet)(nil)

// NormalizeActor returns the form actors are compared in, the library's one
// rule for actors: an actor holding '@' is an e-mail address, in its
// canonical form (see NormalizeEmail); any other actor (a system such as
// "billing") is trimmed and case-folded by the same Unicode simple case
// folding. The operations refuse an actor this rule refuses (an empty one,
// or one holding '@' that is no address) with ErrInvalid; for such an actor
// NormalizeActor returns it trimmed and folded, which grants it nothing.
func NormalizeActor(a string) string {
	if c, reason := input.Actor(a); reason == "" {
		return c
	}
	return input.Fold(strings.TrimSpace(a))
}

func normActor(a string) string { return NormalizeActor(a) }

// GrantOrgAdmin makes actor an Org Admin of org.
func (r *RoleSet) GrantOrgAdmin(org, actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.orgAdmins == nil {
		r.orgAdmins = make(map[orgActor]bool)
	}
	r.orgAdmins[orgActor{org, normActor(actor)}] = true
}

// RevokeOrgAdmin takes the Org Admin role of org from actor.
func (r *RoleSet) RevokeOrgAdmin(org, actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.orgAdmins, orgActor{org, normActor(actor)})
}

// GrantTeamAdmin makes actor a Team Admin of team in org.
func (r *RoleSet) GrantTeamAdmin(org, team, actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.teamAdmins == nil {
		r.teamAdmins = make(map[teamActor]bool)
	}
	r.teamAdmins[teamActor{org, team, normActor(actor)}] = true
}

// RevokeTeamAdmin takes the Team Admin role of team in org from actor.
func (r *RoleSet) RevokeTeamAdmin(org, team, actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.teamAdmins, teamActor{org, team, normActor(actor)})
}

// IsOrgAdmin implements Roles.
func (r *RoleSet) IsOrgAdmin(_ context.Context, org, actor string) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.orgAdmins[orgActor{org, normActor(actor)}], nil
}

// IsTeamAdmin implements Roles.
func (r *RoleSet) IsTeamAdmin(_ context.Context, org, team, actor string) (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.teamAdmins[teamActor{org, team, normActor(actor)}], nil
}

// OrgAdmin is the role of a Powtoon organization admin: they create teams,
// invite to, remove from and delete members of every team, and read the
// license page.
const OrgAdmin allot.Role = "licenses.org_admin"

// TeamAdmin is the role of an admin of one team: they invite to and remove
// from that team, and read its members. The role's string holds the team's
// ID, escaped so that no two teams share a role.
func TeamAdmin(team string) allot.Role {
	return allot.Role(input.Join("licenses.team_admin", team))
}
