package allottest_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"pgregory.net/rapid"
)

func TestRequestID_Elapse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := allottest.New(t, nil)
		seen := map[string]bool{}
		for range 20 {
			id := h.RequestID().Draw(t, "id")
			if input.ID(id) != "" || seen[id] {
				t.Fatalf("RequestID drew %q (valid: %s, seen before: %t)", id, input.ID(id), seen[id])
			}
			seen[id] = true
		}
		if d := allottest.Elapse().Draw(t, "d"); d < 0 || d > 721*time.Hour {
			t.Fatalf("Elapse() drew %v", d)
		}
		if d := allottest.Elapse(time.Hour).Draw(t, "d"); d < 0 || d > 2*time.Hour {
			t.Fatalf("Elapse(1h) drew %v", d)
		}
	})
}

// Elapse lands exactly on each edge, and just before it, often enough
// for a property to meet both sides of a window.
func TestElapse_HitsEdges(t *testing.T) {
	seen := map[time.Duration]bool{}
	rapid.Check(t, func(t *rapid.T) {
		for range 50 {
			seen[allottest.Elapse().Draw(t, "d")] = true
		}
	})
	for _, w := range allottest.PassWindows {
		if !seen[w] || !seen[w-time.Microsecond] {
			t.Errorf("in thousands of draws, Elapse never drew %v (%t) or a microsecond before it (%t)", w, seen[w], seen[w-time.Microsecond])
		}
	}
}

// Valid passes requests are logins the service decides (allowed, with a
// balance), each guest counted as the one person however it is spelt;
// malformed ones are refused as documented and change nothing.
func TestPassesRequests(t *testing.T) {
	guests := []string{"ann@x.test", "Straße@Über.test", "ΣΙΣ@x.test"}
	rapid.Check(t, func(t *rapid.T) {
		h := allottest.New(t, nil)
		if _, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "ws", Actor: allottest.Billing, Quantity: 1000, RequestID: "order"}); err != nil {
			t.Fatal(err)
		}
		sess := h.Session("ws", []string{"s1", "s2"}).Draw(t, "session")
		if _, err := h.Passes.CreateSession(h.Ctx, sess); err != nil {
			t.Fatalf("CreateSession(%+v): %v", sess, err)
		}
		for range 3 {
			r := h.LoginRequest("ws", []string{sess.ID}, guests).Draw(t, "login")
			if _, err := h.Passes.Login(h.Ctx, r); err != nil {
				t.Fatalf("Login(%+v): %v", r, err)
			}
		}
		page, err := h.Passes.LogPage(h.Ctx, passes.LogParams{Actor: allottest.WorkspaceAdmin, Org: "ws"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 3 {
			t.Fatalf("the log has %d rows after 3 logins", len(page.Items))
		}
		for _, row := range page.Items {
			if !slices.ContainsFunc(guests, func(g string) bool { c, _ := input.Email(g); return c == row.User }) {
				t.Fatalf("logged guest %q is none of %q", row.User, guests)
			}
		}
		bad := h.MalformedLoginRequest("ws", []string{sess.ID}, guests).Draw(t, "bad login")
		want := passes.ErrInvalid
		if _, reason := input.Email(bad.Guest); reason != "" && input.ID(bad.Org) == "" {
			want = passes.ErrMalformedGuest
		}
		h.AssertRefused(t, want, func() error { _, err := h.Passes.Login(h.Ctx, bad); return err })
		h.Check(t)
	})
}

