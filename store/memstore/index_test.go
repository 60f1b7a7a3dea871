package memstore

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"pgregory.net/rapid"
)

// TestIndex checks the index of the journal against a map through random
// appends and removals, the newest or any, with IDs drawn from a small set
// so probe runs collide and wrap around the table.
func TestIndex(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var j journal
		x := newIndex()
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
				x.add(string(id), pos)
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
				x.remove(string(id), pos)
				delete(model, id)
				live = append(live[:k], live[k+1:]...)
			},
			"": func(t *rapid.T) {
				if x.n != len(model) {
					t.Fatalf("index holds %d entries, want %d", x.n, len(model))
				}
				for id, want := range model {
					if got, ok := x.find(string(id), j.idAt); !ok || got != want {
						t.Fatalf("find(%q) = %d, %v; want %d", id, got, ok, want)
					}
				}
				for k := range 5 {
					id := ledger.TransferID(fmt.Sprint("absent", k))
					if got, ok := x.find(string(id), j.idAt); ok {
						t.Fatalf("find(%q) = %d, want not found", id, got)
					}
				}
			},
		})
	})
}

// TestTable checks a table against a map through random adds and removals
// of the newest record, across chunk boundaries.
func TestTable(t *testing.T) {
	type rec struct {
		id ledger.AccountID
		n  int
	}
	rapid.Check(t, func(t *rapid.T) {
		tb := newTable(func(r *rec) ledger.AccountID { return r.id })
		var order []ledger.AccountID // IDs in the order added
		model := map[ledger.AccountID]int{}
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				for range rapid.IntRange(1, 300).Draw(t, "count") {
					id := ledger.AccountID(fmt.Sprint("a", rapid.IntRange(0, 2000).Draw(t, "id")))
					if _, ok := model[id]; ok {
						continue
					}
					n := len(order)
					if p := tb.add(rec{id: id, n: n}); p.id != id {
						t.Fatalf("add(%q) kept %q", id, p.id)
					}
					model[id] = n
					order = append(order, id)
				}
			},
			"removeLast": func(t *rapid.T) {
				for range rapid.IntRange(1, 300).Draw(t, "count") {
					if len(order) == 0 {
						return
					}
					tb.removeLast()
					delete(model, order[len(order)-1])
					order = order[:len(order)-1]
				}
			},
			"": func(t *rapid.T) {
				if tb.len() != len(model) {
					t.Fatalf("table holds %d records, want %d", tb.len(), len(model))
				}
				for id, n := range model {
					if r := tb.get(id); r == nil || r.n != n {
						t.Fatalf("get(%q) = %v, want record %d", id, r, n)
					}
				}
				if r := tb.get("absent"); r != nil {
					t.Fatalf("get(absent) = %v", r)
				}
			},
		})
	})
}

// TestMemberSet checks an organization's member set against a map through
// random stores and deletions in any order, deleted members coming back as
// a rolled-back deletion brings them.
func TestMemberSet(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ms := memberSet{ix: newIndex()}
		model := map[string]*licenses.Member{}
		t.Repeat(map[string]func(*rapid.T){
			"put": func(t *rapid.T) {
				email := fmt.Sprintf("m%d@acme.test", rapid.IntRange(0, 100).Draw(t, "member"))
				if model[email] != nil {
					t.Skip("stored already")
				}
				m := &licenses.Member{Email: email}
				ms.put(m)
				model[email] = m
			},
			"del": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("none stored")
				}
				email := drawKey(t, model, "email")
				ms.del(email)
				delete(model, email)
			},
			"": func(t *rapid.T) {
				for email, want := range model {
					if got := ms.get(email); got != want {
						t.Fatalf("get(%q) = %p, want %p", email, got, want)
					}
				}
				if got := ms.get("absent@acme.test"); got != nil {
					t.Fatalf("get(absent) = %v", got)
				}
				if ms.ix.n != len(model) {
					t.Fatalf("index holds %d members, want %d", ms.ix.n, len(model))
				}
			},
		})
	})
}

// drawKey draws one of m's keys.
func drawKey[K cmp.Ordered, V any](t *rapid.T, m map[K]V, label string) K {
	return rapid.SampledFrom(slices.Sorted(maps.Keys(m))).Draw(t, label)
}
