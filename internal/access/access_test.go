package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/access"
)

type failingRoles struct{}

func (failingRoles) HasRole(context.Context, string, string, allot.Role) (bool, error) {
	return false, errors.New("directory down")
}

func TestRequire(t *testing.T) {
	ctx := context.Background()
	var r allot.StaticRoles
	if err := r.Grant("acme", "ann@x.test", "b"); err != nil {
		t.Fatal(err)
	}
	if err := access.Require(ctx, &r, "acme", "ann@x.test", "act", "a", "b"); err != nil {
		t.Errorf("holding the second of two roles: %v", err)
	}
	err := access.Require(ctx, &r, "acme", "bo@x.test", "act", "a", "b")
	var fe *allot.ForbiddenError
	if !errors.As(err, &fe) || fe.Actor != "bo@x.test" || len(fe.Need) != 2 {
		t.Errorf("an actor without the roles: %v", err)
	}
	if err := access.Require(ctx, nil, "acme", "ann@x.test", "act", "a"); !errors.Is(err, allot.ErrForbidden) {
		t.Errorf("nil Roles: %v; want forbidden", err)
	}
	err = access.Require(ctx, failingRoles{}, "acme", "ann@x.test", "act", "a")
	if errors.Is(err, allot.ErrForbidden) || allot.ErrorCode(err) != allot.CodeInternal {
		t.Errorf("a failing Roles: %v (code %q); want internal", err, allot.ErrorCode(err))
	}
}
