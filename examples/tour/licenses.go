package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

// licensesChapter shows per-member licenses: an invitation reserves a
// license (a hold on the pool), acceptance makes it active, a member in two
// teams counts once, leaving the last team keeps the license, an expired
// invitation frees its license with no background job, and only deleting a
// member gives the license back.
func licensesChapter(ctx context.Context, w io.Writer) error {
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	if err := roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin); err != nil {
		return err
	}
	if err := roles.Grant("acme", "billing", allot.Vendor); err != nil {
		return err
	}
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: c, Roles: roles})
	if err != nil {
		return err
	}
	admin := "ada@acme.test"
	sumParams := licenses.SummaryParams{Org: "acme", Actor: admin}
	summary := func() error {
		s, err := svc.Summary(ctx, sumParams)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  purchased %d: active %d, pending %d, unassigned %d, available %d\n", s.Purchased, s.Active, s.Pending, s.Unassigned, s.Available)
		return nil
	}
	// The vendor adds the licenses acme's admin asked for.
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 3, RequestID: "buy-1"}); err != nil {
		return err
	}
	for _, team := range []string{"design", "sales"} {
		if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Actor: admin, Team: team}); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "the vendor adds 3 licenses to acme, which creates teams design and sales.")

	for i, inv := range []struct {
		team, email string
		expires     time.Time
	}{
		{"design", "bo@acme.test", time.Time{}},
		{"sales", "Bo@ACME.test", time.Time{}}, // the same member: nothing new reserved
		{"sales", "cy@acme.test", c.Now().Add(48 * time.Hour)},
	} {
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: inv.team, Email: inv.email, Actor: admin, RequestID: fmt.Sprint("inv-", i), ExpiresAt: inv.expires}); err != nil {
			return err
		}
	}
	if _, err := svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"}); err != nil {
		return err
	}
	fmt.Fprintln(w, "bo joins design and sales and accepts; cy is invited to sales for 48 hours:")
	if err := summary(); err != nil {
		return err
	}

	for _, team := range []string{"design", "sales"} {
		if _, err := svc.Remove(ctx, licenses.RemoveParams{Org: "acme", Actor: admin, Team: team, Email: "bo@acme.test", RequestID: "rm-" + team}); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "bo leaves both teams: unassigned, still holding the license:")
	if err := summary(); err != nil {
		return err
	}

	c.Advance(48 * time.Hour)
	_, err = svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "cy@acme.test", Actor: "cy@acme.test"})
	fmt.Fprintf(w, "48 hours later cy's invitation has expired: %v, code %s, HTTP %d.\n",
		errors.Is(err, licenses.ErrInvitationExpired), allot.ErrorCode(err), allot.HTTPStatus(err))
	if err := summary(); err != nil {
		return err
	}

	del := licenses.DeleteParams{Org: "acme", Actor: admin, Email: "bo@acme.test", RequestID: "del-1"}
	if _, err := svc.Delete(ctx, del); err != nil {
		return err
	}
	fmt.Fprintln(w, "bo is deleted; the journal of bo's license account:")
	for e, err := range svc.History(ctx, licenses.HistoryParams{Org: "acme", Actor: admin, Email: "bo@acme.test"}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s %-17s %+d\n", e.PostedAt.Format("Jan 2 15:04"), e.Code, e.Change.IntPart())
	}
	// The same request sent again is a retry: it returns the first result
	// and moves nothing.
	m, err := svc.Delete(ctx, del)
	fmt.Fprintln(w, "the deletion retried:", m.State, err)
	if err := summary(); err != nil {
		return err
	}
	findings, err := svc.Audit(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "audit: %d findings\n", len(findings))
	return nil
}
