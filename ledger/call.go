package ledger

import (
	"context"
	"github.com/allot-dev/allot/internal/errcode"
	"sync"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/shopspring/decimal"
)

// calls runs one Ledger method: each call is a transaction of its own in
// which the method runs on a fresh Book. The call's state (argument, Book,
// result) is pooled, so a Ledger method allocates nothing of its own; on the
// hottest paths that allocation, a kilobyte of fresh memory per call, cost as
// much as the ledger's own work.
type calls[In, Out any] struct {
	method func(*Book, context.Context, In) (Out, error)
	pool   sync.Pool // of *bookCall[In, Out]
	// alone says the method is one write and nothing else, which an
	// AloneStore may commit with its lock (see LockHint.Alone).
	alone bool
}

// bookCall is the state of one call.
type bookCall[In, Out any] struct {
	ctx   context.Context
	clock clock.Clock
	in    In
	out   Out
	book  Book

	// Set once, when the bookCall is made.
	method func(*Book, context.Context, In) (Out, error)
	run    func(Tx) error // runTx, bound once, as the func the store calls
	alone  bool           // the calls' alone, which the Book announces
}

func (cs *calls[In, Out]) do(ctx context.Context, l *Ledger, in In) (Out, error) {
	c, _ := cs.pool.Get().(*bookCall[In, Out])
	if c == nil {
		c = &bookCall[In, Out]{method: cs.method, alone: cs.alone}
		c.run = c.runTx
	}
	c.ctx, c.clock, c.in = ctx, l.clock, in
	var err error
	if a, ok := l.store.(AloneStore); ok && cs.alone {
		err = a.InTxAlone(ctx, c.run)
	} else {
		err = l.store.InTx(ctx, c.run)
	}
	out := c.out
	// Drop every reference the call took before the next one reuses it.
	*c = bookCall[In, Out]{method: c.method, run: c.run, alone: c.alone}
	cs.pool.Put(c)
	if err != nil {
		var zero Out
		return zero, errcode.Ensure(err)
	}
	return out, nil
}

func (c *bookCall[In, Out]) runTx(tx Tx) error {
	c.book.Reset(tx, c.clock.Now())
	c.book.alone = c.alone
	var err error
	c.out, err = c.method(&c.book, c.ctx, c.in)
	return err
}

// The calls of every Ledger method.
var (
	defineUnitCalls    = calls[Unit, Unit]{method: (*Book).DefineUnit}
	createAccountCalls = calls[Account, Account]{method: (*Book).CreateAccount}
	ensureAccountCalls = calls[Account, struct{}]{method: func(b *Book, ctx context.Context, a Account) (struct{}, error) {
		return struct{}{}, b.EnsureAccount(ctx, a)
	}}
	ensureAccountsCalls = calls[[]Account, struct{}]{method: func(b *Book, ctx context.Context, as []Account) (struct{}, error) {
		return struct{}{}, b.EnsureAccounts(ctx, as)
	}}
	accountCalls   = calls[AccountID, Account]{method: (*Book).Account}
	balanceCalls   = calls[AccountID, Balance]{method: (*Book).Balance}
	balanceAtCalls = calls[atArgs, decimal.Decimal]{method: func(b *Book, ctx context.Context, a atArgs) (decimal.Decimal, error) {
		return b.BalanceAt(ctx, a.id, a.t)
	}}
	transferCalls   = calls[TransferID, Transfer]{method: (*Book).Transfer}
	postCalls       = calls[Transfer, Transfer]{method: (*Book).Post, alone: true}
	postGroupCalls  = calls[[]Transfer, []Transfer]{method: (*Book).PostGroup}
	postBatchCalls  = calls[[]Transfer, []BatchResult]{method: (*Book).PostBatch}
	createHoldCalls = calls[Hold, Hold]{method: (*Book).CreateHold}
	holdCalls       = calls[TransferID, Hold]{method: (*Book).Hold}
	postHoldCalls   = calls[holdArgs, Transfer]{method: func(b *Book, ctx context.Context, a holdArgs) (Transfer, error) {
		return b.PostHold(ctx, a.id, a.amount)
	}}
	voidHoldCalls = calls[TransferID, Hold]{method: (*Book).VoidHold}
	historyCalls  = calls[HistoryParams, HistoryPage]{method: (*Book).History}
	verifyCalls   = calls[struct{}, Report]{method: func(b *Book, ctx context.Context, _ struct{}) (Report, error) {
		return b.Verify(ctx)
	}}
)

// holdArgs and atArgs carry the two arguments of PostHold and BalanceAt.
type (
	holdArgs struct {
		id     TransferID
		amount decimal.Decimal
	}
	atArgs struct {
		id AccountID
		t  time.Time
	}
)
