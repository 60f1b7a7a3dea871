// Package events is allot's transactional outbox: every act of the three
// families writes its event in the same transaction as the change, on every
// store, so an event is never lost when the change commits and never seen
// when it rolls back. A service reads them in order to tell people and
// systems what happened: e-mail the vendor when an organization asks for
// more licenses, warn when an event lacks entitlements, publish to a
// message broker.
//
// # Order
//
// Every event has a sequence number, Seq, unique in the store and given in
// commit order: a reader that has read up to Seq n never later finds an
// event numbered n or below. So a consumer keeps one number, the Seq of the
// last event it handled, and reads After it.
//
// # Delivering at least once
//
// A consumer that delivers webhooks keeps its cursor in its own table and
// advances it only after the delivery succeeded:
//
//	for {
//		after := loadCursor()                 // from the consumer's own table
//		evs, err := reader.Read(ctx, events.Query{After: after, Limit: 100})
//		for _, e := range evs {
//			deliver(e)                        // retried until it succeeds
//			saveCursor(e.Seq)                 // after, never before, delivering
//		}
//		if len(evs) == 0 { sleep() }
//	}
//
// A crash between deliver and saveCursor delivers that event again, so a
// receiver deduplicates by Seq (or by the event's Org and RequestID).
//
// # Retention
//
// Nothing is deleted by itself: Prune deletes the events before a sequence
// number when the service says so, after every consumer has read them.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"reflect"
	"time"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/paging"
)

// Type names what happened, as "<family>.<act>".
type Type string

// Event is one thing that happened, as the outbox keeps it.
type Event struct {
	Seq       int64     // the commit order; set by the store
	Type      Type      // what happened
	Org       string    // the tenant: the workspace or organization
	At        time.Time // when it happened, UTC, microseconds
	Actor     string    // who acted, in canonical form; allot.SystemActor for the library's own work
	RequestID string    // the request that caused it; empty for acts without one
	// Payload is the event's details: a value of the payload type its Type
	// names (see Payloads), or a json.RawMessage for a type this version
	// does not know.
	Payload any
}

// Store is where the outbox lives: memstore and pgxstore implement it over
// the same storage the families write to.
type Store interface {
	// ReadEvents returns the events after q.After, oldest first, at most
	// q.Limit of them, of q.Org (empty: every tenant) and of q.Types (none:
	// every type). Payloads are raw JSON; Reader decodes them.
	ReadEvents(ctx context.Context, q Query) ([]Stored, error)
	// PruneEvents deletes the events numbered below before and returns how
	// many it deleted.
	PruneEvents(ctx context.Context, before int64) (int64, error)
}

// Emitter is what a store's transaction offers the families: Emit writes
// events in the transaction, to be read after it commits, numbered in
// commit order, and never if it rolls back. The families' Tx interfaces
// include it.
type Emitter interface {
	Emit(ctx context.Context, evs ...Event) error
}

// Stored is an event as a Store keeps it: its payload encoded as JSON.
type Stored struct {
	Seq       int64
	Type      Type
	Org       string
	At        time.Time
	Actor     string
	RequestID string
	Payload   json.RawMessage
}

// Query selects events to read.
type Query struct {
	Org   string // only this tenant's events; empty: every tenant's
	After int64  // only events numbered after this; 0: from the first
	Types []Type // only these types; none: every type
	Limit int    // at most this many; 0 means 100, at most 1000
}

// ErrInvalid matches a refused query. The error is an *InvalidError.
var ErrInvalid error = errcode.New(errcode.Invalid, "events: invalid request")

// InvalidError says which field of a request was wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "events: " + e.Field + " " + e.Reason }

// Code returns "invalid".
func (e *InvalidError) Code() string { return errcode.Invalid }

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Reader reads a store's events and decodes their payloads.
type Reader struct{ store Store }

// NewReader returns a Reader of store's events.
func NewReader(store Store) *Reader { return &Reader{store: store} }

