package seats_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
)

// Example buys seats and a module, transfers them to an event, lets the
// consumption check cover the event's growth, and lists what is missing.
func Example() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &seats.StaticRoles{}
	roles.Grant("acme", "ana@acme.test")
	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})

	svc.Purchase(ctx, seats.PurchaseRequest{Org: "acme", Product: seats.Seats, Quantity: 100, Subscription: "sub-1", Actor: "billing", RequestID: "p1"})
	svc.Purchase(ctx, seats.PurchaseRequest{Org: "acme", Product: seats.Module("polls"), Quantity: 2, Subscription: "sub-1", Actor: "billing", RequestID: "p2"})
	svc.CreateEvent(ctx, seats.NewEvent{
		ID: "kickoff", Org: "acme", Name: "Kickoff", Participants: 40, Modules: []string{"polls", "qna"},
		Start: clk.Now(), End: clk.Now().Add(8 * time.Hour),
	})

	svc.TransferSeats(ctx, seats.SeatTransfer{Org: "acme", Actor: "ana@acme.test", Event: "kickoff", Quantity: 40, RequestID: "r1"})
	svc.TransferModule(ctx, seats.ModuleTransfer{Org: "acme", Actor: "ana@acme.test", Event: "kickoff", Module: "polls", RequestID: "r2"})
	_, err := svc.TransferSeats(ctx, seats.SeatTransfer{Org: "acme", Actor: "bob@acme.test", Event: "kickoff", Quantity: 5, RequestID: "r3"})
	fmt.Println("bob refused:", errors.Is(err, seats.ErrNotEntitlementManager))

	svc.SetParticipants(ctx, "acme", "kickoff", 52)
	res, _ := svc.CheckConsumption(ctx, "acme")
	for _, a := range res.Assigned {
		fmt.Printf("check assigned %d seats to %s (now %d)\n", a.Seats, a.Event, a.Reached)
	}

	pools, _ := svc.Overview(ctx, "acme", "ana@acme.test")
	for _, p := range pools {
		fmt.Printf("%s: purchased %d, assigned %d, available %d\n", p.Product, p.Purchased, p.Assigned, p.Available())
	}
	page, _ := svc.Workspaces(ctx, seats.WorkspaceQuery{Org: "acme", Actor: "ana@acme.test", OnlyMissing: true})
	for _, w := range page.Workspaces {
		fmt.Printf("%s (%s): %d participants, %d seats, missing seats %d, missing modules %v\n",
			w.ID, w.Status, w.Participants, w.SeatsAssigned, w.SeatsMissing, w.ModulesMissing)
	}
	table, _ := svc.WorkspacesTable(ctx, seats.WorkspaceQuery{Org: "acme", Actor: "ana@acme.test"})
	seats.WriteCSV(os.Stdout, table)
	// Output:
	// bob refused: true
	// check assigned 12 seats to kickoff (now 52)
	// module:polls: purchased 2, assigned 1, available 1
	// seat: purchased 100, assigned 52, available 48
	// kickoff (live): 52 participants, 52 seats, missing seats 0, missing modules [qna]
	// event,name,status,start,end,participants,seats assigned,seats missing,modules used,modules assigned,modules missing
	// kickoff,Kickoff,live,2026-05-04T09:00:00Z,2026-05-04T17:00:00Z,52,52,0,polls qna,polls,qna
}

// ExampleService_TransferSeats shows that a retried request transfers once
// and that the pool refuses overselling.
func ExampleService_TransferSeats() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &seats.StaticRoles{}
	roles.Grant("acme", "ana")
	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})
	svc.Purchase(ctx, seats.PurchaseRequest{Org: "acme", Product: seats.Seats, Quantity: 10, Subscription: "sub-1", Actor: "billing", RequestID: "p1"})
	svc.CreateEvent(ctx, seats.NewEvent{ID: "e1", Org: "acme", Start: clk.Now(), End: clk.Now().Add(time.Hour)})

	req := seats.SeatTransfer{Org: "acme", Actor: "ana", Event: "e1", Quantity: 6, RequestID: "r1"}
	first, _ := svc.TransferSeats(ctx, req)
	again, _ := svc.TransferSeats(ctx, req) // a double submit
	fmt.Println(first.ID == again.ID, first.Quantity)
	_, err := svc.TransferSeats(ctx, seats.SeatTransfer{Org: "acme", Actor: "ana", Event: "e1", Quantity: 6, RequestID: "r2"})
	fmt.Println(err)
	// Output:
	// true 6
	// transfer 6 seats to event "e1": seats: organization "acme" has 4 seats available, 6 requested; purchase more or transfer fewer
}

// ExampleService_CheckConsumption shows the check's order when the pool
// runs short: earliest start first, the event at which the pool runs out
// gets what is left, upcoming events wait, and modules are never assigned.
func ExampleService_CheckConsumption() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk})
	svc.Purchase(ctx, seats.PurchaseRequest{Org: "acme", Product: seats.Seats, Quantity: 10, Subscription: "sub-1", Actor: "billing", RequestID: "p1"})
	now := clk.Now()
	for _, e := range []seats.NewEvent{
		{ID: "b-live", Start: now.Add(-time.Hour), End: now.Add(time.Hour), Participants: 6, Modules: []string{"polls"}},
		{ID: "a-past", Start: now.Add(-48 * time.Hour), End: now.Add(-40 * time.Hour), Participants: 7},
		{ID: "c-soon", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour), Participants: 4},
	} {
		e.Org = "acme"
		svc.CreateEvent(ctx, e)
	}
	res, _ := svc.CheckConsumption(ctx, "acme")
	for _, a := range res.Assigned {
		fmt.Printf("assigned %d to %s\n", a.Seats, a.Event)
	}
	for _, m := range res.Missing {
		fmt.Printf("%s still misses %d seats and modules %v\n", m.ID, m.SeatsMissing, m.ModulesMissing)
	}
	again, _ := svc.CheckConsumption(ctx, "acme")
	fmt.Println("second run assigns", len(again.Assigned))
	// Output:
	// assigned 7 to a-past
	// assigned 3 to b-live
	// b-live still misses 3 seats and modules [polls]
	// second run assigns 0
}

// ExampleNeutralize shows the cells a CSV export makes inert.
func ExampleNeutralize() {
	for _, cell := range []string{"=SUM(A1:A9)", "@cmd", "-2+3", "Town Hall"} {
		fmt.Println(seats.Neutralize(cell))
	}
	// Output:
	// '=SUM(A1:A9)
	// '@cmd
	// '-2+3
	// Town Hall
}
