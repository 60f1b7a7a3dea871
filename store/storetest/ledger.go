package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

func runLedger(t *testing.T, newStore Factory) {
	t.Run("TxSentinels", func(t *testing.T) { testTxSentinels(t, newStore) })
	t.Run("AccountsEnsure", func(t *testing.T) { testAccountsEnsure(t, newStore) })
	t.Run("BatchReadersAppend", func(t *testing.T) { testBatchReadersAppend(t, newStore) })
	t.Run("ApplyAllOrNothing", func(t *testing.T) { testApplyAllOrNothing(t, newStore) })
	t.Run("RollbackOnError", func(t *testing.T) { testRollbackOnError(t, newStore) })
	t.Run("RollbackOnPanic", func(t *testing.T) { testRollbackOnPanic(t, newStore) })
	t.Run("RollbackOfExpiringHold", func(t *testing.T) { testRollbackOfExpiringHold(t, newStore) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelledContext(t, newStore) })
	t.Run("CopySafety", func(t *testing.T) { testCopySafety(t, newStore) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore) })
	t.Run("ListOrdering", func(t *testing.T) { testListOrdering(t, newStore) })
	t.Run("PostIdempotent", func(t *testing.T) { testPostIdempotent(t, newStore) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, newStore) })
	t.Run("Edges", func(t *testing.T) { testEdges(t, newStore) })
	t.Run("Group", func(t *testing.T) { testGroup(t, newStore) })
	t.Run("Batch", func(t *testing.T) { testBatch(t, newStore) })
	t.Run("Holds", func(t *testing.T) { testHolds(t, newStore) })
	t.Run("HoldExpiry", func(t *testing.T) { testHoldExpiry(t, newStore) })
	t.Run("History", func(t *testing.T) { testHistory(t, newStore) })
	t.Run("BalanceAt", func(t *testing.T) { testBalanceAt(t, newStore) })
	t.Run("ClockBackwards", func(t *testing.T) { testClockBackwards(t, newStore) })
	t.Run("HotAccount", func(t *testing.T) { testHotAccount(t, newStore) })
	t.Run("SameIDConcurrently", func(t *testing.T) { testSameIDConcurrently(t, newStore) })
	t.Run("HoldSettledOnce", func(t *testing.T) { testHoldSettledOnce(t, newStore) })
	t.Run("CreateConcurrently", func(t *testing.T) { testCreateConcurrently(t, newStore) })
	t.Run("IDReusedConcurrently", func(t *testing.T) { testIDReusedConcurrently(t, newStore) })
}

// testIDReusedConcurrently posts one transfer ID with different contents
// (disjoint accounts, so the writers do not wait for each other's locks) from
// several transactions at once: one succeeds, every other is told of the
// conflict, and nothing else surfaces.
func testIDReusedConcurrently(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	const workers = 6
	for w := range workers {
		f.account(ledger.AccountID(fmt.Sprintf("from-%d", w)), "pass", 0)
		f.account(ledger.AccountID(fmt.Sprintf("to-%d", w)), "pass", 0)
	}
	var arrived sync.WaitGroup
	arrived.Add(workers)
	allThere := make(chan struct{})
	go func() { arrived.Wait(); close(allThere) }()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			errs[w] = f.store.InTx(f.ctx, func(tx ledger.Tx) error {
				from, to := ledger.AccountID(fmt.Sprintf("from-%d", w)), ledger.AccountID(fmt.Sprintf("to-%d", w))
				if _, err := tx.AccountsLock(f.ctx, []ledger.AccountID{from, to}, nil); err != nil {
					return err
				}
				if first {
					first = false
					arrived.Done()
				}
				select {
				case <-allThere:
				case <-time.After(50 * time.Millisecond):
				}
				_, err := ledger.NewBook(tx, f.clock.Now()).Post(f.ctx, ledger.Transfer{ID: "contested", Debit: from, Credit: to, Amount: d("1")})
				return err
			})
		}()
	}
	wg.Wait()
	oneWinner(t, errs, ledger.ErrConflict, "posts of the contested ID")
	f.verify()
}

