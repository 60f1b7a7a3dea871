package allottest

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
)

// TB is what the kit needs of a test: *testing.T, *testing.B and *rapid.T
// all have it, so one harness, check or assertion works in a test, a
// benchmark and a rapid property alike. Failures are reported with Fatalf,
// which stops the test (or the rapid test case) where it is, and must be
// called from the goroutine running it. The kit returns right after each
// Fatalf, so a TB whose Fatalf only records a failure works too (New then
// returns nil).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start is the instant a harness's clock reads when it is created, unless
// Options.Start says otherwise: Monday 2 March 2026, 09:00 UTC.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// The actors a harness grants roles to by default, in every organization
// and team. They are e-mail addresses, compared by the library's one rule,
// so "Admin@Allot.test" is OrgAdmin too.
const (
	// OrgAdmin is an Org Admin of every organization (licenses): it
	// purchases, reduces, creates teams, invites, removes and deletes.
	OrgAdmin = "admin@allot.test"
	// TeamAdmin is a Team Admin of every team (licenses): it invites to
	// and removes from any team, and nothing else.
	TeamAdmin = "lead@allot.test"
	// EntitlementManager is an Entitlement manager of every organization
	// (seats): it creates and changes events, transfers seats and modules,
	// runs the consumption check by hand and reads the views.
	EntitlementManager = "manager@allot.test"
	// WorkspaceAdmin is a Workspace Administrator of every workspace
	// (passes): it reads and exports the usage log, defines custom fields,
	// and creates and changes sessions.
	WorkspaceAdmin = "host@allot.test"
	// Billing is the vendor's actor (allot.Vendor in every organization):
	// it records purchases and reductions in every family.
	Billing = "billing"
)

// Options configure a Harness. A nil *Options means all defaults.
type Options struct {
	// Store is what the services run on, wrapped in the harness's
	// FaultStore. Pass a pgxstore.Store to run the same test on
	// PostgreSQL. Default: a new memstore.
	Store Store
	// Start is the instant the clock reads at first. Default: Start.
	Start time.Time
	// OrgAdmins are Org Admins of every organization. nil: {OrgAdmin};
	// an empty non-nil slice: nobody.
	OrgAdmins []string
	// TeamAdmins are Team Admins of every team. nil: {TeamAdmin}; an empty
	// non-nil slice: nobody.
	TeamAdmins []string
	// EntitlementManagers are Entitlement managers of every organization.
	// nil: {EntitlementManager}; an empty non-nil slice: nobody.
	EntitlementManagers []string
	// WorkspaceAdmins are Workspace Administrators of every workspace.
	// nil: {WorkspaceAdmin}; an empty non-nil slice: nobody.
	WorkspaceAdmins []string
	// Vendors hold allot.Vendor in every organization. nil: {Billing};
	// an empty non-nil slice: nobody.
	Vendors []string
	// Policies adds pass types to the passes service, as
	// passes.Options.Policies does. Default: the built-ins only.
	Policies map[passes.PassType]passes.Policy
	// Tenants are workspaces and organizations Check and AssertRefused
	// always cover, beside those the ledger names (see Audit).
	Tenants []string
}

// Harness is one test's allot: a store, a fake clock, and the ledger and
// the three services wired to both, with roles granted to named actors.
// Build it with New at the start of a test, a benchmark or a rapid test
// case.
//
// The services run on Faults, so a test plans a failure with
// h.Faults.Inject(1, allottest.FailCommit) and the next transaction of
// whichever service fails. Check and the assertions read Store directly:
// they never consume a planned fault.
//
// A Harness is safe for concurrent use as its parts are; its assertions
// must be called from the test's goroutine.
type Harness struct {
	// Ctx is context.Background(), for brevity in tests.
	Ctx context.Context
	// Store is Options.Store, or the memstore the harness made.
	Store Store
	// Faults wraps Store; every service below runs its transactions
	// through it.
	Faults *FaultStore
	// Clock is the fake clock of every service, at Options.Start.
	Clock *clock.Fake
	// Roles holds who may act; grant more with its methods.
	Roles *Roles

	Ledger   *ledger.Ledger
	Passes   *passes.Service
	Seats    *seats.Service
	Licenses *licenses.Service

	tenants []string
	read    readers // over Store, for checks and assertions

	mu       sync.Mutex
	requests int // request IDs drawn so far
}

// readers are the services over the unwrapped store.
type readers struct {
	ledger   *ledger.Ledger
	passes   *passes.Service
	seats    *seats.Service
	licenses *licenses.Service
}

