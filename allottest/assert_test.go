package allottest_test

import (
	"errors"
	"testing"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// Each assertion holds when its claim is true, and fails saying what it
// expected and what it found when it is not.
func TestAssertions(t *testing.T) {
	h := allottest.New(t, nil)
	ctx := h.Ctx
	books(t, h) // ws/1: 5 bought, ann charged 1; org%2: 10 seats, 3 to summit; acme: 2 licenses, bo pending

	h.AssertBalance(t, "ws/1", 4)
	mustFail(t, func(tb allottest.TB) { h.AssertBalance(tb, "ws/1", 5) }, `workspace "ws/1" holds 4 passes, want 5`)

	d, err := h.Passes.Login(ctx, passes.LoginParams{Org: "ws/1", Session: "kickoff", Guest: "ANN@x.test", RequestID: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	h.AssertCharged(t, d, 0)
	mustFail(t, func(tb allottest.TB) { h.AssertCharged(tb, d, 1) }, "login charged 0 passes", "inside the guest's access window", "want 1")
	mustFail(t, func(tb allottest.TB) {
		h.AssertCharged(tb, passes.Decision{Reason: passes.ReasonInsufficientPasses}, 1)
	}, "refused (insufficient_passes)", "want it allowed")

	h.AssertPool(t, "org%2", seats.Seats, 10, 3)
	h.AssertPool(t, "org%2", seats.Module("agenda"), 0, 0)
	mustFail(t, func(tb allottest.TB) { h.AssertPool(tb, "org%2", seats.Seats, 10, 4) },
		`"org%2"'s seat pool has 10 purchased, 3 assigned, 7 available; want 10 purchased, 4 assigned, 6 available`)
	mustFail(t, func(tb allottest.TB) { h.AssertPool(tb, "org%2", seats.Module("agenda"), 1, 0) }, "has no module:agenda pool")

	h.AssertLacks(t, "org%2", "summit", 0)
	if _, err := h.Seats.SetParticipants(ctx, seats.SetParticipantsParams{Org: "org%2", Actor: allottest.EntitlementManager, Event: "summit", Participants: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Seats.SetModules(ctx, seats.SetModulesParams{Org: "org%2", Actor: allottest.EntitlementManager, Event: "summit", Modules: []string{"polls", "agenda"}}); err != nil {
		t.Fatal(err)
	}
	h.AssertLacks(t, "org%2", "summit", 2, "polls", "agenda")
	mustFail(t, func(tb allottest.TB) { h.AssertLacks(tb, "org%2", "summit", 0) },
		`event "summit" of "org%2" lacks 2 seats and modules agenda, polls (5 participants, 3 seats assigned`, "want it to lack nothing")
	mustFail(t, func(tb allottest.TB) { h.AssertLacks(tb, "org%2", "nope", 0) }, `has no event "nope"`)

	h.AssertMemberState(t, "acme", "BO@x.test", licenses.StatePending)
	h.AssertMemberState(t, "acme", "nobody@x.test", licenses.StateNone)
	h.AssertMemberState(t, "no-such-org", "bo@x.test", licenses.StateNone)
	mustFail(t, func(tb allottest.TB) { h.AssertMemberState(tb, "acme", "bo@x.test", licenses.StateActive) },
		`member "bo@x.test" of "acme" is pending, want active`)
	mustFail(t, func(tb allottest.TB) { h.AssertMemberState(tb, "acme", "cy@x.test", licenses.StateActive) }, "is no member, want active")

	h.AssertSummary(t, "acme", licenses.Summary{Purchased: 2, Pending: 1, Available: 1})
	h.AssertSummary(t, "acme", licenses.Summary{Purchased: 2, Pending: 1, Available: 1, Teams: []licenses.Team{{ID: "design", Pending: 1}}})
	mustFail(t, func(tb allottest.TB) {
		h.AssertSummary(tb, "acme", licenses.Summary{Purchased: 2, Active: 1, Available: 1})
	}, `summary of "acme": active is 0, want 1; pending is 1, want 0`)
	mustFail(t, func(tb allottest.TB) {
		h.AssertSummary(tb, "acme", licenses.Summary{Purchased: 2, Pending: 1, Available: 1, Teams: []licenses.Team{}})
	}, "teams (-want +got)")
}

func TestAssertRefused(t *testing.T) {
	h := allottest.New(t, nil)
	books(t, h)
	ctx := h.Ctx
	login := func(guest, request string) func() error {
		return func() error {
			_, err := h.Passes.Login(ctx, passes.LoginParams{Org: "ws/1", Session: "kickoff", Guest: guest, RequestID: request})
			return err
		}
	}
	h.AssertRefused(t, passes.ErrMalformedGuest, login("not-an-address", "r9"))
	h.AssertRefused(t, passes.ErrRefused, login("not-an-address", "r9"))

	mustFail(t, func(tb allottest.TB) { h.AssertRefused(tb, passes.ErrRefused, login("cy@x.test", "r10")) },
		"request succeeded, want it refused with passes: login refused")
	mustFail(t, func(tb allottest.TB) { h.AssertRefused(tb, passes.ErrInsufficientPasses, login("no", "r11")) },
		"request refused with", "malformed", "want passes: not enough passes")

	// A "refusal" that changed the store is caught, whichever family's
	// records it changed.
	for _, change := range []func() error{
		func() error {
			_, err := h.Passes.Purchase(ctx, passes.PurchaseParams{Org: "ws/1", Actor: allottest.Billing, Quantity: 1, RequestID: "sneaky"})
			return errors.Join(err, errFake)
		},
		func() error {
			_, err := h.Seats.SetParticipants(ctx, seats.SetParticipantsParams{Org: "org%2", Actor: allottest.EntitlementManager, Event: "summit", Participants: 9})
			return errors.Join(err, errFake)
		},
		func() error {
			_, err := h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "di@x.test", Actor: allottest.OrgAdmin, RequestID: "sneaky"})
			return errors.Join(err, errFake)
		},
		func() error {
			_, err := h.Passes.Login(ctx, passes.LoginParams{Org: "ws/1", Session: "kickoff", Guest: "ann@x.test", RequestID: "sneaky-2"})
			return errors.Join(err, errFake) // a row in the log, nothing spent
		},
	} {
		mustFail(t, func(tb allottest.TB) { h.AssertRefused(tb, errFake, change) }, "refused request (fake) changed the store (-before +after)")
	}
	h.Check(t)
}

var errFake = errors.New("fake")
