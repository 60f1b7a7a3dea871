package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/allot-dev/allot/ledger"
)

// Store is an in-memory store of every facet allot defines.
type Store struct {
	sem chan struct{} // one slot: the running transaction holds it

	units     map[string]ledger.Unit
	accounts  table[ledger.AccountID, accountRow]
	accountIx sortedIndex[ledger.AccountID]
	journal   journal
	transfers index // the journal position of each transfer ID
	holds     table[ledger.TransferID, ledger.Hold]
	holdIx    sortedIndex[ledger.TransferID]
	pending   map[ledger.AccountID]*pendingHolds // stored-pending holds by debit account

	// The running transaction's undo state for the ledger's hot records,
	// kept here so its memory is reused: one transaction runs at a time.
	txn          uint64        // counts transactions; accountRow.txn compares with it
	log          []accountUndo // account states as they were before it, oldest first
	holdLog      []holdUndo    // the holds it inserted or changed, oldest first
	undo         []func()      // Tx.undo's memory, kept between transactions
	journalStart int           // the journal's length when it began
	locked       []*accountRow // the rows it locked, searched before the map

	passes   passesTables
	seats    seatsTables
	licenses licensesTables
	outbox   outbox
}

var _ ledger.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		sem:       make(chan struct{}, 1),
		units:     make(map[string]ledger.Unit),
		accounts:  newTable(func(r *accountRow) ledger.AccountID { return r.ID }),
		transfers: newIndex(),
		holds:     newTable(func(h *ledger.Hold) ledger.TransferID { return h.ID }),
		pending:   make(map[ledger.AccountID]*pendingHolds),
		passes:    newPassesTables(),
		seats:     newSeatsTables(),
		licenses:  newLicensesTables(),
	}
}

// errTxDone is returned by a Tx used after its function returned.
var errTxDone = errors.New("memstore: transaction already finished; use the Tx only inside the function InTx runs")

// InTx runs fn in a transaction: nothing it wrote remains if it returns an
// error or panics, or if ctx is cancelled before it returns.
func (s *Store) InTx(ctx context.Context, fn func(tx ledger.Tx) error) error {
	return s.inTx(ctx, func(t *Tx) error { return fn(t) })
}

func (s *Store) inTx(ctx context.Context, fn func(t *Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
	default: // another transaction runs: wait for it, or for ctx
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t := &Tx{s: s, undo: s.undo}
	s.txn++
	s.journalStart = s.journal.len()
	s.outbox.begin()
	committed := false
	defer func() {
		t.done = true
		if !committed {
			t.rollback()
		}
		// Drop the references the logs hold, keeping their memory.
		clear(s.log)
		s.log = s.log[:0]
		clear(s.holdLog)
		s.holdLog = s.holdLog[:0]
		clear(s.passes.hot)
		s.passes.hot = s.passes.hot[:0]
		s.licenses.undo.reset()
		clear(s.locked)
		s.locked = s.locked[:0]
		clear(t.undo)
		s.undo = t.undo[:0]
		t.undo = nil
		<-s.sem
	}()
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	committed = true
	return nil
}

// Tx is a transaction on a Store. It implements ledger.Tx and the Tx of
// every domain package. It is not safe for concurrent use.
type Tx struct {
	s    *Store
	undo []func()
	done bool
}

var _ ledger.Tx = (*Tx)(nil)

func (t *Tx) rollback() {
	// The ledger's writes first: undoing them finds accounts that the
	// transaction created, which the other log then removes, newest first.
	t.s.undoLedger()
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	// The facets' typed logs, each touching only its facet's records.
	t.s.passes.undoHotWrites()
	t.s.licenses.undo.rollback()
	t.s.outbox.rollback()
}

func (t *Tx) check(ctx context.Context) error {
	if t.done {
		return errTxDone
	}
	return ctx.Err()
}

// UnitInsert implements ledger.Tx.
func (t *Tx) UnitInsert(ctx context.Context, u ledger.Unit) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if _, ok := t.s.units[u.Code]; ok {
		return fmt.Errorf("memstore: unit %q: %w", u.Code, ledger.ErrAlreadyExists)
	}
	t.s.units[u.Code] = u
	t.undo = append(t.undo, func() { delete(t.s.units, u.Code) })
	return nil
}

