package pgxstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// This file is the ledger facet: the ledger.Tx methods over the tables of
// migrations/0001_ledger.sql.

// UnitInsert implements ledger.Tx.
func (t *Tx) UnitInsert(ctx context.Context, u ledger.Unit) error {
	var b pgx.Batch
	var inserted int64
	b.Queue(t.s.q.unitInsert, u.Code, u.Scale).Exec(func(ct pgconn.CommandTag) error {
		inserted = ct.RowsAffected()
		return nil
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr(fmt.Sprintf("insert unit %q", u.Code), err)
	}
	if inserted == 0 {
		return fmt.Errorf("pgxstore: unit %q: %w", u.Code, ledger.ErrAlreadyExists)
	}
	return nil
}

// UnitGet implements ledger.Tx.
func (t *Tx) UnitGet(ctx context.Context, code string) (ledger.Unit, error) {
	var b pgx.Batch
	var u ledger.Unit
	found := false
	b.Queue(t.s.q.unitGet, code).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&u.Code, &u.Scale); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := t.run(ctx, &b, false); err != nil {
		return ledger.Unit{}, storeErr(fmt.Sprintf("get unit %q", code), err)
	}
	if !found {
		return ledger.Unit{}, &ledger.NotFoundError{Kind: "unit", ID: code}
	}
	return u, nil
}

// AccountInsert implements ledger.Tx.
func (t *Tx) AccountInsert(ctx context.Context, a ledger.AccountState) error {
	meta, err := encodeMetadata(a.Metadata)
	if err != nil {
		return err
	}
	var b pgx.Batch
	var inserted int64
	b.Queue(t.s.q.accountInsert, string(a.ID), a.Unit, a.Owner, int64(a.Flags), meta, a.CreatedAt,
		a.Scale, a.Posted.String(), a.Held.String(), a.Version, timestamp(a.LastPostedAt),
	).Exec(func(ct pgconn.CommandTag) error {
		inserted = ct.RowsAffected()
		return nil
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr(fmt.Sprintf("insert account %q", a.ID), err)
	}
	if inserted == 0 {
		return fmt.Errorf("pgxstore: account %q: %w", a.ID, ledger.ErrAlreadyExists)
	}
	return nil
}

// AccountsEnsure implements ledger.Tx with two statements, whatever the
// number of accounts: an INSERT ... SELECT from arrays, joined with the
// units for their scale, ON CONFLICT DO NOTHING, and a check that fails the
// transaction unless every account then exists with the definition asked.
// When the store owns the transaction, both are sent with the next
// statement or the commit; if the check fails there, InTx runs the function
// again with writes sent at once. Those run on a savepoint, so a refusal
// leaves the transaction usable: it is rolled back and explained by reading
// the accounts and units.
func (t *Tx) AccountsEnsure(ctx context.Context, as []ledger.AccountState) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if len(as) == 0 {
		return nil
	}
	args, err := ensureArgs(as)
	if err != nil {
		return err
	}
	insert := &pgx.QueuedQuery{SQL: t.s.q.accountsEnsure, Arguments: args[:6]}
	check := &pgx.QueuedQuery{SQL: t.s.q.accountsEnsureCheck, Arguments: args}
	if !t.eager {
		t.forget()
		for _, q := range []*pgx.QueuedQuery{insert, check} {
			q.Exec(func(pgconn.CommandTag) error {
				t.flushed++
				return nil
			})
			t.deferred = append(t.deferred, q)
		}
		return nil
	}
	// At once: on a savepoint, the insert and a count of the accounts that
	// then exist as asked. If some do not, the savepoint is rolled back
	// ahead of the reads that explain why. At READ COMMITTED, an account a
	// concurrent transaction inserted after the statement began is skipped
	// by the insert yet unseen by the count: the explanation then finds
	// nothing wrong, and the statements run again, seeing it.
	for range 3 {
		var b pgx.Batch
		b.Queue("SAVEPOINT allot_apply")
		b.QueuedQueries = append(b.QueuedQueries, insert)
		var ok int64
		b.Queue(t.s.q.accountsEnsureCount, args[:6]...).QueryRow(func(row pgx.Row) error { return row.Scan(&ok) })
		if err := t.run(ctx, &b, false); err != nil {
			if rerr := t.rollbackTo(ctx); rerr != nil {
				return storeErr("ensure accounts", fmt.Errorf("%w (and rolling back its savepoint failed: %v)", err, rerr))
			}
			return storeErr("ensure accounts", err)
		}
		t.prefix = append(t.prefix, "ROLLBACK TO SAVEPOINT allot_apply", "RELEASE SAVEPOINT allot_apply")
		if ok == int64(len(as)) {
			t.prefix = t.prefix[:len(t.prefix)-2]
			t.release()
			return nil
		}
		if why, err := t.ensureErr(ctx, as); err != nil || why != nil {
			if err != nil {
				return err
			}
			return why
		}
	}
	return fmt.Errorf("pgxstore: ensure accounts: concurrent transactions kept changing them; try again")
}

// ensureArgs are the parameters of the ensure statements: six arrays, and
// their length.
func ensureArgs(as []ledger.AccountState) ([]any, error) {
	n := len(as)
	var (
		id, unit, owner = make([]string, n), make([]string, n), make([]string, n)
		flags           = make([]int64, n)
		meta            = make([]pgtype.Text, n)
		created         = make([]pgtype.Timestamptz, n)
	)
	for i := range as {
		a := &as[i]
		m, err := encodeMetadata(a.Metadata)
		if err != nil {
			return nil, err
		}
		id[i], unit[i], owner[i], flags[i], meta[i], created[i] = string(a.ID), a.Unit, a.Owner, int64(a.Flags), m, timestampNotNull(a.CreatedAt)
	}
	return []any{id, unit, owner, flags, meta, created, int64(n)}, nil
}

