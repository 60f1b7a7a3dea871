// Command teamlicenses tells the story of an organization's licenses, as
// Powtoon for Enterprise runs them: it buys 10, invites people across teams
// (one of them in three teams, counted once), removes a member from its last
// team (unassigned, still holding its license), deletes another (its license
// goes back to the pool), runs out, buys more, and lets an invitation expire.
// After each step it prints the consumption bar and the distribution by
// team. It runs on an in-memory store and a fake clock, so its output is the
// same on every run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "teamlicenses:", err)
		os.Exit(1)
	}
}

const (
	org    = "acme"
	admin  = "ada@acme.test" // the Org Admin
	vendor = "billing"       // the vendor's billing system: it adds licenses
)

type story struct {
	ctx   context.Context
	w     io.Writer
	clock *clock.Fake
	svc   *licenses.Service
	req   int
}

func run(w io.Writer) error {
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	if err := roles.Grant(org, admin, licenses.OrgAdmin); err != nil {
		return err
	}
	if err := roles.Grant(org, "sam@acme.test", licenses.TeamAdmin("sales")); err != nil {
		return err
	}
	if err := roles.Grant(org, vendor, allot.Vendor); err != nil {
		return err
	}
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: c, Roles: roles})
	if err != nil {
		return err
	}
	s := &story{ctx: context.Background(), w: w, clock: c, svc: svc}

	s.step("the vendor adds 10 licenses; acme creates three teams")
	_, err = svc.Purchase(s.ctx, licenses.PurchaseParams{Org: org, Actor: admin, Quantity: 10, RequestID: "by-admin"})
	refused(w, "the Org Admin adding licenses itself", err)
	if err := s.buy(10); err != nil {
		return err
	}
	for _, team := range []string{"design", "marketing", "sales"} {
		if _, err := svc.CreateTeam(s.ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: team}); err != nil {
			return err
		}
	}
	if err := s.report(); err != nil {
		return err
	}

	s.step("six people are invited; four accept")
	week := c.Now().Add(7 * 24 * time.Hour)
	for _, inv := range []struct {
		team, email, by string
		expires         time.Time
	}{
		{"design", "ann@acme.test", admin, time.Time{}},
		{"design", "ben@acme.test", admin, time.Time{}},
		{"marketing", "cat@acme.test", admin, time.Time{}},
		{"sales", "dan@acme.test", "sam@acme.test", time.Time{}}, // the sales Team Admin
		{"sales", "eve@acme.test", "sam@acme.test", week},        // expires in a week
		{"marketing", "fay@acme.test", admin, time.Time{}},
	} {
		if err := s.invite(inv.team, inv.email, inv.by, inv.expires); err != nil {
			return err
		}
	}
	for _, email := range []string{"ann@acme.test", "ben@acme.test", "cat@acme.test", "DAN@acme.test"} {
		if _, err := svc.Accept(s.ctx, licenses.AcceptParams{Org: org, Email: email, Actor: email}); err != nil {
			return err
		}
	}
	if err := s.report(); err != nil {
		return err
	}

	s.step("ann joins marketing and sales: three teams, still one license")
	if err := s.invite("marketing", "Ann@Acme.test", admin, time.Time{}); err != nil {
		return err
	}
	if err := s.invite("sales", "ann@acme.test", "sam@acme.test", time.Time{}); err != nil {
		return err
	}
	if err := s.report(); err != nil {
		return err
	}

	s.step("ben leaves design, his only team: unassigned, he keeps his license")
	rm := licenses.RemoveParams{Org: org, Actor: admin, Team: "design", Email: "ben@acme.test", RequestID: s.nextReq()}
	m, err := svc.Remove(s.ctx, rm)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ben is now %s\n", m.State)
	if m, err = svc.Remove(s.ctx, rm); err != nil { // a retry: the first result
		return err
	}
	fmt.Fprintf(w, "the removal retried: ben is %s\n", m.State)
	if err := s.report(); err != nil {
		return err
	}

	s.step("dan is deleted: his license goes back to the pool")
	del := licenses.DeleteParams{Org: org, Actor: admin, Email: "dan@acme.test", RequestID: s.nextReq()}
	if m, err = svc.Delete(s.ctx, del); err != nil {
		return err
	}
	fmt.Fprintf(w, "dan is %s\n", m.State)
	if m, err = svc.Delete(s.ctx, del); err != nil { // a retry: the same, not "not found"
		return err
	}
	fmt.Fprintf(w, "the deletion retried: dan is %s\n", m.State)
	if err := s.report(); err != nil {
		return err
	}

	s.step("five more invitations use up the pool; a sixth is refused")
	for _, email := range []string{"gus", "hal", "ivy", "jon", "kim"} {
		if err := s.invite("design", email+"@acme.test", admin, time.Time{}); err != nil {
			return err
		}
	}
	_, err = svc.Invite(s.ctx, licenses.InviteParams{Org: org, Team: "design", Email: "lea@acme.test", Actor: admin, RequestID: s.nextReq()})
	refused(w, "lea's invitation", err)
	if err := s.report(); err != nil {
		return err
	}

	s.step("the vendor adds 5 more; lea's invitation goes through")
	if err := s.buy(5); err != nil {
		return err
	}
	if err := s.invite("design", "lea@acme.test", admin, time.Time{}); err != nil {
		return err
	}
	if err := s.report(); err != nil {
		return err
	}

	c.Advance(8 * 24 * time.Hour)
	s.step("eight days later: eve never accepted, her license is available again")
	if err := s.report(); err != nil {
		return err
	}
	_, err = svc.Accept(s.ctx, licenses.AcceptParams{Org: org, Email: "eve@acme.test", Actor: "eve@acme.test"})
	refused(w, "eve tries to accept", err)

	s.step("expired invitations, then every member")
	for m, err := range svc.Members(s.ctx, licenses.MembersParams{Org: org, Actor: admin, State: licenses.StateExpired}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "expired: %s\n", m.Email)
	}
	for m, err := range svc.Members(s.ctx, licenses.MembersParams{Org: org, Actor: admin}) {
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%-15s %-10s %s", m.Email, m.State, strings.Join(m.Teams, ", "))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}

	// The books recomputed from the ledger: every counter and member agrees.
	findings, err := svc.Audit(s.ctx, org)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "audit: %d findings\n", len(findings))
	return nil
}

