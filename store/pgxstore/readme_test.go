package pgxstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// openLedger is what README.md's PostgreSQL section shows a service doing
// at start: connect, migrate (safe at every start), and run the ledger on
// the store.
func openLedger(ctx context.Context) (*ledger.Ledger, *pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return nil, nil, err
	}
	store, err := pgxstore.New(pool, &pgxstore.Options{Schema: "billing"})
	if err != nil {
		return nil, nil, err
	}
	if err := store.Migrate(ctx); err != nil { // at every start: applies what is missing
		return nil, nil, err
	}
	l, err := ledger.New(store, nil)
	return l, pool, err
}

// TestREADME_PostgreSQL runs README.md's PostgreSQL snippet against the
// test database, twice (a second start migrates nothing), and posts a
// transfer through it.
func TestREADME_PostgreSQL(t *testing.T) {
	url := os.Getenv(envURL)
	if url == "" {
		t.Skipf("set %s to run the PostgreSQL tests", envURL)
	}
	t.Setenv("DATABASE_URL", url)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	drop := func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS billing CASCADE"); err != nil {
			t.Fatal(err)
		}
	}
	drop()
	t.Cleanup(drop)
	for start := range 2 {
		l, pool, err := openLedger(ctx)
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		defer pool.Close()
		if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "seat"}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []ledger.Account{{ID: "world", Unit: "seat"}, {ID: "acme/pool", Unit: "seat", Flags: ledger.FlagNonNegative}} {
			if _, err := l.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := l.Post(ctx, ledger.Transfer{ID: "order-1", Debit: "world", Credit: "acme/pool", Amount: decimal.NewFromInt(100)})
		if err != nil || !tr.CreditBalance.Equal(decimal.NewFromInt(100)) {
			t.Fatalf("start %d: Post = %+v, %v; want the one purchase of 100", start, tr, err)
		}
	}
}
