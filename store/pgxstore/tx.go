package pgxstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is what a Tx sends its statements through: a connection of the
// pool, or the caller's pgx.Tx.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Tx is a transaction on a Store. It implements ledger.Tx; the domain
// packages' storage methods are added to it, each facet in a file of its own
// with its own migration, so that one Tx serves them all.
//
// A Tx sends each operation's statements in one round trip (a pipelined
// pgx.Batch), preceded by whatever statement is due: BEGIN on the first one,
// the release of an earlier savepoint. It is not safe for concurrent use and
// is valid only until the function InTx runs returns.
type Tx struct {
	s *Store
	q querier

	lazyBegin     bool // BEGIN is still to be sent, ahead of the first statement
	readCommitted bool // begin at READ COMMITTED whatever the first statement
	begun         bool // BEGIN was sent
	snapshot      bool // BEGIN chose REPEATABLE READ
	sent          bool // some statement was sent
	prefix        []string

	// transient is the first serialization failure or deadlock met: the
	// attempt's outcome does not count, whatever fn made of the error.
	transient error
	// failure is the statement error that aborted the transaction, if no
	// rollback to a savepoint has repaired it since.
	failure error
	done    bool

	// prefetched is what the last AccountsLock read for the TransfersGet
	// and HoldsGet that follow it, or what one of those read for the other;
	// any other statement drops it.
	prefetched *prefetch
	// hint is the IDs of TransfersPrefetch, for the next AccountsLock, and
	// next its transfer when it named one.
	hint []ledger.TransferID
	next ledger.Transfer
	// lockHint is the last LockPrefetch, for the AccountsLock (or, for a
	// settlement, the HoldsGet) that follows it; any other statement drops
	// it. ahead is what that round trip read for the calls after it, until
	// the next statement or write.
	lockHint    ledger.LockHint
	hasLockHint bool
	ahead       *ahead
	// seqs are journal sequence numbers taken under the last AccountsLock,
	// for the transfers of the Apply that follows it.
	seqs []int64
	// locked is what the last AccountsLock read, to tell which columns an
	// Apply changes.
	locked []ledger.AccountState
	// write is a post written with its lock (see AccountsLock), until the
	// Apply that confirms it. Any other statement, or the commit, before
	// that Apply makes the function run again without such writes.
	write *written

	// eager makes Apply write at once, on a savepoint: never deferred.
	eager bool
	// deferred are writes of Apply, still to be sent ahead of the next
	// statement or with the commit; flushed counts those the server ran.
	deferred []*pgx.QueuedQuery
	flushed  int
	// redo records that a deferred write failed: the attempt does not
	// count, and InTx runs the function again with eager writes, which
	// report the failure where it happened.
	redo bool

	// early lets a lone post commit with its lock (see commitsWithLock);
	// ended records that it did: the transaction is over, and again that
	// the function needs a write or a statement after that commit, so InTx
	// runs it again without committing early.
	early, ended, again bool
	// lean makes such a post's write read nothing back (queries.
	// postWriteLean); explain records that it wrote nothing, so InTx runs
	// the function again with the write that tells why.
	lean, explain bool

	// seen are the rows read, for execLater.
	seen map[string]bool
	// sends counts the batches sent.
	sends int
	// conn is the connection a transaction of a store with group commit
	// took at its first statement, when it joined no group.
	conn *pgxpool.Conn
	// group is the shared transaction t runs in (group commit); leader says
	// t commits it. groupMark is the index in deferred of t's SAVEPOINT,
	// groupSends the batches sent before t's turn.
	group                 *group
	member                *member
	leader                bool
	groupMark, groupSends int
}

var _ ledger.Tx = (*Tx)(nil)

// errTxDone is returned by a Tx used after its function returned.
var errTxDone = errors.New("pgxstore: transaction already finished; use the Tx only inside the function InTx runs")

func (t *Tx) check(ctx context.Context) error {
	if t.done {
		return errTxDone
	}
	return ctx.Err()
}

