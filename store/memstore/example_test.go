package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

// A ledger on an in-memory store, and a transaction of the caller's own: it
// posts through a Book, then fails, and leaves no trace.
func ExampleNew() {
	ctx := context.Background()
	store := memstore.New()
	l, _ := ledger.New(store, nil)
	l.DefineUnit(ctx, ledger.Unit{Code: "seat"})
	l.CreateAccount(ctx, ledger.Account{ID: "world", Unit: "seat"})
	l.CreateAccount(ctx, ledger.Account{ID: "acme/pool", Unit: "seat", Flags: ledger.FlagNonNegative})
	l.Post(ctx, ledger.Transfer{ID: "order-1", Debit: "world", Credit: "acme/pool", Amount: decimal.NewFromInt(10)})

	err := store.InTx(ctx, func(tx ledger.Tx) error {
		b := ledger.NewBook(tx, time.Now())
		if _, err := b.Post(ctx, ledger.Transfer{ID: "order-2", Debit: "world", Credit: "acme/pool", Amount: decimal.NewFromInt(5)}); err != nil {
			return err
		}
		return errors.New("the service's own write failed")
	})
	pool, _ := l.Balance(ctx, "acme/pool")
	fmt.Println(err)
	fmt.Println("available:", pool.Available)
	// Output:
	// the service's own write failed
	// available: 10
}