// testCreateConcurrently defines one unit and creates one account from many
// transactions at once, each of which has locked an account of its own
// first, as a domain operation does: every one must succeed with the same
// result, the losers of the race included.
func testCreateConcurrently(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	const workers = 8
	for w := range workers {
		f.account(ledger.AccountID(fmt.Sprintf("own-%d", w)), "pass", 0)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	// Workers meet at a barrier inside their transactions so that, on a
	// store that runs transactions in parallel, they really race; a store
	// that runs one at a time lets each through after a short wait.
	var arrived sync.WaitGroup
	arrived.Add(workers)
	allThere := make(chan struct{})
	go func() { arrived.Wait(); close(allThere) }()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			errs[w] = f.store.InTx(f.ctx, func(tx ledger.Tx) error {
				if _, err := tx.AccountsLock(f.ctx, []ledger.AccountID{ledger.AccountID(fmt.Sprintf("own-%d", w))}, nil); err != nil {
					return err
				}
				if first { // a retried attempt does not arrive twice
					first = false
					arrived.Done()
				}
				select {
				case <-allThere:
				case <-time.After(50 * time.Millisecond):
				}
				b := ledger.NewBook(tx, f.clock.Now())
				if _, err := b.DefineUnit(f.ctx, ledger.Unit{Code: "seat"}); err != nil {
					return err
				}
				_, err := b.CreateAccount(f.ctx, ledger.Account{ID: "shared", Unit: "seat", Owner: "acme"})
				return err
			})
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
	if a, err := f.l.Account(f.ctx, "shared"); err != nil || a.Owner != "acme" {
		t.Errorf("Account(shared) = %+v, %v", a, err)
	}
}

// basic sets up a "pass" unit (scale 0), a "credit" unit (scale 2), an
// issuer that may go negative and two non-negative wallets.
func basic(t *testing.T, newStore Factory) *fixture {
	f := newFixture(t, newStore)
	f.unit("pass", 0)
	f.unit("credit", 2)
	f.account("issuer", "pass", 0)
	f.account("alice", "pass", ledger.FlagNonNegative)
	f.account("bob", "pass", ledger.FlagNonNegative)
	f.account("credits", "credit", 0)
	return f
}

func testTxSentinels(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.tx(func(tx ledger.Tx) error {
		ctx := f.ctx
		if _, err := tx.UnitGet(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("UnitGet(missing) = %v, want ErrNotFound", err)
		}
		if _, err := tx.AccountGet(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccountGet(missing) = %v, want ErrNotFound", err)
		}
		got, err := tx.AccountsLock(ctx, []ledger.AccountID{"alice", "missing", "bob"}, nil)
		if err != nil {
			t.Fatalf("AccountsLock: %v", err)
		}
		if len(got) != 2 || got[0].ID != "alice" || got[1].ID != "bob" {
			t.Errorf("AccountsLock(alice, missing, bob) returned %d accounts %v, want alice and bob in that order", len(got), got)
		}
		if ts, err := tx.TransfersGet(ctx, []ledger.TransferID{"missing"}, nil); err != nil || len(ts) != 0 {
			t.Errorf("TransfersGet(missing) = %v, %v, want nothing and no error", ts, err)
		}
		if hs, err := tx.HoldsGet(ctx, []ledger.TransferID{"missing"}, nil); err != nil || len(hs) != 0 {
			t.Errorf("HoldsGet(missing) = %v, %v, want nothing and no error", hs, err)
		}
		return nil
	})
	// Inserting a taken key is ErrAlreadyExists; the failing insert runs in a
	// transaction of its own, since some databases abort a transaction on a
	// constraint violation.
	err := f.store.InTx(f.ctx, func(tx ledger.Tx) error { return tx.UnitInsert(f.ctx, ledger.Unit{Code: "pass"}) })
	if !errors.Is(err, ledger.ErrAlreadyExists) {
		t.Errorf("UnitInsert(taken) = %v, want ErrAlreadyExists", err)
	}
	err = f.store.InTx(f.ctx, func(tx ledger.Tx) error {
		return tx.AccountInsert(f.ctx, ledger.AccountState{Account: ledger.Account{ID: "alice", Unit: "pass"}})
	})
	if !errors.Is(err, ledger.ErrAlreadyExists) {
		t.Errorf("AccountInsert(taken) = %v, want ErrAlreadyExists", err)
	}
}

// testBatchReadersAppend checks that AccountsLock, TransfersGet and HoldsGet
// append what they find to the slice they are given, keep what it held, and
// return it as it was when they find nothing.
func testBatchReadersAppend(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "alice", Credit: "bob", Amount: d("1")}); err != nil {
		t.Fatalf("CreateHold: %v", err)
	}
	f.tx(func(tx ledger.Tx) error {
		ctx := f.ctx
		accounts, err := tx.AccountsLock(ctx, []ledger.AccountID{"bob", "missing"}, []ledger.AccountState{{Account: ledger.Account{ID: "kept"}}})
		if err != nil || len(accounts) != 2 || accounts[0].ID != "kept" || accounts[1].ID != "bob" {
			t.Errorf("AccountsLock(bob, missing) into [kept] = %v, %v; want kept then bob", accounts, err)
		}
		transfers, err := tx.TransfersGet(ctx, []ledger.TransferID{"missing", "fund"}, []ledger.Transfer{{ID: "kept"}})
		if err != nil || len(transfers) != 2 || transfers[0].ID != "kept" || transfers[1].ID != "fund" {
			t.Errorf("TransfersGet(missing, fund) into [kept] = %v, %v; want kept then fund", transfers, err)
		}
		holds, err := tx.HoldsGet(ctx, []ledger.TransferID{"h", "missing"}, []ledger.Hold{{ID: "kept"}})
		if err != nil || len(holds) != 2 || holds[0].ID != "kept" || holds[1].ID != "h" {
			t.Errorf("HoldsGet(h, missing) into [kept] = %v, %v; want kept then h", holds, err)
		}
		none, err := tx.HoldsGet(ctx, []ledger.TransferID{"missing"}, make([]ledger.Hold, 1, 3))
		if err != nil || len(none) != 1 || cap(none) != 3 {
			t.Errorf("HoldsGet(missing) into one hold = %d holds (cap %d), %v; want the slice as given", len(none), cap(none), err)
		}
		return nil
	})
}

func testApplyAllOrNothing(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	before := f.snapshot()
	account := func(id ledger.AccountID) ledger.AccountState {
		var a ledger.AccountState
		f.tx(func(tx ledger.Tx) error {
			var err error
			a, err = tx.AccountGet(f.ctx, id)
			return err
		})
		return a
	}
	alice, bob := account("alice"), account("bob")
	transfer := ledger.Transfer{ID: "t-new", Debit: "alice", Credit: "bob", Amount: d("1"), Unit: "pass", PostedAt: start}

	cases := []struct {
		name    string
		changes func() ledger.Changes
		want    error // nil: any error
	}{
		{"StaleVersion", func() ledger.Changes {
			a := alice
			a.Posted = d("4")
			return ledger.Changes{Accounts: []ledger.AccountState{a}, Transfers: []ledger.Transfer{transfer}}
		}, nil},
		{"NonNegativeBelowZero", func() ledger.Changes {
			a, b := alice, bob
			a.Version, b.Version = a.Version+1, b.Version+1
			a.Posted, b.Posted = d("-1"), d("6")
			return ledger.Changes{Accounts: []ledger.AccountState{a, b}, Transfers: []ledger.Transfer{transfer}}
		}, ledger.ErrInsufficientBalance},
		{"HeldBeyondPosted", func() ledger.Changes {
			a := alice
			a.Version++
			a.Held = d("6")
			return ledger.Changes{Accounts: []ledger.AccountState{a}}
		}, ledger.ErrInsufficientBalance},
		{"TransferIDTaken", func() ledger.Changes {
			a, b := alice, bob
			a.Version, b.Version = a.Version+1, b.Version+1
			tr := transfer
			tr.ID = "fund"
			return ledger.Changes{Accounts: []ledger.AccountState{a, b}, Transfers: []ledger.Transfer{tr}}
		}, ledger.ErrAlreadyExists},
		{"TransferIDTwice", func() ledger.Changes {
			a, b := alice, bob
			a.Version, b.Version = a.Version+1, b.Version+1
			return ledger.Changes{Accounts: []ledger.AccountState{a, b}, Transfers: []ledger.Transfer{transfer, transfer}}
		}, ledger.ErrAlreadyExists},
		{"UnknownHoldUpdate", func() ledger.Changes {
			return ledger.Changes{HoldsUpdate: []ledger.Hold{{ID: "nope", Debit: "alice", Credit: "bob", Amount: d("1"), Status: ledger.HoldVoided}}}
		}, ledger.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.store.InTx(f.ctx, func(tx ledger.Tx) error { return tx.Apply(f.ctx, tc.changes()) })
			if err == nil {
				t.Fatalf("Apply succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Apply error = %v, want %v", err, tc.want)
			}
			f.unchanged(before)
		})
	}

	t.Run("AssignsSeq", func(t *testing.T) {
		a, b := alice, bob
		a.Version, b.Version = a.Version+1, b.Version+1
		a.Posted, b.Posted = d("3"), d("2")
		t1, t2 := transfer, transfer
		t1.ID, t2.ID = "seq-1", "seq-2"
		c := ledger.Changes{Accounts: []ledger.AccountState{a, b}, Transfers: []ledger.Transfer{t1, t2}}
		f.tx(func(tx ledger.Tx) error { return tx.Apply(f.ctx, c) })
		if c.Transfers[0].Seq <= before.Transfers[0].Seq || c.Transfers[1].Seq <= c.Transfers[0].Seq {
			t.Errorf("Apply assigned Seq %d, %d after %d; want increasing", c.Transfers[0].Seq, c.Transfers[1].Seq, before.Transfers[0].Seq)
		}
	})
}

