package allottest_test

import (
	"testing"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/internal/input"
	"pgregory.net/rapid"
)

func TestGenerators(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		if id := allottest.ID().Draw(t, "id"); input.ID(id) != "" {
			t.Fatalf("ID drew %q, which is not valid: %s", id, input.ID(id))
		}
		if id := allottest.MalformedID().Draw(t, "bad id"); input.ID(id) == "" {
			t.Fatalf("MalformedID drew %q, which is valid", id)
		}
		e := allottest.Email().Draw(t, "email")
		canon, reason := input.Email(e)
		if reason != "" {
			t.Fatalf("Email drew %q: %s", e, reason)
		}
		same := allottest.SameEmail(e).Draw(t, "same")
		if got, reason := input.Email(same); reason != "" || got != canon {
			t.Fatalf("SameEmail(%q) drew %q, which is %q (%s), not %q", e, same, got, reason, canon)
		}
		bad := allottest.MalformedEmail().Draw(t, "bad email")
		if _, reason := input.Email(bad); reason == "" {
			t.Fatalf("MalformedEmail drew %q, which is valid", bad)
		}
		if q := allottest.MalformedQuantity().Draw(t, "bad quantity"); q > 0 {
			t.Fatalf("MalformedQuantity drew %d", q)
		}
		if tm := allottest.MalformedTime().Draw(t, "bad time"); input.Time(tm) == "" {
			t.Fatalf("MalformedTime drew %v, which is valid", tm)
		}
	})
}
