package allottest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// The assertions read the harness's Store directly (never a planned fault)
// at the clock's time, and fail the test with Fatalf, saying what was
// expected and what was found.

// AssertBalance fails t unless workspace holds want passes.
func (h *Harness) AssertBalance(t TB, workspace string, want int64) {
	t.Helper()
	got, err := h.read.passes.Balance(h.Ctx, passes.BalanceParams{Org: workspace, Actor: WorkspaceAdmin})
	if err != nil {
		t.Fatalf("balance of workspace %q: %v", workspace, err)
		return
	}
	if got != want {
		t.Fatalf("workspace %q holds %d passes, want %d", workspace, got, want)
		return
	}
}

// AssertCharged fails t unless d is an allowed login that spent want
// passes (0: inside the guest's window, or a demo).
func (h *Harness) AssertCharged(t TB, d passes.Decision, want int64) {
	t.Helper()
	if !d.Allowed {
		t.Fatalf("login was %s, want it allowed and charged %d", d, want)
		return
	}
	if d.Passes != want {
		t.Fatalf("login charged %d passes (%s), want %d", d.Passes, d, want)
		return
	}
}

// AssertPool fails t unless org's pool of product has purchased and
// assigned as given (and so purchased-assigned available).
func (h *Harness) AssertPool(t TB, org string, product seats.Product, purchased, assigned int64) {
	t.Helper()
	var pools []seats.Pool
	err := h.Store.Seats().InTx(h.Ctx, func(tx seats.Tx) error {
		var err error
		pools, err = tx.PoolList(h.Ctx, org)
		return err
	})
	if err != nil {
		t.Fatalf("pools of %q: %v", org, err)
		return
	}
	i := slices.IndexFunc(pools, func(p seats.Pool) bool { return p.Product == product })
	if i < 0 {
		if purchased == 0 && assigned == 0 {
			return
		}
		t.Fatalf("%q has no %s pool, want %d purchased and %d assigned", org, product, purchased, assigned)
		return
	}
	p := pools[i]
	if p.Purchased != purchased || p.Assigned != assigned {
		t.Fatalf("%q's %s pool has %d purchased, %d assigned, %d available; want %d purchased, %d assigned, %d available",
			org, product, p.Purchased, p.Assigned, p.Available(), purchased, assigned, purchased-assigned)
		return
	}
}

// AssertLacks fails t unless org's event lacks exactly seatsMissing seats
// (participants beyond the seats assigned) and the modules listed (in use
// but not assigned): AssertLacks(t, org, event, 0) says it lacks nothing.
func (h *Harness) AssertLacks(t TB, org, event string, seatsMissing int64, modules ...string) {
	t.Helper()
	var e seats.Event
	err := h.Store.Seats().InTx(h.Ctx, func(tx seats.Tx) error {
		var err error
		e, err = tx.EventGet(h.Ctx, org, event)
		if errors.Is(err, ledger.ErrNotFound) {
			return &seats.UnknownEventError{Org: org, Event: event}
		}
		return err
	})
	if err != nil {
		t.Fatalf("event %q of %q: %v", event, org, err)
		return
	}
	gotSeats, gotModules := seats.Shortfall(e)
	want := slices.Sorted(slices.Values(modules))
	if gotSeats != seatsMissing || !slices.Equal(gotModules, want) {
		t.Fatalf("event %q of %q lacks %s (%d participants, %d seats assigned, modules %v in use, %v assigned); want it to lack %s",
			event, org, lacking(gotSeats, gotModules), e.Participants, e.SeatsAssigned, e.Modules, e.ModulesAssigned, lacking(seatsMissing, want))
		return
	}
}

func lacking(n int64, modules []string) string {
	if n == 0 && len(modules) == 0 {
		return "nothing"
	}
	parts := []string{fmt.Sprintf("%d seats", n)}
	if len(modules) > 0 {
		parts = append(parts, "modules "+strings.Join(modules, ", "))
	}
	return strings.Join(parts, " and ")
}

