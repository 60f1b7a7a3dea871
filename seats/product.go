package seats

import (
	"strings"

	"github.com/allot-dev/allot/ledger"
)

// Product is what a pool holds: Seats, or one advanced module made with
// Module. Its string is the ledger unit its accounts count: "seat" or
// "module:<name>".
type Product string

// Seats is the seat product: one seat per participant of an event.
const Seats Product = "seat"

const modulePrefix = "module:"

// Module returns the product of the advanced module with the given name.
func Module(name string) Product { return Product(modulePrefix + name) }

// IsModule reports whether p is an advanced module.
func (p Product) IsModule() bool { return strings.HasPrefix(string(p), modulePrefix) }

// ModuleName returns the module's name, or "" for Seats.
func (p Product) ModuleName() string {
	name, ok := strings.CutPrefix(string(p), modulePrefix)
	if !ok {
		return ""
	}
	return name
}

// String returns the product's unit code.
func (p Product) String() string { return string(p) }

func (p Product) unit() ledger.Unit { return ledger.Unit{Code: string(p), Scale: 0} }

// validate checks that p is Seats or a module with a valid name.
func (p Product) validate() error {
	if p == Seats {
		return nil
	}
	if !p.IsModule() {
		return invalid("Product", "%q is neither seats.Seats nor seats.Module(name)", string(p))
	}
	return validName("Module", p.ModuleName())
}

// validName checks an ID or name used inside account and transfer IDs: not
// empty, no slash, no spaces or control characters.
func validName(field, s string) error {
	if s == "" {
		return invalid(field, "empty")
	}
	if len(s) > 200 {
		return invalid(field, "%d bytes; at most 200", len(s))
	}
	for _, r := range s {
		if r == '/' || r <= ' ' || r == 0x7f {
			return invalid(field, "%q contains %q; use letters, digits and punctuation other than '/'", s, r)
		}
	}
	return nil
}

// Account IDs. Every account of an organization starts with
// "seats/<org>/"; a product's issuer account is where its purchases come
// from (it goes negative by what was purchased), its pool account holds what
// is available, and each event has one account per product it received.
func issuerAccount(org string, p Product) ledger.AccountID {
	return ledger.AccountID("seats/" + org + "/purchases/" + string(p))
}

func poolAccount(org string, p Product) ledger.AccountID {
	return ledger.AccountID("seats/" + org + "/pool/" + string(p))
}

func eventAccount(org, event string, p Product) ledger.AccountID {
	return ledger.AccountID("seats/" + org + "/event/" + event + "/" + string(p))
}

// Transfer IDs: a caller's request is "seats/<org>/req/<request ID>"; an
// automatic assignment is "seats/<org>/auto/<event>/<seats reached>".
func requestTransferID(org, requestID string) ledger.TransferID {
	return ledger.TransferID("seats/" + org + "/req/" + requestID)
}

func autoTransferID(org, event string, target int64) ledger.TransferID {
	return ledger.TransferID("seats/" + org + "/auto/" + event + "/" + itoa(target))
}
