package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
)

// seatsTables are the seats package's records, each keyed by its
// organization and its own ID, so organizations never share a key.
type seatsTables struct {
	pools  map[seatsPoolKey]seats.Pool
	events map[seatsEventKey]*seats.Event
	byOrg  map[string]*eventIndex // each organization's events in (Start, ID) order
}

type seatsPoolKey struct {
	org     string
	product seats.Product
}

type seatsEventKey struct {
	org, id string
}

func newSeatsTables() seatsTables {
	return seatsTables{
		pools:  make(map[seatsPoolKey]seats.Pool),
		events: make(map[seatsEventKey]*seats.Event),
		byOrg:  make(map[string]*eventIndex),
	}
}

// eventKey orders events by (Start, ID).
type eventKey struct {
	start time.Time
	id    string
}

func compareEventKeys(a, b eventKey) int {
	if c := a.start.Compare(b.start); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// eventIndex keeps one organization's event keys in order. Like
// sortedIndex, it sorts lazily: adds are appended and the order is restored
// at the next read.
type eventIndex struct {
	keys   []eventKey
	sorted bool
}

func (x *eventIndex) add(k eventKey) {
	if n := len(x.keys); n == 0 {
		x.sorted = true
	} else if x.sorted && compareEventKeys(x.keys[n-1], k) > 0 {
		x.sorted = false
	}
	x.keys = append(x.keys, k)
}

func (x *eventIndex) remove(k eventKey) {
	if n := len(x.keys); n > 0 && x.keys[n-1] == k {
		x.keys = x.keys[:n-1]
		return
	}
	if i := slices.Index(x.keys, k); i >= 0 {
		x.keys = slices.Delete(x.keys, i, i+1)
	}
}

func (x *eventIndex) after(k eventKey) []eventKey {
	if !x.sorted {
		slices.SortFunc(x.keys, compareEventKeys)
		x.sorted = true
	}
	i, found := slices.BinarySearchFunc(x.keys, k, compareEventKeys)
	if found {
		i++
	}
	return x.keys[i:]
}

// Seats returns the store's seats facet.
func (s *Store) Seats() seats.Store { return seatsStore{s} }

type seatsStore struct{ s *Store }

// InTx implements seats.Store.
func (a seatsStore) InTx(ctx context.Context, fn func(tx seats.Tx) error) error {
	return a.s.inTx(ctx, func(t *Tx) error { return fn(t) })
}

var (
	_ seats.Tx    = (*Tx)(nil)
	_ seats.Store = seatsStore{}
)

// PoolInsert implements seats.Tx.
func (t *Tx) PoolInsert(ctx context.Context, p seats.Pool) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	k := seatsPoolKey{p.Org, p.Product}
	tb := &t.s.seats
	if _, ok := tb.pools[k]; ok {
		return fmt.Errorf("memstore: pool %s of %q: %w", p.Product, p.Org, ledger.ErrAlreadyExists)
	}
	tb.pools[k] = p
	t.undo = append(t.undo, func() { delete(tb.pools, k) })
	return nil
}

// PoolLock implements seats.Tx. The store's single lock already excludes
// every other transaction.
func (t *Tx) PoolLock(ctx context.Context, org string, product seats.Product) (seats.Pool, error) {
	if err := t.check(ctx); err != nil {
		return seats.Pool{}, err
	}
	p, ok := t.s.seats.pools[seatsPoolKey{org, product}]
	if !ok {
		return seats.Pool{}, fmt.Errorf("memstore: pool %s of %q: %w", product, org, ledger.ErrNotFound)
	}
	return p, nil
}

// PoolUpdate implements seats.Tx.
func (t *Tx) PoolUpdate(ctx context.Context, p seats.Pool) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	k := seatsPoolKey{p.Org, p.Product}
	tb := &t.s.seats
	old, ok := tb.pools[k]
	if !ok {
		return fmt.Errorf("memstore: pool %s of %q: %w", p.Product, p.Org, ledger.ErrNotFound)
	}
	p.CreatedAt = old.CreatedAt
	tb.pools[k] = p
	t.undo = append(t.undo, func() { tb.pools[k] = old })
	return nil
}

// PoolList implements seats.Tx.
func (t *Tx) PoolList(ctx context.Context, org string) ([]seats.Pool, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []seats.Pool
	for k, p := range t.s.seats.pools {
		if k.org == org {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b seats.Pool) int { return cmp.Compare(a.Product, b.Product) })
	return out, nil
}