func testRollbackOnError(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	before := f.snapshot()
	boom := errors.New("boom")
	err := f.store.InTx(f.ctx, func(tx ledger.Tx) error {
		b := ledger.NewBook(tx, f.clock.Now())
		if _, err := b.DefineUnit(f.ctx, ledger.Unit{Code: "seat"}); err != nil {
			return err
		}
		if _, err := b.CreateAccount(f.ctx, ledger.Account{ID: "carol", Unit: "pass"}); err != nil {
			return err
		}
		if _, err := b.Post(f.ctx, ledger.Transfer{ID: "t1", Debit: "alice", Credit: "carol", Amount: d("2")}); err != nil {
			return err
		}
		if _, err := b.CreateHold(f.ctx, ledger.Hold{ID: "h1", Debit: "alice", Credit: "bob", Amount: d("1")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's own error", err)
	}
	f.unchanged(before)
	if _, err := f.l.Account(f.ctx, "carol"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("account created in a rolled-back transaction: Account(carol) = %v, want ErrNotFound", err)
	}
	// The same IDs are free again.
	f.account("carol", "pass", 0)
	f.post("t1", "alice", "carol", "2")
	f.wantBalance("alice", "3", "0")
	f.verify()
}

// testRollbackOfExpiringHold rolls back the creation and the settlement of
// holds that expire, then lets their expiries pass: whatever index a store
// keeps of expiring holds must have forgotten the first and remember the
// second.
func testRollbackOfExpiringHold(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "10")
	boom := errors.New("boom")
	err := f.store.InTx(f.ctx, func(tx ledger.Tx) error {
		b := ledger.NewBook(tx, f.clock.Now())
		if _, err := b.CreateHold(f.ctx, ledger.Hold{ID: "gone", Debit: "alice", Credit: "bob", Amount: d("3"), ExpiresAt: start.Add(time.Hour)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's own error", err)
	}
	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "kept", Debit: "alice", Credit: "bob", Amount: d("4"), ExpiresAt: start.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	err = f.store.InTx(f.ctx, func(tx ledger.Tx) error {
		if _, err := ledger.NewBook(tx, f.clock.Now()).VoidHold(f.ctx, "kept"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's own error", err)
	}
	f.clock.Set(start.Add(2 * time.Hour)) // past the rolled-back hold's expiry only
	f.wantBalance("alice", "10", "4")
	f.post("spend", "alice", "bob", "6")
	f.wantBalance("alice", "4", "4")
	if h, err := f.l.Hold(f.ctx, "kept"); err != nil || h.Status != ledger.HoldPending {
		t.Errorf("Hold(kept) = %s, %v; want pending: its void was rolled back", h.Status, err)
	}
	f.clock.Set(start.Add(3 * time.Hour)) // and now past the kept one's
	f.post("more", "alice", "bob", "4")
	f.wantBalance("alice", "0", "0")
	f.verify()
}

func testRollbackOnPanic(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	before := f.snapshot()
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the function's own panic", r)
			}
		}()
		_ = f.store.InTx(f.ctx, func(tx ledger.Tx) error {
			b := ledger.NewBook(tx, f.clock.Now())
			if _, err := b.Post(f.ctx, ledger.Transfer{ID: "t1", Debit: "issuer", Credit: "alice", Amount: d("2")}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	f.unchanged(before)
	// The store is usable afterwards.
	f.post("t1", "issuer", "alice", "2")
}

func testCancelledContext(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	before := f.snapshot()
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	ran := false
	err := f.store.InTx(ctx, func(tx ledger.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("InTx(cancelled) = %v, want context.Canceled", err)
	}
	if ran {
		t.Errorf("InTx ran its function with a cancelled context")
	}

	// Cancelled halfway: nothing stays, and no lock is left behind.
	ctx, cancel = context.WithCancel(f.ctx)
	err = f.store.InTx(ctx, func(tx ledger.Tx) error {
		b := ledger.NewBook(tx, f.clock.Now())
		if _, err := b.Post(ctx, ledger.Transfer{ID: "t1", Debit: "issuer", Credit: "alice", Amount: d("2")}); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err == nil {
		t.Errorf("InTx committed after its context was cancelled")
	}
	f.unchanged(before)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.post("t2", "issuer", "alice", "1")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("a cancelled transaction left the account locked")
	}
}

func testCopySafety(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	meta := map[string]string{"k": "v"}
	if _, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "m", Unit: "pass", Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	tr := ledger.Transfer{ID: "t", Debit: "issuer", Credit: "m", Amount: d("1"), Metadata: meta}
	got, err := f.l.Post(f.ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "issuer", Credit: "m", Amount: d("1"), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	meta["k"] = "changed by the caller"
	got.Metadata["k"] = "changed in a result"
	h.Metadata["k"] = "changed in a result"
	f.tx(func(tx ledger.Tx) error {
		a, err := tx.AccountGet(f.ctx, "m")
		if err != nil {
			return err
		}
		a.Metadata["k"] = "changed in a read"
		return nil
	})
	a, err := f.l.Account(f.ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := f.l.Transfer(f.ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := f.l.Hold(f.ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	for what, m := range map[string]map[string]string{"account": a.Metadata, "transfer": tr2.Metadata, "hold": h2.Metadata} {
		if m["k"] != "v" {
			t.Errorf("%s metadata = %v after the caller changed its copies, want k=v", what, m)
		}
	}
	// The request's metadata equals the stored one again: an idempotent retry.
	meta["k"] = "v"
	if _, err := f.l.Post(f.ctx, tr); err != nil {
		t.Errorf("retry after copies were changed: %v", err)
	}
}

func testRoundTrip(t *testing.T, newStore Factory) {
	f := newFixture(t, newStore)
	f.unit("fine", 18)
	f.account("src", "fine", 0)
	f.account("dst", "fine", 0)
	amounts := []string{"0.000000000000000001", "123456789012345678.123456789012345678", "1", "2.50"}
	for i, a := range amounts {
		id := ledger.TransferID(fmt.Sprintf("t%d", i))
		f.clock.Advance(time.Nanosecond * 1500) // sub-microsecond: truncated at the store boundary
		got := f.post(id, "src", "dst", a)
		back, err := f.l.Transfer(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !back.Amount.Equal(d(a)) {
			t.Errorf("transfer %s amount = %s, want %s", id, back.Amount, a)
		}
		if back.PostedAt.Location() != time.UTC || !back.PostedAt.Equal(got.PostedAt) || back.PostedAt.Nanosecond()%1000 != 0 {
			t.Errorf("transfer %s PostedAt = %v, posted as %v: want the same UTC instant in whole microseconds", id, back.PostedAt, got.PostedAt)
		}
		if diff := cmp.Diff(got, back, cmpOpts); diff != "" {
			t.Errorf("Transfer(%s) differs from what Post returned (-post +read):\n%s", id, diff)
		}
	}
	total := decimal.Zero
	for _, a := range amounts {
		total = total.Add(d(a))
	}
	f.wantBalance("dst", total.String(), "0")
	exp := start.Add(time.Hour + 7*time.Nanosecond)
	h, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "src", Credit: "dst", Amount: d("0.5"), ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	back, err := f.l.Hold(f.ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, back, cmpOpts); diff != "" {
		t.Errorf("Hold(h) differs from what CreateHold returned (-create +read):\n%s", diff)
	}
	if !back.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) {
		t.Errorf("hold ExpiresAt = %v, want %v", back.ExpiresAt, exp.Truncate(time.Microsecond))
	}
}

func testListOrdering(t *testing.T, newStore Factory) {
	f := newFixture(t, newStore)
	f.unit("pass", 0)
	f.unit("seat", 0)
	for _, id := range []ledger.AccountID{"c", "a", "e", "b", "d"} {
		unit := "pass"
		if id == "b" || id == "d" {
			unit = "seat"
		}
		if _, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: id, Unit: unit, Owner: "org-" + unit}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(as []ledger.AccountState) (out []ledger.AccountID) {
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	f.tx(func(tx ledger.Tx) error {
		for _, tc := range []struct {
			p    ledger.AccountListParams
			want []ledger.AccountID
		}{
			{ledger.AccountListParams{}, []ledger.AccountID{"a", "b", "c", "d", "e"}},
			{ledger.AccountListParams{After: "b", Limit: 2}, []ledger.AccountID{"c", "d"}},
			{ledger.AccountListParams{Unit: "seat"}, []ledger.AccountID{"b", "d"}},
			{ledger.AccountListParams{Owner: "org-pass", After: "a"}, []ledger.AccountID{"c", "e"}},
		} {
			got, err := tx.AccountList(f.ctx, tc.p)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
				t.Errorf("AccountList(%+v) mismatch (-want +got):\n%s", tc.p, diff)
			}
		}
		return nil
	})
	for i, pair := range [][2]ledger.AccountID{{"a", "c"}, {"c", "e"}, {"e", "a"}, {"a", "e"}} {
		f.clock.Advance(time.Minute)
		f.post(ledger.TransferID(fmt.Sprintf("t%d", i)), pair[0], pair[1], "1")
	}
	for _, id := range []ledger.TransferID{"h3", "h1", "h2"} {
		if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: id, Debit: "a", Credit: "c", Amount: d("1")}); err != nil {
			t.Fatal(err)
		}
	}
	f.tx(func(tx ledger.Tx) error {
		seqs := func(p ledger.TransferListParams) (out []ledger.TransferID) {
			ts, err := tx.TransferList(f.ctx, p)
			if err != nil {
				t.Fatalf("TransferList(%+v): %v", p, err)
			}
			for i, tr := range ts {
				if i > 0 && (tr.Seq > ts[i-1].Seq) == p.Desc {
					t.Errorf("TransferList(%+v) out of Seq order at %d", p, i)
				}
				out = append(out, tr.ID)
			}
			return out
		}
		all, _ := tx.TransferList(f.ctx, ledger.TransferListParams{})
		for _, tc := range []struct {
			p    ledger.TransferListParams
			want []ledger.TransferID
		}{
			{ledger.TransferListParams{}, []ledger.TransferID{"t0", "t1", "t2", "t3"}},
			{ledger.TransferListParams{Account: "a"}, []ledger.TransferID{"t0", "t2", "t3"}},
			{ledger.TransferListParams{Account: "a", Desc: true, Limit: 2}, []ledger.TransferID{"t3", "t2"}},
			{ledger.TransferListParams{Account: "a", AfterSeq: all[0].Seq}, []ledger.TransferID{"t2", "t3"}},
			{ledger.TransferListParams{Account: "a", Desc: true, AfterSeq: all[3].Seq}, []ledger.TransferID{"t2", "t0"}},
			{ledger.TransferListParams{From: start.Add(2 * time.Minute), To: start.Add(4 * time.Minute)}, []ledger.TransferID{"t1", "t2"}},
			{ledger.TransferListParams{Account: "c", To: start.Add(2 * time.Minute)}, []ledger.TransferID{"t0"}},
			{ledger.TransferListParams{Account: "nobody"}, nil},
		} {
			if diff := cmp.Diff(tc.want, seqs(tc.p)); diff != "" {
				t.Errorf("TransferList(%+v) mismatch (-want +got):\n%s", tc.p, diff)
			}
		}
		hs, err := tx.HoldList(f.ctx, ledger.HoldListParams{Debit: "a", Status: ledger.HoldPending})
		if err != nil {
			return err
		}
		var got []ledger.TransferID
		for _, h := range hs {
			got = append(got, h.ID)
		}
		if diff := cmp.Diff([]ledger.TransferID{"h1", "h2", "h3"}, got); diff != "" {
			t.Errorf("HoldList mismatch (-want +got):\n%s", diff)
		}
		hs, err = tx.HoldList(f.ctx, ledger.HoldListParams{After: "h1", Limit: 1})
		if err != nil {
			return err
		}
		if len(hs) != 1 || hs[0].ID != "h2" {
			t.Errorf("HoldList(After h1, Limit 1) = %v, want h2", hs)
		}
		return nil
	})
}

func testPostIdempotent(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	tr := ledger.Transfer{ID: "fund", Debit: "issuer", Credit: "alice", Amount: d("5"), Code: "buy", Actor: "admin", Metadata: map[string]string{"order": "42"}}
	first, err := f.l.Post(f.ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	after := f.snapshot()
	f.clock.Advance(time.Hour)
	retry := tr
	retry.Amount = d("5.000") // the same amount, written differently
	again, err := f.l.Post(f.ctx, retry)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := cmp.Diff(first, again, cmpOpts); diff != "" {
		t.Errorf("retry returned a different transfer (-first +retry):\n%s", diff)
	}
	f.unchanged(after)
	for field, change := range map[string]func(*ledger.Transfer){
		"amount":   func(t *ledger.Transfer) { t.Amount = d("6") },
		"credit":   func(t *ledger.Transfer) { t.Credit = "bob" },
		"code":     func(t *ledger.Transfer) { t.Code = "gift" },
		"actor":    func(t *ledger.Transfer) { t.Actor = "someone" },
		"metadata": func(t *ledger.Transfer) { t.Metadata = nil },
	} {
		other := tr
		change(&other)
		_, err := f.l.Post(f.ctx, other)
		var ce *ledger.ConflictError
		if !errors.Is(err, ledger.ErrConflict) || !errors.As(err, &ce) || ce.ID != "fund" {
			t.Errorf("reuse with another %s = %v, want a *ConflictError for fund", field, err)
		}
	}
	f.unchanged(after)
	f.wantBalance("alice", "5", "0")
}

func testBadInput(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "held", Debit: "alice", Credit: "bob", Amount: d("2")}); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot()
	tr := func(id ledger.TransferID, debit, credit ledger.AccountID, amount string) ledger.Transfer {
		return ledger.Transfer{ID: id, Debit: debit, Credit: credit, Amount: d(amount)}
	}
	cases := []struct {
		name string
		t    ledger.Transfer
		want error
	}{
		{"ZeroAmount", tr("x", "issuer", "alice", "0"), ledger.ErrInvalid},
		{"NegativeAmount", tr("x", "issuer", "alice", "-1"), ledger.ErrInvalid},
		{"FinerThanScale", tr("x", "issuer", "alice", "1.5"), ledger.ErrInvalid},
		{"UnknownDebit", tr("x", "nobody", "alice", "1"), ledger.ErrNotFound},
		{"UnknownCredit", tr("x", "alice", "nobody", "1"), ledger.ErrNotFound},
		{"UnitMismatch", tr("x", "credits", "alice", "1"), ledger.ErrInvalid},
		{"SameAccount", tr("x", "alice", "alice", "1"), ledger.ErrInvalid},
		{"EmptyID", tr("", "issuer", "alice", "1"), ledger.ErrInvalid},
		{"ReusedID", tr("fund", "issuer", "alice", "4"), ledger.ErrConflict},
		{"IDOfAHold", tr("held", "alice", "bob", "2"), ledger.ErrConflict},
		{"Overdraft", tr("x", "alice", "bob", "6"), ledger.ErrInsufficientBalance},
		{"OverdraftCountingHolds", tr("x", "alice", "bob", "4"), ledger.ErrInsufficientBalance},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.l.Post(f.ctx, tc.t)
			if !errors.Is(err, tc.want) {
				t.Errorf("Post = %v, want %v", err, tc.want)
			}
			f.unchanged(before)
		})
	}
	t.Run("InsufficientBalanceDetails", func(t *testing.T) {
		_, err := f.l.Post(f.ctx, tr("x", "alice", "bob", "4"))
		var ib *ledger.InsufficientBalanceError
		if !errors.As(err, &ib) || ib.Account != "alice" || !ib.Available.Equal(d("3")) || !ib.Requested.Equal(d("4")) {
			t.Errorf("Post = %v, want *InsufficientBalanceError{alice, available 3, requested 4}", err)
		}
	})
	t.Run("HoldOverdraft", func(t *testing.T) {
		_, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h2", Debit: "alice", Credit: "bob", Amount: d("4")})
		if !errors.Is(err, ledger.ErrInsufficientBalance) {
			t.Errorf("CreateHold beyond available = %v, want ErrInsufficientBalance", err)
		}
		f.unchanged(before)
	})
	t.Run("AccountAndUnit", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"EmptyUnitCode", func() error { _, err := f.l.DefineUnit(f.ctx, ledger.Unit{}); return err }(), ledger.ErrInvalid},
			{"ScaleOutOfRange", func() error { _, err := f.l.DefineUnit(f.ctx, ledger.Unit{Code: "x", Scale: 19}); return err }(), ledger.ErrInvalid},
			{"UnitRedefined", func() error { _, err := f.l.DefineUnit(f.ctx, ledger.Unit{Code: "pass", Scale: 2}); return err }(), ledger.ErrConflict},
			{"EmptyAccountID", func() error { _, err := f.l.CreateAccount(f.ctx, ledger.Account{Unit: "pass"}); return err }(), ledger.ErrInvalid},
			{"UnknownUnit", func() error { _, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "z", Unit: "zzz"}); return err }(), ledger.ErrNotFound},
			{"UnknownFlags", func() error {
				_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "z", Unit: "pass", Flags: 1 << 7})
				return err
			}(), ledger.ErrInvalid},
			{"AccountRedefined", func() error {
				_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "alice", Unit: "pass"})
				return err
			}(), ledger.ErrConflict},
		} {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
			}
		}
		f.unchanged(before)
		if _, err := f.l.DefineUnit(f.ctx, ledger.Unit{Code: "pass"}); err != nil {
			t.Errorf("redefining a unit identically: %v", err)
		}
		if _, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "alice", Unit: "pass", Flags: ledger.FlagNonNegative}); err != nil {
			t.Errorf("recreating an account identically: %v", err)
		}
	})
}

