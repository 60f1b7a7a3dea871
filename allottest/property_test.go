package allottest_test

// Property tests as a service that embeds allot writes them: each takes
// fewer than 20 lines, and the kit does the rest (README, "Testing your
// service").

import (
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"pgregory.net/rapid"
)

var guests = []string{"ann@x.test", "Björn@x.test", "ΣΟΦΙΑ@x.test"}

// However guests log in to my daily session over a week, no guest is
// charged twice inside a window, and the balance is purchases minus spends.
func TestProperty_GuestsPayOncePerWindow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := allottest.New(t, nil)
		h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "ws", Actor: allottest.Billing, Quantity: 1000, RequestID: "order"})
		h.Passes.CreateSession(h.Ctx, passes.CreateSessionParams{Org: "ws", Actor: allottest.WorkspaceAdmin, ID: "daily", Name: "Daily"})
		paidUntil, spent := map[string]time.Time{}, int64(0)
		for h.Now().Before(allottest.Start.AddDate(0, 0, 7)) {
			h.Advance(allottest.Elapse(24*time.Hour).Draw(t, "wait"))
			r := h.LoginRequest("ws", []string{"daily"}, guests).Draw(t, "login")
			d, _ := h.Passes.Login(h.Ctx, r)
			if guest := allottest.CanonicalEmail(r.Guest); h.Now().Before(paidUntil[guest]) {
				h.AssertCharged(t, d, 0)
			} else {
				h.AssertCharged(t, d, 1)
				paidUntil[guest], spent = d.AccessUntil, spent+1
			}
			h.AssertBalance(t, "ws", 1000-spent)
			h.Check(t)
		}
	})
}

// My team service never leaves a member of my directory without exactly
// one license, whoever joins and leaves teams, and however long passes.
func TestProperty_MembersKeepOneLicense(t *testing.T) {
	rapid.Check(t, membersKeepOneLicense(leave))
}

var (
	teams  = []string{"design", "sales"}
	people = []string{"bo@x.test", "Çelik@x.test", "di@x.test", "ed@x.test"}
)

func membersKeepOneLicense(leave func(*allottest.Harness, licenses.RemoveParams) error) func(*rapid.T) {
	return func(t *rapid.T) {
		h := allottest.New(t, nil)
		acme(t, h)
		directory := map[string]bool{}
		t.Repeat(map[string]func(*rapid.T){
			"join": func(t *rapid.T) {
				if p := h.InviteParams("acme", allottest.TeamAdmin, teams, people).Draw(t, "join"); join(h, p) == nil {
					directory[allottest.CanonicalEmail(p.Email)] = true
				}
			},
			"leave": func(t *rapid.T) {
				leave(h, h.RemoveParams("acme", allottest.TeamAdmin, teams, people).Draw(t, "leave"))
			},
			"wait": func(t *rapid.T) { h.Advance(allottest.Elapse(allottest.InvitationExpiry).Draw(t, "wait")) },
			"": func(t *rapid.T) {
				for member := range directory {
					h.AssertLicensed(t, "acme", member)
				}
				h.Check(t)
			},
		})
	}
}

// acme is the fixture: an organization with 3 licenses and two teams.
func acme(t allottest.TB, h *allottest.Harness) {
	h.Licenses.Purchase(h.Ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.Billing, RequestID: "buy", Quantity: 3})
	for _, team := range teams {
		h.Licenses.CreateTeam(h.Ctx, licenses.CreateTeamParams{Org: "acme", Team: team, Actor: allottest.OrgAdmin})
	}
	h.AssertSummary(t, "acme", licenses.Summary{Purchased: 3, Available: 3, Teams: []licenses.Team{{ID: "design"}, {ID: "sales"}}})
}

// join is the team service's own flow: people sign in through the
// company's single sign-on, so an invitation is accepted at once.
func join(h *allottest.Harness, p licenses.InviteParams) error {
	if _, err := h.Licenses.Invite(h.Ctx, p); err != nil {
		return err
	}
	_, err := h.Licenses.Accept(h.Ctx, licenses.AcceptParams{Org: p.Org, Email: p.Email, Actor: p.Email})
	return err
}

