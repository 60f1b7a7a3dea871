package licenses

import (
	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/input"
)

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
