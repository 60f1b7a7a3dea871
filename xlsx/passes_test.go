package xlsx_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/table"
	"github.com/allot-dev/allot/xlsx"
)

// TestPasses_Golden writes the usage log (ThinkTank's Session Passes) and
// its daily internal/external totals as one workbook.
func TestPasses_Golden(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	const admin, vendor = "olga@acme.example", "vendor@allot.example"
	roles := new(allot.StaticRoles)
	if err := roles.Grant("acme", admin, passes.WorkspaceAdmin); err != nil {
		t.Fatal(err)
	}
	if err := roles.Grant("acme", vendor, allot.Vendor); err != nil {
		t.Fatal(err)
	}
	svc, err := passes.New(memstore.New().Passes(), &passes.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Reference"}, {Name: "Note"}}}))
	must(svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 20, RequestID: "o1"}))
	must(svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: admin, ID: "kickoff", Name: "Kick-off Zürich", Owner: admin,
		Fields: []passes.FieldValue{{Name: "Reference", Value: "CC-410"}}}))
	must(svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: admin, ID: "board", Name: "=HYPERLINK(\"x\")", Owner: "piet@acme.example",
		External: true, PassType: passes.MonthPass}))
	for i, l := range []struct {
		after                     time.Duration
		session, guest, loc, note string
	}{
		{0, "kickoff", "ann@acme.example", "Zürich", ""},
		{time.Hour, "kickoff", "zoë@partner.example", "＝1+1", "line one\nline two"},
		{2 * time.Hour, "board", "cleo@board.example", "Genève, Suisse", "-2"},
		{3 * time.Hour, "kickoff", "ann@acme.example", "Zürich", ""},
		{24 * time.Hour, "kickoff", "ann@acme.example", "Basel", "@SUM(A1)"},
	} {
		clk.Set(t0.Add(l.after))
		var fields map[string]string
		if l.note != "" {
			fields = map[string]string{"Note": l.note}
		}
		must(svc.Login(ctx, passes.LoginParams{Org: "acme", Session: l.session, Guest: l.guest, Location: l.loc, RequestID: string(rune('a' + i)), Fields: fields}))
	}
	log, err := svc.LogTable(ctx, passes.LogParams{Org: "acme", Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	totals, err := svc.TotalsTable(ctx, passes.TotalsParams{Org: "acme", Actor: admin, Period: passes.Day})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := xlsx.Write(&b, []table.Table{log, totals}...); err != nil {
		t.Fatal(err)
	}
	goldenCells(t, "passes.txt", b.Bytes())
}
