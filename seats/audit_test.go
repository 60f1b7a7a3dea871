package seats_test

import (
	"context"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// The audit finds nothing in books the service kept, and reports each
// counter corrupted through the store's Tx behind the service's back.
func TestSeats_Audit(t *testing.T) {
	f := standard(t)
	f.must(second(f.seats("acme", "ana", "e1", 2, "r1")))
	f.must(second(f.module("acme", "ana", "e1", "polls", "r2")))
	f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})))
	for _, org := range []string{"acme", "globex", "initech"} {
		if fs, err := f.svc.Audit(f.ctx, org); err != nil || len(fs) != 0 {
			t.Fatalf("Audit(%s) = %v, %v; want no findings", org, fs, err)
		}
	}

	corrupt := func(fn func(ctx context.Context, tx seats.Tx) error) {
		t.Helper()
		f.must(f.ms.Seats().InTx(f.ctx, func(tx seats.Tx) error { return fn(f.ctx, tx) }))
	}
	corrupt(func(ctx context.Context, tx seats.Tx) error {
		p, err := tx.PoolLock(ctx, "acme", seats.Seats)
		if err != nil {
			return err
		}
		p.Purchased += 5 // 10 on the ledger
		p.Assigned--     // 7 on the ledger
		if err := tx.PoolUpdate(ctx, p); err != nil {
			return err
		}
		e, err := tx.EventGet(ctx, "acme", "e1")
		if err != nil {
			return err
		}
		e.SeatsAssigned = 9                       // 4 on the ledger
		e.ModulesAssigned = []string{"breakouts"} // polls on the ledger
		return tx.EventUpdate(ctx, e)
	})
	got, err := f.svc.Audit(f.ctx, "acme")
	f.must(err)
	want := []ledger.Finding{
		{Tenant: "acme", Record: "pool seat", Field: "purchased", Stored: "15", Derived: "10"},
		{Tenant: "acme", Record: "pool seat", Field: "assigned", Stored: "6", Derived: "7"},
		{Tenant: "acme", Record: "pool seat", Field: "available", Stored: "9", Derived: "3"},
		{Tenant: "acme", Record: "event e1", Field: "seats assigned", Stored: "9", Derived: "4"},
		{Tenant: "acme", Record: "event e1", Field: "module breakouts assigned", Stored: "1", Derived: "0"},
		{Tenant: "acme", Record: "event e1", Field: "module polls assigned", Stored: "0", Derived: "1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Audit after corruption (-want +got):\n%s", diff)
	}
	if fs, err := f.svc.Audit(f.ctx, "globex"); err != nil || len(fs) != 0 {
		t.Errorf("Audit(globex) = %v, %v; another organization's corruption is not globex's", fs, err)
	}

	t.Run("MissingRecords", func(t *testing.T) {
		// Units on the ledger for an event and a product no record counts.
		f.must(f.ms.Seats().InTx(f.ctx, func(tx seats.Tx) error {
			b := ledger.NewBook(tx, start)
			if _, err := b.DefineUnit(f.ctx, ledger.Unit{Code: "module:qna"}); err != nil {
				return err
			}
			for _, a := range []ledger.Account{
				{ID: "seats/globex/purchases/module:qna", Unit: "module:qna", Owner: "globex"},
				{ID: "seats/globex/event/ghost/module:qna", Unit: "module:qna", Owner: "globex"},
			} {
				if _, err := b.CreateAccount(f.ctx, a); err != nil {
					return err
				}
			}
			_, err := b.Post(f.ctx, ledger.Transfer{ID: "stray", Debit: "seats/globex/purchases/module:qna", Credit: "seats/globex/event/ghost/module:qna", Amount: decimal.NewFromInt(1)})
			return err
		}))
		got, err := f.svc.Audit(f.ctx, "globex")
		f.must(err)
		want := []ledger.Finding{
			{Tenant: "globex", Record: "pool module:qna", Field: "record", Stored: "missing", Derived: "the ledger holds accounts of module:qna"},
			{Tenant: "globex", Record: "event ghost", Field: "record", Stored: "missing", Derived: "the ledger holds units for it"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Audit (-want +got):\n%s", diff)
		}
	})
	t.Run("BadOrg", func(t *testing.T) {
		if _, err := f.svc.Audit(f.ctx, "a b"); err == nil {
			t.Error("Audit(a b) succeeded, want ErrInvalid")
		}
	})
}