// ensureErr explains a refused AccountsEnsure: the first account stored
// with another definition, or whose unit does not exist. It returns nil,
// nil if it finds neither.
func (t *Tx) ensureErr(ctx context.Context, as []ledger.AccountState) (why, err error) {
	ids, units := make([]string, len(as)), make([]string, len(as))
	for i := range as {
		ids[i], units[i] = string(as[i].ID), as[i].Unit
	}
	var stored []ledger.AccountState
	known := make(map[string]bool)
	var b pgx.Batch
	b.Queue(t.s.q.accountsGet, ids).Query(func(rows pgx.Rows) (err error) {
		stored, err = scanAccounts(rows)
		return err
	})
	b.Queue(t.s.q.unitsExisting, units).Query(func(rows pgx.Rows) error {
		var code string
		_, err := pgx.ForEachRow(rows, []any{&code}, func() error {
			known[code] = true
			return nil
		})
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr("ensure accounts", err)
	}
	byID := make(map[ledger.AccountID]*ledger.AccountState, len(stored))
	for i := range stored {
		byID[stored[i].ID] = &stored[i]
	}
	for i := range as {
		a := &as[i]
		if cur, ok := byID[a.ID]; ok {
			if field := cur.Account.DefinitionDiff(a.Account); field != "" {
				return &ledger.ConflictError{Kind: "account", ID: string(a.ID), Field: field}, nil
			}
			continue
		}
		if !known[a.Unit] {
			return &ledger.NotFoundError{Kind: "unit", ID: a.Unit}, nil
		}
	}
	return nil, nil
}

// AccountGet implements ledger.Tx. After a LockPrefetch that named the
// account, it returns what the lock's round trip read.
func (t *Tx) AccountGet(ctx context.Context, id ledger.AccountID) (ledger.AccountState, error) {
	if a := t.ahead; a != nil && a.account != "" && a.account == id {
		a.account = ""
		if err := t.check(ctx); err != nil {
			return ledger.AccountState{}, err
		}
		if len(a.accountGot) == 0 {
			return ledger.AccountState{}, &ledger.NotFoundError{Kind: "account", ID: string(id)}
		}
		return copyAccount(a.accountGot[0]), nil
	}
	var b pgx.Batch
	var got []ledger.AccountState
	b.Queue(t.s.q.accountGet, string(id)).Query(func(rows pgx.Rows) (err error) {
		got, err = scanAccounts(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return ledger.AccountState{}, storeErr(fmt.Sprintf("get account %q", id), err)
	}
	if len(got) == 0 {
		return ledger.AccountState{}, &ledger.NotFoundError{Kind: "account", ID: string(id)}
	}
	return got[0], nil
}

// AccountsLock implements ledger.Tx with one SELECT ... ORDER BY id FOR NO
// KEY UPDATE: the rows are locked in ID order, the order every transaction
// uses, so lockers queue instead of deadlocking. The lock lasts until the
// transaction ends and keeps every other writer of these accounts waiting.
//
// After a TransfersPrefetch, the same round trip also reads, under the
// lock, the transfers and holds with the hinted IDs (kept for the
// TransfersGet and HoldsGet that follow). For a single transfer it also
// takes a journal sequence number, kept for the Apply that follows, if the
// transfer is new and the ledger will post it: both accounts exist and
// count one unit, the amount fits its scale, and a non-negative debit
// account has the amount beside what it holds. The ledger's rules decide;
// this guess only saves a round trip when it is right and never takes a
// number for a transfer the ledger refuses, so that sequence numbers stay
// dense.
//
// After a LockPrefetch, the same round trip reads what the hint names (see
// LockPrefetch); after a settlement's HoldsGet, which took these locks,
// AccountsLock returns what that round trip read.
//
// A Ledger.Post of one transfer (a LockPrefetch of its instant alone, then
// a TransfersPrefetch of the transfer, then the lock of its two accounts)
// goes further when the store owns the transaction: after the lock, the
// same round trip sends one statement that reads, in a snapshot taken
// after the lock, the transfer and the hold with its ID and the accounts'
// expired holds, and that writes the post (both totals, the journal row)
// if the ledger will make it, by the same guess as above with no expired
// hold to release (postRelease, the write of a lone post's second attempt,
// releases them first, as the ledger does). The Apply that follows then
// only checks that the ledger's changes are exactly that write. If they
// are not, or if any other statement or the commit comes first, the
// attempt does not count and InTx runs the function again with every
// write sent at once.
//
// When that post is its transaction alone (InTxAlone, LockHint.Alone),
// the round trip also carries COMMIT (see commitsWithLock), and on the
// first attempt the statement reads nothing back (queries.postWriteLean):
// a post it did not write runs again with the statement that reads (see
// unexplained). A group member's write, when members follow it, heads
// one statement with theirs (see sendAhead).
func (t *Tx) AccountsLock(ctx context.Context, ids []ledger.AccountID, dst []ledger.AccountState) ([]ledger.AccountState, error) {
	hint := t.hint
	lh, hasLH := t.lockHint, t.hasLockHint
	t.hint, t.seqs, t.locked, t.hasLockHint = nil, nil, t.locked[:0], false
	defer func() { t.next = ledger.Transfer{} }()
	if a := t.ahead; a != nil && a.lockReady && slices.Equal(a.lockIDs, ids) {
		// A settlement's lock, taken with its first read.
		a.lockReady = false
		if err := t.check(ctx); err != nil {
			return dst, err
		}
		for _, st := range a.locked {
			t.locked = append(t.locked, copyAccount(st))
		}
		t.seqs = a.seqs
		return appendInOrder(dst, ids, a.locked, func(a ledger.AccountState) ledger.AccountID { return a.ID }, copyAccount), nil
	}
	if len(ids) == 0 {
		return dst, t.check(ctx)
	}
	if m := t.member; m != nil && m.sent && !m.used && t.writable(ids, hint, lh, hasLH) && m.tr.ID == t.next.ID && m.now.Equal(lh.Now) &&
		m.tr.Debit == t.next.Debit && m.tr.Credit == t.next.Credit && m.tr.Amount.Equal(t.next.Amount) && m.tr.Code == t.next.Code &&
		m.tr.Actor == t.next.Actor && maps.Equal(m.tr.Metadata, t.next.Metadata) && m.wr != nil {
		// A group's member whose statements the member before it sent.
		m.used = true
		if err := t.check(ctx); err != nil {
			return dst, err
		}
		t.forget()
		for _, a := range m.got {
			t.locked = append(t.locked, copyAccount(a))
		}
		if err := t.wrote(&written{tr: m.tr, now: m.now}, m.wr, ids); err != nil {
			return dst, err
		}
		return appendInOrder(dst, ids, m.got, func(a ledger.AccountState) ledger.AccountID { return a.ID }, copyAccount), nil
	}
	var b pgx.Batch
	var got []ledger.AccountState
	scan := func(rows pgx.Rows) (err error) {
		got, err = scanAccounts(rows)
		return err
	}
	if len(ids) <= len(t.s.q.accountsLockN) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = string(id)
		}
		b.Queue(t.s.q.accountsLockN[len(ids)-1], args...).Query(scan)
	} else {
		b.Queue(t.s.q.accountsLock, idStrings(ids)).Query(scan)
	}
	if hasLH && lh.Settle == "" && len(hint) == 0 && len(lh.IDs) > 0 && len(lh.IDs) <= maxPrefetch {
		hint = slices.Clone(lh.IDs)
	}
	var p *prefetch
	var seqs []int64
	var a *ahead
	var w *written
	var wr *writeRead
	var ms []*member // sent ahead
	commit := false  // COMMIT ends b
	lean := false    // the write is postWriteLean
	headed := false  // the write heads a group's run (see sendAhead)
	switch {
	case t.writable(ids, hint, lh, hasLH):
		// The post's write, in this round trip. It reads what
		// queueAhead and the prefetch would. A post that commits with
		// its lock takes no sequence number for a post it does not
		// write, which would leave a gap.
		commit = t.commitsWithLock(lh)
		lean = commit && t.lean
		hint = nil
		if t.member != nil {
			// A group's member writes its post at the head of the run of
			// those that follow it, if any do.
			t.member.used = true
			if ms, wr = t.sendAhead(&b, lh.Now); wr != nil {
				w, headed = &written{tr: t.next, now: lh.Now}, true
			}
		}
		if w == nil {
			w, wr = t.queueWrite(&b, t.next, lh.Now, commit, lean)
		}
		if commit = commit && w != nil; commit {
			b.Queue("COMMIT")
		}
	case hasLH && lh.Settle == "":
		a = t.queueAhead(&b, ids, lh)
	}
	if len(hint) > 0 {
		p = &prefetch{ids: hint, hasTransfers: true, hasHolds: true}
		p.queue(&b, t.s.q)
		if next := t.next; !t.eager && next.ID != "" {
			seqs = make([]int64, 0, 1)
			b.Queue(t.s.q.seqNext, string(next.Debit), string(next.Credit), next.Amount.String(), string(next.ID)).Query(func(rows pgx.Rows) error {
				var n int64
				_, err := pgx.ForEachRow(rows, []any{&n}, func() error {
					seqs = append(seqs, n)
					return nil
				})
				return err
			})
		}
	}
	err := t.run(ctx, &b, true)
	if commit {
		t.endedWithLock()
	}
	if err != nil {
		if w != nil && !t.redo && t.transient == nil {
			// The write was refused (a transfer with its ID committed
			// between the lock's snapshot and the write's, a constraint
			// added by hand): run the function again without it, which
			// reports the refusal where it happens.
			t.redo = true
		}
		return dst, storeErr("lock accounts", err)
	}
	if p != nil {
		p.order()
		t.prefetched, t.seqs = p, seqs
	}
	t.ahead = a
	for _, a := range got {
		t.locked = append(t.locked, copyAccount(a))
	}
	if w != nil {
		if lean && !wr.seq.Valid {
			return dst, t.unexplained()
		}
		if headed && !wr.seq.Valid {
			// The run wrote nothing, and read nothing back: the members
			// send their own statements in their turn, and one more
			// round trip sends t's own write, which reads back why.
			t.passAhead(got, nil, ms)
			ms = nil
			var b pgx.Batch
			if w, wr = t.queueWrite(&b, w.tr, w.now, false, false); w == nil {
				return dst, errors.New("pgxstore: lock accounts: a group's run wrote nothing, and its first post cannot be written alone")
			}
			if err := t.run(ctx, &b, false); err != nil {
				if !t.redo && t.transient == nil {
					t.redo = true // as for the write with the lock below
				}
				return dst, storeErr("lock accounts", err)
			}
		}
		if err := t.wrote(w, wr, ids); err != nil {
			return dst, err
		}
		if len(ms) > 0 {
			if t.write == nil {
				w = nil
			}
			t.passAhead(got, w, ms)
		}
	}
	return appendInOrder(dst, ids, got, func(a ledger.AccountState) ledger.AccountID { return a.ID }, copyAccount), nil
}

// LockPrefetch implements ledger.LockPrefetcher. The AccountsLock that
// follows also reads, in its round trip, the expired holds of the accounts
// it locks and the account and the transfers and holds the hint names. A
// settlement's first HoldsGet also locks the hold's accounts, reads the
// hold again and their expired holds and, for a posting the ledger will
// make, takes the transfer's sequence number.
func (t *Tx) LockPrefetch(h ledger.LockHint) {
	if t.done {
		return
	}
	t.lockHint, t.hasLockHint = h, true
	t.lockHint.IDs = slices.Clone(h.IDs)
}

// ahead is what a write's round trip read after a LockPrefetch, for the
// calls that follow it; any statement or write drops it.
type ahead struct {
	// The expired pending holds of the swept accounts, by ID, for HoldList.
	now     time.Time
	swept   []ledger.AccountID
	expired []ledger.Hold
	// The account read for AccountGet, and what was found.
	account    ledger.AccountID
	accountGot []ledger.AccountState
	// A settlement's: its hold's accounts locked for the AccountsLock that
	// follows (with the sequence number taken), and the hold read again
	// under the lock for the HoldsGet after it.
	lockReady bool
	lockIDs   []ledger.AccountID
	locked    []ledger.AccountState
	seqs      []int64
	holdReady bool
	hold      ledger.TransferID
	holdGot   []ledger.Hold
}

// queueAhead adds to b the reads h announces around a lock of ids.
func (t *Tx) queueAhead(b *pgx.Batch, ids []ledger.AccountID, h ledger.LockHint) *ahead {
	a := &ahead{now: h.Now}
	if !h.Now.IsZero() {
		a.swept = slices.Clone(ids)
		b.Queue(t.s.q.holdsExpired, idStrings(ids), h.Now).Query(func(rows pgx.Rows) (err error) {
			a.expired, err = scanHolds(rows)
			return err
		})
	}
	if h.Account != "" {
		a.account = h.Account
		b.Queue(t.s.q.accountGet, string(h.Account)).Query(func(rows pgx.Rows) (err error) {
			a.accountGot, err = scanAccounts(rows)
			return err
		})
	}
	return a
}

// settleAhead reads the hold a settlement announced (its first HoldsGet),
// and in the same round trip locks its accounts, reads it again and the
// expired holds of those accounts, and takes the sequence number of the
// transfer a posting will insert.
func (t *Tx) settleAhead(ctx context.Context, h ledger.LockHint, dst []ledger.Hold) ([]ledger.Hold, error) {
	id := string(h.Settle)
	a := &ahead{now: h.Now, hold: h.Settle}
	var first []ledger.Hold
	var b pgx.Batch
	b.Queue(t.s.q.holdGet, id).Query(func(rows pgx.Rows) (err error) {
		first, err = scanHolds(rows)
		return err
	})
	b.Queue(t.s.q.accountsLockByHold, id, h.Post).Query(func(rows pgx.Rows) (err error) {
		a.locked, err = scanAccounts(rows)
		return err
	})
	b.Queue(t.s.q.holdGet, id).Query(func(rows pgx.Rows) (err error) {
		a.holdGot, err = scanHolds(rows)
		return err
	})
	if !h.Now.IsZero() {
		b.Queue(t.s.q.holdsExpiredByHold, id, h.Post, h.Now).Query(func(rows pgx.Rows) (err error) {
			a.expired, err = scanHolds(rows)
			return err
		})
	}
	if h.Post && !t.eager {
		b.Queue(t.s.q.seqSettle, id, h.Amount.String(), h.Now).Query(func(rows pgx.Rows) error {
			var n int64
			_, err := pgx.ForEachRow(rows, []any{&n}, func() error {
				a.seqs = append(a.seqs, n)
				return nil
			})
			return err
		})
	}
	if err := t.run(ctx, &b, true); err != nil {
		return dst, storeErr("get holds", err)
	}
	if len(first) == 0 {
		return dst, nil
	}
	a.lockIDs = append(a.lockIDs, first[0].Debit)
	if h.Post && first[0].Credit != first[0].Debit {
		a.lockIDs = append(a.lockIDs, first[0].Credit)
	}
	slices.Sort(a.lockIDs)
	if !h.Now.IsZero() {
		a.swept = a.lockIDs
	}
	a.lockReady, a.holdReady = true, true
	t.ahead = a
	return append(dst, first[0]), nil
}

// TransfersPrefetch implements ledger.TransfersPrefetcher: the next
// AccountsLock reads the transfers and holds with these IDs in its round
// trip and, for one transfer, takes its sequence number if the transfer is
// new and its accounts can make it.
func (t *Tx) TransfersPrefetch(ts []ledger.Transfer) {
	t.hint, t.next = nil, ledger.Transfer{}
	if t.done || len(ts) > maxPrefetch {
		return
	}
	if t.groupable(ts) && len(t.deferred) == 0 {
		t.join(context.Background(), ts[0])
	}
	t.hint = make([]ledger.TransferID, len(ts))
	for i := range ts {
		t.hint[i] = ts[i].ID
	}
	if len(ts) == 1 {
		t.next = ts[0]
	}
}

// maxPrefetch bounds the IDs a TransfersPrefetch reads with the lock;
// maxDeferredAccounts the accounts of an Apply sent with the commit.
const (
	maxPrefetch         = 1024
	maxDeferredAccounts = 8
)

// AccountList implements ledger.Tx.
func (t *Tx) AccountList(ctx context.Context, p ledger.AccountListParams) ([]ledger.AccountState, error) {
	w := where{}
	if p.Owner != "" {
		w.add("owner = $%d", p.Owner)
	}
	if p.Unit != "" {
		w.add("unit = $%d", p.Unit)
	}
	if p.After != "" {
		w.add("id > $%d", string(p.After))
	}
	sql := "SELECT " + t.s.q.accountCols + " FROM " + t.s.q.accountsTable + w.String() + " ORDER BY id" + w.limit(p.Limit)
	var b pgx.Batch
	var got []ledger.AccountState
	b.Queue(sql, w.args...).Query(func(rows pgx.Rows) (err error) {
		got, err = scanAccounts(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr("list accounts", err)
	}
	return got, nil
}

// TransfersGet implements ledger.Tx. It reads the holds with the same IDs
// in the same round trip and keeps them for a HoldsGet of those IDs that
// comes next: transfers and holds share one namespace, so the ledger asks
// for both. After a TransfersPrefetch of these IDs, it returns what the
// AccountsLock before it read.
func (t *Tx) TransfersGet(ctx context.Context, ids []ledger.TransferID, dst []ledger.Transfer) ([]ledger.Transfer, error) {
	if p := t.takePrefetch(ids, false); p != nil {
		out := append(dst, p.transfers...)
		p.transfers = nil
		return out, t.check(ctx)
	}
	if len(ids) == 0 {
		return dst, t.check(ctx)
	}
	p := &prefetch{ids: slices.Clone(ids), hasHolds: true}
	if err := t.getBoth(ctx, p); err != nil {
		return dst, storeErr("get transfers", err)
	}
	t.prefetched = p
	return appendInOrder(dst, ids, p.transfersGot, func(tr ledger.Transfer) ledger.TransferID { return tr.ID }, copyTransfer), nil
}

// TransferList implements ledger.Tx. Listing one account's transfers reads
// its two history indexes, (debit, seq) and (credit, seq), and merges them.
func (t *Tx) TransferList(ctx context.Context, p ledger.TransferListParams) ([]ledger.Transfer, error) {
	w := where{}
	if !p.From.IsZero() {
		w.add("posted_at >= $%d", p.From)
	}
	if !p.To.IsZero() {
		w.add("posted_at < $%d", p.To)
	}
	switch {
	case !p.Desc:
		w.add("seq > $%d", p.AfterSeq)
	case p.AfterSeq > 0:
		w.add("seq < $%d", p.AfterSeq)
	}
	order := " ORDER BY seq"
	if p.Desc {
		order += " DESC"
	}
	var sql string
	if p.Account == "" {
		sql = "SELECT " + t.s.q.transferCols + " FROM " + t.s.q.transfersTable + w.String() + order + w.limit(p.Limit)
	} else {
		n := w.arg(string(p.Account))
		limit := w.limit(p.Limit)
		side := func(col string) string {
			return "(SELECT * FROM " + t.s.q.transfersTable + w.String() + w.and() + col + " = $" + strconv.Itoa(n) + order + limit + ")"
		}
		sql = "SELECT " + t.s.q.transferCols + " FROM (" + side("debit") + " UNION ALL " + side("credit") + ") AS t" + order + limit
	}
	var b pgx.Batch
	var got []ledger.Transfer
	b.Queue(sql, w.args...).Query(func(rows pgx.Rows) (err error) {
		got, err = scanTransfers(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr("list transfers", err)
	}
	return got, nil
}

// HoldsGet implements ledger.Tx. Like TransfersGet, it reads the
// transfers with the same IDs in the same round trip and keeps them for a
// TransfersGet of those IDs that comes next.
func (t *Tx) HoldsGet(ctx context.Context, ids []ledger.TransferID, dst []ledger.Hold) ([]ledger.Hold, error) {
	if h := t.lockHint; t.hasLockHint && h.Settle != "" && len(ids) == 1 && ids[0] == h.Settle {
		return t.settleAhead(ctx, h, dst)
	}
	if a := t.ahead; a != nil && a.holdReady && len(ids) == 1 && ids[0] == a.hold {
		a.holdReady = false
		if err := t.check(ctx); err != nil {
			return dst, err
		}
		return appendInOrder(dst, ids, a.holdGot, func(h ledger.Hold) ledger.TransferID { return h.ID }, copyHold), nil
	}
	if p := t.takePrefetch(ids, true); p != nil {
		out := append(dst, p.holds...)
		p.holds = nil
		return out, t.check(ctx)
	}
	if len(ids) == 0 {
		return dst, t.check(ctx)
	}
	p := &prefetch{ids: slices.Clone(ids), hasTransfers: true}
	if err := t.getBoth(ctx, p); err != nil {
		return dst, storeErr("get holds", err)
	}
	t.prefetched = p
	return appendInOrder(dst, ids, p.holdsGot, func(h ledger.Hold) ledger.TransferID { return h.ID }, copyHold), nil
}

// prefetch is what was read ahead for TransfersGet and HoldsGet: by one of
// them for the other, or by AccountsLock for both.
type prefetch struct {
	ids                    []ledger.TransferID
	hasTransfers, hasHolds bool // kept for TransfersGet, for HoldsGet
	transfersGot           []ledger.Transfer
	holdsGot               []ledger.Hold
	transfers              []ledger.Transfer // in the order of ids
	holds                  []ledger.Hold
}

// queue adds the reads of p's transfers and holds to b.
func (p *prefetch) queue(b *pgx.Batch, q *queries) {
	var arg any
	transfersGet, holdsGet := q.transfersGet, q.holdsGet
	if len(p.ids) == 1 {
		arg, transfersGet, holdsGet = string(p.ids[0]), q.transferGet, q.holdGet
	} else {
		arg = idStrings(p.ids)
	}
	b.Queue(transfersGet, arg).Query(func(rows pgx.Rows) (err error) {
		p.transfersGot, err = scanTransfers(rows)
		return err
	})
	b.Queue(holdsGet, arg).Query(func(rows pgx.Rows) (err error) {
		p.holdsGot, err = scanHolds(rows)
		return err
	})
}

// order puts what p keeps in the order of its IDs.
func (p *prefetch) order() {
	if p.hasTransfers {
		p.transfers = appendInOrder(nil, p.ids, p.transfersGot, func(tr ledger.Transfer) ledger.TransferID { return tr.ID }, copyTransfer)
	}
	if p.hasHolds {
		p.holds = appendInOrder(nil, p.ids, p.holdsGot, func(h ledger.Hold) ledger.TransferID { return h.ID }, copyHold)
	}
}

// getBoth reads the transfers and the holds with p's IDs in one round trip.
func (t *Tx) getBoth(ctx context.Context, p *prefetch) error {
	var b pgx.Batch
	p.queue(&b, t.s.q)
	if err := t.run(ctx, &b, false); err != nil {
		return err
	}
	p.order()
	return nil
}

// takePrefetch returns what was read ahead for this call (TransfersGet, or
// HoldsGet if holds is set) with the same IDs and no statement in between,
// and forgets it; it keeps the rest for the other call.
func (t *Tx) takePrefetch(ids []ledger.TransferID, holds bool) *prefetch {
	p := t.prefetched
	if p == nil || t.done || !slices.Equal(p.ids, ids) {
		t.prefetched = nil
		return nil
	}
	if holds {
		if !p.hasHolds {
			t.prefetched = nil
			return nil
		}
		p.hasHolds = false
	} else {
		if !p.hasTransfers {
			t.prefetched = nil
			return nil
		}
		p.hasTransfers = false
	}
	if !p.hasHolds && !p.hasTransfers {
		t.prefetched = nil
	}
	return p
}

// HoldList implements ledger.Tx. The pending holds of one account come from
// a partial index on (debit, expires_at).
func (t *Tx) HoldList(ctx context.Context, p ledger.HoldListParams) ([]ledger.Hold, error) {
	if a := t.ahead; a != nil && p.Debit != "" && p.Status == ledger.HoldPending && p.ExpiresBy.Equal(a.now) &&
		p.After == "" && p.Limit <= 0 && slices.Contains(a.swept, p.Debit) {
		// The expired holds of an account just locked, read with the lock.
		if err := t.check(ctx); err != nil {
			return nil, err
		}
		var out []ledger.Hold
		for _, h := range a.expired {
			if h.Debit == p.Debit {
				out = append(out, copyHold(h))
			}
		}
		return out, nil
	}
	w := where{}
	if p.Debit != "" {
		w.add("debit = $%d", string(p.Debit))
	}
	if p.Status != "" {
		w.add("status = $%d", string(p.Status))
	}
	if !p.ExpiresBy.IsZero() {
		w.add("expires_at <= $%d", p.ExpiresBy)
	}
	if p.After != "" {
		w.add("id > $%d", string(p.After))
	}
	sql := "SELECT " + t.s.q.holdCols + " FROM " + t.s.q.holdsTable + w.String() + " ORDER BY id" + w.limit(p.Limit)
	var b pgx.Batch
	var got []ledger.Hold
	b.Queue(sql, w.args...).Query(func(rows pgx.Rows) (err error) {
		got, err = scanHolds(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr("list holds", err)
	}
	return got, nil
}

// Apply implements ledger.Tx. After a post written with its lock (see
// AccountsLock), it checks that c is exactly that write and sends nothing.
// Otherwise, when the store owns the transaction and the
// change updates only accounts the last AccountsLock locked, each one
// version up, with no more transfers than sequence numbers that lock took,
// it is one statement sent with the next statement or the commit, holds
// included (see deferrable). Otherwise it is one round trip: on a
// savepoint, one UPDATE
// of all the accounts from arrays (each row only if its stored version is
// one less than the new one), one INSERT of all the transfers from arrays,
// numbered by the journal's identity sequence in order, and one statement
// each for the holds inserted and updated. If a check fails, everything is
// rolled back to the savepoint and the transaction stays usable.
//
// The database enforces the non-negative rule itself: the CHECK constraint
// allot_accounts_non_negative refuses an account flagged non-negative with
// less posted than held, and the error matches ledger.ErrInsufficientBalance.
func (t *Tx) Apply(ctx context.Context, c ledger.Changes) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := precheck(c); err != nil {
		return err
	}
	t.ahead = nil
	taken := t.seqs
	t.seqs = nil
	if w := t.write; w != nil {
		t.write = nil
		if t.ended && (!w.matches(c) || t.s.testMismatch) {
			return t.mismatch(ctx, w)
		}
		if !w.matches(c) {
			// The ledger decided otherwise than the write made with the
			// lock: run the function again without it.
			t.redo = true
			return fmt.Errorf("pgxstore: apply: the changes differ from the post written with the lock; the transaction runs again")
		}
		if !w.replay {
			c.Transfers[0].Seq = w.seq
		}
		if t.member != nil {
			t.member.wrote = true
		}
		return nil
	}
	if t.ended {
		// The post committed with its lock wrote nothing, and the ledger
		// writes (it releases expired holds first): run the function
		// again, committing at the end.
		t.again = true
		return errors.New("pgxstore: apply: the post committed with its lock needs a write of its own; the transaction runs again")
	}
	if t.deferrable(c, taken) {
		return t.deferApply(c, taken)
	}
	var b pgx.Batch
	var updated, holdsUpdated int64
	if len(c.Accounts) > 0 {
		args, err := accountArgs(c.Accounts)
		if err != nil {
			return err
		}
		b.Queue(t.s.q.accountsUpdate, args...).Exec(func(ct pgconn.CommandTag) error {
			updated = ct.RowsAffected()
			return nil
		})
	}
	var seqs map[string]int64
	if len(c.Transfers) > 0 {
		args, err := transferArgs(c.Transfers)
		if err != nil {
			return err
		}
		b.Queue(t.s.q.transfersInsert, args...).Query(func(rows pgx.Rows) error {
			seqs = make(map[string]int64, len(c.Transfers))
			var id string
			var seq int64
			_, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
				seqs[id] = seq
				return nil
			})
			return err
		})
	}
	if len(c.HoldsInsert) > 0 {
		args, err := holdArgs(c.HoldsInsert)
		if err != nil {
			return err
		}
		b.Queue(t.s.q.holdsInsert, args...)
	}
	if len(c.HoldsUpdate) > 0 {
		args, err := holdArgs(c.HoldsUpdate)
		if err != nil {
			return err
		}
		b.Queue(t.s.q.holdsUpdate, args...).Exec(func(ct pgconn.CommandTag) error {
			holdsUpdated = ct.RowsAffected()
			return nil
		})
	}
	if b.Len() == 0 {
		return nil
	}
	if err := t.savepoint(ctx, &b, false); err != nil {
		return storeErr("apply", err)
	}
	if int(updated) != len(c.Accounts) || int(holdsUpdated) != len(c.HoldsUpdate) {
		// Undo the rows that were written, then find out why the others
		// were not.
		if err := t.rollbackTo(ctx); err != nil {
			return storeErr("apply: roll back a refused change", err)
		}
		if int(updated) != len(c.Accounts) {
			return t.versionErr(ctx, c.Accounts)
		}
		return t.missingHoldErr(ctx, c.HoldsUpdate)
	}
	t.release()
	for i := range c.Transfers {
		seq, ok := seqs[string(c.Transfers[i].ID)]
		if !ok {
			return fmt.Errorf("pgxstore: apply: the journal returned no sequence number for transfer %q", c.Transfers[i].ID)
		}
		c.Transfers[i].Seq = seq
	}
	return nil
}

// deferrable reports whether Apply may send c's writes with the next
// statement or the commit instead of at once: the store owns the
// transaction, c updates only the totals of accounts the last AccountsLock
// locked, each one version up, and inserts no more transfers than that lock
// took sequence numbers for; the holds it inserts and updates go with them.
// Such writes can only fail if the database refuses what the locks made
// certain (a hold ID a concurrent transaction on another account took, a
// constraint added by hand); if one does, InTx runs the function again with
// eager writes, on a savepoint, which report the refusal where it happened
// and keep a caller's transaction usable.
func (t *Tx) deferrable(c ledger.Changes, seqs []int64) bool {
	if t.eager || len(c.Accounts) == 0 || len(c.Accounts) > maxDeferredAccounts || len(c.Transfers) > len(seqs) {
		return false
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		var l *ledger.AccountState
		for j := range t.locked {
			if t.locked[j].ID == a.ID {
				l = &t.locked[j]
				break
			}
		}
		if l == nil || a.Version != l.Version+1 || a.Unit != l.Unit || a.Owner != l.Owner || a.Flags != l.Flags ||
			a.Scale != l.Scale || !a.CreatedAt.Equal(l.CreatedAt) || !maps.Equal(a.Metadata, l.Metadata) {
			return false
		}
	}
	return true
}

// deferApply queues c's writes as one statement: an UPDATE of the
// accounts' totals, the journal INSERT with the sequence numbers taken
// under the lock, and a check that fails the statement unless every
// account was updated.
func (t *Tx) deferApply(c ledger.Changes, seqs []int64) error {
	args := make([]any, 0, 5*len(c.Accounts)+13*len(c.Transfers))
	for _, a := range c.Accounts {
		args = append(args, string(a.ID), a.Posted.String(), a.Held.String(), a.Version, timestamp(a.LastPostedAt))
	}
	for i, tr := range c.Transfers {
		m, err := encodeMetadata(tr.Metadata)
		if err != nil {
			return err
		}
		args = append(args, seqs[i], string(tr.ID), string(tr.Debit), string(tr.Credit), tr.Amount.String(),
			tr.Unit, tr.Code, tr.Actor, m, timestampNotNull(tr.PostedAt),
			tr.DebitBalance.String(), tr.CreditBalance.String(), string(tr.Hold))
	}
	if len(c.HoldsInsert) > 0 {
		hs, err := holdArgs(c.HoldsInsert)
		if err != nil {
			return err
		}
		args = append(args, hs...)
	}
	if len(c.HoldsUpdate) > 0 {
		hs, err := holdArgs(c.HoldsUpdate)
		if err != nil {
			return err
		}
		args = append(append(args, hs...), int64(len(c.HoldsUpdate)))
	}
	q := &pgx.QueuedQuery{SQL: t.s.q.applyTotals(len(c.Accounts), len(c.Transfers), len(c.HoldsInsert) > 0, len(c.HoldsUpdate) > 0), Arguments: args}
	q.Exec(func(pgconn.CommandTag) error {
		t.flushed++
		return nil
	})
	t.deferred = append(t.deferred, q)
	t.locked = t.locked[:0]
	for i := range c.Transfers {
		c.Transfers[i].Seq = seqs[i]
	}
	return nil
}

// precheck refuses what needs no database to refuse.
func precheck(c ledger.Changes) error {
	for _, a := range c.Accounts {
		if a.Held.Sign() < 0 {
			return fmt.Errorf("pgxstore: account %q would hold %s, below zero", a.ID, a.Held)
		}
	}
	seen := make(map[ledger.TransferID]bool, len(c.Transfers))
	for _, tr := range c.Transfers {
		if seen[tr.ID] {
			return fmt.Errorf("pgxstore: transfer %q appears twice in one change: %w", tr.ID, ledger.ErrAlreadyExists)
		}
		seen[tr.ID] = true
	}
	clear(seen)
	for _, h := range c.HoldsInsert {
		if seen[h.ID] {
			return fmt.Errorf("pgxstore: hold %q appears twice in one change: %w", h.ID, ledger.ErrAlreadyExists)
		}
		seen[h.ID] = true
	}
	return nil
}

// versionErr explains why fewer accounts were updated than asked: one is
// missing, or changed under the write.
func (t *Tx) versionErr(ctx context.Context, as []ledger.AccountState) error {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = string(a.ID)
	}
	stored := make(map[string]int64, len(as))
	var b pgx.Batch
	b.Queue(t.s.q.accountVersions, ids).Query(func(rows pgx.Rows) error {
		var id string
		var v int64
		_, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error {
			stored[id] = v
			return nil
		})
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr("apply", err)
	}
	for _, a := range as {
		v, ok := stored[string(a.ID)]
		if !ok {
			return &ledger.NotFoundError{Kind: "account", ID: string(a.ID)}
		}
		if a.Version != v+1 {
			return fmt.Errorf("pgxstore: account %q changed under the write: version %d after stored %d", a.ID, a.Version, v)
		}
	}
	return fmt.Errorf("pgxstore: apply: an account appears twice in one change")
}

// missingHoldErr names a hold to update that does not exist.
func (t *Tx) missingHoldErr(ctx context.Context, hs []ledger.Hold) error {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = string(h.ID)
	}
	found := make(map[string]bool, len(hs))
	var b pgx.Batch
	b.Queue(t.s.q.holdsExisting, ids).Query(func(rows pgx.Rows) error {
		var id string
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			found[id] = true
			return nil
		})
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr("apply", err)
	}
	for _, h := range hs {
		if !found[string(h.ID)] {
			return &ledger.NotFoundError{Kind: "hold", ID: string(h.ID)}
		}
	}
	return fmt.Errorf("pgxstore: apply: a hold appears twice in one change")
}

func accountArgs(as []ledger.AccountState) ([]any, error) {
	n := len(as)
	var (
		id, unit, owner     = make([]string, n), make([]string, n), make([]string, n)
		flags, version      = make([]int64, n), make([]int64, n)
		meta                = make([]pgtype.Text, n)
		created, lastPosted = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		scale               = make([]int32, n)
		posted, held        = make([]string, n), make([]string, n)
	)
	for i, a := range as {
		m, err := encodeMetadata(a.Metadata)
		if err != nil {
			return nil, err
		}
		id[i], unit[i], owner[i], flags[i], meta[i] = string(a.ID), a.Unit, a.Owner, int64(a.Flags), m
		created[i], scale[i], posted[i], held[i] = timestampNotNull(a.CreatedAt), a.Scale, a.Posted.String(), a.Held.String()
		version[i], lastPosted[i] = a.Version, timestamp(a.LastPostedAt)
	}
	return []any{id, unit, owner, flags, meta, created, scale, posted, held, version, lastPosted}, nil
}

func transferArgs(ts []ledger.Transfer) ([]any, error) {
	n := len(ts)
	var (
		id, debit, credit, amount = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		unit, code, actor         = make([]string, n), make([]string, n), make([]string, n)
		meta                      = make([]pgtype.Text, n)
		postedAt                  = make([]pgtype.Timestamptz, n)
		debitBal, creditBal, hold = make([]string, n), make([]string, n), make([]string, n)
	)
	for i, t := range ts {
		m, err := encodeMetadata(t.Metadata)
		if err != nil {
			return nil, err
		}
		id[i], debit[i], credit[i], amount[i] = string(t.ID), string(t.Debit), string(t.Credit), t.Amount.String()
		unit[i], code[i], actor[i], meta[i] = t.Unit, t.Code, t.Actor, m
		postedAt[i], debitBal[i], creditBal[i], hold[i] = timestampNotNull(t.PostedAt), t.DebitBalance.String(), t.CreditBalance.String(), string(t.Hold)
	}
	return []any{id, debit, credit, amount, unit, code, actor, meta, postedAt, debitBal, creditBal, hold}, nil
}

func holdArgs(hs []ledger.Hold) ([]any, error) {
	n := len(hs)
	var (
		id, debit, credit, amount = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		unit, code, actor, status = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		meta                      = make([]pgtype.Text, n)
		expires, created, settled = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		posted                    = make([]string, n)
	)
	for i, h := range hs {
		m, err := encodeMetadata(h.Metadata)
		if err != nil {
			return nil, err
		}
		id[i], debit[i], credit[i], amount[i] = string(h.ID), string(h.Debit), string(h.Credit), h.Amount.String()
		unit[i], code[i], actor[i], status[i], meta[i] = h.Unit, h.Code, h.Actor, string(h.Status), m
		expires[i], created[i], settled[i], posted[i] = timestamp(h.ExpiresAt), timestampNotNull(h.CreatedAt), timestamp(h.SettledAt), h.Posted.String()
	}
	return []any{id, debit, credit, amount, unit, code, actor, meta, expires, status, created, settled, posted}, nil
}

func scanAccounts(rows pgx.Rows) ([]ledger.AccountState, error) {
	var out []ledger.AccountState
	for rows.Next() {
		var (
			a            ledger.AccountState
			id           string
			flags        int64
			meta         pgtype.Text
			posted, held string
			lastPosted   pgtype.Timestamptz
		)
		if err := rows.Scan(&id, &a.Unit, &a.Owner, &flags, &meta, &a.CreatedAt, &a.Scale, &posted, &held, &a.Version, &lastPosted); err != nil {
			return nil, err
		}
		a.ID, a.Flags, a.CreatedAt, a.LastPostedAt = ledger.AccountID(id), ledger.Flags(flags), a.CreatedAt.UTC(), fromTimestamp(lastPosted)
		var err error
		if a.Metadata, err = decodeMetadata(meta); err != nil {
			return nil, err
		}
		if a.Posted, err = decimal.NewFromString(posted); err != nil {
			return nil, err
		}
		if a.Held, err = decimal.NewFromString(held); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanTransfers(rows pgx.Rows) ([]ledger.Transfer, error) {
	var out []ledger.Transfer
	for rows.Next() {
		var (
			t                           ledger.Transfer
			id, debit, credit, hold     string
			amount, debitBal, creditBal string
			meta                        pgtype.Text
		)
		if err := rows.Scan(&t.Seq, &id, &debit, &credit, &amount, &t.Unit, &t.Code, &t.Actor, &meta, &t.PostedAt, &debitBal, &creditBal, &hold); err != nil {
			return nil, err
		}
		t.ID, t.Debit, t.Credit, t.Hold, t.PostedAt = ledger.TransferID(id), ledger.AccountID(debit), ledger.AccountID(credit), ledger.TransferID(hold), t.PostedAt.UTC()
		var err error
		if t.Metadata, err = decodeMetadata(meta); err != nil {
			return nil, err
		}
		if t.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, err
		}
		if t.DebitBalance, err = decimal.NewFromString(debitBal); err != nil {
			return nil, err
		}
		if t.CreditBalance, err = decimal.NewFromString(creditBal); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func scanHolds(rows pgx.Rows) ([]ledger.Hold, error) {
	var out []ledger.Hold
	for rows.Next() {
		var (
			h                         ledger.Hold
			id, debit, credit, status string
			amount, posted            string
			meta                      pgtype.Text
			expires, settled          pgtype.Timestamptz
		)
		if err := rows.Scan(&id, &debit, &credit, &amount, &h.Unit, &h.Code, &h.Actor, &meta, &expires, &status, &h.CreatedAt, &settled, &posted); err != nil {
			return nil, err
		}
		h.ID, h.Debit, h.Credit, h.Status = ledger.TransferID(id), ledger.AccountID(debit), ledger.AccountID(credit), ledger.HoldStatus(status)
		h.ExpiresAt, h.CreatedAt, h.SettledAt = fromTimestamp(expires), h.CreatedAt.UTC(), fromTimestamp(settled)
		var err error
		if h.Metadata, err = decodeMetadata(meta); err != nil {
			return nil, err
		}
		if h.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, err
		}
		if h.Posted, err = decimal.NewFromString(posted); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// appendInOrder appends the records of got to dst in the order of ids, skipping IDs not
// found; an ID asked twice is returned twice, as separate copies.
func appendInOrder[ID ~string, T any](dst []T, ids []ID, got []T, key func(T) ID, clone func(T) T) []T {
	if len(got) == 0 {
		return dst
	}
	byID := make(map[ID]T, len(got))
	for _, r := range got {
		byID[key(r)] = r
	}
	out := slices.Grow(dst, len(got))
	used := make(map[ID]bool, len(got))
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			continue
		}
		if used[id] {
			r = clone(r)
		}
		used[id] = true
		out = append(out, r)
	}
	return out
}

func idStrings[ID ~string](ids []ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// where builds a WHERE clause with numbered parameters.
type where struct {
	conds []string
	args  []any
}

// arg adds a parameter and returns its number.
func (w *where) arg(v any) int {
	w.args = append(w.args, v)
	return len(w.args)
}

func (w *where) add(format string, v any) {
	w.conds = append(w.conds, fmt.Sprintf(format, w.arg(v)))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// and returns the joiner before one more condition.
func (w *where) and() string {
	if len(w.conds) == 0 {
		return " WHERE "
	}
	return " AND "
}

func (w *where) limit(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(n)
}

func encodeMetadata(m map[string]string) (pgtype.Text, error) {
	if len(m) == 0 {
		return pgtype.Text{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return pgtype.Text{}, fmt.Errorf("pgxstore: encode metadata: %w", err)
	}
	return pgtype.Text{String: string(b), Valid: true}, nil
}

func decodeMetadata(t pgtype.Text) (map[string]string, error) {
	if !t.Valid {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(t.String), &m); err != nil {
		return nil, fmt.Errorf("pgxstore: metadata %s is not an object of strings: %w", t.String, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// timestamp stores the zero time as NULL.
func timestamp(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

func timestampNotNull(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: true}
}

func fromTimestamp(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func copyAccount(a ledger.AccountState) ledger.AccountState {
	a.Metadata = cloneMap(a.Metadata)
	return a
}

func copyTransfer(t ledger.Transfer) ledger.Transfer {
	t.Metadata = cloneMap(t.Metadata)
	return t
}

func copyHold(h ledger.Hold) ledger.Hold {
	h.Metadata = cloneMap(h.Metadata)
	return h
}

func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// written is a post's write made in its lock's round trip, until the Apply
// that confirms it.
type written struct {
	tr  ledger.Transfer // the transfer, as TransfersPrefetch named it
	now time.Time       // the post's instant
	seq int64
	pre []ledger.AccountState // the accounts as locked, before the write
	// The expired holds it released first (postRelease), as they were.
	released []ledger.Hold
	// replay: the transfer was posted before, so the write released the
	// expired holds and posted nothing (see queries.postRelease).
	replay bool
}

// writable reports whether AccountsLock of ids also writes the post that
// TransfersPrefetch announced: the store owns the transaction and writes
// later, the lock is of the transfer's two accounts, and LockPrefetch
// announced the post's instant and nothing else to read.
func (t *Tx) writable(ids []ledger.AccountID, hint []ledger.TransferID, lh ledger.LockHint, hasLH bool) bool {
	next := t.next
	if t.eager || t.write != nil || next.ID == "" || !hasLH || lh.Settle != "" || lh.Account != "" || len(lh.IDs) > 0 || lh.Now.IsZero() ||
		len(hint) != 1 || hint[0] != next.ID || len(ids) != 2 || next.Debit == next.Credit {
		return false
	}
	lo, hi := next.Debit, next.Credit
	if hi < lo {
		lo, hi = hi, lo
	}
	return ids[0] == lo && ids[1] == hi
}

// writeRead is what the post's write statement returns; the lean one
// returns seq and updated only, the releasing one released instead of
// seqOnly.
type writeRead struct {
	seq, seqOnly        pgtype.Int8
	updated, released   int64
	transfer, hold, exp pgtype.Text
}

// queueWrite adds to b, after the lock, the statement that writes next,
// the post TransfersPrefetch announced, if the ledger will make it:
// queries.postWrite, or, when the post commits with its lock,
// postWriteLean if lean, else postRelease.
func (t *Tx) queueWrite(b *pgx.Batch, next ledger.Transfer, now time.Time, commit, lean bool) (*written, *writeRead) {
	meta, err := encodeMetadata(next.Metadata)
	if err != nil {
		return nil, nil // the ledger refuses such metadata before
	}
	w := &written{tr: next, now: now}
	r := &writeRead{}
	args := []any{string(next.Debit), string(next.Credit), string(next.ID), next.Amount.String(), now, next.Code, next.Actor, meta}
	switch {
	case lean:
		b.Queue(t.s.q.postWriteLean, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&r.seq, &r.updated)
		})
	case commit:
		b.Queue(t.s.q.postRelease, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&r.seq, &r.updated, &r.released, &r.transfer, &r.hold, &r.exp)
		})
	default:
		b.Queue(t.s.q.postWrite, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&r.seq, &r.updated, &r.seqOnly, &r.transfer, &r.hold, &r.exp)
		})
	}
	return w, r
}

// wrote keeps what the write's statement read for the calls that follow
// the lock of ids, as a prefetch and a LockPrefetch would have, and the
// write itself for the Apply that confirms it.
func (t *Tx) wrote(w *written, r *writeRead, ids []ledger.AccountID) error {
	p := &prefetch{ids: []ledger.TransferID{w.tr.ID}, hasTransfers: true, hasHolds: true}
	a := &ahead{now: w.now, swept: slices.Clone(ids)}
	var err error
	if r.transfer.Valid {
		if p.transfersGot, err = transfersFromJSON("[" + r.transfer.String + "]"); err != nil {
			return err
		}
	}
	if r.hold.Valid {
		if p.holdsGot, err = holdsFromJSON("[" + r.hold.String + "]"); err != nil {
			return err
		}
	}
	if r.exp.Valid {
		if a.expired, err = holdsFromJSON(r.exp.String); err != nil {
			return err
		}
	}
	p.order()
	t.prefetched, t.ahead = p, a
	if r.seqOnly.Valid {
		t.seqs = []int64{r.seqOnly.Int64}
	}
	if !r.seq.Valid && r.released == 0 {
		return nil
	}
	w.seq, w.replay = r.seq.Int64, !r.seq.Valid // seq is 0 for a replay
	for _, st := range t.locked {
		w.pre = append(w.pre, copyAccount(st))
	}
	for _, h := range a.expired {
		w.released = append(w.released, copyHold(h))
	}
	// A post updates both accounts; a replay that released the accounts'
	// expired holds, those they debit.
	want := 2
	if w.replay {
		want = 0
		for i := range w.pre {
			if _, ok := w.heldAfter(&w.pre[i]); ok {
				want++
			}
		}
	}
	if r.updated != int64(want) || len(t.locked) != 2 {
		t.redo = true
		return fmt.Errorf("pgxstore: lock accounts: the write made with the lock updated %d accounts of %d; the transaction runs again", r.updated, want)
	}
	if r.released != int64(len(a.expired)) {
		t.redo = true
		return fmt.Errorf("pgxstore: lock accounts: the write made with the lock released %d expired holds of %d; the transaction runs again", r.released, len(a.expired))
	}
	t.write = w
	return nil
}

// matches reports whether c is exactly the change w wrote: the ledger
// released the expired holds w released and posted the transfer from the
// accounts as locked, or for a replay posted nothing, and made no other
// change.
func (w *written) matches(c ledger.Changes) bool {
	if len(c.HoldsInsert) > 0 || len(c.HoldsUpdate) != len(w.released) || len(w.pre) != 2 {
		return false
	}
	for _, h := range c.HoldsUpdate {
		i := slices.IndexFunc(w.released, func(r ledger.Hold) bool { return r.ID == h.ID })
		if i < 0 {
			return false
		}
		r := &w.released[i]
		if h.Status != ledger.HoldExpired || !h.SettledAt.Equal(r.ExpiresAt) || h.Debit != r.Debit || h.Credit != r.Credit ||
			!h.Amount.Equal(r.Amount) || !h.ExpiresAt.Equal(r.ExpiresAt) || !h.Posted.Equal(r.Posted) || !h.CreatedAt.Equal(r.CreatedAt) {
			return false
		}
	}
	if w.replay {
		return w.releaseMatches(c)
	}
	if len(c.Accounts) != 2 || len(c.Transfers) != 1 {
		return false
	}
	at := w.now
	var d, cr *ledger.AccountState
	for i := range w.pre {
		st := &w.pre[i]
		if st.LastPostedAt.After(at) {
			at = st.LastPostedAt
		}
		switch st.ID {
		case w.tr.Debit:
			d = st
		case w.tr.Credit:
			cr = st
		}
	}
	if d == nil || cr == nil {
		return false
	}
	amt := w.tr.Amount
	dp, cp := d.Posted.Sub(amt), cr.Posted.Add(amt)
	for i := range c.Accounts {
		a := &c.Accounts[i]
		pre, posted := d, dp
		if a.ID == cr.ID {
			pre, posted = cr, cp
		} else if a.ID != d.ID {
			return false
		}
		held, _ := w.heldAfter(pre)
		if !updatedFrom(a, pre, posted, held, at) {
			return false
		}
	}
	if c.Accounts[0].ID == c.Accounts[1].ID {
		return false
	}
	tr := &c.Transfers[0]
	return tr.ID == w.tr.ID && tr.Debit == w.tr.Debit && tr.Credit == w.tr.Credit && tr.Amount.Equal(amt) &&
		tr.Unit == d.Unit && tr.Code == w.tr.Code && tr.Actor == w.tr.Actor && maps.Equal(tr.Metadata, w.tr.Metadata) &&
		tr.PostedAt.Equal(at) && tr.DebitBalance.Equal(dp) && tr.CreditBalance.Equal(cp) && tr.Hold == ""
}

// releaseMatches reports whether c, for a replay, is exactly the release
// of w's expired holds: each account they debit, and no other, one version
// up with those holds' amounts no longer held, and no transfer.
func (w *written) releaseMatches(c ledger.Changes) bool {
	if len(c.Transfers) > 0 {
		return false
	}
	n := 0
	for i := range w.pre {
		pre := &w.pre[i]
		held, ok := w.heldAfter(pre)
		if !ok {
			continue
		}
		n++
		j := slices.IndexFunc(c.Accounts, func(a ledger.AccountState) bool { return a.ID == pre.ID })
		if j < 0 || !updatedFrom(&c.Accounts[j], pre, pre.Posted, held, pre.LastPostedAt) {
			return false
		}
	}
	return n == len(c.Accounts)
}

// heldAfter returns what pre holds once w's released holds no longer count,
// and whether any of them is pre's.
func (w *written) heldAfter(pre *ledger.AccountState) (decimal.Decimal, bool) {
	held, ok := pre.Held, false
	for _, h := range w.released {
		if h.Debit == pre.ID {
			held, ok = held.Sub(h.Amount), true
		}
	}
	return held, ok
}

// updatedFrom reports whether a is pre one version up with the given
// totals and time of its last post, and nothing else changed.
func updatedFrom(a, pre *ledger.AccountState, posted, held decimal.Decimal, at time.Time) bool {
	return a.ID == pre.ID && a.Unit == pre.Unit && a.Owner == pre.Owner && a.Flags == pre.Flags && a.Scale == pre.Scale &&
		a.CreatedAt.Equal(pre.CreatedAt) && maps.Equal(a.Metadata, pre.Metadata) && a.Held.Equal(held) &&
		a.Version == pre.Version+1 && a.LastPostedAt.Equal(at) && a.Posted.Equal(posted)
}

// transfersFromJSON decodes a JSON array of arrays of transferCols.
func transfersFromJSON(s string) ([]ledger.Transfer, error) {
	var rows [][]json.RawMessage
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, fmt.Errorf("pgxstore: decode transfers: %w", err)
	}
	out := make([]ledger.Transfer, 0, len(rows))
	for _, r := range rows {
		var (
			t                                           ledger.Transfer
			id, debit, credit, amount, dBal, cBal, hold string
			meta                                        map[string]string
		)
		if len(r) != 13 {
			return nil, fmt.Errorf("pgxstore: decode transfers: %d columns", len(r))
		}
		if err := unmarshalAll(r, &t.Seq, &id, &debit, &credit, &amount, &t.Unit, &t.Code, &t.Actor, &meta, &t.PostedAt, &dBal, &cBal, &hold); err != nil {
			return nil, fmt.Errorf("pgxstore: decode transfers: %w", err)
		}
		t.ID, t.Debit, t.Credit, t.Hold, t.PostedAt = ledger.TransferID(id), ledger.AccountID(debit), ledger.AccountID(credit), ledger.TransferID(hold), t.PostedAt.UTC()
		if len(meta) > 0 {
			t.Metadata = meta
		}
		var err error
		if t.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, err
		}
		if t.DebitBalance, err = decimal.NewFromString(dBal); err != nil {
			return nil, err
		}
		if t.CreditBalance, err = decimal.NewFromString(cBal); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// holdsFromJSON decodes a JSON array of arrays of holdCols.
func holdsFromJSON(s string) ([]ledger.Hold, error) {
	var rows [][]json.RawMessage
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, fmt.Errorf("pgxstore: decode holds: %w", err)
	}
	out := make([]ledger.Hold, 0, len(rows))
	for _, r := range rows {
		var (
			h                                 ledger.Hold
			id, debit, credit, status, amount string
			posted                            string
			meta                              map[string]string
			expires, settled                  *time.Time
		)
		if len(r) != 13 {
			return nil, fmt.Errorf("pgxstore: decode holds: %d columns", len(r))
		}
		if err := unmarshalAll(r, &id, &debit, &credit, &amount, &h.Unit, &h.Code, &h.Actor, &meta, &expires, &status, &h.CreatedAt, &settled, &posted); err != nil {
			return nil, fmt.Errorf("pgxstore: decode holds: %w", err)
		}
		h.ID, h.Debit, h.Credit, h.Status, h.CreatedAt = ledger.TransferID(id), ledger.AccountID(debit), ledger.AccountID(credit), ledger.HoldStatus(status), h.CreatedAt.UTC()
		if expires != nil {
			h.ExpiresAt = expires.UTC()
		}
		if settled != nil {
			h.SettledAt = settled.UTC()
		}
		if len(meta) > 0 {
			h.Metadata = meta
		}
		var err error
		if h.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, err
		}
		if h.Posted, err = decimal.NewFromString(posted); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func unmarshalAll(r []json.RawMessage, dst ...any) error {
	for i, d := range dst {
		if err := json.Unmarshal(r[i], d); err != nil {
			return err
		}
	}
	return nil
}

// commitsWithLock reports whether the lock of a post written with it also
// commits, in the same round trip: the post is the whole transaction (a
// Ledger.Post: LockHint.Alone), the store owns it and commits it alone (no
// group commit, writes deferred rather than eager), and nothing else was
// sent or is waiting to be.
func (t *Tx) commitsWithLock(lh ledger.LockHint) bool {
	if !lh.Alone || !t.early || t.eager || t.s.caller != nil || t.s.gc != nil || t.group != nil || t.member != nil ||
		!t.lazyBegin || t.sent || len(t.prefix) > 0 || len(t.deferred) > 0 {
		return false
	}
	_, ok := t.q.(*pgx.Conn)
	return ok
}

// endedWithLock records, after the round trip of a lock that sent COMMIT,
// whether the transaction is over: the server ran the COMMIT (which also
// rolls back a transaction a failed statement aborted, but a failure skips
// the statements after it up to the end of the batch, COMMIT included).
// What the server tells of the connection decides, not the batch's
// callbacks, which stop at the first error.
func (t *Tx) endedWithLock() {
	conn, ok := t.q.(*pgx.Conn)
	if !ok || conn.IsClosed() || conn.PgConn().TxStatus() != 'I' {
		return // still in the transaction, or unknown: rollback ends it
	}
	t.ended, t.begun = true, false
}

// mismatch reports a post committed with its lock that the ledger then
// computed otherwise than the database did: a bug, since both apply the
// same rules to the same rows. The database's version stands; a retry of
// the post with the same ID returns it.
func (t *Tx) mismatch(ctx context.Context, w *written) error {
	if t.s.log != nil {
		t.s.log.LogAttrs(ctx, slog.LevelWarn, "pgxstore: the ledger's changes differ from the post committed with its lock; the database's stands",
			slog.String("transfer", string(w.tr.ID)), slog.Int64("seq", w.seq))
	}
	return fmt.Errorf("pgxstore: apply: internal error: the ledger's changes differ from the post of transfer %q the database wrote with the lock; the transfer was committed as the database computed it (seq %d), and a retry with the same ID returns it", w.tr.ID, w.seq)
}