// UnitGet implements ledger.Tx.
func (t *Tx) UnitGet(ctx context.Context, code string) (ledger.Unit, error) {
	if err := t.check(ctx); err != nil {
		return ledger.Unit{}, err
	}
	u, ok := t.s.units[code]
	if !ok {
		return ledger.Unit{}, &ledger.NotFoundError{Kind: "unit", ID: code}
	}
	return u, nil
}

// AccountInsert implements ledger.Tx.
func (t *Tx) AccountInsert(ctx context.Context, a ledger.AccountState) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if t.s.accounts.get(a.ID) != nil {
		return fmt.Errorf("memstore: account %q: %w", a.ID, ledger.ErrAlreadyExists)
	}
	t.s.accounts.add(accountRow{AccountState: copyAccount(a)})
	t.s.accountIx.add(a.ID)
	id := a.ID
	t.undo = append(t.undo, func() {
		t.s.accounts.removeLast() // undone newest first, so it is the newest
		t.s.accountIx.remove(id)
	})
	return nil
}

// AccountsEnsure implements ledger.Tx. It checks every account before it
// writes any.
func (t *Tx) AccountsEnsure(ctx context.Context, as []ledger.AccountState) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	fresh := 0
	for i := range as {
		a := &as[i]
		if cur := t.s.accounts.get(a.ID); cur != nil {
			if field := cur.Account.DefinitionDiff(a.Account); field != "" {
				return &ledger.ConflictError{Kind: "account", ID: string(a.ID), Field: field}
			}
			continue
		}
		if _, ok := t.s.units[a.Unit]; !ok {
			return &ledger.NotFoundError{Kind: "unit", ID: a.Unit}
		}
		fresh++
	}
	if fresh == 0 {
		return nil
	}
	for i := range as {
		a := &as[i]
		if t.s.accounts.get(a.ID) != nil {
			continue
		}
		st := ledger.AccountState{Account: a.Account, Scale: t.s.units[a.Unit].Scale}
		if err := t.AccountInsert(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// AccountGet implements ledger.Tx.
func (t *Tx) AccountGet(ctx context.Context, id ledger.AccountID) (ledger.AccountState, error) {
	if err := t.check(ctx); err != nil {
		return ledger.AccountState{}, err
	}
	a := t.s.accounts.get(id)
	if a == nil {
		return ledger.AccountState{}, &ledger.NotFoundError{Kind: "account", ID: string(id)}
	}
	return copyAccount(a.AccountState), nil
}

// AccountsLock implements ledger.Tx. The store's single lock already
// excludes every other transaction.
func (t *Tx) AccountsLock(ctx context.Context, ids []ledger.AccountID, dst []ledger.AccountState) ([]ledger.AccountState, error) {
	if err := t.check(ctx); err != nil {
		return dst, err
	}
	out := slices.Grow(dst, len(ids))
	for _, id := range ids {
		if a := t.s.accounts.get(id); a != nil {
			out = append(out, copyAccount(a.AccountState))
			t.s.locked = append(t.s.locked, a)
		}
	}
	return out, nil
}

// AccountList implements ledger.Tx.
func (t *Tx) AccountList(ctx context.Context, p ledger.AccountListParams) ([]ledger.AccountState, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []ledger.AccountState
	for _, id := range t.s.accountIx.after(p.After) {
		a := t.s.accounts.get(id)
		if (p.Owner != "" && a.Owner != p.Owner) || (p.Unit != "" && a.Unit != p.Unit) {
			continue
		}
		out = append(out, copyAccount(a.AccountState))
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
	}
	return out, nil
}

// TransfersGet implements ledger.Tx.
func (t *Tx) TransfersGet(ctx context.Context, ids []ledger.TransferID, dst []ledger.Transfer) ([]ledger.Transfer, error) {
	if err := t.check(ctx); err != nil {
		return dst, err
	}
	out := dst
	for _, id := range ids {
		if i, ok := t.s.transfers.find(string(id), t.s.journal.idAt); ok {
			out = append(out, t.s.journal.transfer(i))
		}
	}
	return out, nil
}

// TransferList implements ledger.Tx.
func (t *Tx) TransferList(ctx context.Context, p ledger.TransferListParams) ([]ledger.Transfer, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var idx []int // journal indexes to consider, ascending; nil means all
	if p.Account != "" {
		row := t.s.accounts.get(p.Account)
		if row == nil || len(row.entries) == 0 {
			return nil, nil
		}
		idx = row.entries
	}
	n := t.s.journal.len()
	if idx != nil {
		n = len(idx)
	}
	pos := func(k int) int { // the journal position of the k-th candidate
		if idx != nil {
			return idx[k]
		}
		return k
	}
	seq := func(k int) int64 { return int64(pos(k) + 1) }
	// Times compare in microseconds, the precision the journal keeps; the
	// bounds are rounded so that the comparisons mean what they do on
	// times: From inclusive, To exclusive.
	var from, to int64
	if !p.From.IsZero() {
		from = p.From.Add(time.Microsecond - 1).Truncate(time.Microsecond).UnixMicro()
	}
	if !p.To.IsZero() {
		to = p.To.Add(time.Microsecond - 1).Truncate(time.Microsecond).UnixMicro()
	}
	keep := func(k int) bool {
		at := t.s.journal.at(pos(k)).postedAt
		return (p.From.IsZero() || at >= from) && (p.To.IsZero() || at < to)
	}
	var out []ledger.Transfer
	full := func() bool { return p.Limit > 0 && len(out) == p.Limit }
	if !p.Desc {
		start := sort.Search(n, func(k int) bool { return seq(k) > p.AfterSeq })
		for k := start; k < n && !full(); k++ {
			if keep(k) {
				out = append(out, t.s.journal.transfer(pos(k)))
			}
		}
		return out, nil
	}
	end := n
	if p.AfterSeq > 0 {
		end = sort.Search(n, func(k int) bool { return seq(k) >= p.AfterSeq })
	}
	for k := end - 1; k >= 0 && !full(); k-- {
		if keep(k) {
			out = append(out, t.s.journal.transfer(pos(k)))
		}
	}
	return out, nil
}

// HoldsGet implements ledger.Tx.
func (t *Tx) HoldsGet(ctx context.Context, ids []ledger.TransferID, dst []ledger.Hold) ([]ledger.Hold, error) {
	if err := t.check(ctx); err != nil {
		return dst, err
	}
	out := dst
	for _, id := range ids {
		if h := t.s.holds.get(id); h != nil {
			out = append(out, copyHold(*h))
		}
	}
	return out, nil
}

// HoldList implements ledger.Tx.
func (t *Tx) HoldList(ctx context.Context, p ledger.HoldListParams) ([]ledger.Hold, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	keep := func(h *ledger.Hold) bool {
		return (p.Debit == "" || h.Debit == p.Debit) &&
			(p.Status == "" || h.Status == p.Status) &&
			(p.ExpiresBy.IsZero() || (!h.ExpiresAt.IsZero() && !h.ExpiresAt.After(p.ExpiresBy))) &&
			h.ID > p.After
	}
	var out []ledger.Hold
	if p.Debit != "" && p.Status == ledger.HoldPending {
		// The pending holds of one account, from their own index; those
		// expired by a time, from the expiry heap.
		ph := t.s.pending[p.Debit]
		if ph == nil {
			return nil, nil
		}
		if !p.ExpiresBy.IsZero() {
			for _, id := range ph.expiredBy(p.ExpiresBy) {
				if h := t.s.holds.get(id); keep(h) {
					out = append(out, copyHold(*h))
				}
			}
		} else {
			for id := range ph.ids {
				if h := t.s.holds.get(id); keep(h) {
					out = append(out, copyHold(*h))
				}
			}
		}
		slices.SortFunc(out, func(a, b ledger.Hold) int { return strings.Compare(string(a.ID), string(b.ID)) })
		if p.Limit > 0 && len(out) > p.Limit {
			out = out[:p.Limit]
		}
		return out, nil
	}
	for _, id := range t.s.holdIx.after(p.After) {
		if h := t.s.holds.get(id); keep(h) {
			out = append(out, copyHold(*h))
			if p.Limit > 0 && len(out) == p.Limit {
				break
			}
		}
	}
	return out, nil
}

// Apply implements ledger.Tx. It checks everything before it writes
// anything, so a refused Apply leaves the store as it was.
func (t *Tx) Apply(ctx context.Context, c ledger.Changes) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	s := t.s
	var rowsBuf [4]*accountRow
	rows := rowsBuf[:0] // the rows of c.Accounts, found once
	// Records are large: the loops work on them in place.
	for i := range c.Accounts {
		a := &c.Accounts[i]
		cur := s.row(a.ID)
		if cur == nil {
			return &ledger.NotFoundError{Kind: "account", ID: string(a.ID)}
		}
		if a.Version != cur.Version+1 {
			return fmt.Errorf("memstore: account %q changed under the write: version %d after stored %d", a.ID, a.Version, cur.Version)
		}
		if a.Held.Sign() < 0 {
			return fmt.Errorf("memstore: account %q would hold %s, below zero", a.ID, a.Held)
		}
		if cur.Flags.Has(ledger.FlagNonNegative) && a.Posted.Cmp(a.Held) < 0 {
			return fmt.Errorf("memstore: account %q would have %s posted and %s held: %w", a.ID, a.Posted, a.Held, ledger.ErrInsufficientBalance)
		}
		rows = append(rows, cur)
	}
	if s.journal.len()+len(c.Transfers) > maxJournal {
		return fmt.Errorf("memstore: the journal holds %d transfers, the most it can", s.journal.len())
	}
	var trRowsBuf [2][2]*accountRow
	trRows := trRowsBuf[:0] // the debit and credit rows of c.Transfers
	for i := range c.Transfers {
		tr := &c.Transfers[i]
		if _, ok := s.transfers.find(string(tr.ID), s.journal.idAt); ok || repeated(c.Transfers[:i], tr.ID, func(t *ledger.Transfer) ledger.TransferID { return t.ID }) {
			return fmt.Errorf("memstore: transfer %q: %w", tr.ID, ledger.ErrAlreadyExists)
		}
		var pair [2]*accountRow
		for j, id := range [2]ledger.AccountID{tr.Debit, tr.Credit} {
			r := s.row(id)
			if r == nil {
				return &ledger.NotFoundError{Kind: "account", ID: string(id)}
			}
			if r.Unit != tr.Unit {
				return fmt.Errorf("memstore: transfer %q counts %q, account %q %q", tr.ID, tr.Unit, id, r.Unit)
			}
			pair[j] = r
		}
		trRows = append(trRows, pair)
	}
	for i := range c.HoldsInsert {
		id := c.HoldsInsert[i].ID
		if s.holds.get(id) != nil || repeated(c.HoldsInsert[:i], id, func(h *ledger.Hold) ledger.TransferID { return h.ID }) {
			return fmt.Errorf("memstore: hold %q: %w", id, ledger.ErrAlreadyExists)
		}
	}
	var updBuf [2]*ledger.Hold
	updated := updBuf[:0] // the stored holds of c.HoldsUpdate, found once
	for i := range c.HoldsUpdate {
		id := c.HoldsUpdate[i].ID
		cur := s.holds.get(id)
		if cur == nil {
			return &ledger.NotFoundError{Kind: "hold", ID: string(id)}
		}
		updated = append(updated, cur)
	}

	for i, cur := range rows {
		if cur.txn != s.txn {
			// The first write of the transaction: what rollback restores.
			s.log = append(s.log, accountUndo{row: cur, old: cur.AccountState})
			cur.txn = s.txn
		}
		cur.AccountState = c.Accounts[i]
		cur.Metadata = cloneMap(cur.Metadata)
	}
	for i := range c.Transfers {
		tr := &c.Transfers[i]
		k := s.journal.len()
		tr.Seq = int64(k + 1)
		debit, credit := trRows[i][0], trRows[i][1]
		s.journal.append(tr, debit, credit)
		s.transfers.add(string(tr.ID), k)
		debit.entries = appendDoubling(debit.entries, k)
		credit.entries = appendDoubling(credit.entries, k)
	}
	for i := range c.HoldsInsert {
		h := s.holds.add(copyHold(c.HoldsInsert[i]))
		s.holdIx.add(h.ID)
		s.setPending(h, false, h.Status == ledger.HoldPending)
		s.holdLog = append(s.holdLog, holdUndo{hold: h, inserted: true})
	}
	for i, cur := range updated {
		s.holdLog = append(s.holdLog, holdUndo{hold: cur, old: *cur})
		was := cur.Status == ledger.HoldPending
		*cur = copyHold(c.HoldsUpdate[i])
		s.setPending(cur, was, cur.Status == ledger.HoldPending)
	}
	return nil
}

// setPending keeps the pending-hold sets current as h's stored status goes
// from pending (was) or not to pending (now) or not.
func (s *Store) setPending(h *ledger.Hold, was, now bool) {
	switch {
	case now && !was:
		ph := s.pending[h.Debit]
		if ph == nil {
			ph = &pendingHolds{ids: make(map[ledger.TransferID]struct{})}
			s.pending[h.Debit] = ph
		}
		ph.add(*h)
	case was && !now:
		// An account that held once will likely hold again: its empty set
		// stays for the next hold.
		s.pending[h.Debit].remove(h.ID)
	}
}

func copyAccount(a ledger.AccountState) ledger.AccountState {
	a.Metadata = cloneMap(a.Metadata)
	return a
}

func copyHold(h ledger.Hold) ledger.Hold {
	h.Metadata = cloneMap(h.Metadata)
	return h
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// sortedIndex keeps keys in order for paged listings. It sorts lazily: adds
// are appended and the order is restored at the next read.
type sortedIndex[K ~string] struct {
	keys   []K
	sorted bool
}

func (x *sortedIndex[K]) add(k K) {
	if n := len(x.keys); n > 0 && x.sorted && x.keys[n-1] > k {
		x.sorted = false
	}
	x.keys = appendDoubling(x.keys, k)
	if len(x.keys) == 1 {
		x.sorted = true
	}
}

// appendDoubling appends v to s, doubling its capacity when it is full.
// append grows a large slice by a quarter, so a slice that only ever grows
// would be copied about five times over; doubling copies it about once.
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 4))
	}
	return append(s, v)
}