func testGroup(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	before := f.snapshot()
	ok := ledger.Transfer{ID: "g1", Debit: "alice", Credit: "bob", Amount: d("2")}
	for _, tc := range []struct {
		name  string
		group []ledger.Transfer
		want  error
	}{
		{"Empty", nil, ledger.ErrInvalid},
		{"OneRefused", []ledger.Transfer{ok, {ID: "g2", Debit: "alice", Credit: "bob", Amount: d("4")}}, ledger.ErrInsufficientBalance},
		{"DuplicateID", []ledger.Transfer{ok, ok}, ledger.ErrInvalid},
		{"OneInvalid", []ledger.Transfer{ok, {ID: "g2", Debit: "alice", Credit: "alice", Amount: d("1")}}, ledger.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.l.PostGroup(f.ctx, tc.group); !errors.Is(err, tc.want) {
				t.Errorf("PostGroup = %v, want %v", err, tc.want)
			}
			f.unchanged(before)
		})
	}
	// Both legs together use the balance the first leg brings in.
	got, err := f.l.PostGroup(f.ctx, []ledger.Transfer{
		{ID: "in", Debit: "issuer", Credit: "bob", Amount: d("3")},
		{ID: "out", Debit: "bob", Credit: "alice", Amount: d("3")},
	})
	if err != nil {
		t.Fatalf("PostGroup: %v", err)
	}
	if len(got) != 2 || got[0].Seq >= got[1].Seq || !got[0].PostedAt.Equal(got[1].PostedAt) {
		t.Errorf("PostGroup returned %+v; want two transfers in order with one time", got)
	}
	if !got[1].DebitBalance.Equal(d("0")) || !got[1].CreditBalance.Equal(d("8")) {
		t.Errorf("second leg balances after = %s/%s, want 0/8", got[1].DebitBalance, got[1].CreditBalance)
	}
	f.wantBalance("alice", "8", "0")
	f.wantBalance("bob", "0", "0")
	f.verify()
}

