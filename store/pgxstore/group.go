package pgxstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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
// connection, in the order they joined, each running its whole function on
// a savepoint of its own in the shared transaction, so each one sees the
// writes of those before it, exactly as if they had posted one after the
// other; a member whose function fails is rolled back to its savepoint and
// gets its own error, and its neighbours are not touched. The savepoint
// statements travel with the members' statements, so they cost no round
// trip. A member whose turn comes sends, with its lock, its own write and
// the writes of the members that joined after it as one statement on its
// savepoint (see sendAhead), so that those post without a round trip or a
// statement of their own. That statement writes the posts in turn up to
// the first the ledger would not post (a refusal, a replay): if that is
// the sender's own, one more round trip sends the sender's write alone,
// which reads back why; the members it did not
// write send their own statements in their turn; and a member whose write
// must be undone alone while it shares that savepoint rolls the group
// back, every member running again. The group closes to new members
// when its leader's function has returned and Options.GroupCommitWait has
// passed; then, once every member has had its turn, the leader sends COMMIT
// (with the last member's writes) and every member gets the outcome: its own
// result if the commit succeeded; otherwise the group's failure, and on a
// serialization failure or deadlock every member runs its function again,
// alone or in a new group.
//
// Under load, members gather while the group before them commits: the next
// group's leader waits for the accounts' locks, and the posts that arrive
// meanwhile join it, so one COMMIT (one WAL flush) serves them all. When
// the writers are as many as the group holds, they all wait for its commit
// and come back together after it: a leader then waits, before its first
// statement and for at most about a round trip, until as many members have
// joined as the last group of its accounts had (see gather), so that its
// round trip carries them all.

// maxGroup bounds the members of one group.
const maxGroup = 256

