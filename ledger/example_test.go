package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

// newLedger returns a ledger on a fresh in-memory store with a "pass" unit,
// an issuer that may go negative and a workspace that may not.
func newLedger() *ledger.Ledger {
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	l, err := ledger.New(memstore.New(), &ledger.Options{Clock: c})
	if err != nil {
		panic(err)
	}
	must(l.DefineUnit(ctx, ledger.Unit{Code: "pass", Scale: 0}))
	must(l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"}))
	must(l.CreateAccount(ctx, ledger.Account{ID: "acme", Unit: "pass", Flags: ledger.FlagNonNegative}))
	return l
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ExampleLedger_Post() {
	ctx := context.Background()
	l := newLedger()

	t, err := l.Post(ctx, ledger.Transfer{
		ID:     "order-1001",
		Debit:  "issuer",
		Credit: "acme",
		Amount: decimal.NewFromInt(50),
		Code:   "purchase",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("seq", t.Seq, "acme has", t.CreditBalance, "issuer has", t.DebitBalance)
	// Output: seq 1 acme has 50 issuer has -50
}

func ExampleLedger_Post_idempotent() {
	ctx := context.Background()
	l := newLedger()
	buy := ledger.Transfer{ID: "order-1001", Debit: "issuer", Credit: "acme", Amount: decimal.NewFromInt(50)}

	first, _ := l.Post(ctx, buy)
	retry, err := l.Post(ctx, buy) // the client timed out and sent it again
	fmt.Println(retry.Seq == first.Seq, err)

	buy.Amount = decimal.NewFromInt(60) // a different request under the same ID
	_, err = l.Post(ctx, buy)
	fmt.Println(errors.Is(err, ledger.ErrConflict))

	b, _ := l.Balance(ctx, "acme")
	fmt.Println("acme has", b.Posted)
	// Output:
	// true <nil>
	// true
	// acme has 50
}

func ExampleLedger_PostHold() {
	ctx := context.Background()
	l := newLedger()
	must(l.Post(ctx, ledger.Transfer{ID: "order-1001", Debit: "issuer", Credit: "acme", Amount: decimal.NewFromInt(10)}))

	// Reserve 4 now; settle later.
	must(l.CreateHold(ctx, ledger.Hold{ID: "booking-7", Debit: "acme", Credit: "issuer", Amount: decimal.NewFromInt(4)}))
	b, _ := l.Balance(ctx, "acme")
	fmt.Println("posted", b.Posted, "held", b.Held, "available", b.Available)

	// Only 3 were used: post 3, the last one is released.
	t := must(l.PostHold(ctx, "booking-7", decimal.NewFromInt(3)))
	b, _ = l.Balance(ctx, "acme")
	fmt.Println("posted", t.Amount, "->", "posted", b.Posted, "held", b.Held, "available", b.Available)

	_, err := l.VoidHold(ctx, "booking-7")
	fmt.Println(err)
	// Output:
	// posted 10 held 4 available 6
	// posted 3 -> posted 7 held 0 available 7
	// void hold "booking-7": ledger: hold "booking-7" is posted, not pending
}

func ExampleInsufficientBalanceError() {
	ctx := context.Background()
	l := newLedger()
	must(l.Post(ctx, ledger.Transfer{ID: "order-1001", Debit: "issuer", Credit: "acme", Amount: decimal.NewFromInt(2)}))

	_, err := l.Post(ctx, ledger.Transfer{ID: "spend-1", Debit: "acme", Credit: "issuer", Amount: decimal.NewFromInt(3)})
	fmt.Println(errors.Is(err, ledger.ErrInsufficientBalance))
	var short *ledger.InsufficientBalanceError
	if errors.As(err, &short) {
		fmt.Printf("%s has %s, asked for %s\n", short.Account, short.Available, short.Requested)
	}
	// Output:
	// true
	// acme has 2, asked for 3
}

func ExampleLedger_BalanceAt() {
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	l := must(ledger.New(memstore.New(), &ledger.Options{Clock: c}))
	must(l.DefineUnit(ctx, ledger.Unit{Code: "seat"}))
	must(l.CreateAccount(ctx, ledger.Account{ID: "world", Unit: "seat"}))
	must(l.CreateAccount(ctx, ledger.Account{ID: "org", Unit: "seat"}))

	must(l.Post(ctx, ledger.Transfer{ID: "buy-1", Debit: "world", Credit: "org", Amount: decimal.NewFromInt(100)}))
	c.Advance(24 * time.Hour)
	must(l.Post(ctx, ledger.Transfer{ID: "buy-2", Debit: "world", Credit: "org", Amount: decimal.NewFromInt(50)}))

	for _, at := range []string{"2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", "2026-11-03T12:00:00Z"} {
		t, _ := time.Parse(time.RFC3339, at)
		bal, _ := l.BalanceAt(ctx, "org", t)
		fmt.Println(at, bal)
	}
	// Output:
	// 2026-11-02T08:00:00Z 0
	// 2026-11-02T09:00:00Z 100
	// 2026-11-03T12:00:00Z 150
}

func ExampleBook() {
	ctx := context.Background()
	store := memstore.New()
	l := must(ledger.New(store, nil))
	must(l.DefineUnit(ctx, ledger.Unit{Code: "license"}))
	must(l.CreateAccount(ctx, ledger.Account{ID: "world", Unit: "license"}))
	must(l.CreateAccount(ctx, ledger.Account{ID: "pool", Unit: "license", Flags: ledger.FlagNonNegative}))

	// One transaction: a transfer and whatever else the service writes.
	err := store.InTx(ctx, func(tx ledger.Tx) error {
		b := ledger.NewBook(tx, time.Now())
		if _, err := b.Post(ctx, ledger.Transfer{ID: "buy-1", Debit: "world", Credit: "pool", Amount: decimal.NewFromInt(10)}); err != nil {
			return err
		}
		return errors.New("the service's own write failed")
	})
	fmt.Println(err)
	b, _ := l.Balance(ctx, "pool")
	fmt.Println("pool has", b.Posted)
	// Output:
	// the service's own write failed
	// pool has 0
}