func testBatch(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	batch := []ledger.Transfer{
		{ID: "b1", Debit: "alice", Credit: "bob", Amount: d("2")},
		{ID: "b2", Debit: "alice", Credit: "bob", Amount: d("4")}, // refused: 3 left
		{ID: "b1", Debit: "alice", Credit: "bob", Amount: d("2")}, // same as b1
		{ID: "b1", Debit: "alice", Credit: "bob", Amount: d("1")}, // b1 reused
		{ID: "fund", Debit: "issuer", Credit: "alice", Amount: d("5")},
		{ID: "b3", Debit: "alice", Credit: "alice", Amount: d("1")},
		{ID: "b4", Debit: "alice", Credit: "bob", Amount: d("3")},
	}
	res, err := f.l.PostBatch(f.ctx, batch)
	if err != nil {
		t.Fatalf("PostBatch: %v", err)
	}
	want := []error{nil, ledger.ErrInsufficientBalance, nil, ledger.ErrConflict, nil, ledger.ErrInvalid, nil}
	for i, r := range res {
		if (want[i] == nil) != (r.Err == nil) || (want[i] != nil && !errors.Is(r.Err, want[i])) {
			t.Errorf("result %d (%s): %v, want %v", i, batch[i].ID, r.Err, want[i])
		}
	}
	if res[0].Transfer.Seq == 0 || res[2].Transfer.Seq != res[0].Transfer.Seq {
		t.Errorf("repeated b1 got Seq %d, first %d; want the same, non-zero", res[2].Transfer.Seq, res[0].Transfer.Seq)
	}
	if res[4].Transfer.Seq != 1 && res[4].Transfer.ID != "fund" {
		t.Errorf("already posted fund: %+v, want the original", res[4].Transfer)
	}
	f.wantBalance("alice", "0", "0")
	f.wantBalance("bob", "5", "0")
	f.verify()
	if res, err := f.l.PostBatch(f.ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("PostBatch(nil) = %v, %v; want nothing", res, err)
	}
}