// group is one shared transaction.
type group struct {
	key  string
	gc   *committer
	conn *pgxpool.Conn
	err  error // acquiring the connection failed

	// Guarded by the store's gmu.
	members, running int
	closed           bool
	// queue is the members in the order of their turns; cur is the index
	// of the member whose turn it is, or len(queue) while the turn waits
	// for the next member to join.
	queue []*member
	cur   int

	// The transaction's state between turns.
	st txState
	// joined is signalled when a member joins, for the gathering leader.
	joined chan struct{}

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
// of a new one, and waits for its turn. Turns follow the order of joining.
func (t *Tx) join(ctx context.Context, tr ledger.Transfer) {
	s := t.s
	key := groupKey(tr)
	m := &member{tr: tr, turn: make(chan struct{}, 1)}
	if h := t.lockHint; t.hasLockHint && h.Settle == "" && h.Account == "" && len(h.IDs) == 0 && !h.Now.IsZero() && tr.Debit != tr.Credit {
		m.now, m.ahead = h.Now, true
	}
	s.gc.mu.Lock()
	g := s.gc.groups[key]
	leader := false
	if g == nil || g.closed || g.members >= maxGroup {
		g = &group{key: key, gc: s.gc, done: make(chan struct{}), doomed: done, joined: make(chan struct{}, 1)}
		if s.gc.groups == nil {
			s.gc.groups = make(map[string]*group)
		}
		s.gc.groups[key] = g
		s.gc.opened.Add(1)
		leader = true
	}
	m.sp = "allot_group_" + strconv.Itoa(len(g.queue))
	g.queue = append(g.queue, m)
	if g.cur == len(g.queue)-1 {
		m.turn <- struct{}{}
	}
	g.members++
	g.running++
	if !leader {
		select {
		case g.joined <- struct{}{}:
		default:
		}
	}
	s.gc.mu.Unlock()
	if leader {
		g.conn, g.err = s.pool.Acquire(context.WithoutCancel(ctx))
		if g.err == nil {
			g.st = txState{q: g.conn.Conn(), lazyBegin: true, readCommitted: true}
		}
		s.gc.gather(g)
	}
	<-m.turn
	t.group, t.leader, t.member = g, leader, m
	g.memberSeen++
	if s.gc.onTurn != nil {
		s.gc.onTurn(tr)
	}
	if g.err != nil {
		return
	}
	t.loadState(g.st)
	t.groupMark, t.groupSends = len(t.deferred), t.sends
	if !m.sent {
		t.deferLater("SAVEPOINT " + m.sp)
	}
}

// member is one post of a group. A member whose turn has not come may have
// its write sent ahead, by the member before it, in that member's round
// trip (see sendAhead), presuming that the members before it end as their
// statements say (with no other write). When one does not, the group rolls
// back and every member runs again (see dropSent).
type member struct {
	tr    ledger.Transfer
	now   time.Time // the post's instant, from its LockPrefetch
	ahead bool      // its statements can be sent ahead (a plain post)
	sp    string    // its savepoint
	turn  chan struct{}

	// What the statements sent ahead read; sent says they were sent, on
	// the savepoint of the member before it that sent them (see sendAhead),
	// and still stand.
	sent bool
	got  []ledger.AccountState
	wr   *writeRead
	// used says its function took what was sent ahead; wrote that the
	// function confirmed the write sent ahead.
	used, wrote bool
}

// sendAhead adds to b, after t's lock, t's own write and the writes of the
// members that follow t in turn and have joined, and returns those members
// and what the statement will read of t's write. Their accounts need no
// lock of their own: the group holds it, and nothing but the group writes
// them until the commit, so the accounts as each member finds them are
// those t locked with the writes of the posts before it applied (see
// passAhead). The writes are one statement (queries.postRun) on t's
// savepoint, which the members share (see member.sent). The statement
// writes the longest first part of the run that the ledger will post; the
// members after that part send their own statements in their turn (see
// passAhead). When no member follows t, or t's own write cannot head the
// run (it is not the post t joined the group with), sendAhead adds nothing
// and returns nil.
func (t *Tx) sendAhead(b *pgx.Batch, now time.Time) ([]*member, *writeRead) {
	g, gc := t.group, t.s.gc
	own := t.next
	if own.ID != t.member.tr.ID || groupKey(own) != g.key {
		return nil, nil // a later post of a function that posts more
	}
	ownMeta, err := encodeMetadata(own.Metadata)
	if err != nil {
		return nil, nil // the ledger refuses such metadata before
	}
	gc.mu.Lock()
	defer gc.mu.Unlock()
	ids, debits, credits := []string{string(own.ID)}, []string{string(own.Debit)}, []string{string(own.Credit)}
	amounts, nows := []string{own.Amount.String()}, []time.Time{now}
	codes, actors, metas := []string{own.Code}, []string{own.Actor}, []pgtype.Text{ownMeta}
	var out []*member
	for i := g.cur + 1; i < len(g.queue) && len(out) < maxAhead; i++ {
		m := g.queue[i]
		if !m.ahead || m.sent {
			break
		}
		meta, err := encodeMetadata(m.tr.Metadata)
		if err != nil {
			break // the ledger refuses such metadata before
		}
		m.sent = true
		out = append(out, m)
		ids, debits, credits = append(ids, string(m.tr.ID)), append(debits, string(m.tr.Debit)), append(credits, string(m.tr.Credit))
		amounts, nows = append(amounts, m.tr.Amount.String()), append(nows, m.now)
		codes, actors, metas = append(codes, m.tr.Code), append(actors, m.tr.Actor), append(metas, meta)
	}
	if len(out) == 0 {
		return nil, nil
	}
	lo, hi := own.Debit, own.Credit
	if hi < lo {
		lo, hi = hi, lo
	}
	ownRead := &writeRead{}
	b.Queue(t.s.q.postRun, string(lo), string(hi), ids, debits, credits, amounts, nows, codes, actors, metas).Query(func(rows pgx.Rows) error {
		var n, seq, updated int64
		_, err := pgx.ForEachRow(rows, []any{&n, &seq, &updated}, func() error {
			r := ownRead
			if n > 1 && n <= int64(len(out))+1 {
				r = out[n-2].wr
				if r != nil {
					return fmt.Errorf("pgxstore: group commit: the run's write returned post %d twice", n)
				}
				r = &writeRead{}
				out[n-2].wr = r
			} else if n != 1 || ownRead.seq.Valid {
				return fmt.Errorf("pgxstore: group commit: the run's write returned post %d of %d", n, len(out)+1)
			}
			r.seq, r.updated = pgtype.Int8{Int64: seq, Valid: true}, updated
			return nil
		})
		return err
	})
	return out, ownRead
}

// passAhead sets, once the round trip that sent them ahead returned, the
// accounts each of ms finds: locked, as t's lock read them, with the
// writes before it applied (w, t's own, then each member's). The members
// from the first the run did not write on are no longer sent: they send
// their own statements in their turn.
func (t *Tx) passAhead(locked []ledger.AccountState, w *written, ms []*member) {
	state := make([]ledger.AccountState, len(locked))
	for i := range locked {
		state[i] = copyAccount(locked[i])
	}
	if w != nil {
		applyPost(state, w.tr, w.now)
	}
	for i, m := range ms {
		if m.wr == nil {
			gc := t.s.gc
			gc.mu.Lock()
			for _, m := range ms[i:] {
				m.sent, m.wr = false, nil
			}
			gc.mu.Unlock()
			return
		}
		m.got = make([]ledger.AccountState, len(state))
		for i := range state {
			m.got[i] = copyAccount(state[i])
		}
		applyPost(state, m.tr, m.now)
		t.s.gc.ranAhead.Add(1)
	}
}

// applyPost applies to the accounts of state the write of a post of tr at
// now, as the database made it (see queries.postWrite).
func applyPost(state []ledger.AccountState, tr ledger.Transfer, now time.Time) {
	at := now
	for i := range state {
		if state[i].LastPostedAt.After(at) {
			at = state[i].LastPostedAt
		}
	}
	at = at.Truncate(time.Microsecond).UTC()
	for i := range state {
		a := &state[i]
		switch a.ID {
		case tr.Debit:
			a.Posted = a.Posted.Sub(tr.Amount)
		case tr.Credit:
			a.Posted = a.Posted.Add(tr.Amount)
		default:
			continue
		}
		a.Version++
		a.LastPostedAt = at
	}
}

// maxAhead bounds the members whose statements one round trip sends
// ahead.
const maxAhead = 64

// dropAhead undoes what was sent ahead for the members after t, ahead of
// t's next statement (see dropSent).
func (t *Tx) dropAhead() {
	g, gc := t.group, t.s.gc
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if i := g.cur + 1; i < len(g.queue) && g.queue[i].sent {
		t.dropSent()
	}
}

// dropOwnAhead undoes what was sent ahead for t and the members after it,
// ahead of t's next statement (see dropSent): t's function goes another
// way than its statements sent ahead presumed.
func (t *Tx) dropOwnAhead() {
	g, gc := t.group, t.s.gc
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if g.cur < len(g.queue) && g.queue[g.cur].sent {
		t.dropSent()
	}
}

// dropSent undoes writes sent ahead; gc.mu is held. They share the
// savepoint of the member that sent them, whose turn is over or under
// way, so nothing can undo them alone: the group rolls back, and every
// member runs again.
func (t *Tx) dropSent() {
	t.group.doom(redo, errors.New("pgxstore: group commit: a member's write sent ahead must be undone alone; the group runs again"))
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
		m := t.member
		if m.sent && !m.used {
			// The function sent no statement and did not take what was
			// sent ahead for it.
			t.dropOwnAhead()
		}
		own := t.sends > t.groupSends
		switch {
		case t.transient != nil:
			g.doom(retry, t.transient)
		case t.redo:
			g.doom(redo, err)
		case t.write != nil:
			// A post written with its lock that no Apply confirmed.
			g.doom(redo, t.unconfirmed())
		case err != nil || panicked:
			switch {
			case !m.sent && !own:
				// Nothing of this member reached the server.
				t.deferred = t.deferred[:t.groupMark]
			case !m.wrote && !own && len(t.deferred) == t.groupMark && (m.wr == nil || !m.wr.seq.Valid):
				// Its statements sent ahead read and wrote nothing.
			case m.sent:
				// Its write shares a savepoint with members before it.
				if err == nil {
					err = errors.New("pgxstore: group commit: a member panicked after its write")
				}
				g.doom(redo, err)
			default:
				t.dropAhead()
				t.deferred, t.prefix = nil, nil
				t.deferLater("ROLLBACK TO SAVEPOINT " + m.sp)
			}
			t.failure = nil
		case len(t.deferred) > t.groupMark || len(t.prefix) > 0:
			// Writes still to send: they go before the statements of the
			// members after t.
			t.dropAhead()
		}
		g.st = t.saveState()
	}
	t.q = nil
	s.gc.mu.Lock()
	g.running--
	g.cur++
	if g.cur < len(g.queue) {
		g.queue[g.cur].turn <- struct{}{}
	}
	s.gc.cond.Broadcast()
	s.gc.mu.Unlock()
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
		g.gc.doomed.Add(1)
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
	s.gc.remember(g)
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
	// last is the size of the last group of each pair of accounts, when
	// more than one (see remember); gatherMax bounds a leader's wait for
	// as many (see gather).
	last      map[string]int
	gatherMax time.Duration
	// ranAhead counts the members written by a run sent ahead, doomed the
	// groups rolled back for all to run again; for tests.
	ranAhead, doomed atomic.Int64
}

