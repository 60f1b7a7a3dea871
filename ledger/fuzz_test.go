package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// fuzzLedger is a ledger on a fresh memstore with two funded accounts of a
// scale-2 unit, "src" (non-negative) and "dst".
func fuzzLedger(t *testing.T) (*ledger.Ledger, *memstore.Store, *clock.Fake) {
	t.Helper()
	ctx := context.Background()
	store := memstore.New()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	l, err := ledger.New(store, &ledger.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "eur", Scale: 2}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []ledger.Account{{ID: "world", Unit: "eur"}, {ID: "src", Unit: "eur", Flags: ledger.FlagNonNegative}, {ID: "dst", Unit: "eur"}} {
		if _, err := l.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Post(ctx, ledger.Transfer{ID: "fund", Debit: "world", Credit: "src", Amount: decimal.NewFromInt(100)}); err != nil {
		t.Fatal(err)
	}
	return l, store, clk
}

// checkOutcome fails unless err is a refusal that changed nothing, or the
// call succeeded and the journal still verifies.
func checkOutcome(t *testing.T, l *ledger.Ledger, store *memstore.Store, before storetest.State, err error) {
	t.Helper()
	ctx := context.Background()
	if err != nil {
		if !errors.Is(err, ledger.ErrInvalid) && !errors.Is(err, ledger.ErrNotFound) && !errors.Is(err, ledger.ErrConflict) &&
			!errors.Is(err, ledger.ErrInsufficientBalance) && !errors.Is(err, ledger.ErrHoldNotPending) {
			t.Fatalf("unexpected error: %v", err)
		}
		after, serr := storetest.Snapshot(ctx, store)
		if serr != nil {
			t.Fatal(serr)
		}
		if diff := cmp.Diff(before, after, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
			t.Fatalf("refused with %v, yet the store changed (-before +after):\n%s", err, diff)
		}
		return
	}
	r, verr := l.Verify(ctx)
	if verr != nil || !r.OK() {
		t.Fatalf("Verify after an accepted call: %v %v", r.Discrepancies, verr)
	}
}

// FuzzLedger_Post posts a transfer and a hold built from arbitrary IDs,
// text, amounts and times: either a refusal that changes nothing, or a
// journal that verifies and reads back what was posted.
func FuzzLedger_Post(f *testing.F) {
	f.Add("t1", "src", "passes.spend", "ann@x.test", "k", "v", "1.5", int64(3600))
	f.Add("t\x00", "src", "", "", "", "", "1", int64(0))
	f.Add("t\xff", "src", "c\xff", "a\x00", "\xfe", "\x00", "1", int64(-1))
	f.Add("a/b%2F", "dst", "code", "Änn", "sub", "日本", "0.01", int64(1))
	f.Add("big", "src", "", "", "", "", "99999999999999999999999999999999999999", int64(1<<62))
	f.Add("huge", "src", "", "", "", "", "1e400000", int64(253402300799))
	f.Add("neg", "src", "", "", "", "", "-5", int64(-62135596801))
	f.Add("fine", "src", "", "", "", "", "0.001", int64(18446744073))
	f.Fuzz(func(t *testing.T, id, debit, code, actor, key, value, amount string, expiresIn int64) {
		ctx := context.Background()
		l, store, clk := fuzzLedger(t)
		amt, err := decimal.NewFromString(amount)
		if err != nil {
			return
		}
		before, err := storetest.Snapshot(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		tr := ledger.Transfer{ID: ledger.TransferID(id), Debit: ledger.AccountID(debit), Credit: "world", Amount: amt,
			Code: code, Actor: actor, Metadata: map[string]string{key: value}}
		got, err := l.Post(ctx, tr)
		checkOutcome(t, l, store, before, err)
		if err == nil {
			back, err := l.Transfer(ctx, tr.ID)
			if err != nil || !back.Amount.Equal(amt) || back.Code != code || back.Actor != actor || back.Metadata[key] != value || back.Seq != got.Seq {
				t.Fatalf("Transfer(%q) = %+v, %v; posted %+v", id, back, err, got)
			}
			if again, err := l.Post(ctx, tr); err != nil || again.Seq != got.Seq {
				t.Fatalf("retried Post = %+v, %v; want the first transfer", again, err)
			}
		}

		before, err = storetest.Snapshot(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		exp := time.Time{}
		if expiresIn != 0 {
			exp = time.Unix(clk.Now().Unix()+expiresIn%(1<<40), 0)
		}
		h := ledger.Hold{ID: ledger.TransferID("h" + id), Debit: "src", Credit: ledger.AccountID(debit), Amount: amt,
			Code: code, Actor: actor, Metadata: map[string]string{key: value}, ExpiresAt: exp}
		_, err = l.CreateHold(ctx, h)
		checkOutcome(t, l, store, before, err)
		if _, err := l.BalanceAt(ctx, "src", exp); err != nil && !errors.Is(err, ledger.ErrInvalid) {
			t.Fatalf("BalanceAt(%v): %v", exp, err)
		}
	})
}