func testHolds(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "10")
	h := ledger.Hold{ID: "h1", Debit: "alice", Credit: "bob", Amount: d("4"), Code: "reserve"}
	got, err := f.l.CreateHold(f.ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ledger.HoldPending || got.Unit != "pass" {
		t.Errorf("CreateHold = %+v, want pending pass hold", got)
	}
	f.wantBalance("alice", "10", "4")
	if b := f.balance("alice"); !b.Available.Equal(d("6")) {
		t.Errorf("available = %s, want 6", b.Available)
	}
	if again, err := f.l.CreateHold(f.ctx, h); err != nil || again.Status != ledger.HoldPending {
		t.Errorf("idempotent CreateHold = %+v, %v", again, err)
	}
	f.wantBalance("alice", "10", "4")
	other := h
	other.Amount = d("5")
	if _, err := f.l.CreateHold(f.ctx, other); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("CreateHold reusing h1 with another amount = %v, want ErrConflict", err)
	}
	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "fund", Debit: "alice", Credit: "bob", Amount: d("1")}); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("CreateHold with a transfer's ID = %v, want ErrConflict", err)
	}
	before := f.snapshot()
	for _, tc := range []struct {
		name   string
		amount string
		want   error
	}{
		{"MoreThanHeld", "5", ledger.ErrInvalid},
		{"Zero", "0", ledger.ErrInvalid},
		{"FinerThanScale", "0.5", ledger.ErrInvalid},
	} {
		if _, err := f.l.PostHold(f.ctx, "h1", d(tc.amount)); !errors.Is(err, tc.want) {
			t.Errorf("%s: PostHold = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := f.l.PostHold(f.ctx, "nope", d("1")); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("PostHold(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := f.l.VoidHold(f.ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("VoidHold(unknown) = %v, want ErrNotFound", err)
	}
	f.unchanged(before)

	tr, err := f.l.PostHold(f.ctx, "h1", d("3"))
	if err != nil {
		t.Fatalf("PostHold: %v", err)
	}
	if tr.ID != "h1" || tr.Hold != "h1" || !tr.Amount.Equal(d("3")) || tr.Code != "reserve" || tr.Seq == 0 {
		t.Errorf("PostHold = %+v, want transfer h1 of 3 from hold h1", tr)
	}
	f.wantBalance("alice", "7", "0")
	f.wantBalance("bob", "3", "0")
	posted, _ := f.l.Hold(f.ctx, "h1")
	if posted.Status != ledger.HoldPosted || !posted.Posted.Equal(d("3")) {
		t.Errorf("hold after posting = %+v, want posted 3", posted)
	}
	before = f.snapshot()
	f.settled("h1", ledger.HoldPosted)
	if _, err := f.l.Post(f.ctx, ledger.Transfer{ID: "h1", Debit: "alice", Credit: "bob", Amount: d("3"), Code: "reserve"}); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("Post reusing a posted hold's ID = %v, want ErrConflict", err)
	}
	f.unchanged(before)

	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h2", Debit: "alice", Credit: "bob", Amount: d("7")}); err != nil {
		t.Fatal(err)
	}
	voided, err := f.l.VoidHold(f.ctx, "h2")
	if err != nil || voided.Status != ledger.HoldVoided {
		t.Fatalf("VoidHold = %+v, %v; want voided", voided, err)
	}
	f.wantBalance("alice", "7", "0")
	before = f.snapshot()
	f.settled("h2", ledger.HoldVoided)
	f.unchanged(before)
	f.verify()
}

func testHoldExpiry(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "10")
	before := f.snapshot()
	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "past", Debit: "alice", Credit: "bob", Amount: d("1"), ExpiresAt: start}); !errors.Is(err, ledger.ErrInvalid) {
		t.Errorf("CreateHold expiring now = %v, want ErrInvalid", err)
	}
	f.unchanged(before)
	for i, amount := range []string{"4", "5"} {
		h := ledger.Hold{ID: ledger.TransferID(fmt.Sprintf("h%d", i)), Debit: "alice", Credit: "bob", Amount: d(amount), ExpiresAt: start.Add(time.Duration(i+1) * time.Hour)}
		if _, err := f.l.CreateHold(f.ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	f.wantBalance("alice", "10", "9")
	f.clock.Set(start.Add(time.Hour)) // h0 expires at this very instant: [created, expiry)
	f.wantBalance("alice", "10", "5")
	if h, _ := f.l.Hold(f.ctx, "h0"); h.Status != ledger.HoldExpired || !h.SettledAt.Equal(start.Add(time.Hour)) {
		t.Errorf("Hold(h0) past expiry = %s settled %v, want expired at its expiry", h.Status, h.SettledAt)
	}
	before = f.snapshot()
	f.settled("h0", ledger.HoldExpired)
	f.unchanged(before)
	// The expired hold's amount is available again; the live one still counts.
	if _, err := f.l.Post(f.ctx, ledger.Transfer{ID: "spend", Debit: "alice", Credit: "bob", Amount: d("5")}); err != nil {
		t.Fatalf("spending what an expired hold released: %v", err)
	}
	f.wantBalance("alice", "5", "5")
	if _, err := f.l.Post(f.ctx, ledger.Transfer{ID: "more", Debit: "alice", Credit: "bob", Amount: d("1")}); !errors.Is(err, ledger.ErrInsufficientBalance) {
		t.Errorf("Post beyond the live hold = %v, want ErrInsufficientBalance", err)
	}
	if _, err := f.l.PostHold(f.ctx, "h1", d("5")); err != nil {
		t.Errorf("PostHold(live) = %v", err)
	}
	f.wantBalance("alice", "0", "0")
	f.verify()
}

func testHistory(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	for i := range 7 {
		f.clock.Advance(time.Minute)
		f.post(ledger.TransferID(fmt.Sprintf("in%d", i)), "issuer", "alice", "2")
		f.post(ledger.TransferID(fmt.Sprintf("out%d", i)), "alice", "bob", "1")
	}
	var got []ledger.Entry
	p := ledger.HistoryParams{Account: "alice", Limit: 4}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatalf("History never ended")
		}
		page, err := f.l.History(f.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Entries...)
		if page.Next == "" {
			break
		}
		p.Cursor = page.Next
	}
	if len(got) != 14 {
		t.Fatalf("History returned %d entries, want 14", len(got))
	}
	running := decimal.Zero
	for i, e := range got {
		running = running.Add(e.Change)
		if !e.Balance.Equal(running) {
			t.Errorf("entry %d (%s): balance %s, running sum %s", i, e.ID, e.Balance, running)
		}
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Errorf("entry %d out of order", i)
		}
	}
	var fromIter []ledger.Entry
	for e, err := range f.l.Entries(f.ctx, "alice", start.Add(3*time.Minute), start.Add(5*time.Minute)) {
		if err != nil {
			t.Fatal(err)
		}
		fromIter = append(fromIter, e)
	}
	if len(fromIter) != 4 || fromIter[0].ID != "in2" {
		t.Errorf("Entries in [3m, 5m) = %d entries starting %v, want 4 from in2", len(fromIter), fromIter)
	}
	for _, tc := range []struct {
		name string
		p    ledger.HistoryParams
		want error
	}{
		{"BadCursor", ledger.HistoryParams{Account: "alice", Cursor: "x"}, ledger.ErrInvalid},
		{"BadLimit", ledger.HistoryParams{Account: "alice", Limit: 1001}, ledger.ErrInvalid},
		{"UnknownAccount", ledger.HistoryParams{Account: "nobody"}, ledger.ErrNotFound},
	} {
		if _, err := f.l.History(f.ctx, tc.p); !errors.Is(err, tc.want) {
			t.Errorf("%s: History = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func testBalanceAt(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.clock.Advance(time.Hour)
	f.post("a", "issuer", "alice", "3") // at +1h
	f.clock.Advance(time.Hour)
	f.post("b", "alice", "bob", "1") // at +2h
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{start, "0"},
		{start.Add(time.Hour - time.Microsecond), "0"},
		{start.Add(time.Hour), "3"},
		{start.Add(90 * time.Minute), "3"},
		{start.Add(2 * time.Hour), "2"},
		{start.Add(48 * time.Hour), "2"},
	} {
		got, err := f.l.BalanceAt(f.ctx, "alice", tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(d(tc.want)) {
			t.Errorf("BalanceAt(alice, %v) = %s, want %s", tc.at.Sub(start), got, tc.want)
		}
	}
	if _, err := f.l.BalanceAt(f.ctx, "nobody", start); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("BalanceAt(unknown) = %v, want ErrNotFound", err)
	}
}

func testClockBackwards(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.clock.Advance(time.Hour)
	first := f.post("a", "issuer", "alice", "3")
	f.clock.Set(start) // a replica whose clock is behind
	second := f.post("b", "alice", "bob", "1")
	if second.PostedAt.Before(first.PostedAt) {
		t.Errorf("second transfer at %v precedes the first at %v on the same account", second.PostedAt, first.PostedAt)
	}
	got, err := f.l.BalanceAt(f.ctx, "alice", first.PostedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(d("2")) {
		t.Errorf("BalanceAt = %s, want 2: both transfers by then", got)
	}
}

func testHotAccount(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	const workers, each, funded = 8, 25, 120
	f.post("fund", "issuer", "alice", fmt.Sprint(funded))
	var wg sync.WaitGroup
	var mu sync.Mutex
	okCount, refused := 0, 0
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := f.l.Post(f.ctx, ledger.Transfer{ID: ledger.TransferID(fmt.Sprintf("w%d-%d", w, i)), Debit: "alice", Credit: "bob", Amount: d("1")})
				mu.Lock()
				switch {
				case err == nil:
					okCount++
				case errors.Is(err, ledger.ErrInsufficientBalance):
					refused++
				default:
					errs <- err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error under contention: %v", err)
	}
	if okCount != funded || refused != workers*each-funded {
		t.Errorf("%d posted and %d refused, want %d and %d", okCount, refused, funded, workers*each-funded)
	}
	f.wantBalance("alice", "0", "0")
	f.wantBalance("bob", fmt.Sprint(funded), "0")
	f.verify()
}

func testSameIDConcurrently(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	const workers = 8
	var wg sync.WaitGroup
	results := make([]ledger.Transfer, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w], errs[w] = f.l.Post(f.ctx, ledger.Transfer{ID: "once", Debit: "issuer", Credit: "alice", Amount: d("7")})
		}()
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Errorf("worker %d: %v", w, errs[w])
		} else if results[w].Seq != results[0].Seq {
			t.Errorf("worker %d got Seq %d, worker 0 got %d: want one transfer", w, results[w].Seq, results[0].Seq)
		}
	}
	f.wantBalance("alice", "7", "0")
	f.verify()
}

