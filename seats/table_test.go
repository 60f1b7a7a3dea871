package seats_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/table"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// tablesFixture is organization "acme" with seats and a module bought under
// a subscription with a formula-like name, a live event with a non-ASCII
// name lacking a module, a past event with a formula-like name, an
// upcoming one, a manager's transfers and the consumption check's.
func tablesFixture(t *testing.T) *fixture {
	f := newFixture(t)
	_, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats, Quantity: 50, Subscription: "=HYPERLINK(\"x\")", RequestID: "p1"})
	f.must(err)
	_, err = f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Module("polls"), Quantity: 2, Subscription: "sub-1", RequestID: "p2"})
	f.must(err)
	for _, e := range []seats.CreateEventParams{
		{ID: "kickoff", Name: "Kick-off Zürich", Start: start.Add(-time.Hour), End: start.Add(7 * time.Hour), Participants: 12, Modules: []string{"polls", "qna"}},
		{ID: "board", Name: "@board -2", Start: start.Add(-48 * time.Hour), End: start.Add(-40 * time.Hour), Participants: 5},
		{ID: "summit", Name: "Summit, Genève", Start: start.Add(72 * time.Hour), End: start.Add(80 * time.Hour), Participants: 30},
	} {
		e.Org, e.Actor = "acme", organizer
		_, err := f.svc.CreateEvent(f.ctx, e)
		f.must(err)
	}
	f.clock.Advance(time.Minute)
	f.must(second(f.seats("acme", "ana", "kickoff", 10, "-r1")))
	f.must(second(f.module("acme", "ana", "kickoff", "polls", "r2")))
	f.clock.Advance(time.Minute)
	f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})))
	return f
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, d)
	}
}

func csvOf(t *testing.T, tb table.Table, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := table.WriteCSV(&b, tb); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTables_Golden(t *testing.T) {
	f := tablesFixture(t)
	for _, c := range []struct {
		file    string
		make    func() (table.Table, error)
		name    string
		columns []table.Column
	}{
		{"overview.csv", func() (table.Table, error) {
			return f.svc.OverviewTable(f.ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
		}, "Overview", []table.Column{{Name: "Product"}, {Name: "Purchased", Kind: table.Integer}, {Name: "Assigned", Kind: table.Integer}, {Name: "Available", Kind: table.Integer}}},
		{"history.csv", func() (table.Table, error) {
			return f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana"})
		}, "Transactions", []table.Column{{Name: "Date", Kind: table.Time}, {Name: "Type"}, {Name: "Product"}, {Name: "Quantity", Kind: table.Integer},
			{Name: "From"}, {Name: "To"}, {Name: "Event"}, {Name: "By"}, {Name: "Request ID"}, {Name: "Subscription"}}},
		{"history_kickoff.csv", func() (table.Table, error) {
			return f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Event: "kickoff", Limit: 1})
		}, "Transactions", nil},
		{"events.csv", func() (table.Table, error) {
			return f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana"})
		}, "Events", []table.Column{{Name: "Event"}, {Name: "Name"}, {Name: "Start", Kind: table.Time}, {Name: "End", Kind: table.Time},
			{Name: "Status"}, {Name: "Participants", Kind: table.Integer}, {Name: "Seats assigned", Kind: table.Integer},
			{Name: "Seats missing", Kind: table.Integer}, {Name: "Modules assigned"}, {Name: "Modules missing"}}},
		{"events_missing.csv", func() (table.Table, error) {
			return f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", OnlyMissing: true, Limit: 1})
		}, "Events", nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			tb, err := c.make()
			if err != nil {
				t.Fatal(err)
			}
			if tb.Name != c.name {
				t.Errorf("Name = %q, want %q", tb.Name, c.name)
			}
			if c.columns != nil {
				if d := cmp.Diff(c.columns, tb.Columns); d != "" {
					t.Errorf("columns (-want +got):\n%s", d)
				}
			}
			got := csvOf(t, tb, nil)
			golden(t, c.file, got)
			// Ranging again reads the store again.
			if again := csvOf(t, tb, nil); !bytes.Equal(again, got) {
				t.Errorf("a second range over the rows wrote\n%q", again)
			}
		})
	}
}

func TestTables_Refusals(t *testing.T) {
	f := tablesFixture(t)
	for name, mk := range map[string]func() (table.Table, error){
		"Overview": func() (table.Table, error) {
			return f.svc.OverviewTable(f.ctx, seats.OverviewParams{Org: "acme", Actor: "bob"})
		},
		"History": func() (table.Table, error) {
			return f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "bob"})
		},
		"Events": func() (table.Table, error) {
			return f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "organizer"})
		},
	} {
		if _, err := mk(); !errors.Is(err, seats.ErrForbidden) || allot.ErrorCode(err) != allot.CodeForbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	for name, mk := range map[string]func() (table.Table, error){
		"OverviewOrg": func() (table.Table, error) { return f.svc.OverviewTable(f.ctx, seats.OverviewParams{Actor: "ana"}) },
		"HistoryOrg":  func() (table.Table, error) { return f.svc.HistoryTable(f.ctx, seats.HistoryParams{Actor: "ana"}) },
		"EventsOrg":   func() (table.Table, error) { return f.svc.EventsTable(f.ctx, seats.EventsParams{Actor: "ana"}) },
		"HistoryCursor": func() (table.Table, error) {
			return f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Cursor: "bad"})
		},
		"EventsCursor": func() (table.Table, error) {
			return f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", Cursor: "bad"})
		},
		"EventsLimit": func() (table.Table, error) {
			return f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", Limit: -1})
		},
	} {
		if _, err := mk(); !errors.Is(err, seats.ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	t.Run("RowErrorsReachTheWriter", func(t *testing.T) {
		tb, err := f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Event: "nope"})
		f.must(err)
		if err := table.WriteCSV(&bytes.Buffer{}, tb); !errors.Is(err, seats.ErrUnknownEvent) {
			t.Errorf("WriteCSV = %v, want ErrUnknownEvent", err)
		}
		for _, mk := range []func() (table.Table, error){
			func() (table.Table, error) {
				return f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana"})
			},
			func() (table.Table, error) {
				return f.svc.OverviewTable(f.ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
			},
		} {
			tb, err := mk()
			f.must(err)
			f.roles.Revoke("ana")
			err = table.WriteCSV(&bytes.Buffer{}, tb)
			f.roles.Grant("acme", "ana", seats.EntitlementManager)
			if !errors.Is(err, seats.ErrForbidden) {
				t.Errorf("WriteCSV(%s) after the role was revoked = %v, want ErrForbidden", tb.Name, err)
			}
		}
	})
}
