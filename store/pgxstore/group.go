package pgxstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// This file is group commit (Options.GroupCommit): concurrent posts of one
// transfer between the same two accounts share one transaction and one
// COMMIT.
//
// A transaction of a store with group commit takes no connection until its
// first statement. If its function's first call is the TransfersPrefetch of
// a Ledger.Post (one transfer), the transaction joins the open group of the
// transfer's two accounts, or opens one: the group's first member, its
// leader, takes a connection for all. Members take turns on that
// connection, each running its whole function on a savepoint of the shared
// transaction, so each one sees the writes of those before it, exactly as if
// they had posted one after the other; a member whose function fails is
// rolled back to its savepoint and gets its own error, and its neighbours
// are not touched. The savepoint statements travel with the members'
// statements, so they cost no round trip. The group closes to new members
// when its leader's function has returned and Options.GroupCommitWait has
// passed; then, once every member has had its turn, the leader sends COMMIT
// (with the last member's writes) and every member gets the outcome: its own
// result if the commit succeeded; otherwise the group's failure, and on a
// serialization failure or deadlock every member runs its function again,
// alone or in a new group.
//
// Under load, members gather while the group before them commits: the next
// group's leader waits for the accounts' locks, and the posts that arrive
// meanwhile join it, so one COMMIT (one WAL flush) serves them all.

// maxGroup bounds the members of one group.
const maxGroup = 256

// group is one shared transaction.
type group struct {
	key  string
	turn chan struct{} // holds the token while no member runs
	conn *pgxpool.Conn
	err  error // acquiring the connection failed

	// Guarded by the store's gmu.
	members, running int
	closed           bool

	// The transaction's state between turns.
	st txState

	// The outcome, set before done is closed.
	done chan struct{}
	then next
	fail error // the group's failure, for every member
	// doomed records a member's transient failure or refused deferred
	// write: the group rolls back and every member runs again.
	doomed     next
	doomedErr  error
	memberSeen int // members that had their turn, for tests
}

// txState is what a Tx carries of its transaction from one member to the
// next.
type txState struct {
	q                               querier
	lazyBegin, readCommitted, begun bool
	snapshot, sent, redo            bool
	prefix                          []string
	transient, failure              error
	deferred                        []*pgx.QueuedQuery
	sends                           int
}

func (t *Tx) saveState() txState {
	return txState{q: t.q, lazyBegin: t.lazyBegin, readCommitted: t.readCommitted, begun: t.begun,
		snapshot: t.snapshot, sent: t.sent, redo: t.redo, prefix: t.prefix, transient: t.transient,
		failure: t.failure, deferred: t.deferred, sends: t.sends}
}

func (t *Tx) loadState(st txState) {
	t.q, t.lazyBegin, t.readCommitted, t.begun = st.q, st.lazyBegin, st.readCommitted, st.begun
	t.snapshot, t.sent, t.redo, t.prefix, t.transient = st.snapshot, st.sent, st.redo, st.prefix, st.transient
	t.failure, t.deferred, t.sends = st.failure, st.deferred, st.sends
}

// groupKey names the accounts of a transfer, in either direction.
func groupKey(tr ledger.Transfer) string {
	a, b := string(tr.Debit), string(tr.Credit)
	if b < a {
		a, b = b, a
	}
	return a + "\x00" + b
}

// join makes t a member of the open group of tr's accounts, or the leader
// of a new one, and waits for its turn.
func (t *Tx) join(ctx context.Context, tr ledger.Transfer) {
	s := t.s
	key := groupKey(tr)
	s.gc.mu.Lock()
	g := s.gc.groups[key]
	leader := false
	if g == nil || g.closed || g.members >= maxGroup {
		g = &group{key: key, turn: make(chan struct{}, 1), done: make(chan struct{}), doomed: done}
		if s.gc.groups == nil {
			s.gc.groups = make(map[string]*group)
		}
		s.gc.groups[key] = g
		s.gc.opened.Add(1)
		leader = true
	}
	g.members++
	g.running++
	s.gc.mu.Unlock()
	if leader {
		g.conn, g.err = s.pool.Acquire(context.WithoutCancel(ctx))
		if g.err == nil {
			g.st = txState{q: g.conn.Conn(), lazyBegin: true, readCommitted: true}
		}
	} else {
		<-g.turn
	}
	t.group, t.leader = g, leader
	g.memberSeen++
	if s.gc.onTurn != nil {
		s.gc.onTurn(tr)
	}
	if g.err != nil {
		return
	}
	t.loadState(g.st)
	t.deferLater("SAVEPOINT allot_group")
	t.groupMark, t.groupSends = len(t.deferred)-1, t.sends
}