func testHoldSettledOnce(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "10")
	if _, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "alice", Credit: "bob", Amount: d("6")}); err != nil {
		t.Fatal(err)
	}
	const workers = 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w%2 == 0 {
				_, errs[w] = f.l.PostHold(f.ctx, "h", d("6"))
			} else {
				_, errs[w] = f.l.VoidHold(f.ctx, "h")
			}
		}()
	}
	wg.Wait()
	oneWinner(t, errs, ledger.ErrHoldNotPending, "settlements")
	h, _ := f.l.Hold(f.ctx, "h")
	switch h.Status {
	case ledger.HoldPosted:
		f.wantBalance("alice", "4", "0")
	case ledger.HoldVoided:
		f.wantBalance("alice", "10", "0")
	default:
		t.Errorf("hold ended %s", h.Status)
	}
	f.verify()
}

// oneWinner checks that exactly one of the racing writes that returned errs
// succeeded and that every other was refused with an error matching lost.
func oneWinner(t *testing.T, errs []error, lost error, what string) {
	t.Helper()
	won := 0
	for w, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, lost):
			t.Errorf("%s: number %d returned %v, want success or %v", what, w, err, lost)
		}
	}
	if won != 1 {
		t.Errorf("%d %s succeeded, want exactly 1", won, what)
	}
}

// settled checks that the hold id, settled as status, can be neither posted
// nor voided: both are refused with a *HoldStateError naming the status,
// which matches ErrHoldNotPending.
func (f *fixture) settled(id ledger.TransferID, status ledger.HoldStatus) {
	f.t.Helper()
	for _, settle := range []struct {
		name string
		do   func() error
	}{
		{"PostHold", func() error { _, err := f.l.PostHold(f.ctx, id, d("1")); return err }},
		{"VoidHold", func() error { _, err := f.l.VoidHold(f.ctx, id); return err }},
	} {
		err := settle.do()
		var hse *ledger.HoldStateError
		if !errors.Is(err, ledger.ErrHoldNotPending) || !errors.As(err, &hse) || hse.Status != status {
			f.t.Errorf("%s(%s hold %q) = %v, want a *HoldStateError %s matching ErrHoldNotPending", settle.name, status, id, err, status)
		}
	}
}
