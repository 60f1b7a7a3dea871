// Command sessionpasses replays a month of one ThinkTank-style workspace
// with session passes: a daily workshop on day passes, a board on a 30-day
// pass, a demo that locks after four hours, a login refused for lack of
// passes and paid after a top-up. It prints what each login decided, what
// the workspace's audit against the ledger found, the workspace's usage log,
// and the log as CSV, on an in-memory store and a fake clock, so its output is
// the same on every run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sessionpasses:", err)
		os.Exit(1)
	}
}

const ws = "northwind"

// The workspace's administrators, and the vendor's billing system.
const (
	olga    = "olga@northwind.example"
	piet    = "piet@northwind.example"
	billing = "billing"
)

// event is one step of the month: a purchase or a login at a time.
type event struct {
	at       string // "2006-01-02 15:04", UTC
	buy      int64  // a purchase of this many passes, or
	session  string // a login to this session
	guest    string
	location string
	request  string
	fields   map[string]string
	title    string // an activity title to show the guest, decorated for demos
	note     string // printed under the line
}

var month = []event{
	{at: "2026-03-02 08:00", buy: 6, request: "order-1"},
	{at: "2026-03-02 09:00", session: "workshop", guest: "ann@northwind.example", location: "Zurich", request: "L1"},
	{at: "2026-03-02 09:05", session: "workshop", guest: "ben@partner.example", location: "Basel", request: "L2"},
	{at: "2026-03-02 15:30", session: "workshop", guest: "Ann@Northwind.example", location: "Zurich", request: "L3"},
	{at: "2026-03-03 10:00", session: "board", guest: "cleo@board.example", location: "Geneva", request: "L4", fields: map[string]string{"Note": "Q1 review"}},
	{at: "2026-03-09 09:00", session: "workshop", guest: "ann@northwind.example", location: "Zurich", request: "L5"},
	{at: "2026-03-10 10:00", session: "demo", guest: "dan@prospect.example", location: "Lyon", request: "L6", title: "Brainstorm: new product names"},
	{at: "2026-03-10 13:00", session: "demo", guest: "eve@prospect.example", location: "Lyon", request: "L7", title: "Vote: top three names"},
	{at: "2026-03-10 14:00", session: "demo", guest: "eve@prospect.example", location: "Lyon", request: "L8", title: "Vote: top three names"},
	{at: "2026-03-16 09:00", session: "board", guest: "fay@board.example", location: "=cmd|' /C calc'!A0", request: "L9",
		note: "refused: nothing changed, so the same request may be retried after a top-up"},
	{at: "2026-03-16 09:30", buy: 10, request: "order-2"},
	{at: "2026-03-16 09:31", session: "board", guest: "fay@board.example", location: "=cmd|' /C calc'!A0", request: "L9"},
	{at: "2026-03-16 09:32", session: "board", guest: "fay@board.example", location: "=cmd|' /C calc'!A0", request: "L9",
		note: "a retry of L9 returns its first decision and spends nothing more"},
	{at: "2026-03-30 11:00", session: "board", guest: "cleo@board.example", location: "Geneva", request: "L10", fields: map[string]string{"Note": "Q1 close"}},
	{at: "2026-03-30 11:05", session: "workshop", guest: "ben@partner.example", location: "Basel", request: "L11"},
	{at: "2026-03-30 11:10", session: "workshop", guest: "ZOË@Partner.example", location: "Basel", request: "L12"},
	{at: "2026-03-30 11:15", session: "workshop", guest: "zoë@partner.example", location: "Basel", request: "L13",
		note: "one guest however the address is cased, beyond ASCII too: inside the window of L12"},
}

// run replays the month and prints it to w.
func run(w io.Writer) error {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	// Olga and Piet administer the workspace; the vendor's billing system
	// sells it passes.
	roles := &allot.StaticRoles{}
	for _, admin := range []string{olga, piet} {
		if err := roles.Grant(ws, admin, passes.WorkspaceAdmin); err != nil {
			return err
		}
	}
	if err := roles.Grant(ws, billing, allot.Vendor); err != nil {
		return err
	}
	svc, err := passes.New(memstore.New().Passes(), &passes.Options{Clock: clk, Roles: roles})
	if err != nil {
		return err
	}
	if _, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: ws, Actor: olga, Fields: []passes.FieldDef{{Name: "Reference", Required: true}, {Name: "Note"}}}); err != nil {
		return err
	}
	// Each session's creator is its owner.
	for _, s := range []passes.CreateSessionParams{
		{Actor: olga, ID: "workshop", Name: "Daily workshop", Fields: []passes.FieldValue{{Name: "Reference", Value: "CC-410"}}},
		{Actor: piet, ID: "board", Name: "Board (async)", External: true, PassType: passes.MonthPass, Fields: []passes.FieldValue{{Name: "Reference", Value: "PO-2026-17"}}},
		{Actor: olga, ID: "demo", Name: "Product demo", PassType: passes.DemoPass, Fields: []passes.FieldValue{{Name: "Reference", Value: "SALES"}}},
	} {
		s.Org = ws
		if _, err := svc.CreateSession(ctx, s); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "The month of workspace %s\n\n", ws)
	for _, e := range month {
		at, err := time.Parse("2006-01-02 15:04", e.at)
		if err != nil {
			return err
		}
		clk.Set(at)
		if e.buy > 0 {
			p, err := svc.Purchase(ctx, passes.PurchaseParams{Org: ws, Actor: billing, Quantity: e.buy, RequestID: e.request})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s  buy %d passes (%s): balance %d\n", e.at, e.buy, e.request, p.Available)
			continue
		}
		d, err := svc.Login(ctx, passes.LoginParams{
			Org: ws, Session: e.session, Guest: e.guest, Location: e.location, RequestID: e.request, Fields: e.fields,
		})
		if err != nil && !errors.Is(err, passes.ErrRefused) {
			return err
		}
		fmt.Fprintf(w, "%s  %-4s %-22s -> %-9s %s\n", e.at, e.request, e.guest, e.session, d)
		if e.title != "" && d.Allowed {
			fmt.Fprintf(w, "%18s activity: %s\n", "", passes.DecorateTitle(d, e.title))
		}
		if e.note != "" {
			fmt.Fprintf(w, "%18s (%s)\n", "", e.note)
		}
	}
	bal, err := svc.Balance(ctx, passes.BalanceParams{Org: ws, Actor: olga})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nBalance at the end of the month: %d\n", bal)
	findings, err := svc.Audit(ctx, ws)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Audit against the ledger: %d findings\n", len(findings))
	for _, f := range findings {
		fmt.Fprintf(w, "  %s\n", f)
	}

	fmt.Fprintf(w, "\nUsage log\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	log, err := svc.LogTable(ctx, passes.LogParams{Org: ws, Actor: olga})
	if err != nil {
		return err
	}
	fmt.Fprintln(tw, strings.Join(log.Header(), "\t"))
	for row, err := range log.Rows {
		if err != nil {
			return err
		}
		for i, c := range row {
			if c == "" {
				row[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nPasses by day, internal and external\n\n")
	totals, err := svc.Totals(ctx, passes.TotalsParams{Org: ws, Actor: olga, Period: passes.Day})
	if err != nil {
		return err
	}
	for _, t := range totals {
		fmt.Fprintf(tw, "%s\t%s\t%d logins\t%d passes\n", t.Period.Format("2006-01-02"), t.Billing, t.Logins, t.Passes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nCSV export\n\n")
	return svc.ExportCSV(ctx, w, passes.LogParams{Org: ws, Actor: olga})
}
