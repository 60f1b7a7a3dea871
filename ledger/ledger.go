package ledger

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/shopspring/decimal"
)

// Ledger is the double-entry ledger over a Store. Each method runs in a
// transaction of its own and reads the clock once. To combine ledger
// operations with other writes in one transaction, use a Book inside the
// store's InTx.
//
// A Ledger is safe for concurrent use; the store decides how concurrent
// transactions are ordered, and every store serializes them.
type Ledger struct {
	store Store
	clock clock.Clock
}

// Options configure a Ledger. A nil *Options means all defaults.
type Options struct {
	// Clock tells the time written on accounts, transfers and holds, and
	// decides when holds expire. Default: clock.Real{}.
	Clock clock.Clock
}

// New returns a Ledger over store.
func New(store Store, opts *Options) (*Ledger, error) {
	if store == nil {
		return nil, &InvalidError{Field: "store", Reason: "none given; use memstore.New() for an in-memory one"}
	}
	l := &Ledger{store: store, clock: clock.Real{}}
	if opts != nil && opts.Clock != nil {
		l.clock = opts.Clock
	}
	return l, nil
}

// Store returns the store the ledger writes to.
func (l *Ledger) Store() Store { return l.store }

// Clock returns the ledger's clock.
func (l *Ledger) Clock() clock.Clock { return l.clock }

// DefineUnit registers a unit; see Book.DefineUnit.
func (l *Ledger) DefineUnit(ctx context.Context, u Unit) (Unit, error) {
	return defineUnitCalls.do(ctx, l, u)
}

// CreateAccount opens an account; see Book.CreateAccount.
func (l *Ledger) CreateAccount(ctx context.Context, a Account) (Account, error) {
	return createAccountCalls.do(ctx, l, a)
}

// EnsureAccount makes sure an account exists with this definition; see
// Book.EnsureAccount.
func (l *Ledger) EnsureAccount(ctx context.Context, a Account) error {
	_, err := ensureAccountCalls.do(ctx, l, a)
	return err
}

// EnsureAccounts makes sure accounts exist with these definitions, all or
// none; see Book.EnsureAccounts.
func (l *Ledger) EnsureAccounts(ctx context.Context, as []Account) error {
	_, err := ensureAccountsCalls.do(ctx, l, as)
	return err
}

// Account returns the account with the given ID.
func (l *Ledger) Account(ctx context.Context, id AccountID) (Account, error) {
	return accountCalls.do(ctx, l, id)
}

// Balance returns an account's balance now; see Book.Balance.
func (l *Ledger) Balance(ctx context.Context, id AccountID) (Balance, error) {
	return balanceCalls.do(ctx, l, id)
}

// BalanceAt returns an account's posted balance as of t; see Book.BalanceAt.
func (l *Ledger) BalanceAt(ctx context.Context, id AccountID, t time.Time) (decimal.Decimal, error) {
	return balanceAtCalls.do(ctx, l, atArgs{id, t})
}

// Transfer returns the transfer with the given ID.
func (l *Ledger) Transfer(ctx context.Context, id TransferID) (Transfer, error) {
	return transferCalls.do(ctx, l, id)
}

// Post posts one transfer, idempotently; see Book.Post.
func (l *Ledger) Post(ctx context.Context, t Transfer) (Transfer, error) {
	return postCalls.do(ctx, l, t)
}

// PostGroup posts transfers all or none; see Book.PostGroup.
func (l *Ledger) PostGroup(ctx context.Context, ts []Transfer) ([]Transfer, error) {
	return postGroupCalls.do(ctx, l, ts)
}

// PostBatch posts independent transfers in one transaction, with one result
// each; see Book.PostBatch.
func (l *Ledger) PostBatch(ctx context.Context, ts []Transfer) ([]BatchResult, error) {
	return postBatchCalls.do(ctx, l, ts)
}

// CreateHold reserves an amount; see Book.CreateHold.
func (l *Ledger) CreateHold(ctx context.Context, h Hold) (Hold, error) {
	return createHoldCalls.do(ctx, l, h)
}

