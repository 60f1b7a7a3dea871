package memstore

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/allot-dev/allot/events"
)

// outbox is the store's events, oldest first. Transactions run one at a
// time, so the order they append in is the order they commit in.
type outbox struct {
	rows     []events.Stored
	seq      int64 // the last Seq given
	start    int   // len(rows) when the running transaction began
	startSeq int64 // seq then
}

func (o *outbox) begin() { o.start, o.startSeq = len(o.rows), o.seq }

func (o *outbox) rollback() {
	clear(o.rows[o.start:])
	o.rows, o.seq = o.rows[:o.start], o.startSeq
}

var _ events.Store = (*Store)(nil)

// Emit appends events to the outbox in the transaction: they are read
// after it commits, and never if it rolls back.
func (t *Tx) Emit(ctx context.Context, evs ...events.Event) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	o := &t.s.outbox
	for _, e := range evs {
		st, err := events.Encode(e)
		if err != nil {
			return err
		}
		o.seq++
		st.Seq = o.seq
		st.At = st.At.UTC().Truncate(time.Microsecond)
		o.rows = append(o.rows, st)
	}
	return nil
}

// ReadEvents implements events.Store.
func (s *Store) ReadEvents(ctx context.Context, q events.Query) ([]events.Stored, error) {
	var out []events.Stored
	err := s.inTx(ctx, func(t *Tx) error {
		// Only what committed: a running transaction holds the store, so
		// every row here committed.
		rows := s.outbox.rows
		i := sort.Search(len(rows), func(i int) bool { return rows[i].Seq > q.After })
		for ; i < len(rows) && len(out) < q.Limit; i++ {
			r := rows[i]
			if (q.Org == "" || r.Org == q.Org) && (len(q.Types) == 0 || slices.Contains(q.Types, r.Type)) {
				r.Payload = slices.Clone(r.Payload)
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// PruneEvents implements events.Store.
func (s *Store) PruneEvents(ctx context.Context, before int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(t *Tx) error {
		rows := s.outbox.rows
		i := sort.Search(len(rows), func(i int) bool { return rows[i].Seq >= before })
		n = int64(i)
		s.outbox.rows = slices.Clone(rows[i:])
		s.outbox.start = len(s.outbox.rows)
		return nil
	})
	return n, err
}
