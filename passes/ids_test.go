package passes

import (
	"testing"

	"github.com/allot-dev/allot/internal/input"
	"pgregory.net/rapid"
)

// derived is the ledger ID passes derives for a (workspace, kind, request)
// tuple: the three accounts, which take no request, and the two transfers.
func derived(org, kind, request string) string {
	switch kind {
	case "balance":
		return string(BalanceAccount(org))
	case "issuer":
		return string(IssuerAccount(org))
	case "spent":
		return string(SpentAccount(org))
	case "buy":
		return string(buyID(org, request))
	default: // "login"
		id, _, _ := spendIDs(org, request)
		return string(id)
	}
}

// TestDerivedIDs_Injective: two different (workspace, kind, request) tuples
// never derive one ID, whatever characters the workspace and request hold,
// and the allocation-light spendIDs agrees with input.Join.
func TestDerivedIDs_Injective(t *testing.T) {
	// Parts made of the characters and words that could splice one ID into
	// another: separators, escapes, and the kinds' own names.
	part := rapid.OneOf(
		rapid.StringOf(rapid.SampledFrom([]rune{'a', '/', '%', '2', 'F', '5', 'é'})),
		rapid.SampledFrom([]string{"a", "a/buy/b", "b/login/c", "buy", "login", "balance", "a/balance", "%2F", "a%2Fb", "passes", "/", "%"}),
	)
	type tuple struct{ org, kind, request string }
	draw := func(t *rapid.T, label string) tuple {
		tp := tuple{part.Draw(t, label+" workspace"), rapid.SampledFrom([]string{"balance", "issuer", "spent", "buy", "login"}).Draw(t, label+" kind"), ""}
		if tp.kind == "buy" || tp.kind == "login" {
			tp.request = part.Draw(t, label+" request")
		}
		return tp
	}
	rapid.Check(t, func(t *rapid.T) {
		a, b := draw(t, "a"), draw(t, "b")
		ia, ib := derived(a.org, a.kind, a.request), derived(b.org, b.kind, b.request)
		if (a == b) != (ia == ib) {
			t.Fatalf("%+v derives %q and %+v derives %q", a, ia, b, ib)
		}
		id, debit, credit := spendIDs(a.org, a.request)
		if string(id) != input.Join("passes", a.org, "login", a.request) || debit != BalanceAccount(a.org) || credit != SpentAccount(a.org) {
			t.Fatalf("spendIDs(%q, %q) = %q, %q, %q; not what input.Join builds", a.org, a.request, id, debit, credit)
		}
	})
}

// The exact collision of workspace "a" buying with request "b/login/c" and
// workspace "a/buy/b" logging in with request "c".
func TestDerivedIDs_BuyAndLoginOfTwoWorkspaces(t *testing.T) {
	buy := buyID("a", "b/login/c")
	login, _, _ := spendIDs("a/buy/b", "c")
	if string(buy) == string(login) {
		t.Fatalf("buy of a and login of a/buy/b share the transfer ID %q", buy)
	}
}
