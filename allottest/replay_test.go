package allottest_test

import (
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"pgregory.net/rapid"
)

// TestProperty_EventsTellWhatHappened replays the outbox from empty after
// every step of a random story in all three families (valid, refused,
// retried and expiring requests alike) and compares it with the views.
func TestProperty_EventsTellWhatHappened(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { EventsTellWhatHappened(t, allottest.New(t, nil)) })
}

// EventsTellWhatHappened is the property, for any harness: the PostgreSQL
// store's tests run it there too.
func EventsTellWhatHappened(t *rapid.T, h *allottest.Harness) {
	orgs := []string{"acme", "globex"}
	sessions, evs := []string{"daily", "demo"}, []string{"kickoff", "summit"}
	modules := []string{"polls", "breakouts"}
	emails := []string{"bo@x.test", "Çelik@x.test", "di@x.test"}
	for _, org := range orgs {
		h.Seats.CreateEvent(h.Ctx, seats.CreateEventParams{Org: org, Actor: allottest.EntitlementManager, ID: "kickoff",
			Name: "Kick-off", Start: h.Now(), End: h.Now().Add(48 * time.Hour), Participants: 5, Modules: modules})
		h.Passes.CreateSession(h.Ctx, passes.CreateSessionParams{Org: org, Actor: allottest.WorkspaceAdmin, ID: "demo",
			Name: "Demo", PassType: passes.DemoPass})
		h.Licenses.CreateTeam(h.Ctx, licenses.CreateTeamParams{Org: org, Actor: allottest.OrgAdmin, Team: "design"})
	}
	h.CheckEvents(t)
	org := func(t *rapid.T) string { return rapid.SampledFrom(orgs).Draw(t, "org") }
	t.Repeat(map[string]func(*rapid.T){
		"": func(t *rapid.T) { h.CheckEvents(t) },
		"wait": func(t *rapid.T) {
			h.Advance(allottest.Elapse(6*time.Hour).Draw(t, "wait"))
		},
		"passes.purchase": func(t *rapid.T) { h.Passes.Purchase(h.Ctx, h.PassesPurchase(org(t)).Draw(t, "purchase")) },
		"passes.session":  func(t *rapid.T) { h.Passes.CreateSession(h.Ctx, h.Session(org(t), sessions).Draw(t, "session")) },
		"passes.login":    func(t *rapid.T) { h.Passes.Login(h.Ctx, h.LoginRequest(org(t), sessions, emails).Draw(t, "login")) },
		"seats.purchase": func(t *rapid.T) {
			h.Seats.Purchase(h.Ctx, h.SeatsPurchase(org(t), seats.Seats, seats.Module("polls")).Draw(t, "purchase"))
		},
		"seats.transfer": func(t *rapid.T) {
			h.Seats.TransferSeats(h.Ctx, h.TransferSeatsParams(org(t), allottest.EntitlementManager, evs).Draw(t, "transfer"))
		},
		"seats.module": func(t *rapid.T) {
			h.Seats.TransferModule(h.Ctx, h.TransferModuleParams(org(t), allottest.EntitlementManager, evs, modules).Draw(t, "module"))
		},
		"seats.check": func(t *rapid.T) {
			h.Seats.CheckConsumption(h.Ctx, seats.CheckConsumptionParams{Org: org(t), Actor: "system"})
		},
		"licenses.purchase": func(t *rapid.T) {
			h.Licenses.Purchase(h.Ctx, h.LicensesPurchase(org(t), allottest.Billing).Draw(t, "purchase"))
		},
		"licenses.invite": func(t *rapid.T) {
			h.Licenses.Invite(h.Ctx, h.InviteParams(org(t), allottest.OrgAdmin, []string{"design"}, emails).Draw(t, "invite"))
		},
		"licenses.accept": func(t *rapid.T) {
			h.Licenses.Accept(h.Ctx, h.AcceptParams(org(t), emails).Draw(t, "accept"))
		},
		"licenses.remove": func(t *rapid.T) {
			h.Licenses.Remove(h.Ctx, h.RemoveParams(org(t), allottest.OrgAdmin, []string{"design"}, emails).Draw(t, "remove"))
		},
		"licenses.delete": func(t *rapid.T) {
			h.Licenses.Delete(h.Ctx, h.DeleteParams(org(t), allottest.OrgAdmin, emails).Draw(t, "delete"))
		},
	})
}
