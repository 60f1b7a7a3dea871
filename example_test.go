package allot_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

// Example_quickStart is the quick start of README.md.
func Example_quickStart() {
	ctx := context.Background()
	l, _ := ledger.New(memstore.New(), nil)

	l.DefineUnit(ctx, ledger.Unit{Code: "seat", Scale: 0})
	l.CreateAccount(ctx, ledger.Account{ID: "world", Unit: "seat"})
	l.CreateAccount(ctx, ledger.Account{ID: "acme/pool", Unit: "seat", Flags: ledger.FlagNonNegative})
	l.CreateAccount(ctx, ledger.Account{ID: "acme/summit", Unit: "seat"})

	// Buy 100 seats, then give 40 to an event. The IDs make retries safe.
	l.Post(ctx, ledger.Transfer{ID: "order-1", Debit: "world", Credit: "acme/pool", Amount: decimal.NewFromInt(100)})
	l.Post(ctx, ledger.Transfer{ID: "req-7", Debit: "acme/pool", Credit: "acme/summit", Amount: decimal.NewFromInt(40)})

	_, err := l.Post(ctx, ledger.Transfer{ID: "req-8", Debit: "acme/pool", Credit: "acme/summit", Amount: decimal.NewFromInt(70)})
	fmt.Println(errors.Is(err, ledger.ErrInsufficientBalance)) // true

	pool, _ := l.Balance(ctx, "acme/pool")
	fmt.Println("available:", pool.Available) // available: 60
	// Output:
	// true
	// available: 60
}
