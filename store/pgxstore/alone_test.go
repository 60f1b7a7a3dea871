package pgxstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
)

// TestPost_CommittedMismatch checks what a Ledger.Post reports when the
// ledger computes another change than the post the database wrote and
// committed with the lock: an internal error that says the transfer was
// committed, a warning in the log, and a retry with the same ID that
// returns the transfer as it was committed, once.
func TestPost_CommittedMismatch(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	var logs bytes.Buffer
	s := db.store(t, 1, &pgxstore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative, "b": 0}, map[ledger.AccountID]int64{"a": 10})
	pgxstore.ForceCommittedMismatch(s)

	tr := ledger.Transfer{ID: "t1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3)}
	_, err := l.Post(ctx, tr)
	if err == nil || !strings.Contains(err.Error(), "committed as the database computed it") || !strings.Contains(err.Error(), "retry with the same ID") {
		t.Fatalf("Post = %v, want an error that says the transfer was committed and a retry returns it", err)
	}
	if code := allot.ErrorCode(err); code != allot.CodeInternal {
		t.Errorf("the error's code is %q, want %q", code, allot.CodeInternal)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "t1") {
		t.Errorf("log:\n%s\nwant a warning naming the transfer", out)
	}

	got, err := l.Post(ctx, tr)
	if err != nil {
		t.Fatalf("the retry: %v, want the committed transfer", err)
	}
	if got.Seq == 0 || !got.Amount.Equal(tr.Amount) || !got.DebitBalance.Equal(decimal.NewFromInt(7)) {
		t.Errorf("the retry returned %+v, want the transfer as committed, a's balance 7 after it", got)
	}
	bal, err := l.Balance(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !bal.Posted.Equal(decimal.NewFromInt(7)) {
		t.Errorf("a's posted balance is %v, want 7: the transfer once", bal.Posted)
	}
}

// TestPost_CommitWithLockRetried checks that a Ledger.Post whose batch
// (the lock, the write, COMMIT) meets a serialization failure is rolled
// back and runs again: the post is written once and the connection stays
// usable.
func TestPost_CommitWithLockRetried(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	var retries []string
	pool := db.pool(t, 1)
	s, err := pgxstore.New(pool, &pgxstore.Options{OnRetry: func(_ context.Context, attempt int, cause error) {
		var pe *pgconn.PgError
		errors.As(cause, &pe)
		retries = append(retries, pe.Code)
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative, "b": 0}, map[ledger.AccountID]int64{"a": 10})

	// The journal's next insert fails once with a serialization failure.
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{db.schema}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE SEQUENCE `+schema+`.fail_once;
CREATE FUNCTION `+schema+`.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF nextval('`+schema+`.fail_once') = 1 THEN
		RAISE EXCEPTION 'injected' USING ERRCODE = '40001';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER fail_once BEFORE INSERT ON `+schema+`.allot_transfers FOR EACH ROW EXECUTE FUNCTION `+schema+`.fail_once();`); err != nil {
		t.Fatal(err)
	}

	got, err := l.Post(ctx, ledger.Transfer{ID: "t1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3)})
	if err != nil {
		t.Fatalf("Post = %v, want success after a retry", err)
	}
	if len(retries) != 1 || retries[0] != "40001" {
		t.Errorf("retries %q, want one after a 40001", retries)
	}
	if got.Seq == 0 || !got.DebitBalance.Equal(decimal.NewFromInt(7)) {
		t.Errorf("Post returned %+v, want a's balance 7 after it", got)
	}
	if _, err := l.Post(ctx, ledger.Transfer{ID: "t2", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(1)}); err != nil {
		t.Fatalf("a post after the retried one: %v", err)
	}
	bal, err := l.Balance(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !bal.Posted.Equal(decimal.NewFromInt(6)) {
		t.Errorf("a's posted balance is %v, want 6: each transfer once", bal.Posted)
	}
	// The failed attempt was rolled back on its connection, which the
	// pool kept: a connection left in a transaction would be closed.
	if n := pool.Stat().NewConnsCount(); n != 1 {
		t.Errorf("the pool opened %d connections, want 1: the failed attempt's was left in its transaction", n)
	}
	if rep, err := l.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}

// failingCommit is a store that wraps another and fails every transaction
// after its function succeeded, as a commit that fails would: it offers
// only InTx, so a Ledger.Post through it may not commit with its lock.
type failingCommit struct{ ledger.Store }

var errFailedCommit = errors.New("the commit failed")

func (f failingCommit) InTx(ctx context.Context, fn func(tx ledger.Tx) error) error {
	return f.Store.InTx(ctx, func(tx ledger.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errFailedCommit
	})
}

// TestPost_WrappedStoreRollsBack checks that a Ledger.Post over a store
// that wraps a Store's InTx keeps InTx's contract: the wrapper's failure
// after the post rolls the post back.
func TestPost_WrappedStoreRollsBack(t *testing.T) {
	db := newTestDB(t)
	ctx := context.Background()
	s := db.store(t, 1, nil)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative, "b": 0}, map[ledger.AccountID]int64{"a": 10})
	wrapped, _ := ledger.New(failingCommit{s}, nil)
	if _, err := wrapped.Post(ctx, ledger.Transfer{ID: "t1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3)}); !errors.Is(err, errFailedCommit) {
		t.Fatalf("Post = %v, want the wrapper's failure", err)
	}
	if _, err := l.Transfer(ctx, "t1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Transfer after the failed commit = %v, want not found: the post was kept", err)
	}
}
