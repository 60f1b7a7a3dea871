package allottest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// exampleT stands in for the *testing.T (or *rapid.T) of a test, which an
// example has none of: it prints a failure where a test would report it.
type exampleT struct{}

func (exampleT) Helper()        {}
func (exampleT) Cleanup(func()) {}
func (exampleT) Fatalf(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
}

// A day pass charges a guest once per 24 hours, however the guest spells
// its address; the harness gives the services, the clock and the checks.
func Example() {
	t := exampleT{} // in a test: its *testing.T
	h := allottest.New(t, nil)
	h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 10, RequestID: "order-1"})
	h.Passes.CreateSession(h.Ctx, passes.CreateSessionParams{Actor: allottest.WorkspaceAdmin, ID: "kickoff", Org: "acme", Name: "Kick-off", Owner: "olga@acme.test"})
	login := func(guest, request string) passes.Decision {
		d, _ := h.Passes.Login(h.Ctx, passes.LoginParams{Org: "acme", Session: "kickoff", Guest: guest, RequestID: request})
		fmt.Println(h.Now().Format("Mon 15:04"), guest, "->", d)
		return d
	}

	h.AssertCharged(t, login("ann@x.test", "r1"), 1)
	h.Advance(24*time.Hour - time.Microsecond)
	h.AssertCharged(t, login("ANN@X.test", "r2"), 0) // the window is [Mon 09:00, Tue 09:00)
	h.Advance(time.Microsecond)
	h.AssertCharged(t, login("ann@x.test", "r3"), 1)
	h.AssertBalance(t, "acme", 8)
	h.Check(t) // the ledger and every family's audit agree
	// Output:
	// Mon 09:00 ann@x.test -> allowed: 1 pass spent, access until 2026-03-03T09:00:00Z; balance 9
	// Tue 08:59 ANN@X.test -> allowed: inside the guest's access window, nothing spent, access until 2026-03-03T09:00:00Z; balance 9
	// Tue 09:00 ann@x.test -> allowed: 1 pass spent, access until 2026-03-04T09:00:00Z; balance 8
}

// A purchase whose transaction committed but whose answer was lost is an
// error to the caller; retried with its request ID, it is bought once.
func Example_faults() {
	t := exampleT{}
	h := allottest.New(t, nil)
	h.Faults.Inject(1, allottest.FailAfterCommit) // the next transaction, whichever service runs it

	_, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 10, RequestID: "order-1"})
	fmt.Println(err)
	p, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 10, RequestID: "order-1"})
	fmt.Println(p.Available, err)
	h.AssertBalance(t, "acme", 10)
	fmt.Println(h.Faults.Hits())
	// Output:
	// buy 10 passes for workspace "acme": allottest: injected failure: the connection was lost after commit
	// 10 <nil>
	// [{1 fail after commit}]
}

// Seats go to events by transfer or by the consumption check; AssertLacks
// and AssertPool say what an event lacks and what the pool holds.
func Example_seats() {
	t := exampleT{}
	h := allottest.New(t, nil)
	ctx := h.Ctx
	h.Seats.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 100, Subscription: "sub-1", Actor: allottest.Billing, RequestID: "p1"})
	h.Seats.CreateEvent(ctx, seats.CreateEventParams{Actor: allottest.EntitlementManager, ID: "summit", Org: "acme", Start: h.Now(), End: h.Now().Add(8 * time.Hour), Participants: 52, Modules: []string{"agenda"}})
	h.Seats.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: allottest.EntitlementManager, Event: "summit", Quantity: 40, RequestID: "t1"})
	h.AssertLacks(t, "acme", "summit", 12, "agenda")

	h.Seats.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor}) // assigns seats, never modules
	h.AssertLacks(t, "acme", "summit", 0, "agenda")
	h.AssertPool(t, "acme", seats.Seats, 100, 52)
	h.AssertLacks(t, "acme", "summit", 0) // wrong: it still lacks the module
	// Output:
	// FAIL: event "summit" of "acme" lacks 0 seats and modules agenda (52 participants, 52 seats assigned, modules [agenda] in use, [] assigned); want it to lack nothing
}

// A member removed from its last team keeps its license, unassigned;
// an invitation beyond the pool is refused and changes nothing.
func Example_licenses() {
	t := exampleT{}
	h := allottest.New(t, nil)
	ctx := h.Ctx
	h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.Billing, RequestID: "buy-1", Quantity: 1})
	h.Licenses.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: allottest.OrgAdmin})
	h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "Bo@acme.test", Actor: allottest.TeamAdmin, RequestID: "inv-1"})
	h.Licenses.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"})
	h.Licenses.Remove(ctx, licenses.RemoveParams{Org: "acme", Team: "design", Email: "bo@acme.test", Actor: allottest.TeamAdmin, RequestID: "rm-1"})

	h.AssertMemberState(t, "acme", "bo@acme.test", licenses.StateUnassigned)
	h.AssertLicensed(t, "acme", "BO@acme.test")
	h.AssertSummary(t, "acme", licenses.Summary{Purchased: 1, Unassigned: 1})
	h.AssertRefused(t, licenses.ErrNoLicenseAvailable, func() error {
		_, err := h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "cy@acme.test", Actor: allottest.OrgAdmin, RequestID: "inv-2"})
		return err
	})
	h.Check(t)
	fmt.Println("ok")
	// Output: ok
}

// Check lists every disagreement between the books and the ledger: here a
// counter changed behind the service's back.
func ExampleHarness_Check() {
	t := exampleT{}
	h := allottest.New(t, nil)
	h.Licenses.Purchase(h.Ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.Billing, RequestID: "buy-1", Quantity: 5})
	h.Store.Licenses().InTx(h.Ctx, func(tx licenses.Tx) error {
		o, _ := tx.LicenseOrgGet(context.Background(), "acme")
		o.Purchased, o.Active = 6, 1
		return tx.LicenseOrgUpdate(context.Background(), o)
	})
	h.Check(t)
	// Output:
	// FAIL: the books disagree in 2 place(s):
	//   licenses acme, organization: purchased is 6, but the ledger and records say 5
	//   licenses acme, organization: active is 1, but the ledger and records say 0
}
