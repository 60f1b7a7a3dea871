package pgxstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file is the seats facet: the seats.Tx methods over the tables of
// migrations/0002_seats.sql, whose events are keyed by (org, id) since
// migrations/0006_seats_tenant_keys.sql. Each method is one round trip.
//
// Writers of a pool's units lock the pool first (PoolLock, SELECT ... FOR
// UPDATE), so the transaction begins at READ COMMITTED and writers of one
// pool queue behind each other, as AccountsLock's writers do. At READ
// COMMITTED a row read and later updated could change in between (a seat
// transfer and a module transfer to one event hold different pools), so
// EventGet and EventList lock the events they return there, with FOR NO KEY
// UPDATE; at REPEATABLE READ they read without locking, and PostgreSQL
// refuses an update of a row changed since the snapshot with a
// serialization failure, which InTx retries.

// Seats returns the store's seats facet: seats.New(store.Seats(), opts).
// Its InTx is the Store's InTx, with the same isolation and retries; on a
// Store made by WithTx it runs in the caller's transaction.
func (s *Store) Seats() seats.Store { return seatsStore{s} }

type seatsStore struct{ s *Store }

// InTx implements seats.Store.
func (a seatsStore) InTx(ctx context.Context, fn func(tx seats.Tx) error) error {
	return a.s.inTx(ctx, func(t *Tx) error { return fn(t) }, false)
}

var (
	_ seats.Tx    = (*Tx)(nil)
	_ seats.Store = seatsStore{}
)

// seatsQueries is the SQL of the seats facet.
type seatsQueries struct {
	poolInsert, poolLock, poolUpdate, poolList string
	eventInsert, eventGet, eventGetLock        string
	eventUpdate, eventList                     string
	eventsLacking                              string
}

const (
	poolCols  = `org, product, purchased, assigned, created_at`
	eventCols = `id, org, name, start_at, end_at, participants, modules, seats_assigned, modules_assigned, created_at, updated_at`
)