// EventInsert implements seats.Tx.
func (t *Tx) EventInsert(ctx context.Context, e seats.Event) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.seats
	ek := seatsEventKey{e.Org, e.ID}
	if _, ok := tb.events[ek]; ok {
		return fmt.Errorf("memstore: event %q of %q: %w", e.ID, e.Org, ledger.ErrAlreadyExists)
	}
	c := copyEvent(e)
	tb.events[ek] = &c
	ix := tb.byOrg[e.Org]
	if ix == nil {
		ix = &eventIndex{}
		tb.byOrg[e.Org] = ix
	}
	k := eventKey{e.Start, e.ID}
	ix.add(k)
	t.undo = append(t.undo, func() {
		delete(tb.events, ek)
		ix.remove(k)
	})
	return nil
}

// EventGet implements seats.Tx.
func (t *Tx) EventGet(ctx context.Context, org, id string) (seats.Event, error) {
	if err := t.check(ctx); err != nil {
		return seats.Event{}, err
	}
	e, ok := t.s.seats.events[seatsEventKey{org, id}]
	if !ok {
		return seats.Event{}, fmt.Errorf("memstore: event %q of %q: %w", id, org, ledger.ErrNotFound)
	}
	return copyEvent(*e), nil
}

// EventUpdate implements seats.Tx.
func (t *Tx) EventUpdate(ctx context.Context, e seats.Event) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	cur, ok := t.s.seats.events[seatsEventKey{e.Org, e.ID}]
	if !ok {
		return fmt.Errorf("memstore: event %q of %q: %w", e.ID, e.Org, ledger.ErrNotFound)
	}
	old := *cur
	next := old
	next.Name = e.Name
	next.Participants = e.Participants
	next.Modules = cloneStrings(e.Modules)
	next.SeatsAssigned = e.SeatsAssigned
	next.ModulesAssigned = cloneStrings(e.ModulesAssigned)
	next.UpdatedAt = e.UpdatedAt
	*cur = next
	t.undo = append(t.undo, func() { *cur = old })
	return nil
}

// EventList implements seats.Tx.
func (t *Tx) EventList(ctx context.Context, p seats.EventListParams) ([]seats.Event, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	ix := t.s.seats.byOrg[p.Org]
	if ix == nil {
		return nil, nil
	}
	keys := ix.after(eventKey{p.AfterStart, p.AfterID})
	n := len(keys)
	if p.Limit > 0 {
		n = min(n, p.Limit)
	}
	out := make([]seats.Event, 0, n)
	for _, k := range keys {
		if !p.StartedBy.IsZero() && k.start.After(p.StartedBy) {
			break
		}
		out = append(out, copyEvent(*t.s.seats.events[seatsEventKey{p.Org, k.id}]))
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
	}
	return out, nil
}

// PoolTransferLoad implements seats.Tx. The store's single lock already
// excludes every other transaction.
func (t *Tx) PoolTransferLoad(ctx context.Context, p seats.TransferLoadParams) (seats.TransferLoad, error) {
	var out seats.TransferLoad
	if err := t.check(ctx); err != nil {
		return out, err
	}
	tb := &t.s.seats
	out.Pool, out.PoolFound = tb.pools[seatsPoolKey{p.Org, p.Product}]
	if i, ok := t.s.transfers.find(string(p.Transfer), t.s.journal.idAt); ok {
		out.Prior, out.PriorFound = t.s.journal.transfer(i), true
	}
	if e, ok := tb.events[seatsEventKey{p.Org, p.Event}]; ok {
		out.Event, out.EventFound = copyEvent(*e), true
	}
	return out, nil
}

// PoolCheckLoad implements seats.Tx.
func (t *Tx) PoolCheckLoad(ctx context.Context, p seats.CheckLoadParams) (seats.CheckLoad, error) {
	var out seats.CheckLoad
	if err := t.check(ctx); err != nil {
		return out, err
	}
	tb := &t.s.seats
	out.Pool, out.PoolFound = tb.pools[seatsPoolKey{p.Org, seats.Seats}]
	ix := tb.byOrg[p.Org]
	if ix == nil {
		return out, nil
	}
	keys := ix.after(eventKey{})
	keys = keys[:sort.Search(len(keys), func(i int) bool { return keys[i].start.After(p.StartedBy) })]
	for _, k := range keys {
		e := tb.events[seatsEventKey{p.Org, k.id}]
		if n, ms := seats.Shortfall(*e); n > 0 || len(ms) > 0 {
			if out.Events == nil {
				out.Events = make([]seats.Event, 0, len(keys))
			}
			out.Events = append(out.Events, copyEvent(*e))
		}
	}
	return out, nil
}

func copyEvent(e seats.Event) seats.Event {
	e.Modules = cloneStrings(e.Modules)
	e.ModulesAssigned = cloneStrings(e.ModulesAssigned)
	return e
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
