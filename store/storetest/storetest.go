package storetest

import (
	"context"
	"errors"
	"github.com/allot-dev/allot/events"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// Store is what a store under test must provide: the ledger and every domain
// facet allot defines.
type Store interface {
	ledger.Store
	events.Store
	Licenses() licenses.Store
	Passes() passes.Store
	Seats() seats.Store
}

// RunTwice runs fn through inTx twice, as a store does that meets a
// transient conflict at commit: the first run is rolled back, the second
// commits. A service's tests wrap a store's InTx with it to check that a
// transaction the store runs again starts from a clean state.
func RunTwice[Tx any](ctx context.Context, inTx func(context.Context, func(Tx) error) error, fn func(Tx) error) error {
	err := inTx(ctx, func(tx Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errTransient
	})
	if !errors.Is(err, errTransient) {
		return err
	}
	return inTx(ctx, fn)
}

var errTransient = errors.New("storetest: transient conflict, to run the transaction again")

// Factory returns a new, empty store for one test. It may register cleanup
// with t.Cleanup.
type Factory func(t *testing.T) Store

// Run runs the whole conformance suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	t.Run("Ledger", func(t *testing.T) { runLedger(t, newStore) })
	t.Run("Licenses", func(t *testing.T) { runLicenses(t, newStore) })
	t.Run("Passes", func(t *testing.T) { runPasses(t, newStore) })
	t.Run("Seats", func(t *testing.T) { runSeats(t, newStore) })
	t.Run("Events", func(t *testing.T) { runEvents(t, newStore) })
}

// start is the fake clock's first reading in every test: a Sunday of a
// daylight-saving change in Europe, in UTC, with microseconds.
var start = time.Date(2026, 3, 29, 0, 30, 0, 123456000, time.UTC)

// fixture is a ledger over a fresh store with a fake clock.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	store Store
	clock *clock.Fake
	l     *ledger.Ledger
}

func newFixture(t *testing.T, newStore Factory) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), store: newStore(t), clock: clock.NewFake(start)}
	l, err := ledger.New(f.store, &ledger.Options{Clock: f.clock})
	if err != nil {
		t.Fatalf("ledger.New: %v", err)
	}
	f.l = l
	return f
}

// d parses a decimal literal.
func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// cmpOpts compare decimals by value, as the contract does.
var cmpOpts = cmp.Options{cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })}

func (f *fixture) unit(code string, scale int32) {
	f.t.Helper()
	if _, err := f.l.DefineUnit(f.ctx, ledger.Unit{Code: code, Scale: scale}); err != nil {
		f.t.Fatalf("DefineUnit(%s): %v", code, err)
	}
}

func (f *fixture) account(id ledger.AccountID, unit string, flags ledger.Flags) {
	f.t.Helper()
	if _, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: id, Unit: unit, Flags: flags}); err != nil {
		f.t.Fatalf("CreateAccount(%s): %v", id, err)
	}
}

func (f *fixture) post(id ledger.TransferID, debit, credit ledger.AccountID, amount string) ledger.Transfer {
	f.t.Helper()
	tr, err := f.l.Post(f.ctx, ledger.Transfer{ID: id, Debit: debit, Credit: credit, Amount: d(amount)})
	if err != nil {
		f.t.Fatalf("Post(%s): %v", id, err)
	}
	return tr
}

func (f *fixture) balance(id ledger.AccountID) ledger.Balance {
	f.t.Helper()
	b, err := f.l.Balance(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Balance(%s): %v", id, err)
	}
	return b
}

func (f *fixture) wantBalance(id ledger.AccountID, posted, held string) {
	f.t.Helper()
	b := f.balance(id)
	if !b.Posted.Equal(d(posted)) || !b.Held.Equal(d(held)) {
		f.t.Errorf("Balance(%s) = posted %s held %s, want posted %s held %s", id, b.Posted, b.Held, posted, held)
	}
}

func (f *fixture) verify() {
	f.t.Helper()
	r, err := f.l.Verify(f.ctx)
	if err != nil {
		f.t.Fatalf("Verify: %v", err)
	}
	for _, d := range r.Discrepancies {
		f.t.Errorf("Verify: %s", d)
	}
}

// tx runs fn in a transaction and fails the test on error.
func (f *fixture) tx(fn func(tx ledger.Tx) error) {
	f.t.Helper()
	if err := f.store.InTx(f.ctx, fn); err != nil {
		f.t.Fatalf("InTx: %v", err)
	}
}

// State is everything a ledger store holds, read through the Tx contract.
type State struct {
	Accounts  []ledger.AccountState
	Transfers []ledger.Transfer
	Holds     []ledger.Hold
}

// Snapshot reads the whole ledger state of s in one transaction.
func Snapshot(ctx context.Context, s ledger.Store) (State, error) {
	var st State
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		var err error
		if st.Accounts, err = tx.AccountList(ctx, ledger.AccountListParams{}); err != nil {
			return err
		}
		if st.Transfers, err = tx.TransferList(ctx, ledger.TransferListParams{}); err != nil {
			return err
		}
		st.Holds, err = tx.HoldList(ctx, ledger.HoldListParams{})
		return err
	})
	return st, err
}

func (f *fixture) snapshot() State {
	f.t.Helper()
	st, err := Snapshot(f.ctx, f.store)
	if err != nil {
		f.t.Fatalf("Snapshot: %v", err)
	}
	return st
}

// unchanged fails the test if the store's state differs from before.
func (f *fixture) unchanged(before State) {
	f.t.Helper()
	if diff := cmp.Diff(before, f.snapshot(), cmpOpts); diff != "" {
		f.t.Errorf("a refused operation changed the store (-before +after):\n%s", diff)
	}
}