// run sends b's statements in one round trip, after the due prefix
// statements, and runs their callbacks. locks says whether b's first
// statement locks rows (AccountsLock, PoolLock); if it is the transaction's
// first statement, the transaction begins at READ COMMITTED, else at
// REPEATABLE READ.
func (t *Tx) run(ctx context.Context, b *pgx.Batch, locks bool) error {
	t.forget()
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := t.over(); err != nil {
		return err
	}
	if err := t.unconfirmed(); err != nil {
		return err
	}
	if m := t.member; m != nil && m.sent && !m.used {
		t.dropOwnAhead()
	}
	if err := t.connect(ctx); err != nil {
		return err
	}
	var pre []string
	if t.lazyBegin {
		pre = append(pre, t.begin(locks))
	}
	pre = append(pre, t.prefix...)
	t.prefix = t.prefix[:0]
	deferred := len(t.deferred)
	if len(pre) > 0 || deferred > 0 {
		all := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(pre)+deferred+b.Len())}
		for _, sql := range pre {
			all.Queue(sql)
		}
		all.QueuedQueries = append(all.QueuedQueries, t.deferred...)
		all.QueuedQueries = append(all.QueuedQueries, b.QueuedQueries...)
		b = all
	}
	return t.send(ctx, b, deferred)
}

// forget drops what was read ahead and the hints for the next statement:
// a statement or a write comes between them and the calls they were for.
func (t *Tx) forget() {
	t.prefetched, t.hint, t.next = nil, nil, ledger.Transfer{}
	t.hasLockHint, t.ahead = false, nil
}

// over fails, and makes the function run again without committing early,
// if the transaction already committed with its lock: a lone post that
// needs a statement after its lock's round trip. What that commit made
// durable, if anything, the function finds again (a post is idempotent).
func (t *Tx) over() error {
	if !t.ended {
		return nil
	}
	t.write, t.again = nil, true
	return errors.New("pgxstore: a statement came after the post committed with its lock; the transaction runs again")
}

// unexplained fails, and makes the function run again, if a lone post
// committed with its lock by the lean write wrote nothing: that write does
// not tell why (a replay, a refusal, expired holds to release first), and
// the ledger must know. The next attempt writes with the statement that
// reads the reasons back and releases expired holds first
// (queries.postRelease), in one round trip again.
func (t *Tx) unexplained() error {
	t.write, t.explain = nil, true
	return errors.New("pgxstore: lock accounts: the post committed with its lock wrote nothing; the transaction runs again to tell why")
}

// unconfirmed fails, and makes the function run again writing at once, if
// a post written with its lock was not confirmed by an Apply: the ledger
// goes another way than the write guessed.
func (t *Tx) unconfirmed() error {
	if t.write == nil {
		return nil
	}
	t.write, t.redo = nil, true
	return errors.New("pgxstore: a statement came between a post written with its lock and the Apply of its changes; the transaction runs again")
}

// connect takes a connection for t if it has none yet.
func (t *Tx) connect(ctx context.Context) error {
	if t.q != nil {
		return nil
	}
	if t.group != nil {
		return fmt.Errorf("pgxstore: acquire a connection: %w", t.group.err)
	}
	conn, err := t.s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgxstore: acquire a connection: %w", err)
	}
	t.conn, t.q = conn, conn.Conn()
	return nil
}

// begin returns the BEGIN that starts the transaction ahead of its first
// statement, which locks rows if locks is set.
func (t *Tx) begin(locks bool) string {
	t.lazyBegin, t.begun = false, true
	if locks || t.readCommitted {
		return "BEGIN ISOLATION LEVEL READ COMMITTED"
	}
	t.snapshot = true
	return "BEGIN ISOLATION LEVEL REPEATABLE READ"
}

