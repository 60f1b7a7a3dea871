package pgxstore_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The whole suite runs with Options.Portable when ALLOT_TEST_PORTABLE is
// set; these tests run it where it matters in every run.

func TestPortable_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newTestDB(t).store(t, 8, &pgxstore.Options{Portable: true})
	})
}

// sqlRecorder keeps the text of every statement a pool sends.
type sqlRecorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	r.sent = append(r.sent, d.SQL)
	r.mu.Unlock()
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *sqlRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *sqlRecorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.mu.Lock()
	r.sent = append(r.sent, d.SQL)
	r.mu.Unlock()
}

func (r *sqlRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// portableSchema returns a pool whose search_path names a schema of db's
// database that does not exist yet (Migrate creates it), dropped when the
// test ends.
func portableSchema(t *testing.T, db *testDB, suffix string, tracer pgx.QueryTracer) (*pgxpool.Pool, string) {
	t.Helper()
	schema := db.schema + "_" + suffix
	cfg, err := pgxpool.ParseConfig(db.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.Tracer = tracer
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return pool, schema
}

// Every lock of a portable store is a row of allot_locks: no statement it
// sends names an advisory lock, from Migrate to the outbox.
func TestPortable_NoAdvisoryLocks(t *testing.T) {
	rec := &sqlRecorder{}
	pool, schema := portableSchema(t, newTestDB(t), "p", rec)
	ctx := context.Background()
	s, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema, Portable: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	err = s.Passes().InTx(ctx, func(tx passes.Tx) error {
		if _, err := tx.FieldsLock(ctx, "acme"); err != nil {
			return err
		}
		_, err := tx.UsageInsert(ctx, passes.Usage{Org: "acme", RequestID: "r1", At: time.Now(), Session: "kickoff",
			User: "ann@x.example", PassType: "day"})
		return err
	})
	if err != nil {
		t.Fatalf("fields lock and usage insert: %v", err)
	}
	if _, err := s.ReadEvents(ctx, events.Query{Limit: 10}); err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}

	rec.mu.Lock()
	for _, q := range rec.sent {
		if strings.Contains(q, "pg_advisory") {
			t.Errorf("a portable store sent %q", q)
		}
	}
	rec.mu.Unlock()
	rows, err := pool.Query(ctx, "SELECT name FROM allot_locks ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"allot_events", "allot_migrate", "allot_pass_fields/acme", "allot_pass_usage/acme"}
	if !slices.Equal(names, want) {
		t.Errorf("allot_locks holds %q, want %q", names, want)
	}
}

// A portable lock excludes: a second transaction taking it waits until the
// first ends, and another name does not wait.
func TestPortable_LockWaits(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	s := db.store(t, 3, &pgxstore.Options{Portable: true})
	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Passes().InTx(ctx, func(tx passes.Tx) error {
			if _, err := tx.FieldsLock(ctx, "acme"); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	// Another workspace's lock is free.
	if err := s.Passes().InTx(ctx, func(tx passes.Tx) error {
		_, err := tx.FieldsLock(ctx, "globex")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		second <- s.Passes().InTx(ctx, func(tx passes.Tx) error {
			_, err := tx.FieldsLock(ctx, "acme")
			return err
		})
	}()
	early := false
	select {
	case err := <-second:
		t.Errorf("the second transaction took the lock the first holds (err %v)", err)
		early = true
	case <-time.After(150 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if !early {
		if err := <-second; err != nil {
			t.Fatal(err)
		}
	}
}

// The portable Migrate applies each migration once when replicas start
// together on a schema that does not exist yet, and upgrades a schema
// migrated to any earlier version without the switch.
func TestPortable_Migrate(t *testing.T) {
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	last := len(files)
	var versions []int
	for _, f := range files {
		v, err := strconv.Atoi(f.Name()[:4])
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	db := newTestDB(t)
	ctx := context.Background()
	count := func(t *testing.T, pool *pgxpool.Pool) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM allot_schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("ConcurrentReplicas", func(t *testing.T) {
		pool, schema := portableSchema(t, db, "replicas", nil)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema, Portable: true})
				if err == nil {
					err = s.Migrate(ctx)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		}
		if n := count(t, pool); n != last {
			t.Errorf("%d migrations recorded, want %d", n, last)
		}
	})
	t.Run("FromEveryVersion", func(t *testing.T) {
		for _, v := range versions {
			pool, schema := portableSchema(t, db, "v"+strconv.Itoa(v), nil)
			if err := pgxstore.MigrateTo(ctx, pool, schema, v); err != nil {
				t.Fatalf("migrate to %d without the switch: %v", v, err)
			}
			s, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema, Portable: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("portable Migrate from version %d: %v", v, err)
			}
			if n := count(t, pool); n != last {
				t.Errorf("from version %d: %d migrations recorded, want %d", v, n, last)
			}
			// And back: a portable schema is one the package-level
			// Migrate finds complete.
			if err := pgxstore.Migrate(ctx, pool, schema); err != nil {
				t.Errorf("Migrate after the portable one: %v", err)
			}
		}
	})
	t.Run("EarlierVersionPortable", func(t *testing.T) {
		// A portable Migrate stopped at an earlier version (allot_locks
		// made by its first step, before 0009) takes the rest later.
		pool, schema := portableSchema(t, db, "early", nil)
		if err := pgxstore.MigratePortableTo(ctx, pool, schema, 4); err != nil {
			t.Fatal(err)
		}
		if err := pgxstore.MigratePortableTo(ctx, pool, schema, 0); err != nil {
			t.Fatal(err)
		}
		if n := count(t, pool); n != last {
			t.Errorf("%d migrations recorded, want %d", n, last)
		}
	})
}