func (s *story) nextReq() string {
	s.req++
	return fmt.Sprintf("req-%d", s.req)
}

func (s *story) step(title string) {
	if s.req > 0 {
		fmt.Fprintln(s.w)
	}
	fmt.Fprintf(s.w, "-- %s: %s\n", s.clock.Now().Format("Jan 2"), title)
}

func (s *story) buy(n int64) error {
	_, err := s.svc.Purchase(s.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: n, RequestID: s.nextReq()})
	return err
}

func (s *story) invite(team, email, by string, expires time.Time) error {
	_, err := s.svc.Invite(s.ctx, licenses.InviteParams{Org: org, Team: team, Email: email, Actor: by, RequestID: s.nextReq(), ExpiresAt: expires})
	return err
}

// report prints the consumption bar and the distribution by team.
func (s *story) report() error {
	sum, err := s.svc.Summary(s.ctx, licenses.SummaryParams{Org: org, Actor: admin})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.w, "%s  purchased %d: active %d, pending %d, unassigned %d, available %d\n",
		Bar(sum), sum.Purchased, sum.Active, sum.Pending, sum.Unassigned, sum.Available)
	for _, t := range sum.Teams {
		fmt.Fprintf(s.w, "  %-10s %-12s %d active, %d pending\n", t.ID,
			strings.Repeat("#", int(t.Active))+strings.Repeat("+", int(t.Pending)), t.Active, t.Pending)
	}
	return nil
}

// Bar draws one cell per license: '#' active, '+' pending, '~' unassigned,
// '.' available.
func Bar(s licenses.Summary) string {
	return "[" + strings.Repeat("#", int(s.Active)) + strings.Repeat("+", int(s.Pending)) +
		strings.Repeat("~", int(s.Unassigned)) + strings.Repeat(".", int(s.Available)) + "]"
}

// refused prints a refusal as a service answers it: the code and HTTP
// status it maps every allot error to (allot.ErrorCode, allot.HTTPStatus),
// and the message, fit for the API client.
func refused(w io.Writer, what string, err error) {
	fmt.Fprintf(w, "%s: refused, %s (HTTP %d): %v\n", what, allot.ErrorCode(err), allot.HTTPStatus(err), err)
}
