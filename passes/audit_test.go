package passes_test

import (
	"context"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/shopspring/decimal"
)

// auditFixture is a workspace with purchases, paid logins, a login inside a
// window and a demo login, whose books agree.
func auditFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	f.buy("acme", 5, "o1")
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
	f.mustLogin("acme", "day", "ann@x.example", "r1")
	f.clock.Advance(time.Minute)
	f.mustLogin("acme", "demo", "bob@x.example", "r2")
	f.mustLogin("acme", "day", "ann@x.example", "r3")
	f.mustLogin("acme", "day", "bob@x.example", "r4")
	return f
}

func TestService_AuditAgrees(t *testing.T) {
	f := auditFixture(t)
	for _, ws := range []string{"acme", "never-bought"} {
		fs, err := f.svc.Audit(f.ctx, ws)
		if err != nil || len(fs) != 0 {
			t.Errorf("Audit(%s) = %v, %v; want no findings", ws, fs, err)
		}
	}
}

// Each corruption, written through the store's Tx behind the service's back,
// is a finding of Audit.
func TestService_AuditFindsCorruption(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(ctx context.Context, tx passes.Tx) error
		record  string
		field   string
	}{
		{"BalanceCounter", func(ctx context.Context, tx passes.Tx) error {
			a, err := tx.AccountGet(ctx, passes.BalanceAccount("acme"))
			if err != nil {
				return err
			}
			a.Posted, a.Version = a.Posted.Add(decimal.NewFromInt(1)), a.Version+1
			return tx.Apply(ctx, ledger.Changes{Accounts: []ledger.AccountState{a}})
		}, "balance", "passes"},
		{"SpentCounter", func(ctx context.Context, tx passes.Tx) error {
			a, err := tx.AccountGet(ctx, passes.SpentAccount("acme"))
			if err != nil {
				return err
			}
			a.Posted, a.Version = a.Posted.Sub(decimal.NewFromInt(1)), a.Version+1
			return tx.Apply(ctx, ledger.Changes{Accounts: []ledger.AccountState{a}})
		}, "spent account", "balance"},
		{"WindowLengthened", func(ctx context.Context, tx passes.Tx) error {
			a, err := tx.AccessLock(ctx, "acme", "day", "ann@x.example")
			if err != nil {
				return err
			}
			a.Until = a.Until.Add(time.Hour)
			return tx.AccessUpdate(ctx, a)
		}, "access of ann@x.example to session day", "window"},
		{"WindowWithoutLogin", func(ctx context.Context, tx passes.Tx) error {
			return tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "day", Guest: "cy@x.example", Start: t0, Until: t0.Add(time.Hour)})
		}, "access of cy@x.example to session day", "window"},
		{"RowWithoutSpend", func(ctx context.Context, tx passes.Tx) error {
			_, err := tx.UsageInsert(ctx, passes.Usage{Org: "acme", RequestID: "forged", At: t0, Session: "day", User: "cy@x.example",
				PassType: passes.DayPass, Passes: 1, BalanceAfter: 2, Transfer: "forged", AccessFrom: t0, AccessUntil: t0.Add(24 * time.Hour)})
			return err
		}, "usage row forged", "transfer"},
		{"RowBalanceAfter", func(ctx context.Context, tx passes.Tx) error {
			_, err := tx.UsageInsert(ctx, passes.Usage{Org: "acme", RequestID: "r5", At: t0, Session: "demo", User: "bob@x.example",
				PassType: passes.DemoPass, Demo: true, BalanceAfter: 42, AccessFrom: t0, AccessUntil: t0.Add(4 * time.Hour)})
			return err
		}, "usage row r5", "balance after"},
		{"DemoSpent", func(ctx context.Context, tx passes.Tx) error {
			_, err := tx.UsageInsert(ctx, passes.Usage{Org: "acme", RequestID: "r5", At: t0, Session: "demo", User: "bob@x.example",
				PassType: passes.DemoPass, Demo: true, Passes: 1, BalanceAfter: 2, AccessFrom: t0, AccessUntil: t0.Add(4 * time.Hour)})
			return err
		}, "usage row r5", "passes"},
		{"FirstLoginLost", func(ctx context.Context, tx passes.Tx) error {
			s, err := tx.SessionGet(ctx, "acme", "day")
			if err != nil {
				return err
			}
			s.FirstLogin = time.Time{}
			return tx.SessionUpdate(ctx, s)
		}, "session day", "first login"},
		{"SpendWithoutRow", func(ctx context.Context, tx passes.Tx) error {
			_, err := ledger.NewBook(tx, t0.Add(time.Hour)).Post(ctx, ledger.Transfer{
				ID: "passes/acme/login/ghost", Debit: passes.BalanceAccount("acme"), Credit: passes.SpentAccount("acme"), Amount: decimal.NewFromInt(1), Code: passes.CodeSpend,
			})
			return err
		}, "spend passes/acme/login/ghost", "usage row"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := auditFixture(t)
			if err := f.mem.Passes().InTx(f.ctx, func(tx passes.Tx) error { return tc.corrupt(f.ctx, tx) }); err != nil {
				t.Fatalf("corrupt: %v", err)
			}
			fs, err := f.svc.Audit(f.ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, x := range fs {
				if x.Tenant != "acme" {
					t.Errorf("finding %v names another tenant", x)
				}
				found = found || (x.Record == tc.record && x.Field == tc.field)
			}
			if !found {
				t.Errorf("Audit = %v; want a finding of %s, %s", fs, tc.record, tc.field)
			}
			if fs, err := f.svc.Audit(f.ctx, "other"); err != nil || len(fs) != 0 {
				t.Errorf("Audit(other) = %v, %v; a corruption of acme is not other's", fs, err)
			}
		})
	}
}
