package xlsx_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/table"
	"github.com/allot-dev/allot/xlsx"
)

// seatsTables sets up organization "acme" (seats and a module bought under
// a formula-like subscription, a live event with a non-ASCII name lacking a
// module, a past event with a formula-like name, a transfer and the
// consumption check) and returns its Entitlements tab's three tables.
func seatsTables(t *testing.T) (*seats.Service, []table.Table) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	roles := &allot.StaticRoles{}
	if err := roles.Grant("acme", "billing", allot.Vendor); err != nil {
		t.Fatal(err)
	}
	if err := roles.Grant("acme", "ana", seats.EntitlementManager); err != nil {
		t.Fatal(err)
	}
	svc, err := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 50, Subscription: "=HYPERLINK(\"x\")", RequestID: "p1"}))
	must(svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Module("polls"), Quantity: 1, Subscription: "sub-1", RequestID: "p2"}))
	must(svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana", ID: "kickoff", Name: "Kick-off Zürich", Start: t0, End: t0.Add(8 * time.Hour), Participants: 12, Modules: []string{"polls", "qna"}}))
	must(svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana", ID: "board", Name: "=1+2", Start: t0.Add(-48 * time.Hour), End: t0.Add(-40 * time.Hour), Participants: 3}))
	clk.Advance(time.Minute)
	must(svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "kickoff", Quantity: 10, RequestID: "r1"}))
	must(svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "kickoff", Module: "polls", RequestID: "r2"}))
	must(svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor}))
	ov, err := svc.OverviewTable(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
	must(nil, err)
	hist, err := svc.HistoryTable(ctx, seats.HistoryParams{Org: "acme", Actor: "ana"})
	must(nil, err)
	evs, err := svc.EventsTable(ctx, seats.EventsParams{Org: "acme", Actor: "ana"})
	must(nil, err)
	return svc, []table.Table{ov, hist, evs}
}

// TestSeats_Golden writes SpotMe's Entitlements tab (the overview, the
// transactions and the events) as one workbook: numbers are numbers, times
// date-times, a formula-like name a string.
func TestSeats_Golden(t *testing.T) {
	_, tables := seatsTables(t)
	var b bytes.Buffer
	if err := xlsx.Write(&b, tables...); err != nil {
		t.Fatal(err)
	}
	goldenCells(t, "seats.txt", b.Bytes())
}

// A seats table's refusal, met while its rows are read, keeps its code and
// its sentinel.
func TestSeats_RowRefusal(t *testing.T) {
	svc, _ := seatsTables(t)
	hist, err := svc.HistoryTable(context.Background(), seats.HistoryParams{Org: "acme", Actor: "ana", Event: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = xlsx.Write(&b, hist)
	if !errors.Is(err, seats.ErrUnknownEvent) || allot.ErrorCode(err) != allot.CodeNotFound {
		t.Errorf("Write = %v, want the unknown event, not_found", err)
	}
}
