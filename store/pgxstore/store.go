package pgxstore

import (
	"context"
	"errors"
	"fmt"
	"github.com/allot-dev/allot/internal/errcode"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a Store. A nil *Options means all defaults.
type Options struct {
	// Schema is the PostgreSQL schema that holds the tables. Default: empty,
	// which leaves table names unqualified so the connection's search_path
	// finds them. Pass the same value to Migrate.
	Schema string

	// MaxRetries is how many times InTx runs its function again after the
	// transaction met a serialization failure (SQLSTATE 40001) or a deadlock
	// (40P01). Default: 0 means 10; a negative value turns retries off.
	MaxRetries int

	// RetryBackoff is the longest wait before the first retry; each wait is
	// random (jittered) between zero and its bound, and the bound doubles
	// with every further retry up to 64 times RetryBackoff. Default: 0 means
	// 2ms.
	RetryBackoff time.Duration

	// Logger receives what the store does that a service may want to
	// watch: each retry of a transaction and its cause at info, retries
	// that ran out and writes re-run after the database refused a deferred
	// one at warn. nil: silent. To see every statement and round trip (or
	// attach tracing spans), set a pgx tracer on the pool's ConnConfig: the
	// store sends everything through the pool.
	Logger *slog.Logger
	// OnRetry, if set, is called before each retry of a transaction with
	// the attempt that failed (from 1) and its cause, a *pgconn.PgError:
	// the hook for metrics.
	OnRetry func(ctx context.Context, attempt int, cause error)

	// GroupCommit makes concurrent Ledger.Post calls of transfers between
	// the same two accounts share one transaction and one COMMIT, in turns:
	// each post gets its own result or error, as if it had posted alone
	// after those before it, and a refused post never fails its
	// neighbours. A commit that fails (a serialization
	// failure or a deadlock: every member runs again; anything else: every
	// member gets the error) is the one thing members share. It raises the
	// throughput of hot accounts; a lone post pays nothing but
	// GroupCommitWait and, when the last group of its accounts had more
	// posts, a wait of at most half a millisecond for as many to join.
	// Posts inside a caller's transaction (WithTx), and any other
	// transaction, run alone as before. Default: false.
	GroupCommit bool
	// GroupCommitWait is how long a group stays open for more posts after
	// its first post's function has returned, while that post keeps the
	// accounts locked: the bound on the wait it adds to a post. Default: 0,
	// which closes the group as soon as its first post is done, so it
	// gathers only the posts that arrived while that one ran (under load,
	// while the group before it committed). Negative is an error.
	GroupCommitWait time.Duration

	// Portable makes the store avoid PostgreSQL's advisory locks, which
	// CockroachDB does not implement and YugabyteDB implements only when
	// its advisory lock flag is on. Default: false, the advisory locks.
	//
	// It changes the named locks, and nothing else: the lock a workspace's
	// usage log is written under (so that its rows commit in Seq order),
	// the lock of a workspace's custom fields (FieldsLock), the lock under
	// which a reader numbers the outbox's events, and the lock Store.Migrate
	// applies migrations under. Without Portable each is
	// pg_advisory_xact_lock of a hash of its name; with it, each is a write
	// of the lock's row in the allot_locks table (INSERT ... ON CONFLICT DO
	// UPDATE), which the next taker waits for until the transaction ends.
	// Statements, round trips and isolation levels stay the same; a lock
	// costs one row write on PostgreSQL. Store.Migrate then first creates
	// the schema and allot_locks in a transaction of their own, and the
	// package-level Migrate keeps the advisory lock.
	//
	// Portable alone does not make another engine run the store: the
	// package documentation has a table of what each engine supports.
	// Only PostgreSQL is tested, with and without Portable.
	Portable bool
}

const (
	defaultMaxRetries   = 10
	defaultRetryBackoff = 2 * time.Millisecond
)

// Store keeps the ledger in PostgreSQL. It is safe for concurrent use: each
// InTx runs on a connection of its own from the pool.
type Store struct {
	pool    *pgxpool.Pool
	q       *queries
	retries int
	backoff time.Duration
	log     *slog.Logger
	onRetry func(ctx context.Context, attempt int, cause error)

	// gc keeps the open groups when Options.GroupCommit is set.
	gc *committer

	// portable is Options.Portable (see portable.go).
	portable bool

	// caller is the transaction the caller owns, for a Store made by WithTx.
	caller pgx.Tx

	// testMismatch makes the check of a post committed with its lock fail,
	// for the tests.
	testMismatch bool
}

var _ ledger.Store = (*Store)(nil)

// New returns a Store over pool. It does not touch the database: call Migrate
// once (at every start is fine) before the first transaction.
func New(pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgxstore: New needs a *pgxpool.Pool; create one with pgxpool.New")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if strings.ContainsRune(o.Schema, 0) {
		return nil, errors.New("pgxstore: Options.Schema contains a NUL byte")
	}
	if o.RetryBackoff < 0 {
		return nil, fmt.Errorf("pgxstore: Options.RetryBackoff is %v; use zero for the default or a positive duration", o.RetryBackoff)
	}
	if o.GroupCommitWait < 0 {
		return nil, fmt.Errorf("pgxstore: Options.GroupCommitWait is %v; use zero or a positive duration", o.GroupCommitWait)
	}
	s := &Store{pool: pool, q: newQueries(o.Schema), retries: o.MaxRetries, backoff: o.RetryBackoff,
		log: o.Logger, onRetry: o.OnRetry, portable: o.Portable || testPortable}
	s.q.portable = s.portable
	if o.GroupCommit {
		s.gc = &committer{wait: o.GroupCommitWait, gatherMax: gatherMax}
		s.gc.cond = sync.NewCond(&s.gc.mu)
	}
	switch {
	case s.retries == 0:
		s.retries = defaultMaxRetries
	case s.retries < 0:
		s.retries = 0
	}
	if s.backoff == 0 {
		s.backoff = defaultRetryBackoff
	}
	return s, nil
}

