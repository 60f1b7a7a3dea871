package pgxstore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// The test kit runs a service's test on PostgreSQL by its Options.Store:
// every family, its faults, its assertions and its checks, which find a
// counter corrupted in the database.
func TestAllottest_HarnessOnPostgreSQL(t *testing.T) {
	db := newTestDB(t)
	h := allottest.New(t, &allottest.Options{Store: db.store(t, 4, nil)})
	ctx := h.Ctx
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// passes: a purchase whose answer is lost at commit, retried with its
	// request ID, is bought once; a guest pays once per window.
	h.Faults.Inject(1, allottest.FailAfterCommit)
	if _, err := h.Passes.Purchase(ctx, passes.PurchaseParams{Org: "ws/1", Actor: allottest.Billing, Quantity: 10, RequestID: "order"}); !errors.Is(err, allottest.ErrInjected) {
		t.Fatalf("Buy with a lost answer: %v", err)
	}
	_, err := h.Passes.Purchase(ctx, passes.PurchaseParams{Org: "ws/1", Actor: allottest.Billing, Quantity: 10, RequestID: "order"})
	must(err)
	h.AssertBalance(t, "ws/1", 10)
	_, err = h.Passes.CreateSession(ctx, passes.CreateSessionParams{Actor: allottest.WorkspaceAdmin, ID: "kickoff", Org: "ws/1", Name: "K", Owner: "o@x.test"})
	must(err)
	login := func(guest, request string) passes.Decision {
		t.Helper()
		d, err := h.Passes.Login(ctx, passes.LoginParams{Org: "ws/1", Session: "kickoff", Guest: guest, RequestID: request})
		must(err)
		return d
	}
	h.AssertCharged(t, login("Straße@x.test", "r1"), 1)
	h.Advance(24*time.Hour - time.Microsecond)
	h.AssertCharged(t, login("STRASSE@x.test", "r2"), 1) // not the same address: no simple case folding makes ß "SS"
	h.AssertCharged(t, login("STRAẞE@x.test", "r3"), 0)
	h.Advance(time.Microsecond)
	h.AssertCharged(t, login("straße@x.test", "r4"), 1)
	h.AssertBalance(t, "ws/1", 7)
	h.AssertRefused(t, passes.ErrMalformedGuest, func() error {
		_, err := h.Passes.Login(ctx, passes.LoginParams{Org: "ws/1", Session: "kickoff", Guest: "not-an-address", RequestID: "r5"})
		return err
	})

	// seats
	_, err = h.Seats.Purchase(ctx, seats.PurchaseParams{Org: "org%2", Product: seats.Seats, Quantity: 10, Subscription: "s", Actor: allottest.Billing, RequestID: "p"})
	must(err)
	_, err = h.Seats.CreateEvent(ctx, seats.CreateEventParams{Actor: allottest.EntitlementManager, ID: "summit", Org: "org%2", Start: h.Now(), End: h.Now().Add(time.Hour), Participants: 4})
	must(err)
	_, err = h.Seats.TransferSeats(ctx, seats.TransferSeatsParams{Org: "org%2", Actor: allottest.EntitlementManager, Event: "summit", Quantity: 3, RequestID: "t"})
	must(err)
	h.AssertLacks(t, "org%2", "summit", 1)
	h.AssertRefused(t, seats.ErrInsufficient, func() error {
		_, err := h.Seats.TransferSeats(ctx, seats.TransferSeatsParams{Org: "org%2", Actor: allottest.EntitlementManager, Event: "summit", Quantity: 8, RequestID: "t2"})
		return err
	})
	h.AssertPool(t, "org%2", seats.Seats, 10, 3)

	// licenses, with an invitation that expires
	_, err = h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.Billing, RequestID: "buy", Quantity: 2})
	must(err)
	must(errOf(h.Licenses.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: allottest.OrgAdmin})))
	_, err = h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "bo@x.test", Actor: allottest.TeamAdmin, RequestID: "i1"})
	must(err)
	_, err = h.Licenses.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "BO@x.test", Actor: "bo@x.test"})
	must(err)
	_, err = h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "cy@x.test", Actor: allottest.TeamAdmin, RequestID: "i2", ExpiresAt: h.Now().Add(time.Hour)})
	must(err)
	_, err = h.Licenses.Remove(ctx, licenses.RemoveParams{Org: "acme", Team: "design", Email: "bo@x.test", Actor: allottest.TeamAdmin, RequestID: "rm"})
	must(err)
	h.AssertLicensed(t, "acme", "bo@x.test")
	h.AssertLicensed(t, "acme", "cy@x.test")
	h.AssertSummary(t, "acme", licenses.Summary{Purchased: 2, Pending: 1, Unassigned: 1})
	h.Advance(time.Hour)
	h.AssertMemberState(t, "acme", "cy@x.test", licenses.StateExpired)
	h.AssertSummary(t, "acme", licenses.Summary{Purchased: 2, Unassigned: 1, Available: 1, Expired: 1})
	h.Check(t)
	// Every family's events, replayed from the outbox in PostgreSQL, tell
	// what the views show.
	h.CheckEvents(t)

	// A counter changed in the database behind the service's back.
	must(h.Store.Licenses().InTx(ctx, func(tx licenses.Tx) error {
		o, err := tx.LicenseOrgLock(ctx, "acme")
		if err != nil {
			return err
		}
		o.Unassigned = 0
		return tx.LicenseOrgUpdate(ctx, o)
	}))
	rec := &recordingTB{}
	h.Check(rec)
	if !strings.Contains(rec.msg, "licenses acme, organization: unassigned is 0, but the ledger and records say 1") {
		t.Errorf("Check on the corrupted books says %q", rec.msg)
	}
}

// recordingTB is an allottest.TB that records a failure instead of failing
// the test.
type recordingTB struct{ msg string }

func (r *recordingTB) Helper()        {}
func (r *recordingTB) Cleanup(func()) {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
}

// errOf drops a call's result and keeps its error.
func errOf[T any](_ T, err error) error { return err }