func (x *sortedIndex[K]) remove(k K) {
	if n := len(x.keys); n > 0 && x.keys[n-1] == k {
		x.keys = x.keys[:n-1]
		return
	}
	if i := slices.Index(x.keys, k); i >= 0 {
		x.keys = slices.Delete(x.keys, i, i+1)
	}
}

// after returns the keys greater than k, in order. The slice is the index's
// own: callers must not keep it across writes.
func (x *sortedIndex[K]) after(k K) []K {
	if !x.sorted {
		slices.Sort(x.keys)
		x.sorted = true
	}
	i, _ := slices.BinarySearch(x.keys, k)
	if i < len(x.keys) && x.keys[i] == k {
		i++
	}
	return x.keys[i:]
}

// accountRow is an account as memstore keeps it: its state and the journal
// indexes of its transfers, ascending, so one lookup finds both.
type accountRow struct {
	ledger.AccountState
	entries []int
	txn     uint64 // the last transaction that logged the state for rollback
}

// row returns the row of account id, or nil if there is none. When the
// running transaction locked a handful of rows, the common case, they are
// searched before the map: comparing a few IDs beats hashing one.
func (s *Store) row(id ledger.AccountID) *accountRow {
	if len(s.locked) <= 8 {
		for _, r := range s.locked {
			if r.ID == id {
				return r
			}
		}
	}
	return s.accounts.get(id)
}