// Migrate creates or updates the store's tables in its schema; see the
// package-level Migrate. With Options.Portable it locks a row of
// allot_locks instead of taking an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.pool, s.q.schema, 0, s.portable)
}

// WithTx returns a Store whose InTx runs inside tx, a transaction the caller
// began and will commit or roll back: a service can insert its own rows and
// post transfers that commit together, or not at all.
//
// Each InTx on the returned Store runs its function on a savepoint of tx: if
// the function returns an error or panics, what it wrote is rolled back to
// the savepoint and tx stays usable. InTx never retries, since it cannot run
// the caller's earlier statements again: a serialization failure or deadlock
// is returned (it matches *pgconn.PgError with Code "40001" or "40P01") and
// the caller should roll back and run its whole transaction again.
//
// The ledger's writes are correct at any isolation level, because it decides
// them under the row locks it takes. Under READ COMMITTED (PostgreSQL's
// default) each statement sees the latest commits, so reads that take several
// statements, such as Verify, may see writes that committed in between; use
// REPEATABLE READ for those, and be ready to retry on 40001 there.
//
// The returned Store is valid while tx is, and not safe for concurrent use,
// as tx is not.
func (s *Store) WithTx(tx pgx.Tx) *Store {
	c := *s
	c.caller = tx
	return &c
}

// InTx runs fn in a transaction and commits it if fn returns nil. If fn
// returns an error or panics, or ctx is cancelled before the commit,
// everything it wrote is rolled back and no lock it took is left behind.
//
// Isolation: a transaction whose first statement locks accounts (every post)
// or a seats pool (every seats write) runs at READ COMMITTED, and one that starts by reading runs at REPEATABLE
// READ, so multi-statement reads such as Balance and Verify see one snapshot.
// The ledger's writes are decided under row locks (SELECT ... FOR NO KEY
// UPDATE, taken in ID order), which makes their results serializable at
// either level. A serialization failure or deadlock rolls the attempt back
// and runs fn again, at READ COMMITTED, up to Options.MaxRetries times with a
// short jittered wait; fn must not have effects outside the transaction.
// When the retries run out, the error says so and wraps the last
// *pgconn.PgError.
//
// On a Store made by WithTx, InTx runs fn on a savepoint of the caller's
// transaction instead; see WithTx.
func (s *Store) InTx(ctx context.Context, fn func(tx ledger.Tx) error) error {
	return s.inTx(ctx, func(t *Tx) error { return fn(t) }, false)
}

