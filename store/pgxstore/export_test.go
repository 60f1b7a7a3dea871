package pgxstore

import (
	"context"
	"os"
	"time"

	"github.com/allot-dev/allot/ledger"
)

// MigrateTo lets the external tests build a database of an earlier schema
// version, to check that later migrations carry its rows over.
var MigrateTo = migrateTo

// SetGroupTurnHook makes a store with group commit call f as each member
// of a group begins its turn, with its transfer: the order the group ran
// its posts in.
func SetGroupTurnHook(s *Store, f func(ledger.Transfer)) { s.gc.onTurn = f }

// GroupsOpened reports how many groups the store opened.
func GroupsOpened(s *Store) int64 { return s.gc.opened.Load() }

// GroupRunWrites reports how many members of the store's groups were
// written by a run of members sent ahead, and GroupsDoomed how many groups
// rolled back for every member to run again.
func GroupRunWrites(s *Store) int64 { return s.gc.ranAhead.Load() }
func GroupsDoomed(s *Store) int64   { return s.gc.doomed.Load() }

// ExecLater sends sql as a write of tx that may wait for a later statement,
// as the store's own updates of rows it read do; notFound explains a write
// that changed no row.
func ExecLater(ctx context.Context, tx *Tx, sql string, notFound error, args ...any) error {
	tx.see(sql)
	return tx.execLater(ctx, sql, "test write", false, nil, sql, args, func() error { return notFound })
}

// PortableEnv names the environment variable that runs the whole suite with
// Options.Portable on every store and Migrate: ALLOT_TEST_PORTABLE=1.
const PortableEnv = "ALLOT_TEST_PORTABLE"

func init() { testPortable = os.Getenv(PortableEnv) != "" }

// MigratePortableTo is MigrateTo in the form Options.Portable gives
// Store.Migrate.
func MigratePortableTo(ctx context.Context, db Beginner, schema string, upTo int) error {
	return migrate(ctx, db, schema, upTo, true)
}

// ForceCommittedMismatch makes s find that the ledger's changes differ from
// every post committed with its lock.
func ForceCommittedMismatch(s *Store) { s.testMismatch = true }

// SetGroupGather sets how long a group's leader waits, at most, for as
// many members as the last group of its accounts had.
func SetGroupGather(s *Store, d time.Duration) { s.gc.gatherMax = d }
