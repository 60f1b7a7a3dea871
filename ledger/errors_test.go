package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// brokenStore fails every transaction, as a store whose database is gone.
type brokenStore struct{}

func (brokenStore) InTx(context.Context, func(ledger.Tx) error) error {
	return errors.New("disk on fire")
}

// Every error the ledger returns carries a code, and the one helper maps it
// to an HTTP status.
func TestLedger_ErrorCodes(t *testing.T) {
	ctx := context.Background()
	l, _, _ := fuzzLedger(t)
	if _, err := l.CreateHold(ctx, ledger.Hold{ID: "h", Debit: "src", Credit: "dst", Amount: decimal.NewFromInt(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.VoidHold(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	one := decimal.NewFromInt(1)
	broken, err := ledger.New(brokenStore{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name     string
		err      error
		code     string
		status   int
		sentinel error
	}{
		{"Invalid", call(l.Post(ctx, ledger.Transfer{ID: "x", Debit: "src", Credit: "dst", Amount: decimal.NewFromInt(-1)})), "invalid", 400, ledger.ErrInvalid},
		{"NoStore", call(ledger.New(nil, nil)), "invalid", 400, ledger.ErrInvalid},
		{"NotFound", call(l.Balance(ctx, "nobody")), "not_found", 404, ledger.ErrNotFound},
		{"TransferReused", call(l.Post(ctx, ledger.Transfer{ID: "fund", Debit: "world", Credit: "src", Amount: one})), "request_reused", 409, ledger.ErrConflict},
		{"AccountRedefined", call(l.CreateAccount(ctx, ledger.Account{ID: "src", Unit: "eur"})), "already_exists", 409, ledger.ErrConflict},
		{"Insufficient", call(l.Post(ctx, ledger.Transfer{ID: "y", Debit: "src", Credit: "dst", Amount: decimal.NewFromInt(1000)})), "insufficient", 409, ledger.ErrInsufficientBalance},
		{"HoldNotPending", call(l.PostHold(ctx, "h", one)), "hold_not_pending", 409, ledger.ErrHoldNotPending},
		{"BrokenStore", call(broken.Balance(ctx, "src")), "internal", 500, nil},
		{"Cancelled", call(l.Balance(cancelled, "src")), "canceled", 499, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := allot.ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
			}
			if got := allot.HTTPStatus(tc.err); got != tc.status {
				t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.status)
			}
			var c interface{ Code() string }
			if !errors.As(tc.err, &c) {
				t.Errorf("%v has no Code method in its chain", tc.err)
			}
			if tc.sentinel != nil && !errors.Is(tc.err, tc.sentinel) {
				t.Errorf("%v does not match %v", tc.err, tc.sentinel)
			}
		})
	}
}

func call[T any](_ T, err error) error { return err }
