package memstore

import (
	"time"

	"github.com/allot-dev/allot/ledger"
)

// pendingHolds are one account's holds whose stored status is pending. Those
// with an expiry also sit in a min-heap by expiry, so the question every
// write to the account asks — which of its holds have expired by now? —
// costs O(log n + answer), however many holds are outstanding.
type pendingHolds struct {
	ids      map[ledger.TransferID]struct{}
	expiring expiryHeap
}

func (p *pendingHolds) add(h ledger.Hold) {
	p.ids[h.ID] = struct{}{}
	if !h.ExpiresAt.IsZero() {
		p.expiring.push(expiryItem{at: h.ExpiresAt, id: h.ID})
	}
}

func (p *pendingHolds) remove(id ledger.TransferID) {
	delete(p.ids, id)
	if i, ok := p.expiring.pos[id]; ok {
		p.expiring.remove(i)
	}
}

// expiredBy returns the IDs of the holds that expire at or before t, in no
// particular order.
func (p *pendingHolds) expiredBy(t time.Time) []ledger.TransferID {
	var out []ledger.TransferID
	var walk func(i int)
	walk = func(i int) {
		if i >= len(p.expiring.items) || p.expiring.items[i].at.After(t) {
			return // a heap's children expire no earlier than their parent
		}
		out = append(out, p.expiring.items[i].id)
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
	return out
}

type expiryItem struct {
	at time.Time
	id ledger.TransferID
}

// expiryHeap is a min-heap of expiries that knows where each ID sits, so any
// hold can leave it in O(log n) when it is settled.
type expiryHeap struct {
	items []expiryItem
	pos   map[ledger.TransferID]int
}

func (h *expiryHeap) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.id < b.id
}

func (h *expiryHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i].id] = i
	h.pos[h.items[j].id] = j
}

func (h *expiryHeap) push(it expiryItem) {
	if h.pos == nil {
		h.pos = make(map[ledger.TransferID]int)
	}
	h.pos[it.id] = len(h.items)
	h.items = append(h.items, it)
	h.up(len(h.items) - 1)
}

// remove takes out the item at i.
func (h *expiryHeap) remove(i int) {
	last := len(h.items) - 1
	if i != last {
		h.swap(i, last)
	}
	delete(h.pos, h.items[last].id)
	h.items[last] = expiryItem{}
	h.items = h.items[:last]
	if i != last && !h.down(i) {
		h.up(i)
	}
}

func (h *expiryHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down moves the item at i down to its place and reports whether it moved.
func (h *expiryHeap) down(i int) bool {
	start := i
	for {
		child := 2*i + 1
		if child >= len(h.items) {
			break
		}
		if right := child + 1; right < len(h.items) && h.less(right, child) {
			child = right
		}
		if !h.less(child, i) {
			break
		}
		h.swap(i, child)
		i = child
	}
	return i > start
}