// InTxAlone implements ledger.AloneStore: it runs fn as InTx does, fn being
// one Ledger.Post and nothing else. When the post is new and the ledger will
// make it, the store writes it with its lock, as in any transaction (see
// Tx.AccountsLock), and sends COMMIT in the same round trip: one round trip
// in all, and the post is committed before fn returns. That first write
// reads nothing back (queries.postWriteLean), so a post that wrote nothing
// there (a replay, a conflict, a refusal, expired holds of its accounts to
// release first) committed nothing and runs again, with the write that
// reads back why and releases those holds first (queries.postRelease; a
// replay releases them too, as the ledger does), committing with the lock
// again: two round trips. If ctx is cancelled while that round trip is
// under way, the post may have committed, as with any cancelled commit; a
// retry with the same transfer ID is safe. Without group commit only: with
// it, and on a Store made by WithTx, InTxAlone is InTx.
//
// A type that embeds *Store and changes its InTx must also override
// InTxAlone to call that InTx.
func (s *Store) InTxAlone(ctx context.Context, fn func(tx ledger.Tx) error) error {
	return s.inTx(ctx, func(t *Tx) error { return fn(t) }, true)
}

func (s *Store) inTx(ctx context.Context, fn func(t *Tx) error, alone bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.caller != nil {
		return s.inCallerTx(ctx, fn)
	}
	readCommitted, eager, early, lean := false, false, alone, alone
	for attempt := 0; ; {
		then, err := s.attempt(ctx, fn, readCommitted, eager, early, lean)
		switch then {
		case done:
			return err
		case explain:
			// A lone post committed with its lock by the lean write wrote
			// nothing: run fn again with the write that reads back why.
			// The attempt wrote nothing and does not count.
			lean = false
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		case again:
			// A lone post committed with its lock, and then needed a
			// statement or a write of its own (the ledger decided
			// otherwise than the write guessed): run fn again, committing
			// at the end. The attempt does not count; what its commit
			// wrote, if anything, fn finds again.
			early = false
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		case redo:
			// A deferred write was refused: run fn again, writing at once,
			// so that the refusal reaches fn where it happened. The attempt
			// wrote nothing and does not count.
			eager = true
			if s.log != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "pgxstore: the database refused a write sent with the commit; running the transaction again, writing at once",
					slog.Any("cause", err))
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		if attempt >= s.retries {
			if s.log != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "pgxstore: transaction retries ran out",
					slog.Int("attempts", attempt+1), slog.Any("cause", err))
			}
			return &ConflictsError{Attempts: attempt + 1, Last: err}
		}
		if s.log != nil {
			s.log.LogAttrs(ctx, slog.LevelInfo, "pgxstore: retrying a transaction that conflicted",
				slog.Int("attempt", attempt+1), slog.Any("cause", err))
		}
		if s.onRetry != nil {
			s.onRetry(ctx, attempt+1, err)
		}
		// Writes are decided under locks, which READ COMMITTED waits for
		// instead of failing.
		readCommitted = true
		if err := s.sleep(ctx, attempt); err != nil {
			return err
		}
		attempt++
	}
}

// next is what InTx does after an attempt.
type next int

const (
	done    next = iota // return the attempt's result
	retry               // a serialization failure or deadlock: wait and run fn again
	redo                // a deferred write failed: run fn again with eager writes
	again               // a lone post committed with its lock needs more: run fn again, committing at the end
	explain             // a lone post's lean write wrote nothing: run fn again with the write that tells why
)

// ConflictsError is what InTx returns when its transaction met a
// serialization failure or a deadlock on every attempt: the store is too
// busy for now, and the same request, retried later with the same request
// ID, does what it was to do once. Its code is "unavailable" (see
// allot.ErrorCode).
type ConflictsError struct {
	Attempts int   // how many times the transaction ran
	Last     error // the last attempt's failure, a *pgconn.PgError
}

func (e *ConflictsError) Error() string {
	return fmt.Sprintf("pgxstore: transaction conflicted with concurrent ones %d times in a row; giving up: %v", e.Attempts, e.Last)
}

// Unwrap returns the last attempt's failure.
func (e *ConflictsError) Unwrap() error { return e.Last }

// Code returns "unavailable": retry later with the same request ID.
func (e *ConflictsError) Code() string { return errcode.Unavailable }

