package licenses_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/table"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// tablesFixture is an organization of 10 licenses with a formula-like and
// a non-ASCII team, and members in every state: active in two teams,
// pending with an expiry, expired, unassigned, and a non-ASCII address.
func tablesFixture(t *testing.T) *fixture {
	f := newFixture(t, 10)
	for _, team := range []string{"=HYPERLINK(\"x\")", "Zürich"} {
		if _, err := f.svc.CreateTeam(f.ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: team}); err != nil {
			t.Fatal(err)
		}
	}
	f.active("design", "bo@acme.test")
	f.clock.Advance(time.Hour)
	f.invite("=HYPERLINK(\"x\")", "bo@acme.test", time.Time{})
	f.invite("sales", "cy@acme.test", f.clock.Now().Add(7*24*time.Hour))
	f.invite("ops", "di@acme.test", f.clock.Now().Add(time.Hour))
	f.active("ops", "ed@acme.test")
	f.remove("ops", "ed@acme.test")
	f.active("Zürich", "zoë@acme.test")
	f.clock.Advance(2 * time.Hour) // di's invitation expires
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

// The license page's tables as CSV: the summary, the teams and the
// members, whole and filtered, read a page of 2 at a time.
func TestTables_Golden(t *testing.T) {
	f := tablesFixture(t)
	for _, c := range []struct {
		file string
		tb   func() (table.Table, error)
	}{
		{"summary.csv", func() (table.Table, error) {
			return f.svc.SummaryTable(f.ctx, licenses.SummaryParams{Org: org, Actor: admin})
		}},
		{"teams.csv", func() (table.Table, error) {
			return f.svc.TeamsTable(f.ctx, licenses.TeamsParams{Org: org, Actor: admin, Limit: 2})
		}},
		{"members.csv", func() (table.Table, error) {
			return f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: admin, Limit: 2})
		}},
		{"members_pending.csv", func() (table.Table, error) {
			return f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: admin, State: licenses.StatePending})
		}},
		{"members_ops.csv", func() (table.Table, error) {
			return f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: admin, Team: "ops", Limit: 1})
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			tb, err := c.tb()
			golden(t, c.file, csvOf(t, tb, err))
		})
	}
}

// The members table lists what the members pages list, every page.
func TestTables_MembersEqualPages(t *testing.T) {
	f := tablesFixture(t)
	tb, err := f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: admin, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for row, err := range tb.Rows {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row[0]+" "+row[1])
	}
	var want []string
	for m, err := range f.svc.Members(f.ctx, licenses.MembersParams{Org: org, Actor: admin}) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.Email+" "+string(m.State))
	}
	if d := cmp.Diff(want, got); d != "" || len(got) != 5 {
		t.Errorf("rows (-pages +table):\n%s", d)
	}
}

// Each table checks its view's role when it is made, and refuses bad
// input the same way.
func TestTables_Refusals(t *testing.T) {
	f := tablesFixture(t)
	f.roles.Grant(org, "sal@acme.test", licenses.TeamAdmin("sales"))
	for _, c := range []struct {
		name string
		want error
		call func() (table.Table, error)
	}{
		{"SummaryByTeamAdmin", allot.ErrForbidden, func() (table.Table, error) {
			return f.svc.SummaryTable(f.ctx, licenses.SummaryParams{Org: org, Actor: "sal@acme.test"})
		}},
		{"TeamsByTeamAdmin", allot.ErrForbidden, func() (table.Table, error) {
			return f.svc.TeamsTable(f.ctx, licenses.TeamsParams{Org: org, Actor: "sal@acme.test"})
		}},
		{"MembersByTeamAdmin", allot.ErrForbidden, func() (table.Table, error) {
			return f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: "sal@acme.test"})
		}},
		{"MembersOtherTeam", allot.ErrForbidden, func() (table.Table, error) {
			return f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: "sal@acme.test", Team: "ops"})
		}},
		{"MembersBadState", licenses.ErrInvalid, func() (table.Table, error) {
			return f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: admin, State: "gone"})
		}},
		{"TeamsBadLimit", licenses.ErrInvalid, func() (table.Table, error) {
			return f.svc.TeamsTable(f.ctx, licenses.TeamsParams{Org: org, Actor: admin, Limit: -1})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.call(); !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
	// A Team Admin exports its own team's members.
	tb, err := f.svc.MembersTable(f.ctx, licenses.MembersParams{Org: org, Actor: "sal@acme.test", Team: "sales"})
	if got := csvOf(t, tb, err); !bytes.Contains(got, []byte("cy@acme.test,pending,sales")) {
		t.Errorf("sales members:\n%s", got)
	}
	// An unknown organization is an error of the rows.
	f.roles.Grant("nobody", admin, licenses.OrgAdmin)
	tb, err = f.svc.SummaryTable(f.ctx, licenses.SummaryParams{Org: "nobody", Actor: admin})
	if err == nil {
		err = table.WriteCSV(new(bytes.Buffer), tb)
	}
	if !errors.Is(err, licenses.ErrUnknownOrg) {
		t.Errorf("summary of an unknown organization: %v", err)
	}
}
