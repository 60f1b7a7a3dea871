package seats_test

import (
	"context"
	"slices"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
)

// hookedStore runs every transaction of a store through wrap, so a test can
// make a transaction see what a concurrent one would have left it: a
// transfer not yet committed, a pool opened by another request.
type hookedStore struct {
	seats.Store
	wrap func(seats.Tx) seats.Tx
}

func (s hookedStore) InTx(ctx context.Context, fn func(seats.Tx) error) error {
	return s.Store.InTx(ctx, func(tx seats.Tx) error { return fn(s.wrap(tx)) })
}

// uncommittedTx reads the journal as if the transfers in hidden had not
// committed yet.
type uncommittedTx struct {
	seats.Tx
	hidden []ledger.TransferID
}

func (t uncommittedTx) TransfersGet(ctx context.Context, ids []ledger.TransferID, dst []ledger.Transfer) ([]ledger.Transfer, error) {
	got, err := t.Tx.TransfersGet(ctx, ids, dst)
	return slices.DeleteFunc(got, func(tr ledger.Transfer) bool { return slices.Contains(t.hidden, tr.ID) }), err
}

func (t uncommittedTx) PoolTransferLoad(ctx context.Context, p seats.TransferLoadParams) (seats.TransferLoad, error) {
	got, err := t.Tx.PoolTransferLoad(ctx, p)
	if got.PriorFound && slices.Contains(t.hidden, got.Prior.ID) {
		got.Prior, got.PriorFound = ledger.Transfer{}, false
	}
	return got, err
}

func (t uncommittedTx) TransferList(ctx context.Context, p ledger.TransferListParams) ([]ledger.Transfer, error) {
	got, err := t.Tx.TransferList(ctx, p)
	return slices.DeleteFunc(got, func(tr ledger.Transfer) bool { return slices.Contains(t.hidden, tr.ID) }), err
}

// driftedTx reads every pool with extra units purchased that the ledger
// never received: counters that disagree with the ledger.
type driftedTx struct {
	seats.Tx
	extra int64
}

func (t driftedTx) PoolLock(ctx context.Context, org string, p seats.Product) (seats.Pool, error) {
	pool, err := t.Tx.PoolLock(ctx, org, p)
	pool.Purchased += t.extra
	return pool, err
}

func (t driftedTx) PoolTransferLoad(ctx context.Context, p seats.TransferLoadParams) (seats.TransferLoad, error) {
	got, err := t.Tx.PoolTransferLoad(ctx, p)
	got.Pool.Purchased += t.extra
	return got, err
}

func (t driftedTx) PoolCheckLoad(ctx context.Context, p seats.CheckLoadParams) (seats.CheckLoad, error) {
	got, err := t.Tx.PoolCheckLoad(ctx, p)
	got.Pool.Purchased += t.extra
	return got, err
}

// openedConcurrentlyTx finds no pool on its first PoolLock, as when another
// request opens the pool after this one looked: the pool is there when it
// tries to insert its own.
type openedConcurrentlyTx struct {
	seats.Tx
	looked *bool
}

func (t openedConcurrentlyTx) PoolLock(ctx context.Context, org string, p seats.Product) (seats.Pool, error) {
	if !*t.looked {
		*t.looked = true
		return seats.Pool{}, ledger.ErrNotFound
	}
	return t.Tx.PoolLock(ctx, org, p)
}
