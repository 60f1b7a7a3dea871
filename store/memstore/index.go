package memstore

import "hash/maphash"

// indexHash hashes an ID for an index. It is a variable so that tests can
// make every ID collide.
var indexHash = maphash.String

// index finds records by ID. It keeps 32 bits of each ID's hash and the
// record's position, and compares IDs in the records themselves: eight bytes
// a record, no pointers for the garbage collector to scan, and growing it
// moves integers instead of hashing every ID again. It is an open-addressing
// table with linear probing, at most half full.
type index struct {
	seed  maphash.Seed
	slots []indexSlot // a power of two long
	n     int         // occupied slots
}

type indexSlot struct {
	hash uint32
	pos  uint32 // position + 1; zero marks an empty slot
}

// maxIndexed is the most records an index holds; positions are below it.
const maxIndexed = 1<<32 - 1

func newIndex() index {
	return index{seed: maphash.MakeSeed()}
}

func (x *index) hash(id string) uint32 {
	return uint32(indexHash(x.seed, id))
}

// find returns the position of the record id; idAt tells the ID of the
// record at a position.
func (x *index) find(id string, idAt func(pos int) string) (int, bool) {
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
		if s.hash == h && idAt(int(s.pos-1)) == id {
			return int(s.pos - 1), true
		}
	}
}

// add records that the record id is at pos, which must be below
// maxIndexed. id must not be in the index.
func (x *index) add(id string, pos int) {
	if 2*(x.n+1) > len(x.slots) && uint64(len(x.slots)) < 1<<32 {
		x.grow() // a 32-bit hash places no slot beyond 1<<32
	}
	x.put(indexSlot{hash: x.hash(id), pos: uint32(pos) + 1})
	x.n++
}

func (x *index) put(s indexSlot) {
	mask := uint32(len(x.slots) - 1)
	i := s.hash & mask
	for x.slots[i].pos != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

func (x *index) grow() {
	old := x.slots
	x.slots = make([]indexSlot, max(2*len(old), 64))
	for _, s := range old {
		if s.pos != 0 {
			x.put(s)
		}
	}
}

// remove drops the record id, which is at pos, from the index. The entries
// after it in its probe run move back, so none is left behind an empty slot
// that would end a lookup early.
func (x *index) remove(id string, pos int) {
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

// table keeps records by ID: the records in fixed-size chunks, so a record
// never moves and adding one never copies the others, and their IDs in an
// index. Only the newest record can be removed, which is all rollback needs.
type table[K ~string, T any] struct {
	chunks [][]T
	n      int
	ix     index
	id     func(*T) K
}

const tableChunk = 256

func newTable[K ~string, T any](id func(*T) K) table[K, T] {
	return table[K, T]{ix: newIndex(), id: id}
}

func (t *table[K, T]) len() int { return t.n }

func (t *table[K, T]) at(pos int) *T {
	return &t.chunks[pos/tableChunk][pos%tableChunk]
}

func (t *table[K, T]) idAt(pos int) string { return string(t.id(t.at(pos))) }

// get returns the record id, or nil if there is none.
func (t *table[K, T]) get(id K) *T {
	pos, ok := t.ix.find(string(id), t.idAt)
	if !ok {
		return nil
	}
	return t.at(pos)
}

// add stores r, whose ID must not be taken, and returns where it is kept.
func (t *table[K, T]) add(r T) *T {
	if t.n%tableChunk == 0 && t.n/tableChunk == len(t.chunks) {
		t.chunks = append(t.chunks, make([]T, tableChunk))
	}
	p := t.at(t.n)
	*p = r
	t.ix.add(string(t.id(p)), t.n)
	t.n++
	return p
}

// removeLast removes the newest record.
func (t *table[K, T]) removeLast() {
	t.n--
	p := t.at(t.n)
	t.ix.remove(string(t.id(p)), t.n)
	var zero T
	*p = zero
}
