package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

func TestNew_NeedsStore(t *testing.T) {
	if _, err := ledger.New(nil, nil); err == nil {
		t.Fatal("New(nil) succeeded, want an error naming the missing store")
	}
}

// TestLedger_GroupChecksIDsBeforeMoves pins the order in which a group is
// checked, found by the state machine: a reused ID anywhere in the group is
// reported before a member that could not move, because IDs are checked for
// every member before any balance is.
func TestLedger_GroupChecksIDsBeforeMoves(t *testing.T) {
	ctx := context.Background()
	l, _ := ledger.New(memstore.New(), nil)
	l.DefineUnit(ctx, ledger.Unit{Code: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "a", Unit: "pass", Flags: ledger.FlagNonNegative})
	if _, err := l.Post(ctx, ledger.Transfer{ID: "t6", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(1)}); err != nil {
		t.Fatal(err)
	}
	_, err := l.PostGroup(ctx, []ledger.Transfer{
		{ID: "t1", Debit: "issuer", Credit: "a", Amount: decimal.RequireFromString("1.1")}, // finer than the scale
		{ID: "t6", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(1), Code: "buy"},
	})
	if !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("PostGroup = %v, want ErrConflict for t6", err)
	}
}

// TestLedger_ZeroAmountMadeFineIsPositive is the other case the state
// machine found: 0.1 of a unit of scale 0 is positive but too fine, an
// ErrInvalid for its scale, not for its sign.
func TestLedger_ZeroAmountMadeFineIsPositive(t *testing.T) {
	ctx := context.Background()
	l, _ := ledger.New(memstore.New(), nil)
	l.DefineUnit(ctx, ledger.Unit{Code: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "a", Unit: "pass"})
	_, err := l.Post(ctx, ledger.Transfer{ID: "t", Debit: "issuer", Credit: "a", Amount: decimal.RequireFromString("0.1")})
	var inv *ledger.InvalidError
	if !errors.As(err, &inv) || inv.Field != "Amount" {
		t.Fatalf("Post(0.1 pass) = %v, want an *InvalidError on Amount", err)
	}
}

func TestInstant(t *testing.T) {
	zurich := time.FixedZone("CET", 3600)
	in := time.Date(2026, 3, 2, 10, 0, 0, 123456789, zurich)
	got := ledger.Instant(in)
	if want := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC); got != want {
		t.Errorf("Instant(%v) = %v, want %v", in, got, want)
	}
}

func TestSameRequest(t *testing.T) {
	posted := ledger.Transfer{ID: "t", Debit: "a", Credit: "b", Amount: decimal.RequireFromString("2.00"), Code: "c", Actor: "x", Seq: 7, Unit: "pass"}
	same := ledger.Transfer{ID: "t", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(2), Code: "c", Actor: "x", Metadata: map[string]string{}}
	if !ledger.SameRequest(posted, same) {
		t.Errorf("SameRequest(%+v, %+v) = false; amounts equal by value, empty metadata as nil, ledger-set fields ignored", posted, same)
	}
	for name, change := range map[string]func(*ledger.Transfer){
		"debit":    func(r *ledger.Transfer) { r.Debit = "z" },
		"credit":   func(r *ledger.Transfer) { r.Credit = "z" },
		"amount":   func(r *ledger.Transfer) { r.Amount = decimal.NewFromInt(3) },
		"code":     func(r *ledger.Transfer) { r.Code = "z" },
		"actor":    func(r *ledger.Transfer) { r.Actor = "z" },
		"metadata": func(r *ledger.Transfer) { r.Metadata = map[string]string{"k": "v"} },
	} {
		r := same
		change(&r)
		if ledger.SameRequest(posted, r) {
			t.Errorf("SameRequest with another %s = true", name)
		}
	}
	held := posted
	held.Hold = "t"
	if ledger.SameRequest(held, same) {
		t.Error("SameRequest(a hold's posting, a plain request) = true")
	}
}
