package xlsx_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/table"
	"github.com/allot-dev/allot/xlsx"
)

// TestLicenses_Golden writes Powtoon's license page (the summary, the
// distribution by team and the members) as one workbook, with a
// formula-like team and non-ASCII names.
func TestLicenses_Golden(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	const org, admin, vendor = "acme", "ada@acme.example", "vendor@allot.example"
	roles := new(allot.StaticRoles)
	if err := roles.Grant(org, admin, licenses.OrgAdmin); err != nil {
		t.Fatal(err)
	}
	if err := roles.Grant(org, vendor, allot.Vendor); err != nil {
		t.Fatal(err)
	}
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 5, RequestID: "o1"}))
	for _, team := range []string{"design", "=HYPERLINK(\"x\")", "Zürich"} {
		must(svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: team}))
	}
	invite := func(team, email string, expires time.Time) {
		t.Helper()
		must(svc.Invite(ctx, licenses.InviteParams{Org: org, Actor: admin, Team: team, Email: email, RequestID: "i-" + team + email, ExpiresAt: expires}))
	}
	invite("design", "bo@acme.example", time.Time{})
	invite("=HYPERLINK(\"x\")", "bo@acme.example", time.Time{})
	must(svc.Accept(ctx, licenses.AcceptParams{Org: org, Actor: "bo@acme.example", Email: "bo@acme.example"}))
	clk.Advance(time.Hour)
	invite("Zürich", "zoë@acme.example", t0.Add(8*24*time.Hour))
	var b bytes.Buffer
	summary, err := svc.SummaryTable(ctx, licenses.SummaryParams{Org: org, Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	teams, err := svc.TeamsTable(ctx, licenses.TeamsParams{Org: org, Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	members, err := svc.MembersTable(ctx, licenses.MembersParams{Org: org, Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	if err := xlsx.Write(&b, []table.Table{summary, teams, members}...); err != nil {
		t.Fatal(err)
	}
	goldenCells(t, "licenses.txt", b.Bytes())
}
