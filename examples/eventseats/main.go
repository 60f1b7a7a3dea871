// Command eventseats tells the story of one organization's entitlements: it
// buys seats and two advanced modules, its Entitlement manager transfers them
// to a past and a live event, the live event grows beyond its seats and the
// consumption check covers it, another event stays missing a module, and
// both views are printed and exported as CSV (the xlsx module writes the
// same tables as XLSX; see its example). It runs on an in-memory store
// and a fake clock, so its output is the same on every run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/table"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eventseats:", err)
		os.Exit(1)
	}
}

const (
	org     = "northwind"
	manager = "maria@northwind.test" // an Entitlement manager of northwind
)

// organizers create and keep each organization's events.
var organizers = map[string]string{org: "olga@northwind.test", "fabrikam": "fay@fabrikam.test"}

func run(w io.Writer) error {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 6, 10, 14, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	for o, organizer := range organizers {
		if err := roles.Grant(o, "billing", allot.Vendor); err != nil { // the vendor's billing system
			return err
		}
		if err := roles.Grant(o, organizer, seats.EventOrganizer); err != nil {
			return err
		}
	}
	if err := roles.Grant(org, manager, seats.EntitlementManager); err != nil {
		return err
	}
	svc, err := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "-- Purchases (subscription SUB-2026-01)")
	for _, p := range []seats.PurchaseParams{
		{Product: seats.Seats, Quantity: 120, RequestID: "inv-1001"},
		{Product: seats.Module("polls"), Quantity: 2, RequestID: "inv-1002"},
		{Product: seats.Module("breakouts"), Quantity: 1, RequestID: "inv-1003"},
	} {
		p.Org, p.Subscription, p.Actor = org, "SUB-2026-01", "billing"
		t, err := svc.Purchase(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "bought %d %s: %d purchased, %d available\n", t.Quantity, t.Product, t.Purchased, t.Available)
	}

	now := clk.Now()
	day := 24 * time.Hour
	for _, e := range []seats.CreateEventParams{
		{ID: "summit", Name: "Spring Summit", Start: now.Add(-30 * day), End: now.Add(-28 * day), Participants: 48, Modules: []string{"breakouts"}},
		{ID: "webinar", Name: "Product Webinar", Start: now.Add(-time.Hour), End: now.Add(3 * time.Hour), Participants: 30, Modules: []string{"polls"}},
		{ID: "townhall", Name: "Town Hall", Start: now.Add(-2 * time.Hour), End: now.Add(2 * time.Hour), Participants: 20, Modules: []string{"polls", "breakouts"}},
		{ID: "launch", Name: "Launch Party", Start: now.Add(7 * day), End: now.Add(7*day + 4*time.Hour), Participants: 15},
	} {
		e.Org, e.Actor = org, organizers[org]
		if _, err := svc.CreateEvent(ctx, e); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\n-- Transfers by", manager)
	seat := func(event string, n int64, req string) error {
		t, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: org, Actor: manager, Event: event, Quantity: n, RequestID: req})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %d seats -> %s\n", req, t.Quantity, t.Event)
		return nil
	}
	module := func(event, name, req string) error {
		t, err := svc.TransferModule(ctx, seats.TransferModuleParams{Org: org, Actor: manager, Event: event, Module: name, RequestID: req})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: module %s -> %s\n", req, t.Product.ModuleName(), t.Event)
		return nil
	}
	for _, step := range []func() error{
		func() error { return seat("summit", 48, "req-1") },
		func() error { return module("summit", "breakouts", "req-2") },
		func() error { return seat("webinar", 30, "req-3") },
		func() error { return module("webinar", "polls", "req-4") },
		func() error { return seat("townhall", 20, "req-5") },
		func() error { return module("townhall", "polls", "req-6") },
	} {
		if err := step(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\n-- Refusals")
	if _, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: org, Actor: manager, Event: "webinar", Quantity: 30, RequestID: "req-3"}); err != nil {
		return err
	}
	fmt.Fprintln(w, "req-3 submitted twice: transferred once")
	_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: org, Actor: "tom@northwind.test", Event: "launch", Quantity: 5, RequestID: "req-7"})
	refused(w, "tom (no role)", err, seats.ErrForbidden, "ErrForbidden")
	_, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: org, Actor: manager, Event: "townhall", Module: "breakouts", RequestID: "req-8"})
	refused(w, "breakouts for townhall", err, seats.ErrInsufficient, "ErrInsufficient")
	fmt.Fprintln(w, "  the message, fit for an API client:", err)
	_, err = svc.TransferModule(ctx, seats.TransferModuleParams{Org: org, Actor: manager, Event: "webinar", Module: "polls", RequestID: "req-9"})
	refused(w, "polls for webinar again", err, seats.ErrModuleAlreadyAssigned, "ErrModuleAlreadyAssigned")
	_, err = svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: org, Actor: "MARIA@Northwind.test", Event: "webinar", Quantity: 1, RequestID: "req-3"})
	refused(w, "req-3 reused for 1 seat by MARIA@Northwind.test (the same manager)", err, seats.ErrRequestReused, "ErrRequestReused")

	fmt.Fprintln(w, "\n-- Another organization, the same IDs")
	if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "fabrikam", Product: seats.Seats, Quantity: 10, Subscription: "SUB-F", Actor: "billing", RequestID: "inv-1001"}); err != nil {
		return err
	}
	if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Org: "fabrikam", Actor: organizers["fabrikam"], ID: "launch", Name: "Fabrikam Launch", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Participants: 6}); err != nil {
		return err
	}
	if _, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "fabrikam", Actor: allot.SystemActor}); err != nil {
		return err
	}
	for _, o := range []string{"fabrikam", org} {
		e, err := svc.Event(ctx, seats.EventParams{Org: o, Actor: organizers[o], ID: "launch"})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s's launch: %s, %d seats\n", o, e.Name, e.SeatsAssigned)
	}
	_, err = svc.Event(ctx, seats.EventParams{Org: "fabrikam", Actor: organizers["fabrikam"], ID: "webinar"})
	refused(w, "fabrikam asks for northwind's webinar", err, seats.ErrUnknownEvent, "ErrUnknownEvent")

	fmt.Fprintln(w, "\n-- The webinar grows to 42 participants; the periodic consumption check runs")
	clk.Advance(30 * time.Minute)
	if _, err := svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: org, Actor: organizers[org], Event: "webinar", Participants: 42}); err != nil {
		return err
	}
	res, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
	if err != nil {
		return err
	}
	for _, a := range res.Assigned {
		fmt.Fprintf(w, "assigned %d seats to %s (now %d)\n", a.Seats, a.Event, a.Reached)
	}
	for _, m := range res.Missing {
		fmt.Fprintf(w, "still missing on %s: %d seats, modules %v\n", m.ID, m.SeatsMissing, m.ModulesMissing)
	}
	again, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: manager})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "a second run, by %s by hand, assigns %d\n", manager, len(again.Assigned))
	_, err = svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: organizers[org]})
	refused(w, "the check by hand by "+organizers[org]+" (an Event organizer)", err, seats.ErrForbidden, "ErrForbidden")

	fmt.Fprintln(w, "\n-- Overview")
	pools, err := svc.Overview(ctx, seats.OverviewParams{Org: org, Actor: manager})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-18s %9s %8s %9s\n", "product", "purchased", "assigned", "available")
	for _, p := range pools {
		fmt.Fprintf(w, "%-18s %9d %8d %9d\n", p.Product, p.Purchased, p.Assigned, p.Available())
	}
	for _, o := range []string{org, "fabrikam"} {
		findings, err := svc.Audit(ctx, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "audit of %s: %d findings\n", o, len(findings))
	}
	fmt.Fprintln(w, "\nseat transactions:")
	page, err := svc.HistoryPage(ctx, seats.HistoryParams{Org: org, Actor: manager, Product: seats.Seats})
	if err != nil {
		return err
	}
	for _, t := range page.Items {
		fmt.Fprintf(w, "%s %-8s %4d %-27s -> %-14s by %-21s request %s\n",
			t.At.Format("2006-01-02 15:04"), t.Kind, t.Quantity, t.From, t.To, t.Actor, orDash(t.RequestID))
	}

	fmt.Fprintln(w, "\n-- Events (live and past)")
	evs, err := svc.EventsPage(ctx, seats.EventsParams{Org: org, Actor: manager, Statuses: []seats.Status{seats.StatusLive, seats.StatusPast}})
	if err != nil {
		return err
	}
	for _, x := range evs.Items {
		flag := ""
		if x.Lacks() {
			flag = "  <- missing " + strings.Join(x.ModulesMissing, " ")
		}
		line := fmt.Sprintf("%-9s %-5s participants %3d seats %3d modules used %-17s assigned %-10s%s",
			x.ID, x.Status, x.Participants, x.SeatsAssigned, strings.Join(x.Modules, ","), strings.Join(x.ModulesAssigned, ","), flag)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	missing, err := svc.EventsPage(ctx, seats.EventsParams{Org: org, Actor: manager, OnlyMissing: true})
	if err != nil {
		return err
	}
	fmt.Fprint(w, "missing entitlements, any status:")
	for _, x := range missing.Items {
		fmt.Fprintf(w, " %s (%s, %d seats, modules %v)", x.ID, x.Status, x.SeatsMissing, x.ModulesMissing)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "\n-- Export: overview.csv")
	if err := export(w, func() (table.Table, error) {
		return svc.OverviewTable(ctx, seats.OverviewParams{Org: org, Actor: manager})
	}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n-- Export: transactions.csv")
	if err := export(w, func() (table.Table, error) {
		return svc.HistoryTable(ctx, seats.HistoryParams{Org: org, Actor: manager})
	}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n-- Export: events.csv")
	return export(w, func() (table.Table, error) {
		return svc.EventsTable(ctx, seats.EventsParams{Org: org, Actor: manager})
	})
}

func export(w io.Writer, mk func() (table.Table, error)) error {
	t, err := mk()
	if err != nil {
		return err
	}
	return table.WriteCSV(w, t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// refused prints a refusal as a service maps it: its code and HTTP status
// (allot.ErrorCode, allot.HTTPStatus), and whether it matches its sentinel.
func refused(w io.Writer, what string, err error, sentinel error, name string) {
	fmt.Fprintf(w, "%s: %s (HTTP %d), %s: %v\n", what, allot.ErrorCode(err), allot.HTTPStatus(err), name, errors.Is(err, sentinel))
}