// send sends b, whose first statements after the prefix are the deferred
// writes, and runs the callbacks.
func (t *Tx) send(ctx context.Context, b *pgx.Batch, deferred int) error {
	t.sent = true
	t.sends++
	t.deferred, t.flushed = nil, 0
	if t.group != nil {
		// A member's cancelled context must not break its neighbours'
		// connection; its function sees the cancellation at its next call.
		ctx = context.WithoutCancel(ctx)
	}
	err := t.q.SendBatch(ctx, b).Close()
	if err != nil {
		t.note(err)
		var pe *pgconn.PgError
		if t.flushed < deferred && errors.As(err, &pe) {
			t.redo = true
		}
	}
	return err
}

// commit sends the deferred writes and COMMIT in one round trip, after
// BEGIN if the deferred writes are all the transaction did. It returns
// COMMIT's command tag: "ROLLBACK" if a statement had failed before.
func (t *Tx) commit(ctx context.Context) (pgconn.CommandTag, error) {
	if err := t.connect(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	deferred := len(t.deferred)
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(t.prefix)+deferred+2)}
	if t.lazyBegin {
		b.Queue(t.begin(false))
	}
	for _, sql := range t.prefix {
		b.Queue(sql)
	}
	t.prefix = t.prefix[:0]
	b.QueuedQueries = append(b.QueuedQueries, t.deferred...)
	var tag pgconn.CommandTag
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		tag = ct
		return nil
	})
	return tag, t.send(ctx, b, deferred)
}

// snapshotReads reports whether a statement that reads without locking,
// sent now, runs at REPEATABLE READ: the transaction began at that level, or
// has not begun and would begin at it. Such a transaction cannot update a
// row that changed after its snapshot (PostgreSQL reports a serialization
// failure, and InTx runs it again), so what it read before updating is what
// it updates. At READ COMMITTED, and in a caller's transaction, whose level
// is unknown, a read that an update will rely on must lock its rows.
func (t *Tx) snapshotReads() bool {
	if t.lazyBegin {
		return !t.readCommitted
	}
	return t.snapshot
}

// note records a statement's failure.
func (t *Tx) note(err error) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if t.failure == nil {
			t.failure = err
		}
		return
	}
	if t.failure == nil {
		t.failure = err
	}
	if t.transient == nil && isTransient(err) {
		t.transient = err
	}
}

// execLater runs a write that must change exactly one row, one the
// transaction has read (key, see see): an UPDATE of a seats pool or event,
// of a license organization, team or member, of a passes session or access
// window after reading it, or the INSERT of a row a read under a lock did
// not find. The write is sql with args, after pre (a lock, or nil) in the
// same round trip. When the store owns the transaction, it has begun and
// the row was read, the write is sent ahead of the next statement or with
// the commit instead of at once, which saves a round trip, as
// oneRowLater(sql): if it then changes no row, or the database refuses it,
// the transaction rolls back and InTx runs the function again with every
// write sent at once (as with Apply), so the refusal reaches the function
// where it happened. Otherwise the write runs at once, with locks telling
// run whether its first statement locks rows, and notFound explains a write
// that changed no row.
func (t *Tx) execLater(ctx context.Context, key, what string, locks bool, pre *pgx.QueuedQuery, sql string, args []any, notFound func() error) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if t.eager || !t.begun || !t.seen[key] {
		var b pgx.Batch
		if pre != nil {
			b.QueuedQueries = append(b.QueuedQueries, pre)
		}
		var n int64
		b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error {
			n = ct.RowsAffected()
			return nil
		})
		if err := t.run(ctx, &b, locks); err != nil {
			return storeErr(what, err)
		}
		if n == 0 {
			return notFound()
		}
		return nil
	}
	t.forget()
	flushed := func(pgconn.CommandTag) error {
		t.flushed++
		return nil
	}
	if pre != nil {
		pre.Exec(flushed)
		t.deferred = append(t.deferred, pre)
	}
	q := &pgx.QueuedQuery{SQL: oneRowLater(sql), Arguments: args}
	q.Exec(flushed)
	t.deferred = append(t.deferred, q)
	return nil
}

