package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

// ledgerChapter shows the kernel: units, accounts, an idempotent transfer, a
// refused overdraft, a hold posted in part, history and a verified journal.
func ledgerChapter(ctx context.Context, w io.Writer) error {
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	l, err := ledger.New(memstore.New(), &ledger.Options{Clock: c})
	if err != nil {
		return err
	}
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "credit", Scale: 2}); err != nil {
		return err
	}
	for _, a := range []ledger.Account{
		{ID: "issuer", Unit: "credit", Owner: "allot"},
		{ID: "acme", Unit: "credit", Owner: "acme", Flags: ledger.FlagNonNegative},
		{ID: "vendor", Unit: "credit", Owner: "vendor"},
	} {
		if _, err := l.CreateAccount(ctx, a); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "Accounts: issuer (may go negative), acme (never below zero), vendor.")

	buy := ledger.Transfer{ID: "order-1001", Debit: "issuer", Credit: "acme", Amount: decimal.RequireFromString("25.50"), Code: "purchase"}
	t, err := l.Post(ctx, buy)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Post %s: acme %s, issuer %s (seq %d)\n", t.ID, t.CreditBalance.StringFixed(2), t.DebitBalance.StringFixed(2), t.Seq)
	c.Advance(time.Minute)
	again, err := l.Post(ctx, buy)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Post %s again: seq %d, nothing moved twice\n", again.ID, again.Seq)

	_, err = l.Post(ctx, ledger.Transfer{ID: "pay-1", Debit: "acme", Credit: "vendor", Amount: decimal.RequireFromString("30")})
	var short *ledger.InsufficientBalanceError
	if errors.As(err, &short) {
		fmt.Fprintf(w, "Pay 30.00: refused, acme has %s available\n", short.Available.StringFixed(2))
	}
	_, err = l.Post(ctx, ledger.Transfer{ID: "pay-1", Debit: "acme", Credit: "vendor", Amount: decimal.RequireFromString("0.001")})
	if errors.Is(err, ledger.ErrInvalid) {
		fmt.Fprintln(w, "Pay 0.001: refused, finer than the unit's two decimals")
	}

	c.Advance(time.Hour)
	if _, err := l.CreateHold(ctx, ledger.Hold{ID: "booking-7", Debit: "acme", Credit: "vendor", Amount: decimal.RequireFromString("10"), ExpiresAt: c.Now().Add(24 * time.Hour)}); err != nil {
		return err
	}
	b, err := l.Balance(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Hold 10.00 for a day: acme posted %s, held %s, available %s\n", b.Posted.StringFixed(2), b.Held.StringFixed(2), b.Available.StringFixed(2))
	c.Advance(2 * time.Hour)
	if _, err := l.PostHold(ctx, "booking-7", decimal.RequireFromString("7.25")); err != nil {
		return err
	}
	b, err = l.Balance(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Post 7.25 of the hold: acme posted %s, held %s, available %s\n", b.Posted.StringFixed(2), b.Held.StringFixed(2), b.Available.StringFixed(2))

	fmt.Fprintln(w, "History of acme:")
	for e, err := range l.Entries(ctx, "acme", time.Time{}, time.Time{}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s  %-10s %7s  balance %6s\n", e.PostedAt.Format("2006-01-02 15:04"), e.ID, e.Change.StringFixed(2), e.Balance.StringFixed(2))
	}
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	then, err := l.BalanceAt(ctx, "acme", at)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "acme at %s: %s\n", at.Format("15:04"), then.StringFixed(2))
	r, err := l.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Verify: %d accounts, %d transfers, ok=%v\n", r.Accounts, r.Transfers, r.OK())
	return nil
}
