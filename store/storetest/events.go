package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
)

// emitter is a store's transaction that writes events.
func emitInTx(ctx context.Context, s Store, fail error, evs ...events.Event) error {
	return s.InTx(ctx, func(tx ledger.Tx) error {
		em, ok := tx.(events.Emitter)
		if !ok {
			return errors.New("storetest: the store's Tx does not implement events.Emitter")
		}
		if err := em.Emit(ctx, evs...); err != nil {
			return err
		}
		return fail
	})
}

func covered(org, event string) events.Event {
	return events.Event{Type: events.SeatsEventCovered, Org: org, At: start, Actor: "system",
		Payload: events.EventCovered{Event: event}}
}

func runEvents(t *testing.T, newStore Factory) {
	t.Run("CommittedInOrderRolledBackNever", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		r := events.NewReader(s)
		if err := emitInTx(ctx, s, nil, covered("acme", "e1"), covered("globex", "e2")); err != nil {
			t.Fatal(err)
		}
		refused := errors.New("refused")
		if err := emitInTx(ctx, s, refused, covered("acme", "lost")); !errors.Is(err, refused) {
			t.Fatal(err)
		}
		if err := emitInTx(ctx, s, nil, events.Event{Type: events.SeatsModuleMissing, Org: "acme", At: start,
			Actor: "ann@x.test", RequestID: "r/1", Payload: events.ModuleMissing{Event: "e3", Module: "polls"}}); err != nil {
			t.Fatal(err)
		}
		all, err := r.Read(ctx, events.Query{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for i, e := range all {
			if i > 0 && e.Seq <= all[i-1].Seq {
				t.Errorf("events out of order: %d after %d", e.Seq, all[i-1].Seq)
			}
			switch p := e.Payload.(type) {
			case events.EventCovered:
				names = append(names, p.Event)
			case events.ModuleMissing:
				names = append(names, p.Event)
				if e.RequestID != "r/1" || e.Actor != "ann@x.test" || !e.At.Equal(start.Truncate(time.Microsecond)) {
					t.Errorf("envelope %+v", e)
				}
			}
		}
		if len(names) != 3 || names[0] != "e1" || names[1] != "e2" || names[2] != "e3" {
			t.Errorf("read %v; want e1 e2 e3 (the rolled-back event never)", names)
		}
		acme, err := r.Read(ctx, events.Query{Org: "acme", Types: []events.Type{events.SeatsModuleMissing}})
		if err != nil || len(acme) != 1 {
			t.Errorf("acme's module_missing events: %v, %v", acme, err)
		}
		if n, err := r.Prune(ctx, all[2].Seq); err != nil || n != 2 {
			t.Errorf("Prune = %d, %v; want 2", n, err)
		}
		if left, _ := r.Read(ctx, events.Query{}); len(left) != 1 || left[0].Seq != all[2].Seq {
			t.Errorf("after pruning: %+v", left)
		}
	})

	// A tailing reader must never skip an event that commits after events
	// written later committed and were read.
	t.Run("TailingReaderNeverSkips", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		r := events.NewReader(s)
		const writers, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					name := string(rune('a'+w)) + "/" + string(rune('A'+i))
					err := s.InTx(ctx, func(tx ledger.Tx) error {
						if err := tx.(events.Emitter).Emit(ctx, covered("acme", name)); err != nil {
							return err
						}
						// Hold the transaction open a while, so that
						// later events commit first.
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		seen := map[string]int{}
		var after int64
		for finished := false; ; {
			select {
			case <-done:
				finished = true
			default:
			}
			evs, err := r.Read(ctx, events.Query{After: after, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Seq <= after {
					t.Fatalf("read %d after %d", e.Seq, after)
				}
				after = e.Seq
				seen[e.Payload.(events.EventCovered).Event]++
			}
			if finished && len(evs) == 0 {
				break
			}
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != writers*each {
			t.Errorf("the tailing reader saw %d of %d committed events", len(seen), writers*each)
		}
		for name, n := range seen {
			if n != 1 {
				t.Errorf("event %s read %d times", name, n)
			}
		}
	})
}