func TestSeatsRequests(t *testing.T) {
	events := []string{"summit", "a/b"}
	modules := []string{"agenda", "polls"}
	rapid.Check(t, func(t *rapid.T) {
		h := allottest.New(t, nil)
		for range 3 {
			p := h.SeatsPurchase("org", seats.Seats, seats.Module("agenda"), seats.Module("polls")).Draw(t, "purchase")
			if _, err := h.Seats.Purchase(h.Ctx, p); err != nil {
				t.Fatalf("Purchase(%+v): %v", p, err)
			}
		}
		e := h.CreateEventParams("org", allottest.EntitlementManager, events, modules).Draw(t, "event")
		if _, err := h.Seats.CreateEvent(h.Ctx, e); err != nil {
			t.Fatalf("CreateEvent(%+v): %v", e, err)
		}
		tr := h.TransferSeatsParams("org", allottest.EntitlementManager, []string{e.ID}).Draw(t, "transfer")
		if _, err := h.Seats.TransferSeats(h.Ctx, tr); err != nil && !errors.Is(err, seats.ErrNoPool) && !errors.Is(err, seats.ErrInsufficient) {
			t.Fatalf("TransferSeats(%+v): %v", tr, err)
		}
		mt := h.TransferModuleParams("org", allottest.EntitlementManager, []string{e.ID}, modules).Draw(t, "module")
		if _, err := h.Seats.TransferModule(h.Ctx, mt); err != nil && !errors.Is(err, seats.ErrNoPool) && !errors.Is(err, seats.ErrInsufficient) {
			t.Fatalf("TransferModule(%+v): %v", mt, err)
		}
		bad := h.MalformedTransferSeatsParams("org", allottest.EntitlementManager, []string{e.ID}).Draw(t, "bad transfer")
		h.AssertRefused(t, seats.ErrInvalid, func() error { _, err := h.Seats.TransferSeats(h.Ctx, bad); return err })
		h.Check(t)
	})
}

func TestLicensesRequests(t *testing.T) {
	teams := []string{"design", "sales/eu"}
	emails := []string{"bo@x.test", "Ǆemal@x.test", "KELVIN@x.test"}
	rapid.Check(t, func(t *rapid.T) {
		h := allottest.New(t, nil)
		p := h.LicensesPurchase("org", allottest.Billing).Draw(t, "purchase")
		if _, err := h.Licenses.Purchase(h.Ctx, p); err != nil {
			t.Fatalf("Purchase(%+v): %v", p, err)
		}
		for _, team := range teams {
			if _, err := h.Licenses.CreateTeam(h.Ctx, licenses.CreateTeamParams{Org: "org", Team: team, Actor: allottest.OrgAdmin}); err != nil {
				t.Fatal(err)
			}
		}
		inv := h.InviteParams("org", allottest.TeamAdmin, teams, emails).Draw(t, "invite")
		m, err := h.Licenses.Invite(h.Ctx, inv)
		if err != nil {
			t.Fatalf("Invite(%+v): %v", inv, err)
		}
		if !inv.ExpiresAt.IsZero() && !inv.ExpiresAt.After(h.Now()) {
			t.Fatalf("invitation expires at %v, not after now", inv.ExpiresAt)
		}
		acc := h.AcceptParams("org", []string{m.Email}).Draw(t, "accept")
		if _, err := h.Licenses.Accept(h.Ctx, acc); err != nil {
			t.Fatalf("Accept(%+v): %v", acc, err)
		}
		h.AssertMemberState(t, "org", m.Email, licenses.StateActive)
		rm := h.RemoveParams("org", allottest.TeamAdmin, []string{inv.Team}, []string{m.Email}).Draw(t, "remove")
		if _, err := h.Licenses.Remove(h.Ctx, rm); err != nil {
			t.Fatalf("Remove(%+v): %v", rm, err)
		}
		h.AssertMemberState(t, "org", m.Email, licenses.StateUnassigned)
		del := h.DeleteParams("org", allottest.OrgAdmin, []string{m.Email}).Draw(t, "delete")
		if _, err := h.Licenses.Delete(h.Ctx, del); err != nil {
			t.Fatalf("Delete(%+v): %v", del, err)
		}
		h.AssertMemberState(t, "org", m.Email, licenses.StateNone)
		bad := h.MalformedInviteParams("org", allottest.OrgAdmin, teams, emails).Draw(t, "bad invite")
		h.AssertRefused(t, licenses.ErrInvalid, func() error { _, err := h.Licenses.Invite(h.Ctx, bad); return err })
		h.Check(t)
	})
}
