package seatsxlsx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/seats/seatsxlsx"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// org sets up an organization with seats, a module and an event named like a
// formula, and returns its three exports.
func org() ([]seats.Table, error) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	if err := roles.Grant("acme", "billing", allot.Vendor); err != nil {
		return nil, err
	}
	if err := roles.Grant("acme", "ana", seats.EntitlementManager); err != nil {
		return nil, err
	}
	svc, err := seats.New(memstore.New().Seats(), &seats.Options{Clock: clk, Roles: roles})
	if err != nil {
		return nil, err
	}
	for _, step := range []func() error{
		func() error {
			_, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 50, Subscription: "sub-1", RequestID: "p1"})
			return err
		},
		func() error {
			_, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Module("polls"), Quantity: 1, Subscription: "sub-1", RequestID: "p2"})
			return err
		},
		func() error {
			_, err := svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana", ID: "e1", Name: "=1+2", Start: clk.Now(), End: clk.Now().Add(time.Hour), Participants: 12, Modules: []string{"polls"}})
			return err
		},
		func() error {
			_, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 10, RequestID: "r1"})
			return err
		},
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	ov, err := svc.OverviewTable(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
	if err != nil {
		return nil, err
	}
	hist, err := svc.HistoryTable(ctx, seats.HistoryParams{Org: "acme", Actor: "ana"})
	if err != nil {
		return nil, err
	}
	evs, err := svc.EventsTable(ctx, seats.EventsParams{Org: "acme", Actor: "ana"})
	if err != nil {
		return nil, err
	}
	return []seats.Table{ov, hist, evs}, nil
}

func TestWrite(t *testing.T) {
	tables, err := org()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "entitlements.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := seatsxlsx.Write(out, tables...); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if diff := cmp.Diff([]string{"overview", "transactions", "events"}, f.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	rows, err := f.GetRows("overview")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"product", "purchased", "assigned", "available"},
		{"module:polls", "1", "0", "1"},
		{"seat", "50", "10", "40"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("overview rows (-want +got):\n%s", diff)
	}
	// Numbers are numbers, times are dates, a formula-like name is text.
	for _, c := range []struct {
		sheet, cell string
		want        excelize.CellType
	}{
		{"overview", "B2", excelize.CellTypeNumber},
		{"transactions", "D2", excelize.CellTypeNumber},
		{"events", "B2", excelize.CellTypeInlineString},
	} {
		typ, err := f.GetCellType(c.sheet, c.cell)
		if err != nil {
			t.Fatal(err)
		}
		// A number cell carries no type attribute, or the number one.
		ok := typ == c.want || (c.want == excelize.CellTypeNumber && typ == excelize.CellTypeUnset) ||
			(c.want == excelize.CellTypeInlineString && typ == excelize.CellTypeSharedString)
		if !ok {
			t.Errorf("%s!%s type = %v, want %v", c.sheet, c.cell, typ, c.want)
		}
	}
	if formula, _ := f.GetCellFormula("events", "B2"); formula != "" {
		t.Errorf("events!B2 has formula %q, want none", formula)
	}
	if v, _ := f.GetCellValue("events", "B2"); v != "=1+2" {
		t.Errorf("events!B2 = %q, want the name as text", v)
	}
	if v, _ := f.GetCellValue("transactions", "A2"); v != "2026-05-04 09:00:00" {
		t.Errorf("transactions!A2 = %q, want the date-time", v)
	}
}

func TestWrite_Errors(t *testing.T) {
	if err := seatsxlsx.Write(&bytes.Buffer{}); err == nil {
		t.Error("Write() with no tables succeeded")
	}
	boom := errors.New("boom")
	bad := seats.Table{Name: "bad", Columns: []seats.Column{{Name: "x"}}, Rows: func(yield func([]string, error) bool) { yield(nil, boom) }}
	if err := seatsxlsx.Write(&bytes.Buffer{}, bad); !errors.Is(err, boom) {
		t.Errorf("Write(failing rows) = %v, want boom", err)
	}
	empty := func(yield func([]string, error) bool) {}
	dup := []seats.Table{{Name: "a", Rows: iter.Seq2[[]string, error](empty)}, {Name: "a", Rows: empty}}
	if err := seatsxlsx.Write(&bytes.Buffer{}, dup...); err == nil {
		t.Error("Write with two sheets of one name succeeded")
	}
}

// A cell that does not parse as its column's kind is written as text, and an
// empty time as an empty cell.
func TestWrite_UnparsedCells(t *testing.T) {
	table := seats.Table{
		Name:    "odd",
		Columns: []seats.Column{{Name: "n", Kind: seats.Integer}, {Name: "at", Kind: seats.Time}},
		Rows: func(yield func([]string, error) bool) {
			_ = yield([]string{"n/a", "soon"}, nil) && yield([]string{"7", ""}, nil)
		},
	}
	var buf bytes.Buffer
	if err := seatsxlsx.Write(&buf, table); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("odd")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"n", "at"}, {"n/a", "soon"}, {"7"}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	for cell, want := range map[string]excelize.CellType{"A2": excelize.CellTypeInlineString, "B2": excelize.CellTypeInlineString, "A3": excelize.CellTypeUnset} {
		typ, err := f.GetCellType("odd", cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != want && !(want == excelize.CellTypeInlineString && typ == excelize.CellTypeSharedString) {
			t.Errorf("odd!%s type = %v, want %v", cell, typ, want)
		}
	}
}

// Example writes the overview, the transactions and the events of an
// organization to a workbook in a temporary directory.
func Example() {
	tables, err := org()
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "seatsxlsx")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "entitlements.xlsx")
	out, _ := os.Create(path)
	if err := seatsxlsx.Write(out, tables...); err != nil {
		fmt.Println(err)
	}
	out.Close()

	f, _ := excelize.OpenFile(path)
	defer f.Close()
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		fmt.Printf("%s: %d rows, header %v\n", sheet, len(rows), rows[0][:4])
	}
	// Output:
	// overview: 3 rows, header [product purchased assigned available]
	// transactions: 4 rows, header [when kind product quantity]
	// events: 2 rows, header [event name status start]
}
