package memstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"pgregory.net/rapid"
)

// TestPendingHolds checks one account's pending holds against a map through
// random holds (with and without expiry) and settlements in any order: the
// heap stays ordered, knows where each hold sits, and expiredBy answers
// exactly the holds expired by a time.
func TestPendingHolds(t *testing.T) {
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	rapid.Check(t, func(t *rapid.T) {
		p := &pendingHolds{ids: map[ledger.TransferID]struct{}{}}
		model := map[ledger.TransferID]time.Time{} // zero: never expires
		t.Repeat(map[string]func(*rapid.T){
			"hold": func(t *rapid.T) {
				id := ledger.TransferID(fmt.Sprint("h", rapid.IntRange(0, 50).Draw(t, "id")))
				if _, ok := model[id]; ok {
					t.Skip("pending already")
				}
				var at time.Time
				if rapid.IntRange(0, 3).Draw(t, "expires") > 0 {
					at = base.Add(time.Duration(rapid.IntRange(1, 20).Draw(t, "hour")) * time.Hour)
				}
				p.add(ledger.Hold{ID: id, ExpiresAt: at})
				model[id] = at
			},
			"settle": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("none pending")
				}
				id := drawKey(t, model, "id")
				p.remove(id)
				delete(model, id)
			},
			"": func(t *rapid.T) {
				h := &p.expiring
				for i := range h.items {
					if h.pos[h.items[i].id] != i {
						t.Fatalf("hold %q sits at %d, its position says %d", h.items[i].id, i, h.pos[h.items[i].id])
					}
					if i > 0 && h.less(i, (i-1)/2) {
						t.Fatalf("item %d expires before its parent", i)
					}
				}
				if len(h.pos) != len(h.items) || len(p.ids) != len(model) {
					t.Fatalf("%d positions, %d items, %d ids; model has %d holds", len(h.pos), len(h.items), len(p.ids), len(model))
				}
				by := base.Add(time.Duration(rapid.IntRange(0, 21).Draw(t, "by")) * time.Hour)
				var want []ledger.TransferID
				for id, at := range model {
					if !at.IsZero() && !at.After(by) {
						want = append(want, id)
					}
				}
				got := p.expiredBy(by)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("expiredBy(%v) = %v, want %v", by, got, want)
				}
			},
		})
	})
}