// holdUndo undoes one hold write: an insert, or a change from old.
type holdUndo struct {
	hold     *ledger.Hold
	old      ledger.Hold
	inserted bool
}

// accountUndo is an account's state before the running transaction first
// wrote it.
type accountUndo struct {
	row *accountRow
	old ledger.AccountState
}

// repeated reports whether id is the ID of one of earlier. Changes carry a
// handful of records, so a scan beats building a set.
func repeated[T any](earlier []T, id ledger.TransferID, idOf func(*T) ledger.TransferID) bool {
	for i := range earlier {
		if idOf(&earlier[i]) == id {
			return true
		}
	}
	return false
}

// undoLedger undoes the running transaction's ledger writes: its holds and
// the transfers it appended, newest first, then the accounts it wrote.
func (s *Store) undoLedger() {
	for i := len(s.holdLog) - 1; i >= 0; i-- {
		e := &s.holdLog[i]
		if e.inserted {
			s.holdIx.remove(e.hold.ID)
			s.setPending(e.hold, e.hold.Status == ledger.HoldPending, false)
			s.holds.removeLast() // undone newest first, so it is the newest
			continue
		}
		was := e.hold.Status == ledger.HoldPending
		*e.hold = e.old
		s.setPending(e.hold, was, e.hold.Status == ledger.HoldPending)
	}
	for k := s.journal.len() - 1; k >= s.journalStart; k-- {
		e := s.journal.at(k)
		s.transfers.remove(string(e.id), k)
		e.debit.entries = e.debit.entries[:len(e.debit.entries)-1]
		e.credit.entries = e.credit.entries[:len(e.credit.entries)-1]
	}
	s.journal.truncate(s.journalStart)
	for _, e := range s.log {
		e.row.AccountState = e.old
		e.row.txn = 0
	}
	clear(s.log)
	s.log = s.log[:0]
}