// sleep waits a random time below the backoff bound of the given attempt.
func (s *Store) sleep(ctx context.Context, attempt int) error {
	bound := s.backoff << min(attempt, 6)
	timer := time.NewTimer(rand.N(bound) + 1)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt runs fn once in a transaction of its own, and says what InTx
// does next: retry reports a transient failure (the transaction met a
// serialization failure or a deadlock, whatever fn made of it), redo a
// deferred write that failed, again a lone post committed with its lock
// that needs more, explain a lone post whose lean write wrote nothing.
// With eager set, Apply writes at once; with early set, a lone post may
// commit with its lock (see Tx.commitsWithLock), and with lean set too, by
// a write that reads nothing back.
func (s *Store) attempt(ctx context.Context, fn func(t *Tx) error, readCommitted, eager, early, lean bool) (next, error) {
	early = early && !eager && s.gc == nil
	t := &Tx{s: s, lazyBegin: true, readCommitted: readCommitted, eager: eager, early: early, lean: early && lean}
	if s.gc == nil || eager {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return done, fmt.Errorf("pgxstore: acquire a connection: %w", err)
		}
		t.conn, t.q = conn, conn.Conn()
	} // else the first statement takes a connection, or a group's
	defer func() {
		if t.conn != nil {
			t.conn.Release() // the pool closes a connection left in a transaction
		}
	}()
	finished := false
	defer func() {
		t.done = true
		if !finished { // fn panicked
			if t.group != nil {
				_, _ = t.leave(ctx, nil, true)
				return
			}
			t.rollback(ctx)
		}
	}()
	err := fn(t)
	finished = true
	if err == nil && !t.ended {
		// A transaction that committed with its lock committed before
		// ctx was done: its outcome stands.
		err = ctx.Err()
	}
	if t.group != nil {
		t.done = true
		return t.leave(ctx, err, false)
	}
	if err != nil || t.redo || t.again || t.explain {
		t.rollback(ctx)
		switch {
		case t.transient != nil:
			if err == nil || !errors.Is(err, t.transient) {
				err = t.transient
			}
			return retry, err
		case t.redo:
			return redo, err
		case t.again:
			return again, err
		case t.explain:
			return explain, err
		}
		return done, err
	}
	return t.finish(ctx)
}

// finish commits the transaction of an attempt whose function succeeded,
// and says what InTx does next.
func (t *Tx) finish(ctx context.Context) (next, error) {
	if t.ended {
		return done, nil // committed with the lock
	}
	if !t.begun && len(t.deferred) == 0 {
		return done, nil
	}
	if err := t.unconfirmed(); err != nil {
		t.rollback(ctx)
		return redo, err
	}
	ct, err := t.commit(ctx)
	switch {
	case err != nil:
		t.rollback(ctx)
		switch {
		case t.transient != nil:
			return retry, fmt.Errorf("pgxstore: commit: %w", err)
		case t.redo:
			return redo, err
		}
		return done, fmt.Errorf("pgxstore: commit: %w", err)
	case ct.String() == "ROLLBACK":
		// A statement failed and fn went on; PostgreSQL rolled back.
		if t.transient != nil {
			return retry, t.transient
		}
		return done, fmt.Errorf("pgxstore: the transaction was rolled back at commit because a statement in it had failed: %w", t.failure)
	}
	return done, nil
}

// inCallerTx runs fn on a savepoint of the caller's transaction.
func (s *Store) inCallerTx(ctx context.Context, fn func(t *Tx) error) error {
	t := &Tx{s: s, q: s.caller, prefix: []string{"SAVEPOINT allot_intx"}, eager: true}
	finished := false
	defer func() {
		t.done = true
		if !finished {
			t.rollbackCaller(ctx)
		}
	}()
	err := fn(t)
	finished = true
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		t.rollbackCaller(ctx)
		return err
	}
	if !t.sent {
		return nil // fn sent nothing
	}
	if _, err := s.caller.Exec(ctx, "RELEASE SAVEPOINT allot_intx"); err != nil {
		t.note(err)
		if t.failure != nil && !errors.Is(err, t.failure) {
			return fmt.Errorf("pgxstore: release savepoint after an earlier failed statement (%w): %w", t.failure, err)
		}
		return fmt.Errorf("pgxstore: release savepoint: %w", err)
	}
	return nil
}

// isTransient reports whether err is a serialization failure or a deadlock,
// which running the transaction again may not meet.
func isTransient(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
