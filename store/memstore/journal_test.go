package memstore

import (
	"fmt"
	"testing"

	"github.com/allot-dev/allot/ledger"
	"pgregory.net/rapid"
)

// TestJournalIndex checks the index against a map through random appends
// and removals, the newest or any, with IDs drawn from a small set so probe
// runs collide and wrap around the table.
func TestJournalIndex(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var j journal
		x := newJournalIndex()
		model := map[ledger.TransferID]int{}
		live := []int{} // journal positions still indexed
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				id := ledger.TransferID(fmt.Sprint("t", rapid.IntRange(0, 200).Draw(t, "id")))
				if _, ok := model[id]; ok {
					t.Skip("already indexed")
				}
				pos := j.len()
				j.append(&ledger.Transfer{ID: id}, nil, nil)
				x.add(id, pos)
				model[id] = pos
				live = append(live, pos)
			},
			"remove": func(t *rapid.T) {
				if len(live) == 0 {
					t.Skip("empty")
				}
				k := len(live) - 1
				if rapid.Bool().Draw(t, "any") {
					k = rapid.IntRange(0, len(live)-1).Draw(t, "k")
				}
				pos := live[k]
				id := j.at(pos).id
				x.remove(id, pos)
				delete(model, id)
				live = append(live[:k], live[k+1:]...)
			},
			"": func(t *rapid.T) {
				if x.n != len(model) {
					t.Fatalf("index holds %d entries, want %d", x.n, len(model))
				}
				for id, want := range model {
					if got, ok := x.find(&j, id); !ok || got != want {
						t.Fatalf("find(%q) = %d, %v; want %d", id, got, ok, want)
					}
				}
				for k := range 5 {
					id := ledger.TransferID(fmt.Sprint("absent", k))
					if got, ok := x.find(&j, id); ok {
						t.Fatalf("find(%q) = %d, want not found", id, got)
					}
				}
			},
		})
	})
}
