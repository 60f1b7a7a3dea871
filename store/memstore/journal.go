package memstore

import (
	"hash/maphash"

	"github.com/allot-dev/allot/ledger"
)

// journal holds transfers in commit order in fixed-size chunks, so appending
// never copies what is already there.
type journal struct {
	chunks [][]ledger.Transfer
	n      int
}

const journalChunk = 1 << 12

func (j *journal) len() int { return j.n }

func (j *journal) at(i int) *ledger.Transfer {
	return &j.chunks[i/journalChunk][i%journalChunk]
}

// append stores a copy of *t at the end and returns it.
func (j *journal) append(t *ledger.Transfer) *ledger.Transfer {
	if j.n%journalChunk == 0 && j.n/journalChunk == len(j.chunks) {
		j.chunks = append(j.chunks, make([]ledger.Transfer, journalChunk))
	}
	p := j.at(j.n)
	*p = *t
	j.n++
	return p
}

// truncate drops the transfers from n on.
func (j *journal) truncate(n int) {
	for i := n; i < j.n; i++ {
		*j.at(i) = ledger.Transfer{}
	}
	j.n = n
}

// journalIndex finds a transfer's journal position by its ID. It keeps 32
// bits of each ID's hash and its position, comparing IDs in the journal
// itself: eight bytes a transfer, no pointers for the garbage collector to
// scan, and growing it moves integers instead of hashing every ID again. It
// is an open-addressing table with linear probing, at most half full.
type journalIndex struct {
	seed  maphash.Seed
	slots []indexSlot // a power of two long
	n     int         // occupied slots
}

type indexSlot struct {
	hash uint32
	pos  uint32 // journal position + 1; zero marks an empty slot
}

// maxJournal is the most transfers a journalIndex can hold.
const maxJournal = 1<<32 - 1

func newJournalIndex() journalIndex {
	return journalIndex{seed: maphash.MakeSeed()}
}

func (x *journalIndex) hash(id ledger.TransferID) uint32 {
	return uint32(maphash.String(x.seed, string(id)))
}

// find returns the journal position of the transfer id.
func (x *journalIndex) find(j *journal, id ledger.TransferID) (int, bool) {
	if x.n == 0 {
		return 0, false
	}
	h := x.hash(id)
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.pos == 0 {
			return 0, false
		}
		if s.hash == h && j.at(int(s.pos-1)).ID == id {
			return int(s.pos - 1), true
		}
	}
}

// add records that the transfer id is at pos, which must be below
// maxJournal. id must not be in the index.
func (x *journalIndex) add(id ledger.TransferID, pos int) {
	if 2*(x.n+1) > len(x.slots) && uint64(len(x.slots)) < 1<<32 {
		x.grow() // a 32-bit hash places no slot beyond 1<<32
	}
	x.put(indexSlot{hash: x.hash(id), pos: uint32(pos) + 1})
	x.n++
}

func (x *journalIndex) put(s indexSlot) {
	mask := uint32(len(x.slots) - 1)
	i := s.hash & mask
	for x.slots[i].pos != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

func (x *journalIndex) grow() {
	old := x.slots
	x.slots = make([]indexSlot, max(2*len(old), 64))
	for _, s := range old {
		if s.pos != 0 {
			x.put(s)
		}
	}
}

// remove drops the transfer id, which is at pos, from the index. The entries
// after it in its probe run move back, so none is left behind an empty slot
// that would end a lookup early.
func (x *journalIndex) remove(id ledger.TransferID, pos int) {
	mask := uint32(len(x.slots) - 1)
	i := x.hash(id) & mask
	for x.slots[i].pos != uint32(pos)+1 {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; x.slots[j].pos != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i if its home slot is not
		// after i on its way to j.
		home := x.slots[j].hash & mask
		if (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = indexSlot{}
	x.n--
}
