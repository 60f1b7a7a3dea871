package memstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/shopspring/decimal"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memstore.New() })
}

// TestApplyUnknownAccount: the journal keeps a transfer's account rows, so
// Apply refuses a transfer naming an account it does not have.
func TestApplyUnknownAccount(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	l, _ := ledger.New(s, nil)
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "pass"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateAccount(ctx, ledger.Account{ID: "a", Unit: "pass"}); err != nil {
		t.Fatal(err)
	}
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		return tx.Apply(ctx, ledger.Changes{Transfers: []ledger.Transfer{{ID: "t", Debit: "a", Credit: "nobody", Amount: decimal.NewFromInt(1), Unit: "pass"}}})
	})
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("Apply(transfer to an unknown account) = %v, want ErrNotFound", err)
	}
	if _, err := l.Transfer(ctx, "t"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("the refused transfer reads back: %v", err)
	}
}
