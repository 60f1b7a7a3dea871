package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
)

// passesChapter shows pay-per-access session passes: a purchase, the three
// pass types, a refusal for lack of passes, a demo that locks, a retried
// login, and the usage log.
func passesChapter(ctx context.Context, w io.Writer) error {
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	if err := roles.Grant("acme", "olga@acme.example", passes.WorkspaceAdmin); err != nil {
		return err
	}
	if err := roles.Grant("acme", "billing", allot.Vendor); err != nil {
		return err
	}
	svc, err := passes.New(memstore.New().Passes(), &passes.Options{Clock: c, Roles: roles})
	if err != nil {
		return err
	}
	p, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 3, RequestID: "order-1"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "acme buys 3 passes: balance %d\n", p.Available)
	for _, s := range []passes.CreateSessionParams{
		{ID: "standup", Name: "Stand-up", PassType: passes.DayPass},
		{ID: "retro", Name: "Async retro", PassType: passes.MonthPass},
		{ID: "demo", Name: "Demo", PassType: passes.DemoPass},
	} {
		s.Org, s.Actor = "acme", "olga@acme.example" // olga creates them: she owns them
		if _, err := svc.CreateSession(ctx, s); err != nil {
			return err
		}
	}
	login := func(session, guest, request string) error {
		d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: session, Guest: guest, RequestID: request})
		if err != nil && !errors.Is(err, passes.ErrRefused) {
			return err
		}
		fmt.Fprintf(w, "%s  %-8s %-16s %s\n", c.Now().Format("Jan 02 15:04"), session, guest, d)
		return nil
	}
	steps := []struct {
		advance                 time.Duration
		session, guest, request string
	}{
		{0, "standup", "ann@example.com", "r1"},
		{2 * time.Hour, "standup", "ann@example.com", "r2"},
		{0, "standup", "ann@example.com", "r2"}, // a retry
		{0, "retro", "ben@example.com", "r3"},
		{time.Hour, "demo", "cat@example.com", "r4"},
		{4 * time.Hour, "demo", "dan@example.com", "r5"},
		{24 * time.Hour, "standup", "ann@example.com", "r6"},
	}
	for _, s := range steps {
		c.Advance(s.advance)
		if err := login(s.session, s.guest, s.request); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "Usage log (refused logins are not in it):")
	for u, err := range svc.Log(ctx, passes.LogParams{Org: "acme", Actor: "olga@acme.example"}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s  %-8s %-16s used %d  balance %d\n", u.At.Format("Jan 02 15:04"), u.Session, u.User, u.Passes, u.BalanceAfter)
	}
	findings, err := svc.Audit(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Audit of the balance, log and windows against the ledger: %d findings\n", len(findings))
	return nil
}
