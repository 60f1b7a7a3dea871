package seats

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/allot-dev/allot/internal/input"
	"pgregory.net/rapid"
)

// idTuple is everything a derived ledger ID stands for.
type idTuple struct {
	Kind    string // "issuer", "pool", "event", "request", "auto"
	Org     string
	Event   string  // event accounts and automatic transfers
	Product Product // accounts
	Request string  // request transfers
	Reached int64   // automatic transfers
}

func (x idTuple) id() string {
	switch x.Kind {
	case "issuer":
		return string(issuerAccount(x.Org, x.Product))
	case "pool":
		return string(poolAccount(x.Org, x.Product))
	case "event":
		return string(eventAccount(x.Org, x.Event, x.Product))
	case "request":
		return string(requestTransferID(x.Org, x.Request))
	}
	return string(autoTransferID(x.Org, x.Event, x.Reached))
}

// normal zeroes the fields the tuple's kind does not use.
func (x idTuple) normal() idTuple {
	switch x.Kind {
	case "issuer", "pool":
		x.Event, x.Request, x.Reached = "", "", 0
	case "event":
		x.Request, x.Reached = "", 0
	case "request":
		x.Event, x.Product, x.Reached = "", "", 0
	case "auto":
		x.Product, x.Request = "", ""
	}
	return x
}

// Derived account and transfer IDs are injective: two different tuples of
// (kind, org, event, product, request, seats reached) never give one ID,
// whatever characters the parts hold. The alphabet is made of the
// separators and escapes a plain join would confuse. Accounts and transfers
// live in different tables; the property holds across both anyway.
func TestDerivedIDs_Injective(t *testing.T) {
	part := rapid.StringOfN(rapid.SampledFrom([]rune{'a', '/', '%', '2', 'F', '5', ':', 'é'}), 1, 6, -1)
	name := rapid.OneOf(part, rapid.SampledFrom([]string{"seat", "pool", "event", "req", "auto", "purchases", "module:a", "seats"}))
	tuple := rapid.Custom(func(t *rapid.T) idTuple {
		x := idTuple{
			Kind:    rapid.SampledFrom([]string{"issuer", "pool", "event", "request", "auto"}).Draw(t, "kind"),
			Org:     name.Draw(t, "org"),
			Event:   name.Draw(t, "event"),
			Request: name.Draw(t, "request"),
			Reached: rapid.Int64Range(0, 12).Draw(t, "reached"),
		}
		if rapid.Bool().Draw(t, "module") {
			x.Product = Module(name.Draw(t, "moduleName"))
		} else {
			x.Product = Seats
		}
		return x.normal()
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b := tuple.Draw(t, "a"), tuple.Draw(t, "b")
		// The ID reads back as the tuple it was made of, so no other tuple
		// makes it: this finds the collisions that two random tuples
		// rarely hit.
		if got, ok := decodeID(a.id()); !ok || got != a {
			t.Fatalf("%+v -> %q -> %+v, %t", a, a.id(), got, ok)
		}
		if (a == b) != (a.id() == b.id()) {
			t.Fatalf("%+v -> %q\n%+v -> %q", a, a.id(), b, b.id())
		}
	})
}

// decodeID reads a derived ID back into its tuple.
func decodeID(id string) (idTuple, bool) {
	parts, ok := input.Split(id)
	if !ok || len(parts) < 4 || parts[0] != "seats" {
		return idTuple{}, false
	}
	x := idTuple{Org: parts[1]}
	switch {
	case parts[2] == "purchases" && len(parts) == 4:
		x.Kind, x.Product = "issuer", Product(parts[3])
	case parts[2] == "pool" && len(parts) == 4:
		x.Kind, x.Product = "pool", Product(parts[3])
	case parts[2] == "event" && len(parts) == 5:
		x.Kind, x.Event, x.Product = "event", parts[3], Product(parts[4])
	case parts[2] == "req" && len(parts) == 4:
		x.Kind, x.Request = "request", parts[3]
	case parts[2] == "auto" && len(parts) == 5:
		n, err := strconv.ParseInt(parts[4], 10, 64)
		if err != nil {
			return idTuple{}, false
		}
		x.Kind, x.Event, x.Reached = "auto", parts[3], n
	default:
		return idTuple{}, false
	}
	return x, true
}

// The unit code of a module is injective in its name, and never the seat's.
func TestModuleUnit_Injective(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.String().Draw(t, "a")
		b := rapid.String().Draw(t, "b")
		if (a == b) != (Module(a) == Module(b)) || Module(a) == Seats || Module(a).ModuleName() != a {
			t.Fatal(fmt.Sprintf("Module(%q) = %q, Module(%q) = %q", a, Module(a), b, Module(b)))
		}
	})
}
