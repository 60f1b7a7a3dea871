package pgxstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change. Its file is named
// NNNN_name.sql; NNNN is the version.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("pgxstore: migration file %q is not named NNNN_name.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: rest, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("pgxstore: two migrations have version %d", out[i].version)
		}
	}
	return out, nil
}

// Beginner starts transactions. *pgxpool.Pool, *pgx.Conn and pgx.Tx (which
// starts a nested transaction on a savepoint) all implement it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Migrate creates or updates the store's tables in schema (created if
// missing), or, when schema is empty, in the first schema of the connection's
// search_path. It records the versions it applied in the
// allot_schema_migrations table and applies only the missing ones, so it is
// safe to call at every start.
//
// Migrate runs in one transaction that first takes a transaction-scoped
// advisory lock named after the schema: replicas that start at the same
// moment apply each migration exactly once, the others wait and then find
// nothing to do. Either every missing migration is applied or none is.
//
// Migrate is PostgreSQL's form. Store.Migrate of a store with
// Options.Portable creates the schema and the allot_locks table first, in a
// transaction of their own, and then locks a row of allot_locks instead of
// taking the advisory lock; see Options.Portable.
func Migrate(ctx context.Context, db Beginner, schema string) error {
	return migrate(ctx, db, schema, 0, false)
}

// migrateTo is Migrate, applying only the migrations up to version upTo;
// zero means all. Tests use it to build a database of an earlier version and
// check that the later migrations carry its rows over.
func migrateTo(ctx context.Context, db Beginner, schema string, upTo int) error {
	return migrate(ctx, db, schema, upTo, false)
}

// migrate is migrateTo, in the portable form if portable is set.
func migrate(ctx context.Context, db Beginner, schema string, upTo int, portable bool) (err error) {
	portable = portable || testPortable
	ms, err := migrations()
	if err != nil {
		return err
	}
	if portable {
		if err := migrateBootstrap(ctx, db, schema); err != nil {
			return err
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgxstore: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if !portable {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('allot.migrate:' || coalesce(nullif($1, ''), current_schema(), ''), 0))`, schema); err != nil {
			return fmt.Errorf("pgxstore: migrate: lock: %w", err)
		}
	}
	if err := setMigrateSchema(ctx, tx, schema); err != nil {
		return err
	}
	if portable {
		if _, err := tx.Exec(ctx, (&queries{portable: true}).lockSQL(lockMigrate, false)); err != nil {
			return fmt.Errorf("pgxstore: migrate: lock: %w", err)
		}
	}
	var current string
	if err := tx.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&current); err != nil {
		return fmt.Errorf("pgxstore: migrate: %w", err)
	}
	if current == "" {
		return errors.New("pgxstore: migrate: no schema to create the tables in: the search_path names no existing schema; pass a schema or fix the search_path")
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS allot_schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return fmt.Errorf("pgxstore: migrate: %w", err)
	}
	var applied int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM allot_schema_migrations").Scan(&applied); err != nil {
		return fmt.Errorf("pgxstore: migrate: %w", err)
	}
	if last := ms[len(ms)-1].version; applied > last {
		return fmt.Errorf("pgxstore: migrate: schema %q is at version %d, newer than this package's %d; upgrade the package", current, applied, last)
	}
	for _, m := range ms {
		if m.version <= applied || (upTo > 0 && m.version > upTo) {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("pgxstore: migrate: apply %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO allot_schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("pgxstore: migrate: record %04d_%s: %w", m.version, m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgxstore: migrate: commit: %w", err)
	}
	return nil
}
