package seats

import (
	"fmt"
	"strings"

	"github.com/allot-dev/allot/internal/input"
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

// phrase names the product in a message: "seats" or `module "polls"`.
func (p Product) phrase() string {
	if p.IsModule() {
		return fmt.Sprintf("module %q", p.ModuleName())
	}
	return "seats"
}

// count says n of the product in a message: "3 seats" or `1 of module
// "polls"`.
func (p Product) count(n int64) string {
	if p.IsModule() {
		return fmt.Sprintf("%d of module %q", n, p.ModuleName())
	}
	return itoa(n) + " seats"
}

func (p Product) unit() ledger.Unit { return ledger.Unit{Code: string(p), Scale: 0} }

// validate checks that p is Seats or a module with a valid name.
func (p Product) validate() error {
	if p == Seats {
		return nil
	}
	if !p.IsModule() {
		return invalid("Product", "%q is neither the seat product (%q) nor a module (\"module:<name>\")", string(p), string(Seats))
	}
	return validID("Module", p.ModuleName())
}

// validID checks an ID: an organization, an event, a request or a module
// name (see input.ID). Derived ledger IDs escape '/' and '%' (input.Join),
// so any ID is safe in them. A module name is an ID too: with no white
// space, "module:"+name names one module and the exports can list modules
// separated by spaces.
func validID(field, s string) error {
	if r := input.ID(s); r != "" {
		return invalid(field, "%q %s", s, r)
	}
	return nil
}

// validText checks free text that the ledger or the records keep: valid
// UTF-8 without NUL, which every store keeps byte for byte (see input.Text).
func validText(field, s string) error {
	if r := input.Text(s); r != "" {
		return invalid(field, "%q %s", s, r)
	}
	return nil
}

// Account IDs, each made with input.Join: a product's issuer account
// (seats/<org>/purchases/<unit>) is where its purchases come from (it goes
// negative by what was purchased), its pool account
// (seats/<org>/pool/<unit>) holds what is available, and each event has one
// account per product it received (seats/<org>/event/<event>/<unit>). Join
// escapes '%' and '/' inside each part, so no two different (org, kind,
// event, product) tuples share an account.
func issuerAccount(org string, p Product) ledger.AccountID {
	return ledger.AccountID(input.Join("seats", org, "purchases", string(p)))
}

func poolAccount(org string, p Product) ledger.AccountID {
	return ledger.AccountID(input.Join("seats", org, "pool", string(p)))
}

func eventAccount(org, event string, p Product) ledger.AccountID {
	return ledger.AccountID(input.Join("seats", org, "event", event, string(p)))
}

// Transfer IDs, made with input.Join: a caller's request is
// seats/<org>/req/<request ID>; an automatic assignment is
// seats/<org>/auto/<event>/<seats reached>.
func requestTransferID(org, requestID string) ledger.TransferID {
	return ledger.TransferID(input.Join("seats", org, "req", requestID))
}

func autoTransferID(org, event string, target int64) ledger.TransferID {
	return ledger.TransferID(input.Join("seats", org, "auto", event, itoa(target)))
}