// New returns a Harness for t. It fails t if opts are invalid.
func New(t TB, opts *Options) *Harness {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Store == nil {
		o.Store = memstore.New()
	}
	if o.Start.IsZero() {
		o.Start = Start
	}
	if reason := input.Time(o.Start); reason != "" {
		t.Fatalf("allottest: Options.Start %s %s", o.Start, reason)
		return nil
	}
	for _, tenant := range o.Tenants {
		if reason := input.ID(tenant); reason != "" {
			t.Fatalf("allottest: Options.Tenants: %q %s", tenant, reason)
			return nil
		}
	}
	h := &Harness{
		Ctx:     context.Background(),
		Store:   o.Store,
		Faults:  NewFaultStore(o.Store),
		Clock:   clock.NewFake(o.Start),
		Roles:   &Roles{},
		tenants: append([]string(nil), o.Tenants...),
	}
	for _, a := range orDefault(o.OrgAdmins, OrgAdmin) {
		h.Roles.Grant(Everywhere, a, licenses.OrgAdmin)
	}
	for _, a := range orDefault(o.TeamAdmins, TeamAdmin) {
		h.Roles.Grant(Everywhere, a, licenses.TeamAdmin(Everywhere))
	}
	for _, a := range orDefault(o.EntitlementManagers, EntitlementManager) {
		h.Roles.Grant(Everywhere, a, seats.EntitlementManager)
	}
	for _, a := range orDefault(o.WorkspaceAdmins, WorkspaceAdmin) {
		h.Roles.Grant(Everywhere, a, passes.WorkspaceAdmin)
	}
	for _, a := range orDefault(o.Vendors, Billing) {
		h.Roles.Grant(Everywhere, a, allot.Vendor)
	}
	var err error
	if h.Ledger, h.Passes, h.Seats, h.Licenses, err = services(h.Faults, h.Clock, h.Roles, o.Policies); err != nil {
		t.Fatalf("allottest: %v", err)
		return nil
	}
	if h.read.ledger, h.read.passes, h.read.seats, h.read.licenses, err = services(o.Store, h.Clock, h.Roles, o.Policies); err != nil {
		t.Fatalf("allottest: %v", err)
		return nil
	}
	return h
}

func orDefault(actors []string, def string) []string {
	if actors == nil {
		return []string{def}
	}
	return actors
}

// services builds the ledger and the three services over s.
func services(s Store, clk clock.Clock, roles allot.Roles, policies map[passes.PassType]passes.Policy) (*ledger.Ledger, *passes.Service, *seats.Service, *licenses.Service, error) {
	l, err := ledger.New(s, &ledger.Options{Clock: clk})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p, err := passes.New(s.Passes(), &passes.Options{Clock: clk, Policies: policies, Roles: roles})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	st, err := seats.New(s.Seats(), &seats.Options{Clock: clk, Roles: roles})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	lic, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return l, p, st, lic, nil
}

// Now returns what the harness's clock reads.
func (h *Harness) Now() time.Time { return h.Clock.Now() }

// Advance moves the clock forward by d and returns the new time: windows
// close, demos lock, invitations expire.
func (h *Harness) Advance(d time.Duration) time.Time { return h.Clock.Advance(d) }

// Set sets the clock to at, forward or back (a clock correction).
func (h *Harness) Set(at time.Time) { h.Clock.Set(at) }

// Everywhere, as the organization or team of a grant, grants the role in
// every organization or team. No organization or team has it as its ID, as
// IDs are never empty.
const Everywhere = ""

// Roles is the harness's record of who may act: an allot.Roles for all three
// families. Actors are compared in the library's one form, so grants hold
// however a test spells an e-mail address. It is safe for concurrent use;
// its zero value grants nothing.
type Roles struct {
	mu     sync.RWMutex
	grants map[roleGrant]bool
}

type roleGrant struct {
	org, actor string
	role       allot.Role
}

var _ allot.Roles = (*Roles)(nil)

// Grant gives actor the roles in org (Everywhere: in every organization).
// licenses.TeamAdmin(Everywhere) is the Team Admin role of every team.
func (r *Roles) Grant(org, actor string, roles ...allot.Role) {
	a, _ := input.Actor(actor)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.grants == nil {
		r.grants = make(map[roleGrant]bool)
	}
	for _, role := range roles {
		r.grants[roleGrant{org, a, role}] = true
	}
}

// Revoke takes every role actor holds, in every organization and team:
// the way to test that a member who lost a role is refused.
func (r *Roles) Revoke(actor string) {
	a, _ := input.Actor(actor)
	r.mu.Lock()
	defer r.mu.Unlock()
	for g := range r.grants {
		if g.actor == a {
			delete(r.grants, g)
		}
	}
}

// anyTeam is the Team Admin role of every team.
var anyTeam = licenses.TeamAdmin(Everywhere)

// HasRole implements allot.Roles.
func (r *Roles) HasRole(_ context.Context, org, actor string, role allot.Role) (bool, error) {
	a, _ := input.Actor(actor)
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, o := range []string{org, Everywhere} {
		if r.grants[roleGrant{o, a, role}] {
			return true, nil
		}
		if strings.HasPrefix(string(role), string(anyTeam)) && r.grants[roleGrant{o, a, anyTeam}] {
			return true, nil
		}
	}
	return false, nil
}

// GrantOrgAdmin makes actor an Org Admin of org (Everywhere: of every
// organization).
func (r *Roles) GrantOrgAdmin(org, actor string) { r.Grant(org, actor, licenses.OrgAdmin) }

// GrantTeamAdmin makes actor a Team Admin of team in org (either may be
// Everywhere).
func (r *Roles) GrantTeamAdmin(org, team, actor string) {
	r.Grant(org, actor, licenses.TeamAdmin(team))
}