// gatherMax bounds a leader's wait for the members it expects: about one
// round trip, which is what a member that comes later costs the group.
const gatherMax = 500 * time.Microsecond

// maxRemembered bounds the pairs of accounts whose last group's size the
// committer keeps.
const maxRemembered = 4096

// remember keeps the size of g, which closes, for the next group of its
// accounts to gather; gc.mu is held. A group of one is forgotten:
// the next one does not wait.
func (gc *committer) remember(g *group) {
	if len(g.queue) <= 1 {
		delete(gc.last, g.key)
		return
	}
	if gc.last == nil || len(gc.last) >= maxRemembered {
		gc.last = make(map[string]int)
	}
	gc.last[g.key] = len(g.queue)
}

// gather makes g's leader wait, before its first statement, until as many
// members have joined as the last group of its accounts had, or
// gc.gatherMax has passed. Under steady load the posts of one group come
// back together once it commits; the leader's first round trip then
// carries all of them, instead of the leader's alone with the rest in a
// round trip after it.
func (gc *committer) gather(g *group) {
	gc.mu.Lock()
	want := gc.last[g.key]
	gc.mu.Unlock()
	if want <= 1 {
		return
	}
	timer := time.NewTimer(gc.gatherMax)
	defer timer.Stop()
	for {
		gc.mu.Lock()
		n := len(g.queue)
		gc.mu.Unlock()
		if n >= want {
			return
		}
		select {
		case <-g.joined:
		case <-timer.C:
			return
		}
	}
}
