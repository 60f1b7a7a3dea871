package ledger

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"
)

// Discrepancy is one disagreement Verify found between the journal and what
// the store keeps.
type Discrepancy struct {
	Account  AccountID  // the account, or empty for a unit's total
	Unit     string     // the unit concerned
	Transfer TransferID // the transfer whose recorded balance is wrong, if any
	What     string     // what disagrees: "posted", "held", "balance after", "unit total"
	Stored   decimal.Decimal
	Replayed decimal.Decimal
}

func (d Discrepancy) String() string {
	where := string(d.Account)
	if where == "" {
		where = "unit " + d.Unit
	}
	if d.Transfer != "" {
		where += " at transfer " + string(d.Transfer)
	}
	return fmt.Sprintf("%s: %s is %s, the journal says %s", where, d.What, d.Stored, d.Replayed)
}

// Report is what Verify checked and found.
type Report struct {
	Accounts      int
	Transfers     int
	PendingHolds  int
	Discrepancies []Discrepancy
}

// OK reports whether Verify found nothing wrong.
func (r Report) OK() bool { return len(r.Discrepancies) == 0 }

// Verify replays the whole journal in one transaction and reports every
// account whose stored balance disagrees with it: posted balances against the
// sum of their transfers, each transfer's recorded balances against the
// running sum, held amounts against the pending holds, and each unit's total
// against zero. The error is for failures to read, not for discrepancies.
func (l *Ledger) Verify(ctx context.Context) (Report, error) {
	return verifyCalls.do(ctx, l, struct{}{})
}

// Verify replays the journal; see Ledger.Verify.
func (b *Book) Verify(ctx context.Context) (Report, error) {
	const page = 1000
	var r Report
	posted := make(map[AccountID]decimal.Decimal)
	held := make(map[AccountID]decimal.Decimal)
	var after int64
	for {
		ts, err := b.tx.TransferList(ctx, TransferListParams{AfterSeq: after, Limit: page})
		if err != nil {
			return Report{}, fmt.Errorf("verify: %w", err)
		}
		for _, t := range ts {
			r.Transfers++
			d := posted[t.Debit].Sub(t.Amount)
			c := posted[t.Credit].Add(t.Amount)
			posted[t.Debit], posted[t.Credit] = d, c
			if !d.Equal(t.DebitBalance) {
				r.Discrepancies = append(r.Discrepancies, Discrepancy{Account: t.Debit, Unit: t.Unit, Transfer: t.ID, What: "balance after", Stored: t.DebitBalance, Replayed: d})
			}
			if !c.Equal(t.CreditBalance) {
				r.Discrepancies = append(r.Discrepancies, Discrepancy{Account: t.Credit, Unit: t.Unit, Transfer: t.ID, What: "balance after", Stored: t.CreditBalance, Replayed: c})
			}
		}
		if len(ts) < page {
			break
		}
		after = ts[len(ts)-1].Seq
	}
	var afterHold TransferID
	for {
		hs, err := b.tx.HoldList(ctx, HoldListParams{Status: HoldPending, After: afterHold, Limit: page})
		if err != nil {
			return Report{}, fmt.Errorf("verify: %w", err)
		}
		for _, h := range hs {
			r.PendingHolds++
			held[h.Debit] = held[h.Debit].Add(h.Amount)
		}
		if len(hs) < page {
			break
		}
		afterHold = hs[len(hs)-1].ID
	}
	totals := make(map[string]decimal.Decimal)
	var units []string
	var afterAccount AccountID
	for {
		as, err := b.tx.AccountList(ctx, AccountListParams{After: afterAccount, Limit: page})
		if err != nil {
			return Report{}, fmt.Errorf("verify: %w", err)
		}
		for _, a := range as {
			r.Accounts++
			if p := posted[a.ID]; !p.Equal(a.Posted) {
				r.Discrepancies = append(r.Discrepancies, Discrepancy{Account: a.ID, Unit: a.Unit, What: "posted", Stored: a.Posted, Replayed: p})
			}
			if h := held[a.ID]; !h.Equal(a.Held) {
				r.Discrepancies = append(r.Discrepancies, Discrepancy{Account: a.ID, Unit: a.Unit, What: "held", Stored: a.Held, Replayed: h})
			}
			if _, ok := totals[a.Unit]; !ok {
				units = append(units, a.Unit)
			}
			totals[a.Unit] = totals[a.Unit].Add(a.Posted)
		}
		if len(as) < page {
			break
		}
		afterAccount = as[len(as)-1].ID
	}
	for _, u := range units {
		if t := totals[u]; t.Sign() != 0 {
			r.Discrepancies = append(r.Discrepancies, Discrepancy{Unit: u, What: "unit total", Stored: t, Replayed: decimal.Zero})
		}
	}
	return r, nil
}

// Finding is one disagreement a family's audit found between a record it
// keeps (a counter, a state, a balance it reports) and what the ledger and
// its other records say it must be. Each family's Audit returns them; an
// empty list means the family's books agree with the ledger.
type Finding struct {
	Tenant  string // the workspace or organization
	Record  string // the record, in the tenant's words: "member bo@acme.test", "event kickoff", "pool seat"
	Field   string // what disagrees: "purchased", "state", "balance", ...
	Stored  string // what the record says
	Derived string // what the ledger and the other records say
}

func (f Finding) String() string {
	return fmt.Sprintf("%s, %s: %s is %s, but the ledger and records say %s", f.Tenant, f.Record, f.Field, f.Stored, f.Derived)
}
