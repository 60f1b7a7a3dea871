package events_test

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
)

// Example shows the outbox from both ends: a transaction writes events with
// its change (the families do this for every act), and a consumer reads
// them after its cursor, in commit order.
func Example() {
	ctx := context.Background()
	store := memstore.New()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	_ = store.InTx(ctx, func(tx ledger.Tx) error {
		return tx.(events.Emitter).Emit(ctx,
			events.Event{Type: events.SeatsEventLacking, Org: "acme", At: at, Actor: "system",
				Payload: events.EventLacking{Event: "kickoff", Seats: 12}},
			events.Event{Type: events.SeatsEventCovered, Org: "acme", At: at.Add(time.Hour), Actor: "ana@acme.test",
				RequestID: "transfer-1", Payload: events.EventCovered{Event: "kickoff"}})
	})

	reader := events.NewReader(store)
	var cursor int64 // a consumer keeps it in its own table
	for e, err := range reader.All(ctx, events.Query{Org: "acme", After: cursor}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		switch p := e.Payload.(type) {
		case events.EventLacking:
			fmt.Printf("%d %s: %s lacks %d seats\n", e.Seq, e.Type, p.Event, p.Seats)
		case events.EventCovered:
			fmt.Printf("%d %s: %s has what it needs (by %s)\n", e.Seq, e.Type, p.Event, e.Actor)
		}
		cursor = e.Seq
	}
	n, _ := reader.Prune(ctx, cursor+1)
	fmt.Println("pruned", n)
	// Output:
	// 1 seats.event_lacking: kickoff lacks 12 seats
	// 2 seats.event_covered: kickoff has what it needs (by ana@acme.test)
	// pruned 2
}
