package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/allot-dev/allot/events"
)

// outboxChunk is how many events one block of the outbox holds: appending
// never copies earlier events, as a growing slice would.
const outboxChunk = 1024

// outbox is the store's events, oldest first, in fixed-size blocks. They
// are kept as the Go values the families wrote, and encoded when read, so
// writing one costs no encoding.
// Transactions run one at a time, so the order they append in is the order
// they commit in, and Seq is dense: the event numbered s is at index
// s-base, counting from the first block's first slot.
type outbox struct {
	blocks [][]events.Event
	base   int64 // the Seq of the first block's first slot
	skip   int   // pruned slots at the front of the first block
	n      int   // slots in use, pruned ones included
	start  int   // n when the running transaction began

	// members and strings hold the copies of the licenses events'
	// payloads (see memberRef) and of their teams, in chunks: a copy of
	// teams is a slice of one, capped, so nothing appends over its
	// neighbour.
	members []events.Member
	strings []string
}

// memberRef is the payload the outbox keeps for an events.Member (the
// licenses events: an invitation, an acceptance…): a pointer to its copy
// in the outbox's members, whose teams are copied into its strings. A
// struct of one pointer is boxed without an allocation, so writing such an
// event allocates nothing, where cloning it (Event.Clone) costs two (the
// teams and a new box): a third of what an invitation and its acceptance
// allocated for their events. Reads give the events.Member back (event).
type memberRef struct{ m *events.Member }

// event returns the event in slot e as it was written.
func event(e *events.Event) events.Event {
	out := *e
	if r, ok := out.Payload.(memberRef); ok {
		out.Payload = *r.m
	}
	return out
}

// clearSlot empties slot e and the member copy it refers to.
func clearSlot(e *events.Event) {
	if r, ok := e.Payload.(memberRef); ok {
		*r.m = events.Member{}
	}
	*e = events.Event{}
}

func (o *outbox) begin() { o.start = o.n }

func (o *outbox) at(i int) *events.Event { return &o.blocks[i/outboxChunk][i%outboxChunk] }

// push appends e, which must share no memory with the caller's values.
func (o *outbox) push(e events.Event) {
	if o.base == 0 {
		o.base = 1
	}
	if o.n == len(o.blocks)*outboxChunk {
		o.blocks = append(o.blocks, make([]events.Event, outboxChunk))
	}
	e.Seq = o.base + int64(o.n)
	*o.at(o.n) = e
	o.n++
}

// member returns a memberRef to a copy of m.
func (o *outbox) member(m *events.Member) memberRef {
	if len(o.members) == cap(o.members) {
		o.members = make([]events.Member, 0, outboxChunk)
	}
	o.members = append(o.members, *m)
	c := &o.members[len(o.members)-1]
	c.Teams = o.copyStrings(m.Teams)
	return memberRef{c}
}

// copyStrings returns a copy of s in the outbox's strings; nil for none.
func (o *outbox) copyStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	if len(s) > cap(o.strings)-len(o.strings) {
		o.strings = make([]string, 0, max(outboxChunk, len(s)))
	}
	i := len(o.strings)
	o.strings = append(o.strings, s...)
	return o.strings[i:len(o.strings):len(o.strings)]
}

func (o *outbox) rollback() {
	for i := o.start; i < o.n; i++ {
		clearSlot(o.at(i))
	}
	o.n = o.start
}

var _ events.Store = (*Store)(nil)

// Emit appends events to the outbox in the transaction: they are read
// after it commits, and never if it rolls back.
func (t *Tx) Emit(ctx context.Context, evs ...events.Event) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	for _, e := range evs {
		if err := events.Check(e); err != nil {
			return err
		}
		e.At = e.At.UTC().Truncate(time.Microsecond)
		if m, ok := e.Payload.(events.Member); ok {
			e.Payload = t.s.outbox.member(&m)
			t.s.outbox.push(e)
			continue
		}
		t.s.outbox.push(e.Clone())
	}
	return nil
}

// ReadEvents implements events.Store.
func (s *Store) ReadEvents(ctx context.Context, q events.Query) ([]events.Stored, error) {
	var out []events.Stored
	err := s.inTx(ctx, func(t *Tx) error {
		// Only what committed: a running transaction holds the store, so
		// every slot here committed.
		o := &s.outbox
		i := o.skip
		if q.After >= o.base {
			i = max(i, int(min(q.After-o.base+1, int64(o.n))))
		}
		for ; i < o.n && len(out) < q.Limit; i++ {
			e := o.at(i)
			if (q.Org == "" || e.Org == q.Org) && (len(q.Types) == 0 || slices.Contains(q.Types, e.Type)) {
				st, err := events.Encode(event(e))
				if err != nil {
					return err
				}
				out = append(out, st)
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
		o := &s.outbox
		upto := o.skip // the first slot kept
		if before > o.base {
			upto = max(upto, int(min(before-o.base, int64(o.n))))
		}
		n = int64(upto - o.skip)
		for i := o.skip; i < upto; i++ {
			clearSlot(o.at(i))
		}
		// Drop the blocks wholly pruned, keeping the one being filled.
		drop := min(upto/outboxChunk, len(o.blocks)-1)
		if drop > 0 {
			o.blocks = slices.Delete(o.blocks, 0, drop)
			o.base += int64(drop * outboxChunk)
			o.n -= drop * outboxChunk
			upto -= drop * outboxChunk
		}
		o.skip = upto
		o.start = o.n
		return nil
	})
	return n, err
}
