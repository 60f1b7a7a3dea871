package storetest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/shopspring/decimal"
)

// A store's conformance test is a few lines in its own package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return memstore.New() })
//	}
//
// The suite's helpers serve a service's tests too. RunTwice runs a
// transaction as a store does that meets a conflict at commit: the first
// run is rolled back, the second commits; Snapshot then reads what the store
// holds. A transaction that kept state between runs would post twice.
func ExampleRunTwice() {
	ctx := context.Background()
	store := memstore.New()
	l, _ := ledger.New(store, nil)
	l.DefineUnit(ctx, ledger.Unit{Code: "seat"})
	l.CreateAccount(ctx, ledger.Account{ID: "world", Unit: "seat"})
	l.CreateAccount(ctx, ledger.Account{ID: "acme/pool", Unit: "seat"})

	runs := 0
	err := storetest.RunTwice(ctx, store.InTx, func(tx ledger.Tx) error {
		runs++
		_, err := ledger.NewBook(tx, time.Now()).Post(ctx, ledger.Transfer{ID: "order-1", Debit: "world", Credit: "acme/pool", Amount: decimal.NewFromInt(3)})
		return err
	})
	st, _ := storetest.Snapshot(ctx, store)
	fmt.Println("runs:", runs, "error:", err)
	fmt.Println("transfers:", len(st.Transfers))
	for _, a := range st.Accounts {
		fmt.Println(a.ID, a.Posted)
	}
	// Output:
	// runs: 2 error: <nil>
	// transfers: 1
	// acme/pool 3
	// world -3
}
