package seats_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
)

func benchService(b *testing.B) (*seats.Service, *clock.Fake) {
	b.Helper()
	clk := clock.NewFake(start)
	svc, err := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: testRoles()})
	if err != nil {
		b.Fatal(err)
	}
	return svc, clk
}

// BenchmarkSeats_Transfer transfers one seat per operation, each with its
// own request ID, to one of 100 events.
func BenchmarkSeats_Transfer(b *testing.B) {
	ctx := context.Background()
	svc, clk := benchService(b)
	if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1 << 40, Subscription: "s", Actor: "billing", RequestID: "p"}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = "e" + strconv.Itoa(i)
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Actor: organizer, ID: ids[i], Org: "acme", Start: clk.Now(), End: clk.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: ids[i%len(ids)], Quantity: 1, RequestID: strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSeats_ConsumptionCheck runs the consumption check over 10,000
// live events that each lack one seat: every operation assigns 10,000
// seats in 10,000 transfers.
func BenchmarkSeats_ConsumptionCheck(b *testing.B) {
	const events = 10_000
	ctx := context.Background()
	svc, clk := benchService(b)
	if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1 << 40, Subscription: "s", Actor: "billing", RequestID: "p"}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, events)
	for i := range ids {
		ids[i] = "e" + strconv.Itoa(i)
		s := clk.Now().Add(-time.Duration(i) * time.Second)
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Actor: organizer, ID: ids[i], Org: "acme", Start: s, End: s.Add(24 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	participants := int64(0)
	for b.Loop() {
		b.StopTimer()
		participants++
		for _, id := range ids {
			if _, err := svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: id, Participants: participants}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		res, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Assigned) != events {
			b.Fatalf("assigned %d events, want %d", len(res.Assigned), events)
		}
	}
}