// deferLater queues a statement to be sent ahead of the next one or with
// the commit.
func (t *Tx) deferLater(sql string) {
	q := &pgx.QueuedQuery{SQL: sql}
	q.Exec(func(pgconn.CommandTag) error {
		t.flushed++
		return nil
	})
	t.deferred = append(t.deferred, q)
}

// leave ends t's turn after its function returned err (panicked, if
// panicked is set), and returns what InTx does next once the group's
// outcome is known.
func (t *Tx) leave(ctx context.Context, err error, panicked bool) (next, error) {
	g, s := t.group, t.s
	if g.err == nil {
		switch {
		case t.transient != nil:
			g.doom(retry, t.transient)
		case t.redo:
			g.doom(redo, err)
		case err != nil || panicked:
			if t.sends == t.groupSends {
				// Nothing of this member reached the server.
				t.deferred = t.deferred[:t.groupMark]
			} else {
				t.deferred, t.prefix = nil, nil
				t.deferLater("ROLLBACK TO SAVEPOINT allot_group")
				t.deferLater("RELEASE SAVEPOINT allot_group")
			}
			t.failure = nil
		case t.write != nil:
			// A post written with its lock that no Apply confirmed.
			g.doom(redo, t.unconfirmed())
		default:
			t.deferLater("RELEASE SAVEPOINT allot_group")
		}
		g.st = t.saveState()
	}
	t.q = nil
	s.gc.mu.Lock()
	g.running--
	s.gc.cond.Broadcast()
	s.gc.mu.Unlock()
	g.turn <- struct{}{}
	if t.leader {
		g.finish(ctx, t)
	} else {
		<-g.done
	}
	switch {
	case g.then != done:
		return g.then, g.fail
	case g.fail != nil:
		return done, g.fail
	}
	return done, err
}

// doom makes the group roll back, and every member run again.
func (g *group) doom(then next, err error) {
	if g.doomed == done {
		g.doomed, g.doomedErr = then, err
	}
}

// finish closes the group after the bounded wait, waits for every member's
// turn, and commits (or rolls back) the shared transaction.
func (g *group) finish(ctx context.Context, t *Tx) {
	s := t.s
	ctx = context.WithoutCancel(ctx)
	if s.gc.wait > 0 {
		time.Sleep(s.gc.wait)
	}
	s.gc.mu.Lock()
	g.closed = true
	if s.gc.groups[g.key] == g {
		delete(s.gc.groups, g.key)
	}
	for g.running > 0 {
		s.gc.cond.Wait()
	}
	s.gc.mu.Unlock()
	defer close(g.done)
	if g.err != nil {
		g.then, g.fail = done, fmt.Errorf("pgxstore: acquire a connection: %w", g.err)
		return
	}
	defer g.conn.Release()
	t.loadState(g.st)
	t.group = nil
	if g.doomed != done {
		t.rollback(ctx)
		g.then, g.fail = g.doomed, g.doomedErr
		return
	}
	g.then, g.fail = t.finish(ctx)
}

// groupable reports whether a TransfersPrefetch of ts, as t's first call,
// makes t join a group.
func (t *Tx) groupable(ts []ledger.Transfer) bool {
	return t.s.gc != nil && t.q == nil && t.group == nil && !t.eager && !t.done && len(ts) == 1 && !t.begun
}

// committer keeps a store's open groups.
type committer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	groups map[string]*group
	wait   time.Duration
	onTurn func(ledger.Transfer) // for tests: a member's turn begins
	opened atomic.Int64          // groups opened, for tests
}
