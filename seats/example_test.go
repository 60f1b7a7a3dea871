package seats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/table"
)

// Example buys seats and a module, transfers them to an event, lets the
// consumption check cover the event's growth, and lists what is missing.
func Example() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "billing", allot.Vendor)
	roles.Grant("acme", "ana@acme.test", seats.EntitlementManager)
	roles.Grant("acme", "eve@acme.test", seats.EventOrganizer)
	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})

	bought, _ := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 100, Subscription: "sub-1", RequestID: "p1"})
	fmt.Println("purchased", bought.Purchased, "available", bought.Available)
	svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Module("polls"), Quantity: 2, Subscription: "sub-1", RequestID: "p2"})
	svc.CreateEvent(ctx, seats.CreateEventParams{
		Org: "acme", Actor: "eve@acme.test", ID: "kickoff", Name: "Kickoff", Participants: 40, Modules: []string{"polls", "qna"},
		Start: clk.Now(), End: clk.Now().Add(8 * time.Hour),
	})

	svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana@acme.test", Event: "kickoff", Quantity: 40, RequestID: "r1"})
	svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana@acme.test", Event: "kickoff", Module: "polls", RequestID: "r2"})
	_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "eve@acme.test", Event: "kickoff", Quantity: 5, RequestID: "r3"})
	fmt.Println("eve refused:", errors.Is(err, seats.ErrForbidden))

	svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: "eve@acme.test", Event: "kickoff", Participants: 52})
	res, _ := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor}) // the periodic run
	for _, a := range res.Assigned {
		fmt.Printf("check assigned %d seats to %s (now %d)\n", a.Seats, a.Event, a.Reached)
	}

	pools, _ := svc.Overview(ctx, seats.OverviewParams{Org: "acme", Actor: "ana@acme.test"})
	for _, p := range pools {
		fmt.Printf("%s: purchased %d, assigned %d, available %d\n", p.Product, p.Purchased, p.Assigned, p.Available())
	}
	for e, err := range svc.Events(ctx, seats.EventsParams{Org: "acme", Actor: "ana@acme.test", OnlyMissing: true}) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%s (%s): %d participants, %d seats, missing seats %d, missing modules %v\n",
			e.ID, e.Status, e.Participants, e.SeatsAssigned, e.SeatsMissing, e.ModulesMissing)
	}
	tb, _ := svc.EventsTable(ctx, seats.EventsParams{Org: "acme", Actor: "ana@acme.test"})
	var csv strings.Builder
	table.WriteCSV(&csv, tb)
	fmt.Print(strings.ReplaceAll(csv.String(), "\r\n", "\n")) // records end in CRLF (RFC 4180)
	// Output:
	// purchased 100 available 100
	// eve refused: true
	// check assigned 12 seats to kickoff (now 52)
	// module:polls: purchased 2, assigned 1, available 1
	// seat: purchased 100, assigned 52, available 48
	// kickoff (live): 52 participants, 52 seats, missing seats 0, missing modules [qna]
	// Event,Name,Start,End,Status,Participants,Seats assigned,Seats missing,Modules assigned,Modules missing
	// kickoff,Kickoff,2026-05-04T09:00:00Z,2026-05-04T17:00:00Z,Live,52,52,0,polls,qna
}

// ExampleService_TransferSeats shows that a retried request transfers once
// and that the pool refuses overselling.
func ExampleService_TransferSeats() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "billing", allot.Vendor)
	roles.Grant("acme", "ana", seats.EntitlementManager)
	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})
	svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 10, RequestID: "p1"})
	svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana", ID: "e1", Start: clk.Now(), End: clk.Now().Add(time.Hour)})

	req := seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 6, RequestID: "r1"}
	first, _ := svc.TransferSeats(ctx, req)
	again, _ := svc.TransferSeats(ctx, req) // a double submit
	fmt.Println(first.ID == again.ID, first.Quantity)
	_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 6, RequestID: "r2"})
	fmt.Println(err)
	// Output:
	// true 6
	// transfer 6 seats to event "e1": seats: organization "acme" has 4 seats available, 6 requested; purchase more or transfer fewer
}

// ExampleService_CheckConsumption shows the check's order when the pool
// runs short: earliest start first, the event at which the pool runs out
// gets what is left, upcoming events wait, and modules are never assigned.
// The periodic run acts as allot.SystemActor and needs no role; an
// Entitlement manager may run it by hand.
func ExampleService_CheckConsumption() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "billing", allot.Vendor)
	roles.Grant("acme", "ana", seats.EntitlementManager)
	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})
	svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 10, Subscription: "sub-1", RequestID: "p1"})
	now := clk.Now()
	for _, e := range []seats.CreateEventParams{
		{ID: "b-live", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Participants: 6, Modules: []string{"polls"}},
		{ID: "a-past", Start: now.Add(-48 * time.Hour), End: now.Add(-40 * time.Hour), Participants: 7},
		{ID: "c-soon", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour), Participants: 4},
	} {
		e.Org, e.Actor = "acme", "ana"
		svc.CreateEvent(ctx, e)
	}
	res, _ := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
	for _, a := range res.Assigned {
		fmt.Printf("assigned %d to %s\n", a.Seats, a.Event)
	}
	for _, m := range res.Missing {
		fmt.Printf("%s still misses %d seats and modules %v\n", m.ID, m.SeatsMissing, m.ModulesMissing)
	}
	// Ana runs it by hand: nothing changed, so nothing moves.
	again, _ := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: "ana"})
	fmt.Println("second run assigns", len(again.Assigned))
	// Output:
	// assigned 7 to a-past
	// assigned 3 to b-live
	// b-live still misses 3 seats and modules [polls]
	// second run assigns 0
}
