package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
)

// seatsChapter shows pooled entitlements: a purchase fills the pool, an
// Entitlement manager transfers seats and a module to an event, the pool
// refuses to oversell, the consumption check covers an event that grew, and
// the views report what is still missing.
func seatsChapter(ctx context.Context, w io.Writer) error {
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	if err := roles.Grant("acme", "billing", allot.Vendor); err != nil { // the vendor's billing system
		return err
	}
	if err := roles.Grant("acme", "ana", seats.EntitlementManager); err != nil {
		return err
	}
	svc, err := seats.New(memstore.New().Seats(), &seats.Options{Clock: c, Roles: roles})
	if err != nil {
		return err
	}
	for _, p := range []seats.PurchaseParams{
		{Product: seats.Seats, Quantity: 50, RequestID: "inv-1"},
		{Product: seats.Module("polls"), Quantity: 1, RequestID: "inv-2"},
	} {
		p.Org, p.Subscription, p.Actor = "acme", "sub-1", "billing"
		if _, err := svc.Purchase(ctx, p); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "acme buys 50 seats and the polls module.")
	for _, e := range []seats.CreateEventParams{
		{ID: "kickoff", Name: "Kickoff", Start: c.Now().Add(-time.Hour), End: c.Now().Add(7 * time.Hour), Participants: 30, Modules: []string{"polls"}},
		{ID: "offsite", Name: "Offsite", Start: c.Now().Add(-2 * time.Hour), End: c.Now().Add(6 * time.Hour), Participants: 25, Modules: []string{"polls"}},
	} {
		e.Org, e.Actor = "acme", "ana"
		if _, err := svc.CreateEvent(ctx, e); err != nil {
			return err
		}
	}
	t, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "kickoff", Quantity: 30, RequestID: "r1"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ana transfers %d seats to %s (request %s).\n", t.Quantity, t.Event, t.RequestID)
	if _, err := svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "kickoff", Module: "polls", RequestID: "r2"}); err != nil {
		return err
	}
	fmt.Fprintln(w, "ana transfers the polls module to kickoff.")
	_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "bob", Event: "kickoff", Quantity: 1, RequestID: "r3"})
	fmt.Fprintf(w, "bob is not an Entitlement manager: %v, code %s, HTTP %d.\n",
		errors.Is(err, seats.ErrForbidden), allot.ErrorCode(err), allot.HTTPStatus(err))
	_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "offsite", Quantity: 25, RequestID: "r4"})
	var short *seats.InsufficientError
	if errors.As(err, &short) {
		fmt.Fprintf(w, "25 seats for offsite: refused, %d available (code %s, HTTP %d).\n", short.Available, allot.ErrorCode(err), allot.HTTPStatus(err))
	}

	c.Advance(time.Hour)
	if _, err := svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: "ana", Event: "kickoff", Participants: 34}); err != nil {
		return err
	}
	res, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
	if err != nil {
		return err
	}
	for _, a := range res.Assigned {
		fmt.Fprintf(w, "Consumption check (earliest start first): %d seats to %s (now %d).\n", a.Seats, a.Event, a.Reached)
	}
	pools, err := svc.Overview(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
	if err != nil {
		return err
	}
	for _, p := range pools {
		fmt.Fprintf(w, "%s: purchased %d, assigned %d, available %d\n", p.Product, p.Purchased, p.Assigned, p.Available())
	}
	page, err := svc.EventsPage(ctx, seats.EventsParams{Org: "acme", Actor: "ana", OnlyMissing: true})
	if err != nil {
		return err
	}
	for _, x := range page.Items {
		fmt.Fprintf(w, "Missing on %s (%s): %d seats, modules %v\n", x.ID, x.Status, x.SeatsMissing, x.ModulesMissing)
	}
	findings, err := svc.Audit(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Audit: the pools and events agree with the ledger (%d findings).\n", len(findings))
	return nil
}
