package pgxstore

import (
	"context"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
)

// The passes tests' actors: passesAdmin is a Workspace Administrator and
// passesVendor the vendor, in every workspace (passesRoles).
const (
	passesAdmin  = "admin@acme.example"
	passesVendor = "billing"
)

type passesActors struct{}

func (passesActors) HasRole(_ context.Context, _, actor string, role allot.Role) (bool, error) {
	return (actor == passesAdmin && role == passes.WorkspaceAdmin) || (actor == passesVendor && role == allot.Vendor), nil
}

var passesRoles allot.Roles = passesActors{}
