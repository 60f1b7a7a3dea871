package allot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/allot-dev/allot"
)

func TestStaticRoles_GrantIsPerOrganizationActorAndRole(t *testing.T) {
	ctx := context.Background()
	var r allot.StaticRoles
	if err := r.Grant("acme", " ÄNN@X.test ", allot.Vendor); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		org, actor string
		role       allot.Role
		want       bool
	}{
		{"acme", "änn@x.test", allot.Vendor, true},
		{"acme", "ÄNN@x.TEST", allot.Vendor, true},
		{"globex", "änn@x.test", allot.Vendor, false},
		{"acme", "bo@x.test", allot.Vendor, false},
		{"acme", "änn@x.test", allot.Role("other"), false},
	} {
		got, err := r.HasRole(ctx, c.org, c.actor, c.role)
		if err != nil || got != c.want {
			t.Errorf("HasRole(%q, %q, %q) = %v, %v; want %v", c.org, c.actor, c.role, got, err, c.want)
		}
	}
	r.Revoke("acme", "ann@x.test", allot.Vendor)
	if ok, _ := r.HasRole(ctx, "acme", "änn@x.test", allot.Vendor); !ok {
		t.Error("revoking another actor took the grant away")
	}
	r.Revoke("acme", "Änn@x.test", allot.Vendor)
	if ok, _ := r.HasRole(ctx, "acme", "änn@x.test", allot.Vendor); ok {
		t.Error("the grant survived its revocation")
	}
}

func TestStaticRoles_GrantRefusesBadInputAndGrantsNothing(t *testing.T) {
	var r allot.StaticRoles
	for _, c := range []struct{ org, actor string }{
		{"", "ann@x.test"},
		{"a b", "ann@x.test"},
		{"acme", ""},
		{"acme", "  "},
		{"acme", "not an@address"},
		{"acme", "bad\x00actor"},
	} {
		err := r.Grant(c.org, c.actor, allot.Vendor)
		if allot.ErrorCode(err) != allot.CodeInvalid {
			t.Errorf("Grant(%q, %q) = %v; want code invalid", c.org, c.actor, err)
		}
	}
	if len(allotGrants(&r)) != 0 {
		t.Error("a refused grant granted something")
	}
}

// allotGrants probes r for the grants the refused inputs would have made.
func allotGrants(r *allot.StaticRoles) []string {
	var got []string
	for _, a := range []string{"", "  ", "not an@address", "bad\x00actor", "ann@x.test"} {
		for _, org := range []string{"", "a b", "acme"} {
			if ok, _ := r.HasRole(context.Background(), org, a, allot.Vendor); ok {
				got = append(got, org+"/"+a)
			}
		}
	}
	return got
}

func TestForbiddenError_CodeAndMessage(t *testing.T) {
	err := error(&allot.ForbiddenError{Org: "acme", Actor: "bo@x.test", Action: "add licenses",
		Need: []allot.Role{allot.Vendor}})
	if !errors.Is(err, allot.ErrForbidden) || allot.ErrorCode(err) != allot.CodeForbidden || allot.HTTPStatus(err) != 403 {
		t.Fatalf("%v: Is %v, code %q", err, errors.Is(err, allot.ErrForbidden), allot.ErrorCode(err))
	}
	const want = `"bo@x.test" may not add licenses in organization "acme": that needs the role vendor`
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}
