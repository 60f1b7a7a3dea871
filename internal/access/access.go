// Package access checks an actor's roles the same way in every family.
package access

import (
	"context"
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
)

// Require returns nil if actor (in canonical form) holds any one of need in
// org, and a *allot.ForbiddenError naming action otherwise. A nil roles
// grants nothing. An error of roles is returned wrapped, with a code
// ("internal" unless it carries one).
func Require(ctx context.Context, roles allot.Roles, org, actor, action string, need ...allot.Role) error {
	if roles != nil {
		for _, r := range need {
			ok, err := roles.HasRole(ctx, org, actor, r)
			if err != nil {
				return errcode.Ensure(fmt.Errorf("checking the roles of %q in organization %q: %w", actor, org, err))
			}
			if ok {
				return nil
			}
		}
	}
	return &allot.ForbiddenError{Org: org, Actor: actor, Action: action, Need: need}
}
