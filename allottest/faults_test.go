package allottest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func TestFaultStore(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		fault   allottest.Fault
		want    error // nil: the post succeeds
		applied bool  // the post is kept
	}{
		{allottest.FailBefore, allottest.ErrInjected, false},
		{allottest.Transient, allottest.ErrTransient, false},
		{allottest.FailCommit, allottest.ErrInjected, false},
		{allottest.CancelMidway, context.Canceled, false},
		{allottest.RunTwice, nil, true},
		{allottest.FailAfterCommit, allottest.ErrInjected, true},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			mem := memstore.New()
			fs := allottest.NewFaultStore(mem)
			l, err := ledger.New(fs, &ledger.Options{Clock: clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))})
			if err != nil {
				t.Fatal(err)
			}
			mustDo(t, func() error { _, err := l.DefineUnit(ctx, ledger.Unit{Code: "seat"}); return err })
			mustDo(t, func() error { _, err := l.CreateAccount(ctx, ledger.Account{ID: "world", Unit: "seat"}); return err })
			mustDo(t, func() error { _, err := l.CreateAccount(ctx, ledger.Account{ID: "pool", Unit: "seat"}); return err })
			before, err := storetest.Snapshot(ctx, mem)
			if err != nil {
				t.Fatal(err)
			}

			fs.Inject(1, tc.fault)
			tr := ledger.Transfer{ID: "buy", Debit: "world", Credit: "pool", Amount: decimal.NewFromInt(3)}
			_, err = l.Post(ctx, tr)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Post with %s = %v, want %v", tc.fault, err, tc.want)
			}
			after, err := storetest.Snapshot(ctx, mem)
			if err != nil {
				t.Fatal(err)
			}
			if changed := cmp.Diff(before, after, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })) != ""; changed != tc.applied {
				t.Errorf("store changed: %t, want %t", changed, tc.applied)
			}
			if hits := fs.Hits(); len(hits) != 1 || hits[0].Fault != tc.fault || fs.Pending() {
				t.Errorf("Hits = %v, Pending = %t; want the one fault injected", hits, fs.Pending())
			}
			// The next call runs untouched, and a retry lands exactly once.
			if _, err := l.Post(ctx, tr); err != nil {
				t.Fatalf("retry: %v", err)
			}
			bal, err := l.Balance(ctx, "pool")
			if err != nil || !bal.Posted.Equal(decimal.NewFromInt(3)) {
				t.Errorf("pool = %v, %v; want 3 posted once", bal.Posted, err)
			}
		})
	}
}

// Faults are counted across the ledger and every family's store.
func TestFaultStore_CountsEveryFacet(t *testing.T) {
	ctx := context.Background()
	fs := allottest.NewFaultStore(memstore.New())
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	roles := &allottest.Roles{}
	roles.Grant(allottest.Everywhere, allottest.Billing, allot.Vendor)
	roles.Grant(allottest.Everywhere, allottest.WorkspaceAdmin, passes.WorkspaceAdmin)
	svc, err := passes.New(fs.Passes(), &passes.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(fs, &ledger.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	fs.Inject(2, allottest.FailBefore)
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 5, RequestID: "order-1"}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if _, err := l.Balance(ctx, passes.BalanceAccount("acme")); !errors.Is(err, allottest.ErrInjected) {
		t.Fatalf("second call, through the ledger: %v, want ErrInjected", err)
	}
	if bal, err := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: allottest.WorkspaceAdmin}); err != nil || bal != 5 {
		t.Fatalf("third call: %d, %v", bal, err)
	}
	if fs.Calls() != 3 {
		t.Errorf("Calls = %d, want 3", fs.Calls())
	}
}

func mustDo(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}
