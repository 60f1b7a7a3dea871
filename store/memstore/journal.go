package memstore

import (
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
// account's), accounts are their rows, the time is in microseconds and the
// balances are numbers: an entry takes 152 bytes where a Transfer takes
// 216, and the collector has one object to mark for it, its ID, where it
// had five. A growing journal's cost is mostly memory.
type entry struct {
	id            ledger.TransferID
	debit, credit *accountRow
	amount        decimal.Decimal
	code, actor   string
	metadata      map[string]string
	hold          ledger.TransferID
	postedAt      int64 // Unix microseconds
	balances      balances
}

// balances are the two accounts' balances after a transfer as coefficients
// and exponents, when both coefficients fit in an int64, as every count
// does; big holds them otherwise.
type balances struct {
	debit, credit       int64
	debitExp, creditExp int32
	big                 *[2]decimal.Decimal
}

func packBalances(debit, credit decimal.Decimal) balances {
	if debit.NumDigits() > 18 || credit.NumDigits() > 18 {
		return balances{big: &[2]decimal.Decimal{debit, credit}}
	}
	return balances{
		debit: debit.CoefficientInt64(), debitExp: debit.Exponent(),
		credit: credit.CoefficientInt64(), creditExp: credit.Exponent(),
	}
}

func (b balances) unpack() (debit, credit decimal.Decimal) {
	if b.big != nil {
		return b.big[0], b.big[1]
	}
	return decimal.New(b.debit, b.debitExp), decimal.New(b.credit, b.creditExp)
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
		id:       t.ID,
		debit:    debit,
		credit:   credit,
		amount:   t.Amount,
		code:     t.Code,
		actor:    t.Actor,
		metadata: cloneMap(t.Metadata),
		hold:     t.Hold,
		postedAt: t.PostedAt.UnixMicro(),
		balances: packBalances(t.DebitBalance, t.CreditBalance),
	}
	j.n++
}

func (j *journal) idAt(i int) string { return string(j.at(i).id) }

// transfer returns a copy of the transfer at position i.
func (j *journal) transfer(i int) ledger.Transfer {
	e := j.at(i)
	debitBalance, creditBalance := e.balances.unpack()
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
		DebitBalance:  debitBalance,
		CreditBalance: creditBalance,
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

// maxJournal is the most transfers a journal holds: positions are indexed
// in 32 bits.
const maxJournal = maxIndexed
