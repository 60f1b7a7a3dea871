package pgxstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file holds what Options.Portable switches: the named locks a
// transaction takes to put writers in one order (the usage log of a
// workspace, the custom fields of a workspace, the outbox's numbering, and
// Migrate), either as PostgreSQL's transaction-scoped advisory locks or as
// the row of allot_locks named by the lock, which every engine that speaks
// PostgreSQL's SQL can lock.

// testPortable makes every Store and every Migrate of this process behave
// as with Options.Portable. Only the tests set it (ALLOT_TEST_PORTABLE), to
// run the whole suite over the lock table.
var testPortable bool

// lockSQL returns the statement that takes the lock called name until the
// transaction ends, for the store whose tables q qualifies. If keyed, the
// lock is the one called name followed by the statement's parameter $1 (a
// workspace, for instance); otherwise the statement has no parameter.
//
// The advisory form hashes the schema prefix and the name together, as the
// statements it replaced did, so that replicas of an earlier release and of
// this one exclude each other while they run side by side.
//
// The portable form inserts the lock's row, or updates it if it exists:
// either way the transaction writes the row, so a second transaction that
// takes the same lock waits for the first to end (at READ COMMITTED), or
// one of the two fails with a serialization failure that InTx retries. A
// write conflicts on every engine; on CockroachDB it holds where a SELECT
// ... FOR UPDATE lock, which SERIALIZABLE may drop, does not. The row keeps
// the time it was last taken, for whoever looks.
func (q *queries) lockSQL(name string, keyed bool) string {
	lit := "'" + strings.ReplaceAll(name, "'", "''") + "'"
	if keyed {
		lit += " || $1"
	}
	if q.portable {
		return `INSERT INTO ` + q.prefix + `allot_locks (name, taken_at) VALUES (` + lit + `, now())
	ON CONFLICT (name) DO UPDATE SET taken_at = excluded.taken_at`
	}
	return `SELECT pg_advisory_xact_lock(hashtextextended('` + strings.ReplaceAll(q.prefix, "'", "''") + `' || ` + lit + `, 0))`
}

// cacheKey is the key of the facets' statements for q in their caches
// (passesSQL, eventsSQL): the schema prefix, and the form of the locks.
func (q *queries) cacheKey() string {
	if q.portable {
		return q.prefix + "\x00portable"
	}
	return q.prefix
}

// Lock names. Each names what the lock orders.
const (
	lockPassFields = "allot_pass_fields/" // + workspace: a workspace's custom fields
	lockPassUsage  = "allot_pass_usage/"  // + workspace: a workspace's usage log
	lockEvents     = "allot_events"       // the outbox's numbering
	lockMigrate    = "allot_migrate"      // Migrate, in the portable form
)

// locksMigration is the migration that creates allot_locks, which the
// portable Migrate also runs before anything else (it is written with IF NOT
// EXISTS for that).
const locksMigration = "migrations/0010_locks.sql"

// migrateBootstrap creates, in its own transaction, what the portable
// Migrate locks before it reads the versions applied: the schema, if one is
// named, and allot_locks in it. Replicas that start together may all try to
// create them; the losers of that race get a unique violation or a "already
// exists" error from the catalog, and try again, when IF NOT EXISTS finds
// what the winner made.
func migrateBootstrap(ctx context.Context, db Beginner, schema string) error {
	var err error
	for range 5 {
		if err = migrateBootstrapOnce(ctx, db, schema); err == nil || !raceOnCreate(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("pgxstore: migrate: create the lock table: %w", err)
	}
	return nil
}

func migrateBootstrapOnce(ctx context.Context, db Beginner, schema string) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := setMigrateSchema(ctx, tx, schema); err != nil {
		return err
	}
	sql, err := migrationFiles.ReadFile(locksMigration)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, string(sql)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// setMigrateSchema creates schema if it is named and missing, and makes it
// the transaction's search_path; an empty schema leaves the search_path as
// the connection has it.
func setMigrateSchema(ctx context.Context, tx pgx.Tx, schema string) error {
	if schema == "" {
		return nil
	}
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
		return fmt.Errorf("pgxstore: migrate: create schema %s: %w", ident, err)
	}
	// SET LOCAL rather than set_config: the same on PostgreSQL, and the
	// form CockroachDB documents.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
		return fmt.Errorf("pgxstore: migrate: %w", err)
	}
	return nil
}

// raceOnCreate reports whether err is what a concurrent CREATE ... IF NOT
// EXISTS of the same object can give: a unique violation in the catalog,
// duplicate_table or duplicate_schema, or a serialization failure.
func raceOnCreate(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23505", "42P07", "42P06", "40001":
		return true
	}
	return false
}