// laterSQL caches oneRowLater's statements by the write they wrap.
var laterSQL sync.Map // string -> string

// oneRowLater returns sql, an INSERT, UPDATE or DELETE without RETURNING,
// made to fail on the server (division by zero) when it changes no row. A
// write sent with the COMMIT must abort the transaction itself: the server
// runs the COMMIT before the client reads the write's outcome.
func oneRowLater(sql string) string {
	if got, ok := laterSQL.Load(sql); ok {
		return got.(string)
	}
	got, _ := laterSQL.LoadOrStore(sql, "WITH w AS ("+sql+" RETURNING 1) SELECT 1 / count(*) FROM w")
	return got.(string)
}

// see records that the transaction read the row named key (found, or for
// keys of inserts, not found), so a write of it may wait (execLater).
func (t *Tx) see(key string) {
	if t.seen == nil {
		t.seen = make(map[string]bool)
	}
	t.seen[key] = true
}

// savepoint runs b on a savepoint: if it fails, what it wrote is rolled back
// and the transaction stays usable. On success the savepoint stays open, so
// the caller can still inspect the results and call rollbackTo, or call
// release.
func (t *Tx) savepoint(ctx context.Context, b *pgx.Batch, locks bool) error {
	sp := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, b.Len()+1)}
	sp.Queue("SAVEPOINT allot_apply")
	sp.QueuedQueries = append(sp.QueuedQueries, b.QueuedQueries...)
	if err := t.run(ctx, sp, locks); err != nil {
		if rerr := t.rollbackTo(ctx); rerr != nil {
			return fmt.Errorf("%w (and rolling back its savepoint failed: %v)", err, rerr)
		}
		return err
	}
	return nil
}

// release releases the savepoint ahead of the next statement (or by the
// commit), which saves a round trip.
func (t *Tx) release() {
	t.prefix = append(t.prefix, "RELEASE SAVEPOINT allot_apply")
}

// rollbackTo undoes the writes since the last SAVEPOINT allot_apply.
func (t *Tx) rollbackTo(ctx context.Context) error {
	if _, err := t.q.Exec(ctx, "ROLLBACK TO SAVEPOINT allot_apply; RELEASE SAVEPOINT allot_apply"); err != nil {
		t.note(err)
		return err
	}
	t.failure = nil
	return nil
}

// cleanupTimeout bounds a rollback, which runs even when the caller's context
// is done.
const cleanupTimeout = 5 * time.Second

// rollback ends a transaction of the store's own.
func (t *Tx) rollback(ctx context.Context) {
	t.deferred = nil
	if !t.begun {
		return
	}
	conn, ok := t.q.(*pgx.Conn)
	if ok && conn.IsClosed() {
		// A cancelled context closed the connection mid-statement. The
		// server rolls back when it notices; a cancel request makes it
		// notice now, even if it is waiting for a lock.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = conn.PgConn().CancelRequest(cctx)
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := t.q.Exec(cctx, "ROLLBACK"); err != nil && ok {
		// The pool discards a connection that is not idle; closing it makes
		// the server roll back.
		_ = conn.Close(cctx)
	}
}

// rollbackCaller undoes fn's writes in the caller's transaction.
func (t *Tx) rollbackCaller(ctx context.Context) {
	if !t.sent {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = t.q.Exec(cctx, "ROLLBACK TO SAVEPOINT allot_intx; RELEASE SAVEPOINT allot_intx")
}

// storeErr wraps a database error from the operation what, translating the
// ones the ledger has a sentinel for and keeping the original reachable.
func storeErr(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return fmt.Errorf("pgxstore: %s: %w: %w", what, ledger.ErrAlreadyExists, err)
		case pe.Code == "23514" && pe.ConstraintName == "allot_accounts_non_negative":
			return fmt.Errorf("pgxstore: %s: %w: %w", what, ledger.ErrInsufficientBalance, err)
		}
	}
	return fmt.Errorf("pgxstore: %s: %w", what, err)
}
