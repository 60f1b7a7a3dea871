package pgxstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// These examples need a database. ExampleNew runs when
// ALLOT_TEST_DATABASE_URL names one (TestMain passes it as DATABASE_URL and
// drops the example's schema afterwards), as in CI, and is left out of the
// run without one, which the run's notice says. ExampleStore_WithTx writes
// to a table of the service's own, so it is compiled but not run;
// TestCallerTransaction runs the same steps.

// A service opens the store at start: connect, migrate (safe at every
// start), and run the ledger on it. Defining units and accounts and posting
// are idempotent, so a service restarted with the same data does the same.
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgxstore.New(pool, &pgxstore.Options{Schema: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil { // at every start: applies what is missing
		log.Fatal(err)
	}
	l, err := ledger.New(store, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "pass"}); err != nil {
		log.Fatal(err)
	}
	for _, a := range []ledger.Account{
		{ID: "world/passes", Unit: "pass"},
		{ID: "org-7/passes", Unit: "pass", Flags: ledger.FlagNonNegative},
	} {
		if _, err := l.CreateAccount(ctx, a); err != nil {
			log.Fatal(err)
		}
	}
	t, err := l.Post(ctx, ledger.Transfer{ID: "order-42", Debit: "world/passes", Credit: "org-7/passes", Amount: decimal.NewFromInt(2)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.ID, t.CreditBalance, t.DebitBalance)
	b, err := l.Balance(ctx, "org-7/passes")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("org-7 holds", b.Available, "passes")
	// Output:
	// order-42 2 -2
	// org-7 holds 2 passes
}

// A service inserts its own row and posts the matching transfer in one
// transaction: both commit, or neither does.
func ExampleStore_WithTx() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgxstore.New(pool, nil)
	if err != nil {
		log.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO orders (id, seats) VALUES ($1, $2)", "order-42", 3); err != nil {
			return err
		}
		return store.WithTx(tx).InTx(ctx, func(ltx ledger.Tx) error {
			b := ledger.NewBook(ltx, time.Now())
			_, err := b.Post(ctx, ledger.Transfer{ID: "order-42", Debit: "org-7/seats", Credit: "event-9/seats", Amount: decimal.NewFromInt(3)})
			return err // an error rolls back the post; the caller decides about its own row
		})
	})
	if err != nil {
		log.Fatal(err)
	}
}