// AssertMemberState fails t unless the member email of org reads as want
// now: licenses.StateNone when it is no member (never invited, withdrawn or
// deleted), StateExpired for an invitation that expired.
func (h *Harness) AssertMemberState(t TB, org, email string, want licenses.State) {
	t.Helper()
	m, err := h.read.licenses.Member(h.Ctx, licenses.MemberParams{Org: org, Actor: OrgAdmin, Email: email})
	got := m.State
	switch {
	case errors.Is(err, licenses.ErrUnknownMember), errors.Is(err, licenses.ErrUnknownOrg):
		got = licenses.StateNone
	case err != nil:
		t.Fatalf("member %q of %q: %v", email, org, err)
		return
	}
	if got != want {
		t.Fatalf("member %q of %q is %s, want %s", email, org, stateName(got), stateName(want))
		return
	}
}

// AssertLicensed fails t unless email is a member of org holding exactly
// one license, as the ledger says: a pending member's invitation holds one
// (its hold is live and nothing is on its account), an active or
// unassigned member has one on its account. An expired invitation, a
// deleted or unknown member, or a member with more or fewer licenses fails.
func (h *Harness) AssertLicensed(t TB, org, email string) {
	t.Helper()
	m, err := h.read.licenses.Member(h.Ctx, licenses.MemberParams{Org: org, Actor: OrgAdmin, Email: email})
	switch {
	case errors.Is(err, licenses.ErrUnknownMember), errors.Is(err, licenses.ErrUnknownOrg):
		t.Fatalf("%q is no member of %q, want it holding one license", email, org)
		return
	case err != nil:
		t.Fatalf("member %q of %q: %v", email, org, err)
		return
	}
	if !m.State.HoldsLicense() {
		t.Fatalf("member %q of %q is %s and holds no license, want it holding one", email, org, stateName(m.State))
		return
	}
	bal, err := h.read.ledger.Balance(h.Ctx, licenses.MemberAccount(org, m.Email))
	if err != nil {
		t.Fatalf("license account of %q in %q: %v", m.Email, org, err)
		return
	}
	onAccount, ok := input.Int64(bal.Posted)
	if !ok {
		t.Fatalf("member %q of %q has %s licenses on its account, want 1", m.Email, org, bal.Posted)
		return
	}
	var reserved int64
	if m.Hold != "" {
		hold, err := h.read.ledger.Hold(h.Ctx, m.Hold)
		if err != nil {
			t.Fatalf("invitation of %q in %q: %v", m.Email, org, err)
			return
		}
		if hold.Status == ledger.HoldPending && (hold.ExpiresAt.IsZero() || h.Now().Before(hold.ExpiresAt)) {
			reserved = 1
		}
	}
	if onAccount+reserved != 1 {
		t.Fatalf("member %q of %q (%s) holds %d licenses: %d on its account, %d reserved by its invitation; want exactly 1",
			m.Email, org, m.State, onAccount+reserved, onAccount, reserved)
		return
	}
}

func stateName(s licenses.State) string {
	if s == licenses.StateNone {
		return "no member"
	}
	return string(s)
}