func newSeatsQueries(sql func(string) string) seatsQueries {
	return seatsQueries{
		poolInsert: sql(`INSERT INTO {s}allot_seat_pools (` + poolCols + `) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`),
		poolLock:   sql(`SELECT ` + poolCols + ` FROM {s}allot_seat_pools WHERE org = $1 AND product = $2 FOR UPDATE`),
		poolUpdate: sql(`UPDATE {s}allot_seat_pools SET purchased = $3, assigned = $4 WHERE org = $1 AND product = $2`),
		poolList:   sql(`SELECT ` + poolCols + ` FROM {s}allot_seat_pools WHERE org = $1 ORDER BY product`),

		eventInsert: sql(`INSERT INTO {s}allot_seat_events (` + eventCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`),
		eventGet:     sql(`SELECT ` + eventCols + ` FROM {s}allot_seat_events WHERE org = $1 AND id = $2`),
		eventGetLock: sql(`SELECT ` + eventCols + ` FROM {s}allot_seat_events WHERE org = $1 AND id = $2 FOR NO KEY UPDATE`),
		eventUpdate: sql(`UPDATE {s}allot_seat_events SET name = $3, participants = $4, modules = $5,
	seats_assigned = $6, modules_assigned = $7, updated_at = $8 WHERE org = $1 AND id = $2`),
		// The (start_at, id) row comparison is the page cursor; the zero
		// key is before every event a service creates.
		eventList: sql(`SELECT ` + eventCols + ` FROM {s}allot_seat_events
	WHERE org = $1 AND (start_at, id) > ($2, $3) AND ($4::timestamptz IS NULL OR start_at <= $4)
	ORDER BY start_at, id`),
		// The consumption check's events: started by $2 and lacking seats
		// or a module; the lock clause is added where the rows are locked.
		eventsLacking: sql(`SELECT ` + eventCols + ` FROM {s}allot_seat_events
	WHERE org = $1 AND start_at <= $2 AND (participants > seats_assigned OR NOT (modules <@ modules_assigned))
	ORDER BY start_at, id`),
	}
}

// poolName names a pool (org, product) or an event (org, id) in a
// NotFoundError.
func poolName[S ~string](org string, s S) string { return org + "/" + string(s) }

// PoolInsert implements seats.Tx.
func (t *Tx) PoolInsert(ctx context.Context, p seats.Pool) error {
	var b pgx.Batch
	var inserted int64
	b.Queue(t.s.q.seats.poolInsert, p.Org, string(p.Product), p.Purchased, p.Assigned, timestampNotNull(p.CreatedAt)).
		Exec(func(ct pgconn.CommandTag) error {
			inserted = ct.RowsAffected()
			return nil
		})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr(fmt.Sprintf("insert pool %s of %q", p.Product, p.Org), err)
	}
	if inserted == 0 {
		return fmt.Errorf("pgxstore: pool %s of %q: %w", p.Product, p.Org, ledger.ErrAlreadyExists)
	}
	return nil
}

// PoolLock implements seats.Tx with SELECT ... FOR UPDATE: the pool's row
// stays locked until the transaction ends, so the pool's writers, on every
// replica, run one after the other. As the first statement of a
// transaction it begins it at READ COMMITTED, like AccountsLock, so writers
// wait for the lock instead of failing.
func (t *Tx) PoolLock(ctx context.Context, org string, product seats.Product) (seats.Pool, error) {
	var b pgx.Batch
	var got []seats.Pool
	b.Queue(t.s.q.seats.poolLock, org, string(product)).Query(func(rows pgx.Rows) (err error) {
		got, err = scanPools(rows)
		return err
	})
	if err := t.run(ctx, &b, true); err != nil {
		return seats.Pool{}, storeErr(fmt.Sprintf("lock pool %s of %q", product, org), err)
	}
	if len(got) == 0 {
		return seats.Pool{}, &ledger.NotFoundError{Kind: "seats pool", ID: poolName(org, product)}
	}
	t.see("pool\x00" + org + "\x00" + string(product))
	return got[0], nil
}

// PoolUpdate implements seats.Tx. The table's CHECK constraints refuse
// counters that oversell (assigned above purchased) or go negative.
// It is sent with the next statement or the commit (see execLater).
func (t *Tx) PoolUpdate(ctx context.Context, p seats.Pool) error {
	return t.execLater(ctx, "pool\x00"+p.Org+"\x00"+string(p.Product), fmt.Sprintf("update pool %s of %q", p.Product, p.Org), false, nil, t.s.q.seats.poolUpdate,
		[]any{p.Org, string(p.Product), p.Purchased, p.Assigned},
		func() error { return &ledger.NotFoundError{Kind: "seats pool", ID: poolName(p.Org, p.Product)} })
}

// PoolList implements seats.Tx.
func (t *Tx) PoolList(ctx context.Context, org string) ([]seats.Pool, error) {
	var b pgx.Batch
	var got []seats.Pool
	b.Queue(t.s.q.seats.poolList, org).Query(func(rows pgx.Rows) (err error) {
		got, err = scanPools(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list pools of %q", org), err)
	}
	return got, nil
}

// EventInsert implements seats.Tx.
func (t *Tx) EventInsert(ctx context.Context, e seats.Event) error {
	var b pgx.Batch
	var inserted int64
	b.Queue(t.s.q.seats.eventInsert, e.ID, e.Org, e.Name, timestampNotNull(e.Start), timestampNotNull(e.End),
		e.Participants, textArray(e.Modules), e.SeatsAssigned, textArray(e.ModulesAssigned),
		timestampNotNull(e.CreatedAt), timestampNotNull(e.UpdatedAt),
	).Exec(func(ct pgconn.CommandTag) error {
		inserted = ct.RowsAffected()
		return nil
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr(fmt.Sprintf("insert event %q of %q", e.ID, e.Org), err)
	}
	if inserted == 0 {
		return fmt.Errorf("pgxstore: event %q of %q: %w", e.ID, e.Org, ledger.ErrAlreadyExists)
	}
	return nil
}

// EventGet implements seats.Tx. At READ COMMITTED it locks the event (FOR
// NO KEY UPDATE), so that an EventUpdate built from what it returned
// overwrites no concurrent change.
func (t *Tx) EventGet(ctx context.Context, org, id string) (seats.Event, error) {
	sql := t.s.q.seats.eventGet
	if !t.snapshotReads() {
		sql = t.s.q.seats.eventGetLock
	}
	var b pgx.Batch
	var got []seats.Event
	b.Queue(sql, org, id).Query(func(rows pgx.Rows) (err error) {
		got, err = scanEvents(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return seats.Event{}, storeErr(fmt.Sprintf("get event %q of %q", id, org), err)
	}
	if len(got) == 0 {
		return seats.Event{}, &ledger.NotFoundError{Kind: "seats event", ID: poolName(org, id)}
	}
	t.see("event\x00" + org + "\x00" + id)
	return got[0], nil
}

// EventUpdate implements seats.Tx. It is sent with the next statement or
// the commit (see execLater).
func (t *Tx) EventUpdate(ctx context.Context, e seats.Event) error {
	return t.execLater(ctx, "event\x00"+e.Org+"\x00"+e.ID, fmt.Sprintf("update event %q of %q", e.ID, e.Org), false, nil, t.s.q.seats.eventUpdate,
		[]any{e.Org, e.ID, e.Name, e.Participants, textArray(e.Modules),
			e.SeatsAssigned, textArray(e.ModulesAssigned), timestampNotNull(e.UpdatedAt)},
		func() error { return &ledger.NotFoundError{Kind: "seats event", ID: poolName(e.Org, e.ID)} })
}

// EventList implements seats.Tx. At READ COMMITTED it locks the events it
// returns (FOR NO KEY UPDATE), as EventGet does; they are locked in (Start,
// ID) order.
func (t *Tx) EventList(ctx context.Context, p seats.EventListParams) ([]seats.Event, error) {
	sql := t.s.q.seats.eventList
	if p.Limit > 0 {
		sql += " LIMIT " + strconv.Itoa(p.Limit)
	}
	if !t.snapshotReads() {
		sql += " FOR NO KEY UPDATE"
	}
	var b pgx.Batch
	var got []seats.Event
	b.Queue(sql, p.Org, timestampNotNull(p.AfterStart), p.AfterID, timestamp(p.StartedBy)).Query(func(rows pgx.Rows) (err error) {
		got, err = scanEvents(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list events of %q", p.Org), err)
	}
	for _, e := range got {
		t.see("event\x00" + e.Org + "\x00" + e.ID)
	}
	return got, nil
}

// PoolTransferLoad implements seats.Tx in one round trip: the pool's lock
// (as PoolLock), the transfer with the request's ID (as TransfersGet) and
// the event (as EventGet, locked unless the transaction reads a snapshot),
// in that order, the order in which a transfer took them one by one.
func (t *Tx) PoolTransferLoad(ctx context.Context, p seats.TransferLoadParams) (seats.TransferLoad, error) {
	var out seats.TransferLoad
	sql := t.s.q.seats.eventGet
	if t.locksReads() {
		sql = t.s.q.seats.eventGetLock
	}
	var b pgx.Batch
	var pools []seats.Pool
	var prior []ledger.Transfer
	var events []seats.Event
	b.Queue(t.s.q.seats.poolLock, p.Org, string(p.Product)).Query(func(rows pgx.Rows) (err error) {
		pools, err = scanPools(rows)
		return err
	})
	b.Queue(t.s.q.transferGet, string(p.Transfer)).Query(func(rows pgx.Rows) (err error) {
		prior, err = scanTransfers(rows)
		return err
	})
	b.Queue(sql, p.Org, p.Event).Query(func(rows pgx.Rows) (err error) {
		events, err = scanEvents(rows)
		return err
	})
	if err := t.run(ctx, &b, true); err != nil {
		return out, storeErr(fmt.Sprintf("load pool %s of %q and event %q", p.Product, p.Org, p.Event), err)
	}
	if len(pools) > 0 {
		out.Pool, out.PoolFound = pools[0], true
		t.see("pool\x00" + p.Org + "\x00" + string(p.Product))
	}
	if len(prior) > 0 {
		out.Prior, out.PriorFound = prior[0], true
	}
	if len(events) > 0 {
		out.Event, out.EventFound = events[0], true
		t.see("event\x00" + p.Org + "\x00" + p.Event)
	}
	return out, nil
}

// PoolCheckLoad implements seats.Tx in one round trip: the seat pool's lock
// (as PoolLock), then the events started by p.StartedBy that lack seats or
// modules, locked in (Start, ID) order unless the transaction reads a
// snapshot (as EventList).
func (t *Tx) PoolCheckLoad(ctx context.Context, p seats.CheckLoadParams) (seats.CheckLoad, error) {
	var out seats.CheckLoad
	sql := t.s.q.seats.eventsLacking
	if t.locksReads() {
		sql += " FOR NO KEY UPDATE"
	}
	var b pgx.Batch
	var pools []seats.Pool
	b.Queue(t.s.q.seats.poolLock, p.Org, string(seats.Seats)).Query(func(rows pgx.Rows) (err error) {
		pools, err = scanPools(rows)
		return err
	})
	b.Queue(sql, p.Org, timestampNotNull(p.StartedBy)).Query(func(rows pgx.Rows) (err error) {
		out.Events, err = scanEvents(rows)
		return err
	})
	if err := t.run(ctx, &b, true); err != nil {
		return seats.CheckLoad{}, storeErr(fmt.Sprintf("load the seat pool and events of %q", p.Org), err)
	}
	if len(pools) > 0 {
		out.Pool, out.PoolFound = pools[0], true
		t.see("pool\x00" + p.Org + "\x00" + string(seats.Seats))
	}
	for _, e := range out.Events {
		t.see("event\x00" + e.Org + "\x00" + e.ID)
	}
	return out, nil
}

// locksReads reports whether a read that an update will rely on must lock
// its rows (see snapshotReads), when it is sent in a batch that begins
// with a lock: such a batch, as a transaction's first, begins it at READ
// COMMITTED.
func (t *Tx) locksReads() bool {
	return t.lazyBegin || !t.snapshotReads()
}

func scanPools(rows pgx.Rows) ([]seats.Pool, error) {
	var out []seats.Pool
	for rows.Next() {
		var p seats.Pool
		var product string
		if err := rows.Scan(&p.Org, &product, &p.Purchased, &p.Assigned, &p.CreatedAt); err != nil {
			return nil, err
		}
		p.Product, p.CreatedAt = seats.Product(product), p.CreatedAt.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

func scanEvents(rows pgx.Rows) ([]seats.Event, error) {
	var out []seats.Event
	for rows.Next() {
		var e seats.Event
		if err := rows.Scan(&e.ID, &e.Org, &e.Name, &e.Start, &e.End, &e.Participants, &e.Modules,
			&e.SeatsAssigned, &e.ModulesAssigned, &e.CreatedAt, &e.UpdatedAt); err != nil {
			return nil, err
		}
		e.Start, e.End, e.CreatedAt, e.UpdatedAt = e.Start.UTC(), e.End.UTC(), e.CreatedAt.UTC(), e.UpdatedAt.UTC()
		e.Modules, e.ModulesAssigned = nilIfEmpty(e.Modules), nilIfEmpty(e.ModulesAssigned)
		out = append(out, e)
	}
	return out, rows.Err()
}

// textArray passes a list for a NOT NULL text[] column: nil is the empty
// array.
func textArray(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s) // a write sent later must not see the caller's changes
}

// nilIfEmpty returns an empty list as nil, as memstore does.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