// leave takes a member out of one team; one removed from its last team
// stays in the directory, unassigned, with its license.
func leave(h *allottest.Harness, p licenses.RemoveParams) error {
	_, err := h.Licenses.Remove(h.Ctx, p)
	return err
}

// A team service that frees the license of whoever leaves its last team,
// by deleting the member instead of leaving it unassigned, takes the
// license of someone still in the directory: the property catches it, and
// rapid shrinks the run to a join and a leave.
func TestKit_CatchesLeaveThatDeletes(t *testing.T) {
	leaveDeleting := func(h *allottest.Harness, p licenses.RemoveParams) error {
		m, err := h.Licenses.Member(h.Ctx, licenses.MemberParams{Org: p.Org, Actor: allottest.OrgAdmin, Email: p.Email})
		if err == nil && len(m.Teams) == 1 && m.InTeam(p.Team) {
			return errOf(h.Licenses.Delete(h.Ctx, licenses.DeleteParams{Org: p.Org, Email: p.Email, Actor: allottest.OrgAdmin, RequestID: "free-" + p.Email}))
		}
		return leave(h, p)
	}
	cx := falsify(t, membersKeepOneLicense(leaveDeleting))
	cx.mustBeShort(t, 2, "is no member of")
}

// checkout is a shop's purchase flow, correct: a failed call is retried
// with its order's request ID, so a purchase that committed though its
// answer was lost is not bought again.
func checkout(h *allottest.Harness, order string, qty int64) error {
	for range 3 {
		if _, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "ws", Actor: allottest.Billing, Quantity: qty, RequestID: order}); !errors.Is(err, allottest.ErrInjected) {
			return err
		}
	}
	return errors.New("gave up")
}

// checkoutNewID is the same flow, broken: it retries with a new request
// ID, so a purchase whose answer was lost is bought twice.
func checkoutNewID(h *allottest.Harness, order string, qty int64) error {
	var err error
	for try := range 3 {
		if _, err = h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "ws", Actor: allottest.Billing, Quantity: qty, RequestID: order + "-try" + string(rune('0'+try))}); !errors.Is(err, allottest.ErrInjected) {
			return err
		}
	}
	return err
}

// The workspace holds what the shop sold, whatever the store does to the
// purchases' transactions.
func shopSellsWhatItCharges(checkout func(*allottest.Harness, string, int64) error) func(*rapid.T) {
	return func(t *rapid.T) {
		h := allottest.New(t, nil)
		sold := int64(0)
		t.Repeat(map[string]func(*rapid.T){
			"buy": func(t *rapid.T) {
				order, qty := h.RequestID().Draw(t, "order"), allottest.Quantity(10).Draw(t, "quantity")
				if checkout(h, order, qty) == nil {
					sold += qty
				}
			},
			"fault": func(t *rapid.T) {
				h.Faults.Inject(1, rapid.SampledFrom([]allottest.Fault{allottest.FailCommit, allottest.FailAfterCommit, allottest.RunTwice, allottest.Transient}).Draw(t, "fault"))
			},
			"": func(t *rapid.T) { h.AssertBalance(t, "ws", sold); h.Check(t) },
		})
	}
}

func TestProperty_ShopSellsWhatItCharges(t *testing.T) {
	rapid.Check(t, shopSellsWhatItCharges(checkout))
}

// A purchase retried with a new request ID after an answer lost at commit
// buys twice: the kit catches it with one fault and one purchase.
func TestKit_CatchesCheckoutRetriedWithNewID(t *testing.T) {
	cx := falsify(t, shopSellsWhatItCharges(checkoutNewID))
	cx.mustBeShort(t, 2, `workspace "ws" holds`)
}

// errOf drops a call's result and keeps its error.
func errOf[T any](_ T, err error) error { return err }
