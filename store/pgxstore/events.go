package pgxstore

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/allot-dev/allot/events"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// eventsQueries is the outbox's SQL for one schema.
type eventsQueries struct {
	insert, lock, number, read, prune string
}

var eventsSQL sync.Map // queries.cacheKey -> *eventsQueries

func (q *queries) events() *eventsQueries {
	if got, ok := eventsSQL.Load(q.cacheKey()); ok {
		return got.(*eventsQueries)
	}
	r := strings.NewReplacer("{s}", q.prefix)
	sql := func(s string) string { return r.Replace(s) }
	e := &eventsQueries{
		insert: sql(`INSERT INTO {s}allot_events (type, org, at, actor, request_id, payload) VALUES ($1, $2, $3, $4, $5, $6)`),
		lock:   q.lockSQL(lockEvents, false),
		// Number the committed events that have none, in the order they
		// were written, above every number given before.
		number: sql(`UPDATE {s}allot_events AS e SET seq = n.seq
FROM (SELECT id, nextval('{s}allot_events_seq') AS seq
	FROM (SELECT id FROM {s}allot_events WHERE seq IS NULL ORDER BY id) AS todo) AS n
WHERE e.id = n.id`),
		read: sql(`SELECT seq, type, org, at, actor, request_id, payload FROM {s}allot_events
WHERE seq > $1 AND ($2 = '' OR org = $2) AND (cardinality($3::text[]) = 0 OR type = ANY($3::text[]))
ORDER BY seq LIMIT $4`),
		prune: sql(`DELETE FROM {s}allot_events WHERE seq < $1`),
	}
	got, _ := eventsSQL.LoadOrStore(q.cacheKey(), e)
	return got.(*eventsQueries)
}

var _ events.Store = (*Store)(nil)

// Emit writes events in the transaction: they are read after it commits,
// numbered in commit order, and never if it rolls back. Once the
// transaction has begun, the inserts travel with its next statement or with
// COMMIT, so an act's events cost no round trip of their own; in a caller's
// transaction, or when the function runs again after a deferred write
// failed, they are sent at once.
func (t *Tx) Emit(ctx context.Context, evs ...events.Event) error {
	if err := t.check(ctx); err != nil || len(evs) == 0 {
		return err
	}
	qs := make([]*pgx.QueuedQuery, len(evs))
	for i, e := range evs {
		st, err := events.Encode(e)
		if err != nil {
			return err
		}
		qs[i] = &pgx.QueuedQuery{SQL: t.s.q.events().insert,
			Arguments: []any{string(st.Type), st.Org, timestampNotNull(st.At), st.Actor, st.RequestID, string(st.Payload)}}
	}
	if t.begun && !t.eager {
		for _, q := range qs {
			q.Exec(func(pgconn.CommandTag) error {
				t.flushed++
				return nil
			})
		}
		t.deferred = append(t.deferred, qs...)
		return nil
	}
	if err := t.run(ctx, &pgx.Batch{QueuedQueries: qs}, false); err != nil {
		return storeErr(fmt.Sprintf("write %d events", len(evs)), err)
	}
	return nil
}

// ReadEvents implements events.Store. It numbers the events committed since
// the last read, then reads, in one round trip.
func (s *Store) ReadEvents(ctx context.Context, q events.Query) ([]events.Stored, error) {
	var out []events.Stored
	err := s.inTx(ctx, func(t *Tx) error {
		out = out[:0]
		types := make([]string, len(q.Types))
		for i, typ := range q.Types {
			types[i] = string(typ)
		}
		eq := t.s.q.events()
		b := &pgx.Batch{}
		b.Queue(eq.lock)
		b.Queue(eq.number)
		b.Queue(eq.read, q.After, q.Org, types, q.Limit).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var e events.Stored
				var typ, payload string
				if err := rows.Scan(&e.Seq, &typ, &e.Org, &e.At, &e.Actor, &e.RequestID, &payload); err != nil {
					return err
				}
				e.Type, e.Payload, e.At = events.Type(typ), []byte(payload), e.At.UTC()
				out = append(out, e)
			}
			return rows.Err()
		})
		return t.run(ctx, b, true)
	}, false)
	if err != nil {
		return nil, storeErr("read events", err)
	}
	return out, nil
}

// PruneEvents implements events.Store.
func (s *Store) PruneEvents(ctx context.Context, before int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(t *Tx) error {
		b := &pgx.Batch{}
		b.Queue(t.s.q.events().prune, before).Exec(func(ct pgconn.CommandTag) error {
			n = ct.RowsAffected()
			return nil
		})
		return t.run(ctx, b, true)
	}, false)
	if err != nil {
		return 0, storeErr("prune events", err)
	}
	return n, nil
}