// Read returns the events q selects, oldest first.
func (r *Reader) Read(ctx context.Context, q Query) ([]Event, error) {
	var err error
	if q.Limit, err = q.check(); err != nil {
		return nil, err
	}
	stored, err := r.store.ReadEvents(ctx, q)
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("events: reading after %d: %w", q.After, err))
	}
	out := make([]Event, len(stored))
	for i, s := range stored {
		if out[i], err = Decode(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// All iterates over every event q selects that is committed when each page
// is read, from q.After on, and stops at the last one: it does not wait for
// more. It yields the first error with the zero Event, and stops.
func (r *Reader) All(ctx context.Context, q Query) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		limit, err := q.check()
		if err != nil {
			yield(Event{}, err)
			return
		}
		q.Limit = limit
		for {
			evs, err := r.Read(ctx, q)
			if err != nil {
				yield(Event{}, err)
				return
			}
			for _, e := range evs {
				if !yield(e, nil) {
					return
				}
				q.After = e.Seq
			}
			if len(evs) < q.Limit {
				return
			}
		}
	}
}

// Prune deletes the events numbered below before, for a service whose
// consumers have all read them. It returns how many it deleted.
func (r *Reader) Prune(ctx context.Context, before int64) (int64, error) {
	if before < 0 {
		return 0, &InvalidError{Field: "before", Reason: fmt.Sprintf("is %d; give a sequence number, 0 or more", before)}
	}
	n, err := r.store.PruneEvents(ctx, before)
	if err != nil {
		return 0, errcode.Ensure(fmt.Errorf("events: pruning before %d: %w", before, err))
	}
	return n, nil
}

// check refuses a malformed query and returns its page size, by the
// library's one Limit rule (internal/paging).
func (q Query) check() (int, error) {
	if q.After < 0 {
		return 0, &InvalidError{Field: "After", Reason: fmt.Sprintf("is %d; give 0 or the Seq of the last event read", q.After)}
	}
	limit, reason := paging.Limit(q.Limit)
	if reason != "" {
		return 0, &InvalidError{Field: "Limit", Reason: reason}
	}
	return limit, nil
}

// Encode returns e as a Store keeps it, its payload as JSON. It refuses a
// payload that is not the payload type of e's Type.
func Encode(e Event) (Stored, error) {
	if err := Check(e); err != nil {
		return Stored{}, err
	}
	// A payload on a hot path appends its own JSON: no reflection, one
	// allocation.
	if a, ok := e.Payload.(jsonAppender); ok {
		if b, ok := a.appendJSON(make([]byte, 0, 256)); ok {
			return Stored{Seq: e.Seq, Type: e.Type, Org: e.Org, At: e.At, Actor: e.Actor, RequestID: e.RequestID, Payload: b}, nil
		}
	}
	b, err := json.Marshal(e.Payload)
	if err != nil {
		return Stored{}, errcode.Ensure(fmt.Errorf("events: encoding a %s event: %w", e.Type, err))
	}
	return Stored{Seq: e.Seq, Type: e.Type, Org: e.Org, At: e.At, Actor: e.Actor, RequestID: e.RequestID, Payload: b}, nil
}

// Check returns an error if e's payload is not the payload type its Type
// names. A store that keeps events as Go values (memstore) checks them with
// it when they are written, and encodes them when they are read.
func Check(e Event) error {
	if want, ok := payloadTypes[e.Type]; ok && reflect.TypeOf(e.Payload) != want {
		return errcode.Ensure(fmt.Errorf("events: a %s event carries a %T payload, not %s", e.Type, e.Payload, want))
	}
	return nil
}

// Decode returns s with its payload decoded into its Type's payload type,
// or kept as a json.RawMessage for a type this version does not know.
func Decode(s Stored) (Event, error) {
	e := Event{Seq: s.Seq, Type: s.Type, Org: s.Org, At: s.At, Actor: s.Actor, RequestID: s.RequestID}
	mk, ok := payloads[s.Type]
	if !ok {
		e.Payload = s.Payload
		return e, nil
	}
	p := mk()
	ptr := reflectNew(p)
	if err := json.Unmarshal(s.Payload, ptr); err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("events: decoding event %d (%s): %w", s.Seq, s.Type, err))
	}
	e.Payload = reflectElem(ptr)
	return e, nil
}
