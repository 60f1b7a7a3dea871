package pgxstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestMigratePassesTenantKeys builds a database of schema version 4, where
// sessions and access windows were keyed by session ID alone, fills it with
// rows of that shape, migrates it, and checks that the rows survive under
// their workspace and work: the session is found in its workspace only, a
// guest inside a window carried over is not charged again, a logged request
// returns its first decision, and another workspace may now take the same
// session ID.
func TestMigratePassesTenantKeys(t *testing.T) {
	url := os.Getenv("ALLOT_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("set ALLOT_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests")
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "allot_test_" + hex.EncodeToString(b[:])
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	if err := migrateTo(ctx, pool, schema, 4); err != nil {
		t.Fatalf("migrate to version 4: %v", err)
	}

	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO allot_pass_sessions (id, workspace, name, owner, external, pass_type, field_names, field_values, created_at, first_login)
			VALUES ('kickoff', 'acme', 'Kick-off', 'olga@acme.example', true, 'day', '{Note}', '{n}', $1, $2)`, []any{at, at.Add(time.Hour)}},
		{`INSERT INTO allot_pass_fields (workspace, name, required, position) VALUES ('acme', 'Note', false, 0)`, nil},
		// A window, a placeholder a login left, and a window of a session
		// that no longer exists.
		{`INSERT INTO allot_pass_access (session_id, guest, start_at, until_at) VALUES ('kickoff', 'ann@x.example', $1, $2)`, []any{at.Add(time.Hour), at.Add(25 * time.Hour)}},
		{`INSERT INTO allot_pass_access (session_id, guest) VALUES ('kickoff', 'bob@x.example')`, nil},
		{`INSERT INTO allot_pass_access (session_id, guest, start_at, until_at) VALUES ('gone', 'ann@x.example', $1, $2)`, []any{at, at.Add(time.Hour)}},
		{`INSERT INTO allot_pass_usage (workspace, request_id, at, session_id, session_name, external, location, user_email, owner,
			pass_type, passes, balance_after, transfer_id, field_names, field_values, in_window, access_from, access_until, demo, locks_at)
			VALUES ('acme', 'r1', $1, 'kickoff', 'Kick-off', true, 'Bern', 'ann@x.example', 'olga@acme.example',
			'day', 0, 0, NULL, '{Note}', '{n}', false, $1, $2, false, NULL)`, []any{at.Add(time.Hour), at.Add(25 * time.Hour)}},
	} {
		if _, err := pool.Exec(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatalf("insert a version 4 row: %v\n%s", err, stmt.sql)
		}
	}

	if err := Migrate(ctx, pool, schema); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	st, err := New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Passes().InTx(ctx, func(tx passes.Tx) error {
		ws, err := tx.AccessList(ctx, passes.AccessListParams{Org: "acme"})
		if err != nil {
			return err
		}
		want := passes.Access{Org: "acme", Session: "kickoff", Guest: "ann@x.example", Start: at.Add(time.Hour), Until: at.Add(25 * time.Hour)}
		if len(ws) != 1 || ws[0] != want {
			t.Errorf("windows after the migration = %+v, want %+v", ws, want)
		}
		var orphans int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM allot_pass_access WHERE session_id = 'gone'`).Scan(&orphans); err != nil {
			return err
		}
		if orphans != 0 {
			t.Errorf("%d windows of a session that does not exist survived", orphans)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	clk := clock.NewFake(at.Add(2 * time.Hour))
	svc, err := passes.New(st.Passes(), &passes.Options{Clock: clk, Roles: passesRoles})
	if err != nil {
		t.Fatal(err)
	}
	s, err := svc.Session(ctx, passes.SessionParams{Org: "acme", Actor: passesAdmin, ID: "kickoff"})
	if err != nil || s.Name != "Kick-off" || !s.FirstLogin.Equal(at.Add(time.Hour)) || len(s.Fields) != 1 {
		t.Errorf("Session(acme, kickoff) after the migration = %+v, %v", s, err)
	}
	if _, err := svc.Session(ctx, passes.SessionParams{Org: "globex", Actor: passesAdmin, ID: "kickoff"}); !errors.Is(err, passes.ErrUnknownSession) {
		t.Errorf("Session(globex, kickoff) = %v, want ErrUnknownSession", err)
	}
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 1, RequestID: "o1"}); err != nil {
		t.Fatal(err)
	}
	login := func(guest, req string) passes.Decision {
		t.Helper()
		d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "kickoff", Guest: guest, Location: "Bern", RequestID: req})
		if err != nil {
			t.Fatalf("login of %s: %v", guest, err)
		}
		return d
	}
	if d := login("ann@x.example", "r1"); !d.AccessUntil.Equal(at.Add(25*time.Hour)) || d.Passes != 0 {
		t.Errorf("retry of the logged request r1 = %v, want its first decision", d)
	}
	if d := login("ann@x.example", "r2"); !d.InWindow || d.Passes != 0 {
		t.Errorf("ann inside the window carried over = %v, want nothing spent", d)
	}
	if d := login("bob@x.example", "r3"); d.Passes != 1 || d.Balance != 0 {
		t.Errorf("bob, who had only a placeholder = %v, want 1 pass spent", d)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "kickoff", Org: "globex", Name: "Theirs", Owner: "g@globex.example"}); err != nil {
		t.Errorf("another workspace creating session kickoff = %v, want it created", err)
	}
	findings, err := svc.Audit(ctx, "acme")
	if err != nil || len(findings) != 0 {
		t.Errorf("Audit(acme) after the migration = %v, %v; want no findings", findings, err)
	}
	l, err := ledger.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify = %+v, %v", r, err)
	}
}
