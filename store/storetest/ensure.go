package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/google/go-cmp/cmp"
)

// testAccountsEnsure is the contract of Tx.AccountsEnsure, through the Tx
// and through Book.EnsureAccount(s), which stores may defer.
func testAccountsEnsure(t *testing.T, newStore Factory) {
	t.Run("Tx", func(t *testing.T) {
		f := basic(t, newStore)
		f.post("fund", "issuer", "alice", "5")
		at := start.Add(time.Hour)
		newOne := ledger.AccountState{Account: ledger.Account{ID: "carol", Unit: "credit", Owner: "acme", Flags: ledger.FlagNonNegative,
			Metadata: map[string]string{"team": "blue"}, CreatedAt: at}, Scale: 7, Version: 3}
		// alice exists as given (nil and empty metadata alike); carol is new.
		existing := ledger.AccountState{Account: ledger.Account{ID: "alice", Unit: "pass", Flags: ledger.FlagNonNegative,
			Metadata: map[string]string{}, CreatedAt: at}}
		var aliceBefore ledger.AccountState
		f.tx(func(tx ledger.Tx) error {
			var err error
			aliceBefore, err = tx.AccountGet(f.ctx, "alice")
			return err
		})
		f.tx(func(tx ledger.Tx) error {
			if err := tx.AccountsEnsure(f.ctx, []ledger.AccountState{newOne, existing}); err != nil {
				t.Fatalf("AccountsEnsure(carol, alice): %v", err)
			}
			// Seen by the transaction's next calls, the lock included.
			got, err := tx.AccountsLock(f.ctx, []ledger.AccountID{"alice", "carol"}, nil)
			if err != nil || len(got) != 2 {
				t.Fatalf("AccountsLock(alice, carol) after the ensure = %v, %v", got, err)
			}
			return nil
		})
		var carol, alice ledger.AccountState
		f.tx(func(tx ledger.Tx) error {
			var err error
			if carol, err = tx.AccountGet(f.ctx, "carol"); err != nil {
				return err
			}
			alice, err = tx.AccountGet(f.ctx, "alice")
			return err
		})
		want := ledger.AccountState{Account: newOne.Account, Scale: 2}
		if diff := cmp.Diff(want, carol, cmpOpts); diff != "" {
			t.Errorf("the ensured account (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(aliceBefore, alice, cmpOpts); diff != "" {
			t.Errorf("ensuring an existing account changed it (-before +after):\n%s", diff)
		}

		// Refusals: the first bad account in order is reported and nothing
		// is written, not even the accounts before it.
		before := f.snapshot()
		fresh := ledger.AccountState{Account: ledger.Account{ID: "dave", Unit: "pass", CreatedAt: at}}
		for _, tc := range []struct {
			name  string
			as    []ledger.AccountState
			field string // of the *ConflictError; empty: ErrNotFound
		}{
			{"Unit", []ledger.AccountState{fresh, {Account: ledger.Account{ID: "alice", Unit: "credit", Flags: ledger.FlagNonNegative}}}, "unit"},
			{"Owner", []ledger.AccountState{fresh, {Account: ledger.Account{ID: "alice", Unit: "pass", Owner: "acme", Flags: ledger.FlagNonNegative}}}, "owner"},
			{"Flags", []ledger.AccountState{fresh, {Account: ledger.Account{ID: "alice", Unit: "pass"}}}, "flags"},
			{"Metadata", []ledger.AccountState{fresh, {Account: ledger.Account{ID: "carol", Unit: "credit", Owner: "acme", Flags: ledger.FlagNonNegative,
				Metadata: map[string]string{"team": "red"}}}}, "metadata"},
			{"MetadataMissing", []ledger.AccountState{fresh, {Account: ledger.Account{ID: "carol", Unit: "credit", Owner: "acme", Flags: ledger.FlagNonNegative}}}, "metadata"},
			{"UnitMissing", []ledger.AccountState{fresh, {Account: ledger.Account{ID: "erin", Unit: "nope"}}}, ""},
			{"FirstReported", []ledger.AccountState{{Account: ledger.Account{ID: "erin", Unit: "nope"}}, {Account: ledger.Account{ID: "alice", Unit: "credit"}}}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := f.store.InTx(f.ctx, func(tx ledger.Tx) error {
					return tx.AccountsEnsure(f.ctx, tc.as)
				})
				checkEnsureErr(t, err, tc.field)
				f.unchanged(before)
			})
		}
	})

	t.Run("Book", func(t *testing.T) {
		f := basic(t, newStore)
		ctx := f.ctx
		f.clock.Advance(time.Minute)
		if err := f.l.EnsureAccount(ctx, ledger.Account{ID: "carol", Unit: "pass", Owner: "acme"}); err != nil {
			t.Fatalf("EnsureAccount(carol): %v", err)
		}
		carol, err := f.l.Account(ctx, "carol")
		if err != nil || !carol.CreatedAt.Equal(f.clock.Now()) || carol.Owner != "acme" {
			t.Errorf("Account(carol) = %+v, %v; want it created now, owned by acme", carol, err)
		}
		f.clock.Advance(time.Minute)
		var as []ledger.Account
		for i := range 50 {
			as = append(as, ledger.Account{ID: ledger.AccountID(fmt.Sprint("member-", i)), Unit: "pass", Owner: "acme"})
		}
		as = append(as, as[0], ledger.Account{ID: "carol", Unit: "pass", Owner: "acme"}) // repeated, and existing
		if err := f.l.EnsureAccounts(ctx, as); err != nil {
			t.Fatalf("EnsureAccounts(50 members, a repeat, carol): %v", err)
		}
		if again, err := f.l.Account(ctx, "carol"); err != nil || !again.CreatedAt.Equal(carol.CreatedAt) {
			t.Errorf("carol after ensuring it again = %+v, %v; want it as it was", again, err)
		}
		if got := f.snapshot(); len(got.Accounts) != 4+1+50 {
			t.Errorf("%d accounts after ensuring 51, want %d", len(got.Accounts), 4+1+50)
		}
		// EnsureAccounts of nothing does nothing.
		if err := f.l.EnsureAccounts(ctx, nil); err != nil {
			t.Errorf("EnsureAccounts(nil) = %v", err)
		}

		before := f.snapshot()
		// The same refusal as CreateAccount's.
		other := ledger.Account{ID: "alice", Unit: "pass", Owner: "globex", Flags: ledger.FlagNonNegative}
		_, cerr := f.l.CreateAccount(ctx, other)
		eerr := f.l.EnsureAccount(ctx, other)
		var c1, c2 *ledger.ConflictError
		if !errors.As(cerr, &c1) || !errors.As(eerr, &c2) || *c1 != *c2 {
			t.Errorf("EnsureAccount(alice owned by globex) = %v; want CreateAccount's %v", eerr, cerr)
		}
		// An ID repeated with another definition among more accounts than
		// the ledger compares one by one.
		many := make([]ledger.Account, 0, 20)
		for i := range 19 {
			many = append(many, ledger.Account{ID: ledger.AccountID(fmt.Sprint("many-", i)), Unit: "pass"})
		}
		many = append(many, ledger.Account{ID: "many-3", Unit: "credit"})
		for _, tc := range []struct {
			name string
			as   []ledger.Account
			want error
		}{
			{"RepeatedDifferentlyAmongMany", many, ledger.ErrConflict},
			{"NoID", []ledger.Account{{Unit: "pass"}}, ledger.ErrInvalid},
			{"BadFlags", []ledger.Account{{ID: "x", Unit: "pass", Flags: 8}}, ledger.ErrInvalid},
			{"BadSecond", []ledger.Account{{ID: "x", Unit: "pass"}, {ID: "y"}}, ledger.ErrInvalid},
			{"RepeatedDifferently", []ledger.Account{{ID: "x", Unit: "pass"}, {ID: "x", Unit: "credit"}}, ledger.ErrConflict},
			{"UnknownUnit", []ledger.Account{{ID: "x", Unit: "pass"}, {ID: "y", Unit: "nope"}}, ledger.ErrNotFound},
			{"Conflict", []ledger.Account{{ID: "x", Unit: "pass"}, other}, ledger.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := f.l.EnsureAccounts(ctx, tc.as); !errors.Is(err, tc.want) {
					t.Errorf("EnsureAccounts = %v, want %v", err, tc.want)
				}
				f.unchanged(before)
			})
		}
	})

	// A refused ensure writes nothing even when the function goes on and
	// commits: a store that deferred it reports it from the call all the
	// same.
	t.Run("RefusedInsideATransaction", func(t *testing.T) {
		f := basic(t, newStore)
		var ensureErr error
		err := f.store.InTx(f.ctx, func(tx ledger.Tx) error {
			b := ledger.NewBook(tx, f.clock.Now())
			ensureErr = b.EnsureAccounts(f.ctx, []ledger.Account{{ID: "carol", Unit: "pass"}, {ID: "alice", Unit: "credit"}})
			if err := b.EnsureAccount(f.ctx, ledger.Account{ID: "dave", Unit: "pass"}); err != nil {
				return err
			}
			_, err := b.Post(f.ctx, ledger.Transfer{ID: "t1", Debit: "issuer", Credit: "dave", Amount: d("2")})
			return err
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		var ce *ledger.ConflictError
		if !errors.As(ensureErr, &ce) || ce.ID != "alice" || ce.Field != "unit" {
			t.Errorf("EnsureAccounts(carol, alice counting credits) = %v, want a conflict on alice's unit", ensureErr)
		}
		if _, err := f.l.Account(f.ctx, "carol"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("Account(carol) = %v, want ErrNotFound: the refused ensure wrote it", err)
		}
		f.wantBalance("dave", "2", "0")
		f.verify()
	})
}

// checkEnsureErr checks a refused AccountsEnsure: a *ConflictError on field,
// or ErrNotFound if field is empty.
func checkEnsureErr(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccountsEnsure = %v, want ErrNotFound", err)
		}
		return
	}
	var ce *ledger.ConflictError
	if !errors.As(err, &ce) || ce.Kind != "account" || ce.Field != field {
		t.Errorf("AccountsEnsure = %v, want a *ConflictError on the account's %s", err, field)
	}
}
