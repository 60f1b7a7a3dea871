package memstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
	"pgregory.net/rapid"
)

// TestOutbox_AgainstAModel appends, rolls back, prunes and reads across
// block boundaries, and compares every read with a plain slice.
func TestOutbox_AgainstAModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		s := New()
		var model []int64 // the Seqs committed and not pruned
		next := int64(1)
		for range rapid.IntRange(1, 12).Draw(t, "steps") {
			switch rapid.IntRange(0, 2).Draw(t, "act") {
			case 0: // a transaction of n events, committed or not
				n := rapid.IntRange(0, 3*outboxChunk/2).Draw(t, "n")
				commit := rapid.Bool().Draw(t, "commit")
				err := s.InTx(ctx, func(tx ledger.Tx) error {
					for range n {
						if err := tx.(*Tx).Emit(ctx, events.Event{Type: "test.event", Org: "acme"}); err != nil {
							return err
						}
					}
					if !commit {
						return errors.New("rolled back")
					}
					return nil
				})
				if commit {
					if err != nil {
						t.Fatal(err)
					}
					for range n {
						model = append(model, next)
						next++
					}
				}
			case 1:
				before := rapid.Int64Range(0, next+10).Draw(t, "before")
				n, err := s.PruneEvents(ctx, before)
				if err != nil {
					t.Fatal(err)
				}
				kept := model[:0:0]
				for _, q := range model {
					if q >= before {
						kept = append(kept, q)
					}
				}
				if int(n) != len(model)-len(kept) {
					t.Fatalf("PruneEvents(%d) = %d, want %d", before, n, len(model)-len(kept))
				}
				model = kept
			case 2:
				after := rapid.Int64Range(0, next+10).Draw(t, "after")
				limit := rapid.IntRange(1, 2*outboxChunk).Draw(t, "limit")
				got, err := s.ReadEvents(ctx, events.Query{After: after, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				var want []int64
				for _, q := range model {
					if q > after && len(want) < limit {
						want = append(want, q)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("ReadEvents(after %d, limit %d): %d events, want %d", after, limit, len(got), len(want))
				}
				for i := range got {
					if got[i].Seq != want[i] {
						t.Fatalf("event %d is %d, want %d", i, got[i].Seq, want[i])
					}
				}
			}
		}
	})
}

// TestOutbox_MemberPayloadIsACopy: a licenses member's payload, kept
// unboxed with its teams in the outbox's own strings, shares no memory
// with the event written, and two events' teams do not overlap, across
// the strings' chunks.
func TestOutbox_MemberPayloadIsACopy(t *testing.T) {
	ctx := context.Background()
	s := New()
	var teams [][]string
	for i := range outboxChunk + 2 {
		teams = append(teams, []string{"t" + strconv.Itoa(i), "u" + strconv.Itoa(i)})
	}
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		for i, ts := range teams {
			e := events.Event{Type: events.LicensesInvited, Org: "acme", Payload: events.Member{Email: strconv.Itoa(i), Teams: ts}}
			if err := tx.(*Tx).Emit(ctx, e); err != nil {
				return err
			}
			ts[0] = "CHANGED"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range teams {
		ts[1] = "CHANGED"
	}
	got, err := events.NewReader(s).Read(ctx, events.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	more, err := events.NewReader(s).Read(ctx, events.Query{After: got[len(got)-1].Seq})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, more...)
	if len(got) != len(teams) {
		t.Fatalf("%d events, want %d", len(got), len(teams))
	}
	for i, e := range got {
		m := e.Payload.(events.Member)
		if want := []string{"t" + strconv.Itoa(i), "u" + strconv.Itoa(i)}; m.Email != strconv.Itoa(i) || !slices.Equal(m.Teams, want) {
			t.Fatalf("event %d: %+v, want teams %v", i, m, want)
		}
	}
}
