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

// TestApplyTransferAccounts: the journal keeps a transfer's account rows and
// takes its unit from them, so Apply refuses a transfer naming an account it
// does not have, or counting another unit than its accounts, and writes
// nothing.
func TestApplyTransferAccounts(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	l, _ := ledger.New(s, nil)
	for _, u := range []string{"pass", "seat"} {
		if _, err := l.DefineUnit(ctx, ledger.Unit{Code: u}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []ledger.Account{{ID: "a", Unit: "pass"}, {ID: "b", Unit: "pass"}} {
		if _, err := l.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		tr   ledger.Transfer
		want error // nil: any error
	}{
		{"UnknownAccount", ledger.Transfer{ID: "t", Debit: "a", Credit: "nobody", Amount: decimal.NewFromInt(1), Unit: "pass"}, ledger.ErrNotFound},
		{"OtherUnit", ledger.Transfer{ID: "t", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(1), Unit: "seat"}, nil},
	} {
		err := s.InTx(ctx, func(tx ledger.Tx) error {
			return tx.Apply(ctx, ledger.Changes{Transfers: []ledger.Transfer{tc.tr}})
		})
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: Apply = %v, want an error matching %v", tc.name, err, tc.want)
		}
		if _, err := l.Transfer(ctx, "t"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: the refused transfer reads back: %v", tc.name, err)
		}
	}
}