// AssertSummary fails t unless org's summary now has want's counters
// (Purchased, Active, Pending, Unassigned, Available, Expired) and, when
// want.Teams is not nil, its distribution across teams. want.Org is
// ignored.
func (h *Harness) AssertSummary(t TB, org string, want licenses.Summary) {
	t.Helper()
	got, err := h.read.licenses.Summary(h.Ctx, licenses.SummaryParams{Org: org, Actor: OrgAdmin})
	if err != nil {
		t.Fatalf("summary of %q: %v", org, err)
		return
	}
	var diffs []string
	for _, f := range []struct {
		name      string
		got, want int64
	}{
		{"purchased", got.Purchased, want.Purchased},
		{"active", got.Active, want.Active},
		{"pending", got.Pending, want.Pending},
		{"unassigned", got.Unassigned, want.Unassigned},
		{"available", got.Available, want.Available},
		{"expired", got.Expired, want.Expired},
	} {
		if f.got != f.want {
			diffs = append(diffs, fmt.Sprintf("%s is %d, want %d", f.name, f.got, f.want))
		}
	}
	if want.Teams != nil {
		if d := cmp.Diff(want.Teams, got.Teams); d != "" {
			diffs = append(diffs, "teams (-want +got):\n"+d)
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("summary of %q: %s", org, strings.Join(diffs, "; "))
		return
	}
}

// AssertRefused runs fn, a request the test expects refused, and fails t
// unless fn's error matches target (errors.Is) and the request changed
// nothing: the ledger (accounts, transfers, holds) and the records of
// every tenant Check covers (passes' usage log, access windows and custom
// fields; seats' pools and events; licenses' organization, teams and
// members) read the same after as before. Passes sessions are left out:
// no store lists them.
func (h *Harness) AssertRefused(t TB, target error, fn func() error) {
	t.Helper()
	before, err := h.snapshot()
	if err != nil {
		t.Fatalf("allottest: read the store: %v", err)
		return
	}
	ferr := fn()
	switch {
	case ferr == nil:
		t.Fatalf("request succeeded, want it refused with %v", target)
		return
	case !errors.Is(ferr, target):
		t.Fatalf("request refused with %v, want %v", ferr, target)
		return
	}
	after, err := h.snapshot()
	if err != nil {
		t.Fatalf("allottest: read the store: %v", err)
		return
	}
	if d := cmp.Diff(before, after); d != "" {
		t.Fatalf("refused request (%v) changed the store (-before +after):\n%s", ferr, d)
		return
	}
}

// state is what AssertRefused compares.
type state struct {
	Ledger   storetest.State
	Passes   map[string]passesState
	Seats    map[string]seatsState
	Licenses map[string]licensesState
}

type passesState struct {
	Usage  []passes.Usage
	Access []passes.Access
	Fields []passes.FieldDef
}

type seatsState struct {
	Pools  []seats.Pool
	Events []seats.Event
}

type licensesState struct {
	Org     licenses.Org
	Teams   []licenses.Team
	Members []licenses.Member
}

func (h *Harness) snapshot() (state, error) {
	ctx := h.Ctx
	var st state
	var err error
	if st.Ledger, err = storetest.Snapshot(ctx, h.Store); err != nil {
		return state{}, err
	}
	found, err := ledgerTenants(ctx, h.Store)
	if err != nil {
		return state{}, err
	}
	tenants := func(fam string) []string {
		all := append(slices.Clone(found[fam]), h.tenants...)
		slices.Sort(all)
		return slices.Compact(all)
	}
	st.Passes = make(map[string]passesState)
	err = h.Store.Passes().InTx(ctx, func(tx passes.Tx) error {
		for _, ws := range tenants(FamilyPasses) {
			var p passesState
			var err error
			if p.Usage, err = tx.UsageList(ctx, passes.UsageListParams{Org: ws}); err != nil {
				return err
			}
			if p.Access, err = tx.AccessList(ctx, passes.AccessListParams{Org: ws}); err != nil {
				return err
			}
			if p.Fields, err = tx.FieldList(ctx, ws); err != nil {
				return err
			}
			st.Passes[ws] = p
		}
		return nil
	})
	if err != nil {
		return state{}, err
	}
	st.Seats = make(map[string]seatsState)
	err = h.Store.Seats().InTx(ctx, func(tx seats.Tx) error {
		for _, org := range tenants(FamilySeats) {
			var s seatsState
			var err error
			if s.Pools, err = tx.PoolList(ctx, org); err != nil {
				return err
			}
			if s.Events, err = tx.EventList(ctx, seats.EventListParams{Org: org}); err != nil {
				return err
			}
			st.Seats[org] = s
		}
		return nil
	})
	if err != nil {
		return state{}, err
	}
	st.Licenses = make(map[string]licensesState)
	err = h.Store.Licenses().InTx(ctx, func(tx licenses.Tx) error {
		for _, org := range tenants(FamilyLicenses) {
			var l licensesState
			var err error
			if l.Org, err = tx.LicenseOrgGet(ctx, org); errors.Is(err, ledger.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if l.Teams, err = tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: org}); err != nil {
				return err
			}
			if l.Members, err = tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: org}); err != nil {
				return err
			}
			st.Licenses[org] = l
		}
		return nil
	})
	if err != nil {
		return state{}, err
	}
	return st, nil
}