// Hold returns a hold as it reads now; see Book.Hold.
func (l *Ledger) Hold(ctx context.Context, id TransferID) (Hold, error) {
	return holdCalls.do(ctx, l, id)
}

// PostHold posts all or part of a pending hold; see Book.PostHold.
func (l *Ledger) PostHold(ctx context.Context, id TransferID, amount decimal.Decimal) (Transfer, error) {
	return postHoldCalls.do(ctx, l, holdArgs{id, amount})
}

// VoidHold releases a pending hold; see Book.VoidHold.
func (l *Ledger) VoidHold(ctx context.Context, id TransferID) (Hold, error) {
	return voidHoldCalls.do(ctx, l, id)
}

// HistoryParams select a page of an account's history.
type HistoryParams struct {
	Account AccountID
	From    time.Time // entries posted at or after From; zero: from the start
	To      time.Time // entries posted before To; zero: up to now
	Cursor  string    // Next of the previous page; empty for the first page
	Limit   int       // entries per page; zero means 100, at most 1000
}

// HistoryPage is one page of an account's history, oldest first.
type HistoryPage struct {
	Entries []Entry
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// History returns one page of an account's history; see Book.History.
func (l *Ledger) History(ctx context.Context, p HistoryParams) (HistoryPage, error) {
	return historyCalls.do(ctx, l, p)
}

// Entries yields an account's whole history in [from, to) (zero times do
// not bound), oldest first, reading it a page at a time, each page in a
// transaction of its own. It stops at the first error, which it yields.
func (l *Ledger) Entries(ctx context.Context, account AccountID, from, to time.Time) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		p := HistoryParams{Account: account, From: from, To: to, Limit: 1000}
		for {
			page, err := l.History(ctx, p)
			if err != nil {
				yield(Entry{}, err)
				return
			}
			for _, e := range page.Entries {
				if !yield(e, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			p.Cursor = page.Next
		}
	}
}

// History returns one page of an account's history: the transfers that
// debited or credited it, oldest first, each with the account's change and
// balance after it.
func (b *Book) History(ctx context.Context, p HistoryParams) (HistoryPage, error) {
	page, err := b.history(ctx, p)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("history of %q: %w", p.Account, err)
	}
	return page, nil
}

func (b *Book) history(ctx context.Context, p HistoryParams) (HistoryPage, error) {
	switch {
	case p.Limit < 0 || p.Limit > 1000:
		return HistoryPage{}, invalid("Limit", "%d is outside 0..1000", p.Limit)
	case p.Limit == 0:
		p.Limit = 100
	}
	var after int64
	if p.Cursor != "" {
		n, err := strconv.ParseInt(p.Cursor, 10, 64)
		if err != nil || n < 0 {
			return HistoryPage{}, invalid("Cursor", "%q is not a cursor this ledger returned", p.Cursor)
		}
		after = n
	}
	if err := checkID("Account", string(p.Account)); err != nil {
		return HistoryPage{}, err
	}
	if err := checkTime("From", p.From); err != nil {
		return HistoryPage{}, err
	}
	if err := checkTime("To", p.To); err != nil {
		return HistoryPage{}, err
	}
	if _, err := b.tx.AccountGet(ctx, p.Account); err != nil {
		return HistoryPage{}, notFound(err, "account", string(p.Account))
	}
	ts, err := b.tx.TransferList(ctx, TransferListParams{
		Account:  p.Account,
		From:     p.From,
		To:       p.To,
		AfterSeq: after,
		Limit:    p.Limit + 1,
	})
	if err != nil {
		return HistoryPage{}, err
	}
	var page HistoryPage
	if len(ts) > p.Limit {
		ts = ts[:p.Limit]
		page.Next = strconv.FormatInt(ts[len(ts)-1].Seq, 10)
	}
	page.Entries = make([]Entry, len(ts))
	for i, t := range ts {
		page.Entries[i] = entryOf(t, p.Account)
	}
	return page, nil
}
