package allottest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// Replayed is what the events say of every tenant, read from the first:
// each family's summary rebuilt from its events alone.
type Replayed struct {
	// Passes is each workspace's passes: bought and spent.
	Passes map[string]struct{ Purchased, Spent int64 }
	// Seats is each organization's pools, by product: bought and assigned.
	Seats map[string]map[string]struct{ Purchased, Assigned int64 }
	// Licenses is each organization's licenses bought, net of reductions,
	// and its members as the last event about each left them.
	Licenses map[string]*ReplayedLicenses
}

// ReplayedLicenses is one organization's licenses as its events tell.
type ReplayedLicenses struct {
	Purchased int64
	Members   map[string]events.Member // by e-mail
}

// Replay reads every event in s's outbox, from the first, and rebuilds each
// family's summary from them alone.
func Replay(ctx context.Context, s events.Store) (Replayed, error) {
	r := Replayed{
		Passes:   map[string]struct{ Purchased, Spent int64 }{},
		Seats:    map[string]map[string]struct{ Purchased, Assigned int64 }{},
		Licenses: map[string]*ReplayedLicenses{},
	}
	lic := func(org string) *ReplayedLicenses {
		if r.Licenses[org] == nil {
			r.Licenses[org] = &ReplayedLicenses{Members: map[string]events.Member{}}
		}
		return r.Licenses[org]
	}
	pool := func(org, product string, purchased, assigned int64) {
		if r.Seats[org] == nil {
			r.Seats[org] = map[string]struct{ Purchased, Assigned int64 }{}
		}
		p := r.Seats[org][product]
		p.Purchased += purchased
		p.Assigned += assigned
		r.Seats[org][product] = p
	}
	for e, err := range events.NewReader(s).All(ctx, events.Query{Limit: allot.MaxLimit}) {
		if err != nil {
			return Replayed{}, err
		}
		switch p := e.Payload.(type) {
		case allot.Purchase:
			switch e.Type {
			case events.PassesPurchased:
				v := r.Passes[e.Org]
				v.Purchased += p.Quantity
				r.Passes[e.Org] = v
			case events.SeatsPurchased:
				pool(e.Org, p.Product, p.Quantity, 0)
			case events.LicensesPurchased, events.LicensesReduced:
				lic(e.Org).Purchased += p.Quantity
			}
		case events.GuestAdmitted:
			v := r.Passes[e.Org]
			v.Spent += p.Passes
			r.Passes[e.Org] = v
		case events.Transferred:
			pool(e.Org, p.Product, 0, p.Quantity)
		case events.Member:
			lic(e.Org).Members[p.Email] = p
		case events.Reassigned:
			l := lic(e.Org)
			l.Members[p.From.Email] = p.From
			l.Members[p.To.Email] = p.To
		}
	}
	return r, nil
}

// grantAll is a Roles that grants every role: the checks read every view.
type grantAll struct{}

func (grantAll) HasRole(context.Context, string, string, allot.Role) (bool, error) { return true, nil }

// CheckEvents fails t unless the events in the harness's store, replayed
// from the first, tell what the families' own views show for every tenant
// they name: each workspace's balance (purchased minus spent), each seats
// pool's purchased and assigned, and each organization's licenses
// purchased, active, pending and unassigned (an invitation whose expiry has
// passed counts as expired, as the views count it). A service runs it in a
// property test after every step: an act that forgot its event, or emitted
// one twice, shows.
func (h *Harness) CheckEvents(t TB) {
	t.Helper()
	es, ok := h.Store.(events.Store)
	if !ok {
		t.Fatalf("allottest: CheckEvents: the store (%T) keeps no events", h.Store)
		return
	}
	if diffs, err := replayDiffs(h.Ctx, es, h); err != nil {
		t.Fatalf("allottest: CheckEvents: %v", err)
	} else if len(diffs) > 0 {
		t.Fatalf("allottest: the events disagree with the views:\n\t%s", strings.Join(diffs, "\n\t"))
	}
}

func replayDiffs(ctx context.Context, es events.Store, h *Harness) ([]string, error) {
	r, err := Replay(ctx, es)
	if err != nil {
		return nil, err
	}
	_, p, st, lic, err := services(h.Store, h.Clock, grantAll{}, nil)
	if err != nil {
		return nil, err
	}
	// Every tenant the ledger names is checked, not only those the events
	// name: a family that emitted nothing shows.
	rep, err := h.Audit()
	if err != nil {
		return nil, err
	}
	for _, org := range rep.Tenants[FamilyPasses] {
		if _, ok := r.Passes[org]; !ok {
			r.Passes[org] = struct{ Purchased, Spent int64 }{}
		}
	}
	for _, org := range rep.Tenants[FamilySeats] {
		if r.Seats[org] == nil {
			r.Seats[org] = map[string]struct{ Purchased, Assigned int64 }{}
		}
	}
	for _, org := range rep.Tenants[FamilyLicenses] {
		if r.Licenses[org] == nil {
			r.Licenses[org] = &ReplayedLicenses{Members: map[string]events.Member{}}
		}
	}
	var diffs []string
	for _, org := range sortedKeys(r.Passes) {
		v := r.Passes[org]
		bal, err := p.Balance(ctx, passes.BalanceParams{Org: org, Actor: WorkspaceAdmin})
		if err != nil {
			return nil, err
		}
		if bal != v.Purchased-v.Spent {
			diffs = append(diffs, fmt.Sprintf("passes %q: balance %d, events say %d bought - %d spent", org, bal, v.Purchased, v.Spent))
		}
	}
	for _, org := range sortedKeys(r.Seats) {
		pools, err := st.Overview(ctx, seats.OverviewParams{Org: org, Actor: EntitlementManager})
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, pl := range pools {
			want := r.Seats[org][string(pl.Product)]
			seen[string(pl.Product)] = true
			if pl.Purchased != want.Purchased || pl.Assigned != want.Assigned {
				diffs = append(diffs, fmt.Sprintf("seats %q %s: purchased %d, assigned %d; events say %d, %d",
					org, pl.Product, pl.Purchased, pl.Assigned, want.Purchased, want.Assigned))
			}
		}
		for product := range r.Seats[org] {
			if !seen[product] {
				diffs = append(diffs, fmt.Sprintf("seats %q: events tell of a %s pool the overview lacks", org, product))
			}
		}
	}
	now := h.Clock.Now()
	for _, org := range sortedKeys(r.Licenses) {
		l := r.Licenses[org]
		sum, err := lic.Summary(ctx, licenses.SummaryParams{Org: org, Actor: OrgAdmin})
		if err != nil {
			return nil, err
		}
		var active, pending, unassigned int64
		for _, m := range l.Members {
			switch m.State {
			case string(licenses.StateActive):
				active++
			case string(licenses.StatePending):
				if m.ExpiresAt.IsZero() || now.Before(m.ExpiresAt) {
					pending++
				}
			case string(licenses.StateUnassigned):
				unassigned++
			}
		}
		if sum.Purchased != l.Purchased || sum.Active != active || sum.Pending != pending || sum.Unassigned != unassigned {
			diffs = append(diffs, fmt.Sprintf("licenses %q: purchased %d, active %d, pending %d, unassigned %d; events say %d, %d, %d, %d",
				org, sum.Purchased, sum.Active, sum.Pending, sum.Unassigned, l.Purchased, active, pending, unassigned))
		}
	}
	return diffs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
