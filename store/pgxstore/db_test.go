package pgxstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// envURL names the environment variable with the test database's address.
const envURL = "ALLOT_TEST_DATABASE_URL"

// testDB is one test's schema in the test database.
type testDB struct {
	url    string
	schema string
}

// newTestDB creates a schema of its own for the test, with the store's
// tables in it, and drops it when the test ends. It skips the test when no
// database is configured.
func newTestDB(t testing.TB) *testDB {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		t.Skipf("set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests", envURL)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := &testDB{url: url, schema: "allot_test_" + hex.EncodeToString(b[:])}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", envURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{db.schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("connect to drop schema %s: %v", db.schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{db.schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", db.schema, err)
		}
	})
	pool := db.pool(t, 2)
	if err := pgxstore.Migrate(ctx, pool, ""); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

// pool returns a new pool of at most max connections whose search_path is
// the test's schema, closed when the test ends.
func (db *testDB) pool(t testing.TB, max int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.url)
	if err != nil {
		t.Fatalf("parse %s: %v", envURL, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = db.schema
	cfg.MaxConns = max
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// store returns a store over a new pool of the test's schema.
func (db *testDB) store(t testing.TB, max int32, opts *pgxstore.Options) *pgxstore.Store {
	t.Helper()
	s, err := pgxstore.New(db.pool(t, max), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// emptyTables empties every table the migrations made in the pool's schema,
// keeping the record of the migrations applied, so a property can start each
// run from an empty store without migrating again.
func emptyTables(ctx context.Context, pool *pgxpool.Pool) error {
	var tables string
	err := pool.QueryRow(ctx, `SELECT string_agg(quote_ident(tablename), ', ')
		FROM pg_tables
		WHERE schemaname = current_schema() AND tablename LIKE 'allot\_%' AND tablename <> 'allot_schema_migrations'`).Scan(&tables)
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, "TRUNCATE "+tables+" RESTART IDENTITY")
	return err
}
