package allottest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// Store is what the kit runs on: the ledger's store and every family's. The
// in-memory store (memstore.New()) and the PostgreSQL store (pgxstore.New)
// are both one.
type Store interface {
	ledger.Store
	Passes() passes.Store
	Seats() seats.Store
	Licenses() licenses.Store
}

// ErrInjected is the error an injected failure returns, or wraps.
var ErrInjected = errors.New("allottest: injected failure")

// ErrTransient is the error of an injected transient failure: what a store
// reports when it gives up on a conflict it retried. It matches ErrInjected.
var ErrTransient = fmt.Errorf("%w: transient conflict, retry the request", ErrInjected)

// Fault is what happens to one transaction of a FaultStore.
type Fault int

const (
	// FailBefore fails the transaction before it runs: nothing is read or
	// written, and the call returns ErrInjected.
	FailBefore Fault = iota + 1
	// Transient fails the transaction before it runs with ErrTransient, as
	// a store does when a conflict outlasts its retries.
	Transient
	// FailCommit runs the transaction, then rolls it back as a failed
	// COMMIT would: the function saw its writes succeed, the store keeps
	// none of them, and the call returns ErrInjected.
	FailCommit
	// CancelMidway cancels the transaction's context once it has begun:
	// the first read or write inside it fails with context.Canceled, and
	// nothing is kept.
	CancelMidway
	// RunTwice runs the transaction twice, as a store does after a
	// transient conflict at commit: the first run is rolled back, the
	// second commits. Code that keeps state across runs shows it here.
	RunTwice
	// FailAfterCommit runs and commits the transaction, then returns an
	// error matching ErrInjected, as when the connection drops before the
	// answer of a COMMIT that succeeded arrives. The caller cannot tell it
	// from FailCommit: only a retry with the same request ID is safe, as
	// the library returns the first result of a request that committed.
	FailAfterCommit
)

func (f Fault) String() string {
	switch f {
	case FailBefore:
		return "fail before"
	case Transient:
		return "transient"
	case FailCommit:
		return "fail commit"
	case CancelMidway:
		return "cancel midway"
	case RunTwice:
		return "run twice"
	case FailAfterCommit:
		return "fail after commit"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// FaultStore wraps a Store and injects faults into chosen transactions,
// counted across the ledger and every family from the moment the fault is
// planned: Inject(3, FailCommit) makes the third transaction from now fail
// at commit, whichever service runs it. Services built on Faults() see one
// store, as they would in production.
//
// A FaultStore is safe for concurrent use; with concurrent transactions,
// which one is "the third" is whichever starts third.
type FaultStore struct {
	inner Store

	mu    sync.Mutex
	calls int           // transactions started so far
	plan  map[int]Fault // by the number of the transaction it hits
	hits  []Hit
}

// Hit records a fault that was injected.
type Hit struct {
	Call  int // the transaction's number, counting from 1
	Fault Fault
}

// NewFaultStore returns a FaultStore over s with no fault planned.
func NewFaultStore(s Store) *FaultStore {
	return &FaultStore{inner: s, plan: make(map[int]Fault)}
}

// Inject plans fault for the nth transaction from now (n >= 1).
func (f *FaultStore) Inject(n int, fault Fault) {
	if n < 1 {
		panic("allottest: Inject needs n >= 1")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plan[f.calls+n] = fault
}

// Calls returns the number of transactions started so far.
func (f *FaultStore) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Hits returns the faults injected so far, in order.
func (f *FaultStore) Hits() []Hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Hit(nil), f.hits...)
}

// Pending reports whether a planned fault has not been injected yet.
func (f *FaultStore) Pending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.plan) > 0
}

// next counts a transaction and returns the fault planned for it, if any.
func (f *FaultStore) next() Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	fault, ok := f.plan[f.calls]
	if ok {
		delete(f.plan, f.calls)
		f.hits = append(f.hits, Hit{Call: f.calls, Fault: fault})
	}
	return fault
}

// inTx runs fn through inner's InTx with the next planned fault.
func inTx[Tx any](f *FaultStore, ctx context.Context, inner func(context.Context, func(Tx) error) error, fn func(Tx) error) error {
	switch f.next() {
	case FailBefore:
		return ErrInjected
	case Transient:
		return ErrTransient
	case FailCommit:
		err := inner(ctx, func(tx Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return errCommit
		})
		if errors.Is(err, errCommit) {
			return fmt.Errorf("%w: commit failed", ErrInjected)
		}
		return err
	case CancelMidway:
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		return inner(ctx, func(tx Tx) error {
			cancel()
			return fn(tx)
		})
	case RunTwice:
		err := inner(ctx, func(tx Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return errAgain
		})
		if !errors.Is(err, errAgain) {
			return err
		}
		return inner(ctx, fn)
	case FailAfterCommit:
		if err := inner(ctx, fn); err != nil {
			return err
		}
		return fmt.Errorf("%w: the connection was lost after commit", ErrInjected)
	}
	return inner(ctx, fn)
}

var (
	errCommit = errors.New("allottest: roll back as a failed commit would")
	errAgain  = errors.New("allottest: roll back to run the transaction again")
)

// InTx implements ledger.Store.
func (f *FaultStore) InTx(ctx context.Context, fn func(tx ledger.Tx) error) error {
	return inTx(f, ctx, f.inner.InTx, fn)
}

// Passes returns the passes store, with the same faults.
func (f *FaultStore) Passes() passes.Store { return passesFaults{f} }

// Seats returns the seats store, with the same faults.
func (f *FaultStore) Seats() seats.Store { return seatsFaults{f} }

// Licenses returns the licenses store, with the same faults.
func (f *FaultStore) Licenses() licenses.Store { return licensesFaults{f} }

type passesFaults struct{ f *FaultStore }

func (s passesFaults) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return inTx(s.f, ctx, s.f.inner.Passes().InTx, fn)
}

type seatsFaults struct{ f *FaultStore }

func (s seatsFaults) InTx(ctx context.Context, fn func(tx seats.Tx) error) error {
	return inTx(s.f, ctx, s.f.inner.Seats().InTx, fn)
}

type licensesFaults struct{ f *FaultStore }

func (s licensesFaults) InTx(ctx context.Context, fn func(tx licenses.Tx) error) error {
	return inTx(s.f, ctx, s.f.inner.Licenses().InTx, fn)
}

var _ Store = (*FaultStore)(nil)
