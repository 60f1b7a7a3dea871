package passes_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/table"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// tablesFixture is a workspace "acme" with two custom fields, an internal
// day session and an external 30-day session with a formula-like name, and
// logins over two days of March and one of April, one of them inside its
// window, with a formula-like and a non-ASCII location.
func tablesFixture(t *testing.T) *fixture {
	f := newFixture(t, nil)
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Reference"}, {Name: "Note"}}}); err != nil {
		t.Fatal(err)
	}
	f.buy("acme", 20, "o1")
	f.session(passes.Session{ID: "kickoff", Org: "acme", Name: "Kick-off Zürich", Owner: "olga@acme.example", Fields: []passes.FieldValue{{Name: "Reference", Value: "CC-410"}}})
	f.session(passes.Session{ID: "board", Org: "acme", Name: "=HYPERLINK(\"x\")", Owner: "piet@acme.example", External: true, PassType: passes.MonthPass})
	for _, l := range []struct {
		after    time.Duration
		session  string
		guest    string
		location string
		note     string
	}{
		{0, "kickoff", "ann@acme.example", "Zürich", ""},
		{time.Hour, "kickoff", "zoë@partner.example", "＝1+1", "line one\nline two"},
		{2 * time.Hour, "board", "cleo@board.example", "Genève, Suisse", "-2"},
		{3 * time.Hour, "kickoff", "ann@acme.example", "Zürich", ""}, // inside ann's window: 0 passes
		{24 * time.Hour, "kickoff", "ann@acme.example", "Basel", "@SUM(A1)"},
		{31 * 24 * time.Hour, "board", "cleo@board.example", "Genève", ""},
	} {
		f.clock.Set(t0.Add(l.after))
		var fields map[string]string
		if l.note != "" {
			fields = map[string]string{"Note": l.note}
		}
		if _, err := f.svc.Login(f.ctx, passes.LoginParams{Org: "acme", Session: l.session, Guest: l.guest, Location: l.location,
			RequestID: l.session + l.after.String(), Fields: fields}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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

func TestLogTable_Golden(t *testing.T) {
	f := tablesFixture(t)
	tb, err := f.svc.LogTable(f.ctx, passes.LogParams{Org: "acme", Actor: admin})
	want := []table.Column{
		{Name: "Timestamp", Kind: table.Time}, {Name: "Session ID"}, {Name: "Session Name"}, {Name: "Internal/External"},
		{Name: "Location"}, {Name: "User"}, {Name: "Session Owner"}, {Name: "Passes", Kind: table.Integer},
		{Name: "Balance", Kind: table.Integer}, {Name: "Reference"}, {Name: "Note"},
	}
	if d := cmp.Diff(want, tb.Columns); d != "" {
		t.Errorf("columns (-want +got):\n%s", d)
	}
	got := csvOf(t, tb, err)
	golden(t, "log.csv", got)
	// ExportCSV writes the same bytes.
	var b bytes.Buffer
	if err := f.svc.ExportCSV(f.ctx, &b, passes.LogParams{Org: "acme", Actor: admin}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), got) {
		t.Errorf("ExportCSV wrote\n%q\nLogTable\n%q", b.Bytes(), got)
	}
	// Ranging again reads the log again.
	if again := csvOf(t, tb, nil); !bytes.Equal(again, got) {
		t.Errorf("a second range over the rows wrote\n%q", again)
	}
}

func TestLogTable_BillingFilter(t *testing.T) {
	f := tablesFixture(t)
	for name, b := range map[string]passes.Billing{"log_external.csv": passes.External, "log_internal.csv": passes.Internal} {
		tb, err := f.svc.LogTable(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Billing: b})
		golden(t, name, csvOf(t, tb, err))
		page, err := f.svc.LogPage(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Billing: b})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Items {
			if u.External != (b == passes.External) {
				t.Errorf("LogPage(Billing %q) holds a row of session %q", b, u.Session)
			}
		}
	}
	_, err := f.svc.LogTable(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Billing: "both"})
	var ie *passes.InvalidError
	if !errors.As(err, &ie) || ie.Field != "Billing" || allot.ErrorCode(err) != allot.CodeInvalid {
		t.Errorf("Billing \"both\": %v, want an invalid Billing", err)
	}
}

func TestTotals(t *testing.T) {
	f := tablesFixture(t)
	march, april := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name string
		p    passes.TotalsParams
		want []passes.Total
	}{
		{"ByMonth", passes.TotalsParams{}, []passes.Total{
			{Period: march, Billing: passes.Internal, Logins: 4, Passes: 3},
			{Period: march, Billing: passes.External, Logins: 1, Passes: 2},
			{Period: april, Billing: passes.External, Logins: 1, Passes: 2},
		}},
		{"ByDay", passes.TotalsParams{Period: passes.Day}, []passes.Total{
			{Period: day(2), Billing: passes.Internal, Logins: 3, Passes: 2},
			{Period: day(2), Billing: passes.External, Logins: 1, Passes: 2},
			{Period: day(3), Billing: passes.Internal, Logins: 1, Passes: 1},
			{Period: time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), Billing: passes.External, Logins: 1, Passes: 2},
		}},
		{"External", passes.TotalsParams{Billing: passes.External}, []passes.Total{
			{Period: march, Billing: passes.External, Logins: 1, Passes: 2},
			{Period: april, Billing: passes.External, Logins: 1, Passes: 2},
		}},
		{"FromToSession", passes.TotalsParams{Period: passes.Day, Session: "kickoff", From: t0.Add(time.Hour), To: april}, []passes.Total{
			{Period: day(2), Billing: passes.Internal, Logins: 2, Passes: 1},
			{Period: day(3), Billing: passes.Internal, Logins: 1, Passes: 1},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.p.Org, c.p.Actor = "acme", admin
			got, err := f.svc.Totals(f.ctx, c.p)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("Totals (-want +got):\n%s", d)
			}
		})
	}
	tb, err := f.svc.TotalsTable(f.ctx, passes.TotalsParams{Org: "acme", Actor: admin, Period: passes.Day})
	golden(t, "totals_day.csv", csvOf(t, tb, err))

	_, err = f.svc.Totals(f.ctx, passes.TotalsParams{Org: "acme", Actor: admin, Period: "week"})
	var ie *passes.InvalidError
	if !errors.As(err, &ie) || ie.Field != "Period" {
		t.Errorf("Period \"week\": %v, want an invalid Period", err)
	}
}
