package allottest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
)

// The families, as Report and Finding name them.
const (
	FamilyPasses   = "passes"   // session passes: balances, windows, the usage log
	FamilySeats    = "seats"    // pools of seats and modules, and events
	FamilyLicenses = "licenses" // the license pool and members' states
)

// Finding is one disagreement a family's Audit found, with the family that
// found it.
type Finding struct {
	Family string // FamilyPasses, FamilySeats or FamilyLicenses
	ledger.Finding
}

func (f Finding) String() string { return f.Family + " " + f.Finding.String() }

// Report is what Audit checked and found: the ledger's Verify and each
// family's Audit of each tenant.
type Report struct {
	Verify ledger.Report
	// Tenants are the tenants audited, by family, each sorted.
	Tenants  map[string][]string
	Findings []Finding
}

// OK reports whether nothing disagrees.
func (r Report) OK() bool { return r.Verify.OK() && len(r.Findings) == 0 }

// String lists every disagreement, one a line: the ledger's discrepancies
// (account, what, stored and replayed), then the families' findings
// (family, tenant, record, field, stored and derived); or says what was
// checked when all agree.
func (r Report) String() string {
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "the books agree: ledger (%d accounts, %d transfers, %d pending holds)", r.Verify.Accounts, r.Verify.Transfers, r.Verify.PendingHolds)
		for _, fam := range []string{FamilyPasses, FamilySeats, FamilyLicenses} {
			if ts := r.Tenants[fam]; len(ts) > 0 {
				fmt.Fprintf(&b, "; %s %s", fam, strings.Join(quoteAll(ts), ", "))
			}
		}
		return b.String()
	}
	n := len(r.Verify.Discrepancies) + len(r.Findings)
	fmt.Fprintf(&b, "the books disagree in %d place(s):", n)
	for _, d := range r.Verify.Discrepancies {
		b.WriteString("\n  ledger ")
		b.WriteString(d.String())
	}
	for _, f := range r.Findings {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	return b.String()
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Audit runs every invariant check of every family on s and reports what
// disagrees: ledger.Verify (every balance against the journal, each unit's
// total against zero), then each family's Audit for each of its tenants.
// clk is the clock the services ran with (licenses judges invitations'
// expiry by it; nil means clock.Real{}); the error is for failures to
// read.
//
// The tenants audited are those the ledger names (every account a family
// opens carries its tenant in its ID: "passes/<workspace>/balance",
// "seats/<org>/pool/<unit>", "licenses/<org>/pool") plus the tenants given.
// The families' stores cannot list their tenants, and two kinds of tenant
// open no account: a workspace that never bought passes and an
// organization that never purchased seats. Name those to have them
// audited; a tenant given is audited by every family that knows it.
func Audit(ctx context.Context, s Store, clk clock.Clock, tenants ...string) (Report, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	l, p, st, lic, err := services(s, clk, &Roles{}, nil)
	if err != nil {
		return Report{}, err
	}
	return audit(ctx, readers{l, p, st, lic}, s, tenants)
}

func audit(ctx context.Context, r readers, s Store, named []string) (Report, error) {
	var rep Report
	var err error
	if rep.Verify, err = r.ledger.Verify(ctx); err != nil {
		return Report{}, err
	}
	found, err := ledgerTenants(ctx, s)
	if err != nil {
		return Report{}, err
	}
	rep.Tenants = make(map[string][]string)
	for _, fam := range []string{FamilyPasses, FamilySeats, FamilyLicenses} {
		known := found[fam]
		all := append(slices.Clone(known), named...)
		slices.Sort(all)
		all = slices.Compact(all)
		for _, tenant := range all {
			if input.ID(tenant) != "" {
				return Report{}, fmt.Errorf("allottest: tenant %q is not an ID: %s", tenant, input.ID(tenant))
			}
			var fs []ledger.Finding
			switch fam {
			case FamilyPasses:
				fs, err = r.passes.Audit(ctx, tenant)
			case FamilySeats:
				fs, err = r.seats.Audit(ctx, tenant)
			case FamilyLicenses:
				fs, err = r.licenses.Audit(ctx, tenant)
				if errors.Is(err, licenses.ErrUnknownOrg) && !slices.Contains(known, tenant) {
					continue // named for another family
				}
			}
			if err != nil {
				return Report{}, err
			}
			rep.Tenants[fam] = append(rep.Tenants[fam], tenant)
			for _, f := range fs {
				rep.Findings = append(rep.Findings, Finding{Family: fam, Finding: f})
			}
		}
	}
	return rep, nil
}

// ledgerTenants reads the tenants the families' ledger accounts name.
func ledgerTenants(ctx context.Context, s Store) (map[string][]string, error) {
	const page = 1000
	out := make(map[string][]string)
	seen := make(map[[2]string]bool)
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		clear(out)
		clear(seen)
		var after ledger.AccountID
		for {
			as, err := tx.AccountList(ctx, ledger.AccountListParams{After: after, Limit: page})
			if err != nil {
				return err
			}
			for _, a := range as {
				parts, ok := input.Split(string(a.ID))
				if !ok || len(parts) < 3 {
					continue
				}
				switch fam := parts[0]; fam {
				case FamilyPasses, FamilySeats, FamilyLicenses:
					if k := [2]string{fam, parts[1]}; !seen[k] {
						seen[k] = true
						out[fam] = append(out[fam], parts[1])
					}
				}
			}
			if len(as) < page {
				return nil
			}
			after = as[len(as)-1].ID
		}
	})
	return out, err
}

// CheckStore fails t, listing every disagreement, unless Audit of s finds
// none: usable after every step of a rapid state machine. See Audit for
// clk and tenants.
func CheckStore(t TB, s Store, clk clock.Clock, tenants ...string) {
	t.Helper()
	rep, err := Audit(context.Background(), s, clk, tenants...)
	if err != nil {
		t.Fatalf("allottest: audit: %v", err)
		return
	}
	if !rep.OK() {
		t.Fatalf("%s", rep)
		return
	}
}

// Check fails t, listing every disagreement, unless every invariant of
// every family holds on the harness's store: ledger.Verify, and each
// family's Audit of every tenant the ledger names, of Options.Tenants and
// of tenants (see Audit). It reads the store directly, so it never
// consumes a planned fault. Call it after every step of a property.
func (h *Harness) Check(t TB, tenants ...string) {
	t.Helper()
	rep, err := h.Audit(tenants...)
	if err != nil {
		t.Fatalf("allottest: audit: %v", err)
		return
	}
	if !rep.OK() {
		t.Fatalf("%s", rep)
		return
	}
}

// Audit is the Report Check judges by.
func (h *Harness) Audit(tenants ...string) (Report, error) {
	return audit(h.Ctx, h.read, h.Store, append(slices.Clone(h.tenants), tenants...))
}
