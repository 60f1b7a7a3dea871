package seats

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// Audit recomputes the organization's pools and events from the ledger, in
// one transaction, and returns every disagreement as a ledger.Finding; none
// when the books agree. Per product it checks that the pool record's
// Purchased is what the issuer account gave (its balance negated), that
// Purchased-Assigned is the pool account's available balance, that Assigned
// is the sum of the events' accounts, and that on the ledger itself
// purchased = available + assigned. Per event it checks that SeatsAssigned
// is its seat account's balance and that it holds exactly the modules
// ModulesAssigned lists, one of each. Accounts of a product with no pool
// record, or of an event with no record, are reported too.
//
// The error is for failures to read, not for disagreements. Audit is the
// embedding service's (or an operator's) check; no role is checked.
func (s *Service) Audit(ctx context.Context, org string) ([]ledger.Finding, error) {
	if err := validID("Org", org); err != nil {
		return nil, errcode.Ensure(fmt.Errorf("audit %q: %w", org, err))
	}
	var out []ledger.Finding
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		out, err = audit(ctx, tx, org)
		return err
	})
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("audit %q: %w", org, err))
	}
	return out, nil
}

// orgAccounts are the organization's seats accounts, read from the ledger
// by what their IDs say they are.
type orgAccounts struct {
	issuer map[Product]decimal.Decimal            // posted balance
	pool   map[Product]decimal.Decimal            // available balance
	event  map[string]map[Product]decimal.Decimal // event -> product -> posted balance
}

// auditPage is how many accounts one AccountList reads.
const auditPage = 1000

func readOrgAccounts(ctx context.Context, tx Tx, org string) (orgAccounts, error) {
	acc := orgAccounts{issuer: map[Product]decimal.Decimal{}, pool: map[Product]decimal.Decimal{}, event: map[string]map[Product]decimal.Decimal{}}
	// Every seats account of org starts with this prefix, and with the org
	// as Owner; other families' accounts of the same owner are skipped.
	prefix := input.Join("seats", org) + "/"
	var after ledger.AccountID
	for {
		as, err := tx.AccountList(ctx, ledger.AccountListParams{Owner: org, After: after, Limit: auditPage})
		if err != nil {
			return orgAccounts{}, err
		}
		for _, a := range as {
			if !strings.HasPrefix(string(a.ID), prefix) {
				continue
			}
			parts, ok := input.Split(string(a.ID))
			if !ok {
				continue
			}
			p := Product(parts[len(parts)-1])
			switch {
			case len(parts) == 4 && parts[2] == "purchases":
				acc.issuer[p] = a.Posted
			case len(parts) == 4 && parts[2] == "pool":
				acc.pool[p] = a.Posted.Sub(a.Held)
			case len(parts) == 5 && parts[2] == "event":
				m := acc.event[parts[3]]
				if m == nil {
					m = map[Product]decimal.Decimal{}
					acc.event[parts[3]] = m
				}
				m[p] = a.Posted
			}
		}
		if len(as) < auditPage {
			return acc, nil
		}
		after = as[len(as)-1].ID
	}
}

func audit(ctx context.Context, tx Tx, org string) ([]ledger.Finding, error) {
	pools, err := tx.PoolList(ctx, org)
	if err != nil {
		return nil, err
	}
	acc, err := readOrgAccounts(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	var events []Event
	params := EventListParams{Org: org, Limit: auditPage}
	for {
		page, err := tx.EventList(ctx, params)
		if err != nil {
			return nil, err
		}
		events = append(events, page...)
		if len(page) < auditPage {
			break
		}
		last := page[len(page)-1]
		params.AfterStart, params.AfterID = last.Start, last.ID
	}

	var out []ledger.Finding
	report := func(record, field string, stored, derived decimal.Decimal) {
		if !stored.Equal(derived) {
			out = append(out, ledger.Finding{Tenant: org, Record: record, Field: field, Stored: stored.String(), Derived: derived.String()})
		}
	}
	products := map[Product]bool{}
	for _, p := range pools {
		products[p.Product] = true
		record := "pool " + string(p.Product)
		purchased := acc.issuer[p.Product].Neg()
		available := acc.pool[p.Product]
		assigned := decimal.Zero
		for _, held := range acc.event {
			assigned = assigned.Add(held[p.Product])
		}
		report(record, "purchased", decimal.NewFromInt(p.Purchased), purchased)
		report(record, "assigned", decimal.NewFromInt(p.Assigned), assigned)
		report(record, "available", decimal.NewFromInt(p.Purchased).Sub(decimal.NewFromInt(p.Assigned)), available)
		// The ledger's own books: what the issuer gave is in the pool or
		// with the events.
		report(record, "purchased on the ledger (available + assigned)", purchased, available.Add(assigned))
	}
	// Units on the ledger with no pool record to count them.
	var orphans []Product
	for p := range acc.issuer {
		orphans = append(orphans, p)
	}
	for p := range acc.pool {
		orphans = append(orphans, p)
	}
	for _, held := range acc.event {
		for p := range held {
			orphans = append(orphans, p)
		}
	}
	slices.Sort(orphans)
	for _, p := range slices.Compact(orphans) {
		if !products[p] {
			out = append(out, ledger.Finding{Tenant: org, Record: "pool " + string(p), Field: "record", Stored: "missing", Derived: "the ledger holds accounts of " + string(p)})
		}
	}

	recorded := map[string]bool{}
	for _, e := range events {
		recorded[e.ID] = true
		record := "event " + e.ID
		held := acc.event[e.ID]
		report(record, "seats assigned", decimal.NewFromInt(e.SeatsAssigned), held[Seats])
		var names []string
		names = append(names, e.ModulesAssigned...)
		for p := range held {
			if p.IsModule() {
				names = append(names, p.ModuleName())
			}
		}
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			stored := decimal.Zero
			if slices.Contains(e.ModulesAssigned, name) {
				stored = decimal.NewFromInt(1)
			}
			report(record, "module "+name+" assigned", stored, held[Module(name)])
		}
	}
	var unrecorded []string
	for id, held := range acc.event {
		if !recorded[id] {
			for _, b := range held {
				if !b.IsZero() {
					unrecorded = append(unrecorded, id)
					break
				}
			}
		}
	}
	slices.Sort(unrecorded)
	for _, id := range unrecorded {
		out = append(out, ledger.Finding{Tenant: org, Record: "event " + id, Field: "record", Stored: "missing", Derived: "the ledger holds units for it"})
	}
	return out, nil
}
