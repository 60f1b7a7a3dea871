package allottest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

// books fills a harness with a little of every family, in tenants whose
// IDs need escaping in the ledger's derived IDs.
func books(t *testing.T, h *allottest.Harness) {
	t.Helper()
	ctx := h.Ctx
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.Passes.Purchase(ctx, passes.PurchaseParams{Org: "ws/1", Actor: allottest.Billing, Quantity: 5, RequestID: "order"})
	must(err)
	_, err = h.Passes.CreateSession(ctx, passes.CreateSessionParams{Actor: allottest.WorkspaceAdmin, ID: "kickoff", Org: "ws/1", Name: "K", Owner: "o@x.test"})
	must(err)
	_, err = h.Passes.Login(ctx, passes.LoginParams{Org: "ws/1", Session: "kickoff", Guest: "ann@x.test", RequestID: "r1"})
	must(err)
	_, err = h.Seats.Purchase(ctx, seats.PurchaseParams{Org: "org%2", Product: seats.Seats, Quantity: 10, Subscription: "s", Actor: allottest.Billing, RequestID: "p"})
	must(err)
	_, err = h.Seats.CreateEvent(ctx, seats.CreateEventParams{Actor: allottest.EntitlementManager, ID: "summit", Org: "org%2", Start: h.Now(), End: h.Now().Add(time.Hour), Participants: 3})
	must(err)
	_, err = h.Seats.TransferSeats(ctx, seats.TransferSeatsParams{Org: "org%2", Actor: allottest.EntitlementManager, Event: "summit", Quantity: 3, RequestID: "t"})
	must(err)
	_, err = h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.Billing, RequestID: "buy", Quantity: 2})
	must(err)
	must(errOf(h.Licenses.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: allottest.OrgAdmin})))
	_, err = h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "bo@x.test", Actor: allottest.OrgAdmin, RequestID: "inv"})
	must(err)
}

func TestAudit_FindsTenantsInTheLedger(t *testing.T) {
	h := allottest.New(t, nil)
	books(t, h)
	rep, err := h.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("clean books: %s", rep)
	}
	for fam, want := range map[string]string{allottest.FamilyPasses: "ws/1", allottest.FamilySeats: "org%2", allottest.FamilyLicenses: "acme"} {
		if got := rep.Tenants[fam]; len(got) != 1 || got[0] != want {
			t.Errorf("%s tenants audited: %q, want [%q]", fam, got, want)
		}
	}
	if s := rep.String(); !strings.Contains(s, "the books agree") || !strings.Contains(s, `licenses "acme"`) {
		t.Errorf("String() = %q", s)
	}
	// The package-level Audit agrees on any store and clock.
	rep2, err := allottest.Audit(context.Background(), h.Store, h.Clock)
	if err != nil || !rep2.OK() || len(rep2.Tenants) != 3 {
		t.Errorf("allottest.Audit = %s, %v", rep2, err)
	}
	allottest.CheckStore(t, h.Store, h.Clock)
}

