package memstore

import (
	"hash/maphash"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// journal holds transfers in commit order in fixed-size chunks, so appending
// never copies what is already there.
type journal struct {
	chunks [][]entry
	n      int
}

// entry is a transfer as the journal keeps it. What the journal can
// recompute is left out (Seq is the position plus one, Unit the debit
// account's), accounts are their rows and the time is in microseconds: an
// entry takes 152 bytes where a Transfer takes 216, and a growing journal's
// cost is mostly its fresh memory.
type entry struct {
	id            ledger.TransferID
	debit, credit *accountRow
	amount        decimal.Decimal
	code, actor   string
	metadata      map[string]string
	debitBalance  decimal.Decimal
	creditBalance decimal.Decimal
	hold          ledger.TransferID
	postedAt      int64 // Unix microseconds
}

const journalChunk = 1 << 12

func (j *journal) len() int { return j.n }

func (j *journal) at(i int) *entry {
	return &j.chunks[i/journalChunk][i%journalChunk]
}

// append stores t, whose accounts have the given rows, at the end, with
// copies of its metadata.
func (j *journal) append(t *ledger.Transfer, debit, credit *accountRow) {
	if j.n%journalChunk == 0 && j.n/journalChunk == len(j.chunks) {
		j.chunks = append(j.chunks, make([]entry, journalChunk))
	}
	*j.at(j.n) = entry{
		id:            t.ID,
		debit:         debit,
		credit:        credit,
		amount:        t.Amount,
		code:          t.Code,
		actor:         t.Actor,
		metadata:      cloneMap(t.Metadata),
		debitBalance:  t.DebitBalance,
		creditBalance: t.CreditBalance,
		hold:          t.Hold,
		postedAt:      t.PostedAt.UnixMicro(),
	}
	j.n++
}

// transfer returns a copy of the transfer at position i.
func (j *journal) transfer(i int) ledger.Transfer {
	e := j.at(i)
	return ledger.Transfer{
		ID:            e.id,
		Debit:         e.debit.ID,
		Credit:        e.credit.ID,
		Amount:        e.amount,
		Code:          e.code,
		Actor:         e.actor,
		Metadata:      cloneMap(e.metadata),
		Seq:           int64(i + 1),
		PostedAt:      time.UnixMicro(e.postedAt).UTC(),
		Unit:          e.debit.Unit,
		DebitBalance:  e.debitBalance,
		CreditBalance: e.creditBalance,
		Hold:          e.hold,
	}
}

// truncate drops the transfers from n on.
func (j *journal) truncate(n int) {
	for i := n; i < j.n; i++ {
		*j.at(i) = entry{}
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
		if s.hash == h && j.at(int(s.pos-1)).id == id {
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
