package passes_test

import (
	"context"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
)

// The tests' actors: admin is a Workspace Administrator and vendor the
// vendor, in every workspace (testRoles).
const (
	admin  = "admin@acme.example"
	vendor = "billing"
)

// actors grants roles by actor, in every workspace.
type actors map[string][]allot.Role

func (a actors) HasRole(_ context.Context, _, actor string, role allot.Role) (bool, error) {
	for _, r := range a[actor] {
		if r == role {
			return true, nil
		}
	}
	return false, nil
}

var testRoles allot.Roles = actors{admin: {passes.WorkspaceAdmin}, vendor: {allot.Vendor}}

// create is the admin's request to create s.
func create(s passes.Session) passes.CreateSessionParams {
	return passes.CreateSessionParams{
		Org: s.Org, Actor: admin, ID: s.ID, Name: s.Name, Owner: s.Owner,
		External: s.External, PassType: s.PassType, Fields: s.Fields,
	}
}