// A tenant that opened no ledger account is audited when named, by every
// family that knows it; naming it to a family that does not is no error.
func TestAudit_NamedTenants(t *testing.T) {
	h := allottest.New(t, &allottest.Options{Tenants: []string{"demo-ws"}})
	if _, err := h.Passes.CreateSession(h.Ctx, passes.CreateSessionParams{Actor: allottest.WorkspaceAdmin, ID: "d", Org: "demo-ws", Name: "D", Owner: "o@x.test", PassType: passes.DemoPass}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Passes.Login(h.Ctx, passes.LoginParams{Org: "demo-ws", Session: "d", Guest: "g@x.test", RequestID: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Seats.CreateEvent(h.Ctx, seats.CreateEventParams{Actor: allottest.EntitlementManager, ID: "e", Org: "no-seats", Start: h.Now(), End: h.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rep, err := h.Audit("no-seats")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatal(rep)
	}
	want := map[string][]string{
		allottest.FamilyPasses: {"demo-ws", "no-seats"},
		allottest.FamilySeats:  {"demo-ws", "no-seats"},
	}
	for fam, w := range want {
		if got := strings.Join(rep.Tenants[fam], ","); got != strings.Join(w, ",") {
			t.Errorf("%s audited %q, want %q", fam, got, w)
		}
	}
	if got := rep.Tenants[allottest.FamilyLicenses]; len(got) != 0 {
		t.Errorf("licenses audited %q, organizations it does not know", got)
	}
	mustFail(t, func(tb allottest.TB) { h.Check(tb, "not an id") }, "not an ID")
}

// Check lists each disagreement the families' audits and the ledger's
// Verify find, with the tenant, the record, the field, and what is stored
// against what the ledger says, after counters are corrupted through the
// stores' Tx behind the services' backs.
func TestCheck_ReportsEachCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(ctx context.Context, s allottest.Store) error
		want    []string
	}{
		{
			name: "licenses counter",
			corrupt: func(ctx context.Context, s allottest.Store) error {
				return s.Licenses().InTx(ctx, func(tx licenses.Tx) error {
					o, err := tx.LicenseOrgGet(ctx, "acme")
					if err != nil {
						return err
					}
					o.Active++
					return tx.LicenseOrgUpdate(ctx, o)
				})
			},
			want: []string{"licenses acme, organization: active is 1", "say 0"},
		},
		{
			name: "seats pool",
			corrupt: func(ctx context.Context, s allottest.Store) error {
				return s.Seats().InTx(ctx, func(tx seats.Tx) error {
					p, err := tx.PoolLock(ctx, "org%2", seats.Seats)
					if err != nil {
						return err
					}
					p.Purchased = 12
					return tx.PoolUpdate(ctx, p)
				})
			},
			want: []string{"seats org%2", "seat", "12", "10"},
		},
		{
			name: "passes window",
			corrupt: func(ctx context.Context, s allottest.Store) error {
				return s.Passes().InTx(ctx, func(tx passes.Tx) error {
					a, err := tx.AccessLock(ctx, "ws/1", "kickoff", "ann@x.test")
					if err != nil {
						return err
					}
					a.Until = a.Until.Add(time.Hour)
					return tx.AccessUpdate(ctx, a)
				})
			},
			want: []string{"passes ws/1", "ann@x.test"},
		},
		{
			name: "ledger account",
			corrupt: func(ctx context.Context, s allottest.Store) error {
				return s.InTx(ctx, func(tx ledger.Tx) error {
					return tx.AccountInsert(ctx, ledger.AccountState{
						Account: ledger.Account{ID: "stray", Unit: "pass"},
						Posted:  decimal.NewFromInt(7),
					})
				})
			},
			want: []string{"ledger stray: posted is 7, the journal says 0", "ledger unit pass: unit total is 7"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := allottest.New(t, nil)
			books(t, h)
			h.Check(t)
			if err := tc.corrupt(h.Ctx, h.Store); err != nil {
				t.Fatalf("corrupt: %v", err)
			}
			msg := mustFail(t, func(tb allottest.TB) { h.Check(tb) }, tc.want...)
			t.Logf("Check says:\n%s", msg)
			mustFail(t, func(tb allottest.TB) { allottest.CheckStore(tb, h.Store, h.Clock) }, tc.want...)
		})
	}
}

// Licenses judge invitations' expiry by the clock Audit is given.
func TestAudit_UsesTheClockGiven(t *testing.T) {
	h := allottest.New(t, nil)
	books(t, h)
	if _, err := h.Licenses.Invite(h.Ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "cy@x.test", Actor: allottest.OrgAdmin, RequestID: "inv-2", ExpiresAt: h.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{h.Now(), h.Now().Add(2 * time.Hour)} {
		if rep, err := allottest.Audit(h.Ctx, h.Store, clock.NewFake(at)); err != nil || !rep.OK() {
			t.Errorf("Audit at %v: %s, %v", at, rep, err)
		}
	}
	if _, err := allottest.Audit(h.Ctx, memstore.New(), nil); err != nil {
		t.Errorf("Audit of an empty store with the real clock: %v", err)
	}
}
