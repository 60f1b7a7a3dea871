package pgxstore_test

import (
	"context"
	"github.com/allot-dev/allot"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/pgxstore"
)

// TestMigrate_EscapedLedgerIDs builds the schema before the passes and
// licenses ledger IDs were escaped (version 6), stores rows whose IDs hold
// the characters the new rule escapes (a workspace "a/b%" with a request ID
// "o/1", an organization "o%" with a member "m%x@y.test") by SQL, migrates,
// and uses them through the services: balances and licenses are found under
// the new IDs, a retried purchase and a retried login are still retries,
// the license can be freed, and the audits and the journal agree.
func TestMigrate_EscapedLedgerIDs(t *testing.T) {
	db := newTestDBAt(t, 6)
	ctx := context.Background()
	pool := db.pool(t, 2)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO allot_units (code, scale) VALUES ('pass', 0), ('license', 0)`, nil},
		{`INSERT INTO allot_accounts (id, unit, owner, flags, created_at, scale, posted, version, last_posted_at) VALUES
			('passes/a/b%/issuer', 'pass', 'a/b%', 0, $1, 0, -5, 1, $1),
			('passes/a/b%/balance', 'pass', 'a/b%', 1, $1, 0, 4, 2, $2),
			('passes/a/b%/spent', 'pass', 'a/b%', 0, $1, 0, 1, 1, $2),
			('licenses/o%/issuer', 'license', 'o%', 0, $1, 0, -2, 1, $1),
			('licenses/o%/pool', 'license', 'o%', 1, $1, 0, 1, 3, $2),
			('licenses/o%/member/m%x@y.test', 'license', 'o%', 1, $1, 0, 1, 1, $2)`, []any{at, at.Add(time.Hour)}},
		{`INSERT INTO allot_transfers (id, debit, credit, amount, unit, code, actor, posted_at, debit_balance, credit_balance) VALUES
			('passes/a/b%/buy/o/1', 'passes/a/b%/issuer', 'passes/a/b%/balance', 5, 'pass', 'passes.buy', '', $1, -5, 5),
			('passes/a/b%/login/r%1', 'passes/a/b%/balance', 'passes/a/b%/spent', 1, 'pass', 'passes.spend', 'ann@x.test', $2, 4, 1),
			('licenses/o%/p1/purchase', 'licenses/o%/issuer', 'licenses/o%/pool', 2, 'license', 'licenses.purchase', 'ada@o.test', $1, -2, 2)`,
			[]any{at, at.Add(time.Hour)}},
		{`INSERT INTO allot_holds (id, debit, credit, amount, unit, code, actor, status, created_at, settled_at, posted) VALUES
			('licenses/o%/i1/invite', 'licenses/o%/pool', 'licenses/o%/member/m%x@y.test', 1, 'license', 'licenses.invite', 'ada@o.test', 'posted', $1, $2, 1)`,
			[]any{at, at.Add(time.Hour)}},
		{`INSERT INTO allot_transfers (id, debit, credit, amount, unit, code, actor, posted_at, debit_balance, credit_balance, hold_id) VALUES
			('licenses/o%/i1/invite', 'licenses/o%/pool', 'licenses/o%/member/m%x@y.test', 1, 'license', 'licenses.invite', 'ada@o.test', $1, 1, 1, 'licenses/o%/i1/invite')`,
			[]any{at.Add(time.Hour)}},
		{`INSERT INTO allot_pass_sessions (id, workspace, name, owner, external, pass_type, created_at, first_login)
			VALUES ('kickoff', 'a/b%', 'Kick-off', 'olga@x.test', false, 'day', $1, $2)`, []any{at, at.Add(time.Hour)}},
		{`INSERT INTO allot_pass_access (workspace, session_id, guest, start_at, until_at) VALUES ('a/b%', 'kickoff', 'ann@x.test', $1, $2)`,
			[]any{at.Add(time.Hour), at.Add(25 * time.Hour)}},
		{`INSERT INTO allot_pass_usage (workspace, request_id, at, session_id, session_name, external, location, user_email, owner,
			pass_type, passes, balance_after, transfer_id, in_window, access_from, access_until, demo)
			VALUES ('a/b%', 'r%1', $1, 'kickoff', 'Kick-off', false, '', 'ann@x.test', 'olga@x.test',
			'day', 1, 4, 'passes/a/b%/login/r%1', false, $1, $2, false)`, []any{at.Add(time.Hour), at.Add(25 * time.Hour)}},
		{`INSERT INTO allot_license_orgs (id, purchased, active, created_at, updated_at) VALUES ('o%', 2, 1, $1, $1)`, []any{at}},
		{`INSERT INTO allot_license_teams (org, id, active) VALUES ('o%', 'design', 1)`, nil},
		{`INSERT INTO allot_license_members (org, email, state, teams, hold_id, invited_by, invited_at, accepted_at, updated_at)
			VALUES ('o%', 'm%x@y.test', 'active', '{design}', 'licenses/o%/i1/invite', 'ada@o.test', $1, $2, $2)`, []any{at, at.Add(time.Hour)}},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("insert a version 6 row: %v\n%s", err, q.sql)
		}
	}
	if err := pgxstore.Migrate(ctx, pool, ""); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	st, err := pgxstore.New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(at.Add(2 * time.Hour))

	ps, err := passes.New(st.Passes(), &passes.Options{Clock: clk, Roles: passesRoles})
	if err != nil {
		t.Fatal(err)
	}
	if bal, err := ps.Balance(ctx, passes.BalanceParams{Org: "a/b%", Actor: passesAdmin}); err != nil || bal != 4 {
		t.Errorf("Balance(a/b%%) after the migration = %d, %v; want 4", bal, err)
	}
	if bal, err := ps.Purchase(ctx, passes.PurchaseParams{Org: "a/b%", Actor: passesVendor, Quantity: 5, RequestID: "o/1"}); err != nil || bal.Available != 5 || bal.Purchased != 5 {
		t.Errorf("retried Buy(o/1) = %+v, %v; want the first purchase's balance, 5, and nothing bought", bal, err)
	}
	d, err := ps.Login(ctx, passes.LoginParams{Org: "a/b%", Session: "kickoff", Guest: "ann@x.test", RequestID: "r%1"})
	if err != nil || d.Passes != 1 || d.Balance != 4 {
		t.Errorf("retried login r%%1 = %v, %v; want its first decision", d, err)
	}
	if bal, err := ps.Balance(ctx, passes.BalanceParams{Org: "a/b%", Actor: passesAdmin}); err != nil || bal != 4 {
		t.Errorf("Balance(a/b%%) after the retries = %d, %v; want 4", bal, err)
	}
	if f, err := ps.Audit(ctx, "a/b%"); err != nil || len(f) != 0 {
		t.Errorf("passes Audit = %v, %v; want no findings", f, err)
	}

	roles := &allot.StaticRoles{}
	roles.Grant("o%", "ada@o.test", licenses.OrgAdmin, allot.Vendor)
	ls, err := licenses.New(st.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if f, err := ls.Audit(ctx, "o%"); err != nil || len(f) != 0 {
		t.Errorf("licenses Audit after the migration = %v, %v; want no findings", f, err)
	}
	if _, err := ls.Delete(ctx, licenses.DeleteParams{Org: "o%", Email: "m%x@y.test", Actor: "ada@o.test", RequestID: "d1"}); err != nil {
		t.Fatalf("Delete of the member carried over: %v", err)
	}
	sum, err := ls.Summary(ctx, licenses.SummaryParams{Org: "o%", Actor: "ada@o.test"})
	if err != nil || sum.Purchased != 2 || sum.Available != 2 || sum.Active != 0 {
		t.Errorf("Summary after the delete = %+v, %v; want 2 purchased, 2 available", sum, err)
	}
	if f, err := ls.Audit(ctx, "o%"); err != nil || len(f) != 0 {
		t.Errorf("licenses Audit after the delete = %v, %v; want no findings", f, err)
	}

	l, err := ledger.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify = %+v, %v", r, err)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM allot_accounts WHERE id IN ('passes/a/b%/balance', 'licenses/o%/pool')`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d accounts kept their old IDs (%v)", left, err)
	}
}
