package pgxstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// lockedElsewhere reports whether another session holds a lock on the
// account's row, by trying to take it without waiting.
func lockedElsewhere(t *testing.T, db *testDB, id string) bool {
	t.Helper()
	return rowLockedElsewhere(t, db, "allot_accounts", "id = $1", id)
}

// rowLockedElsewhere reports whether another session holds a lock on the
// rows of table that match where, by trying to take them without waiting.
func rowLockedElsewhere(t *testing.T, db *testDB, table, where string, args ...any) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, "SELECT 1 FROM "+pgx.Identifier{db.schema, table}.Sanitize()+" WHERE "+where+" FOR UPDATE NOWAIT", args...)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

func TestInTx_CancelMidTransaction(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 2, nil)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, nil)

	ctx, cancel := context.WithCancel(context.Background())
	locked := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.InTx(ctx, func(tx ledger.Tx) error {
			b := ledger.NewBook(tx, time.Now())
			if _, err := b.Post(ctx, ledger.Transfer{ID: "t1", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(1)}); err != nil {
				return err
			}
			close(locked)
			<-ctx.Done() // the account rows stay locked until the cancel
			return ctx.Err()
		})
	}()
	<-locked
	if !lockedElsewhere(t, db, "a") {
		t.Fatal("the posting transaction holds no lock on its account")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("InTx = %v, want context.Canceled", err)
	}
	if lockedElsewhere(t, db, "a") {
		t.Error("the account is still locked right after InTx returned")
	}
	if _, err := l.Transfer(context.Background(), "t1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Transfer(t1) = %v, want ErrNotFound: the cancelled post was rolled back", err)
	}
}

func TestInTx_CancelWhileWaitingForLock(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 2, nil)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, nil)

	// Another session holds the account's lock.
	bg := context.Background()
	holder, err := db.pool(t, 1).Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(bg, "SELECT 1 FROM allot_accounts WHERE id = 'a' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	_, err = l.Post(ctx, ledger.Transfer{ID: "t1", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(1)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Post while the account is locked elsewhere = %v, want context.DeadlineExceeded", err)
	}
	if err := holder.Rollback(bg); err != nil {
		t.Fatal(err)
	}
	// The abandoned waiter must neither post nor keep the lock.
	deadline := time.Now().Add(5 * time.Second)
	for lockedElsewhere(t, db, "a") {
		if time.Now().After(deadline) {
			t.Fatal("the account is still locked 5s after the cancelled post gave up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := l.Post(bg, ledger.Transfer{ID: "t2", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Transfer(bg, "t1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Transfer(t1) = %v, want ErrNotFound", err)
	}
	mustVerify(t, l)
}

// conflictOnce makes fn's transaction meet a serialization failure on its
// first attempt: it reads account a (a REPEATABLE READ snapshot), another
// session then updates a, and fn locks a.
func conflictOnce(t *testing.T, db *testDB, onLockErr func(error) error) (fn func(ledger.Tx) error, attempts *int) {
	other := db.pool(t, 1)
	attempts = new(int)
	fn = func(tx ledger.Tx) error {
		ctx := context.Background()
		*attempts++
		if _, err := tx.AccountGet(ctx, "a"); err != nil {
			return err
		}
		if *attempts == 1 {
			if _, err := other.Exec(ctx, "UPDATE allot_accounts SET version = version + 1 WHERE id = 'a'"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.AccountsLock(ctx, []ledger.AccountID{"a"}, nil); err != nil {
			return onLockErr(err)
		}
		return nil
	}
	return fn, attempts
}

func TestInTx_RetriesSerializationFailure(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 2, nil)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, nil)

	t.Run("Retried", func(t *testing.T) {
		fn, attempts := conflictOnce(t, db, func(err error) error { return err })
		if err := s.InTx(context.Background(), fn); err != nil {
			t.Fatalf("InTx = %v, want success after a retry", err)
		}
		if *attempts != 2 {
			t.Errorf("fn ran %d times, want 2", *attempts)
		}
	})
	t.Run("NotABusinessError", func(t *testing.T) {
		// fn turns the failure into "insufficient balance"; the store still
		// knows the attempt met a conflict and runs it again.
		fn, attempts := conflictOnce(t, db, func(err error) error {
			return &ledger.InsufficientBalanceError{Account: "a"}
		})
		if err := s.InTx(context.Background(), fn); err != nil {
			t.Fatalf("InTx = %v, want success after a retry", err)
		}
		if *attempts != 2 {
			t.Errorf("fn ran %d times, want 2", *attempts)
		}
	})
	t.Run("GivesUp", func(t *testing.T) {
		s := db.store(t, 1, &pgxstore.Options{MaxRetries: -1})
		fn, attempts := conflictOnce(t, db, func(err error) error { return err })
		err := s.InTx(context.Background(), fn)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "40001" || !strings.Contains(err.Error(), "giving up") {
			t.Errorf("InTx = %v, want an error that gives up and wraps the 40001 failure", err)
		}
		var ce *pgxstore.ConflictsError
		if !errors.As(err, &ce) || ce.Attempts != 1 || allot.ErrorCode(err) != allot.CodeUnavailable || allot.HTTPStatus(err) != 503 {
			t.Errorf("InTx = %v (code %q), want a *ConflictsError of 1 attempt with code unavailable, status 503", err, allot.ErrorCode(err))
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Errorf("InTx = %v, which matches %v; a conflict is not a business error", err, s)
			}
		}
		if *attempts != 1 {
			t.Errorf("fn ran %d times, want 1", *attempts)
		}
	})
}

// TestInTx_RetriesAreObservable checks that a retry is logged at info with
// its cause, and reported to OnRetry, and that running out of retries is
// logged at warn.
func TestInTx_RetriesAreObservable(t *testing.T) {
	db := newTestDB(t)
	var logs bytes.Buffer
	var hooked []string
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := &pgxstore.Options{Logger: logger, OnRetry: func(_ context.Context, attempt int, cause error) {
		var pe *pgconn.PgError
		errors.As(cause, &pe)
		hooked = append(hooked, fmt.Sprint(attempt, " ", pe.Code))
	}}
	s := db.store(t, 2, opts)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, nil)
	fn, _ := conflictOnce(t, db, func(err error) error { return err })
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
	if len(hooked) != 1 || hooked[0] != "1 40001" {
		t.Errorf("OnRetry saw %q; want one call for attempt 1 with a 40001 cause", hooked)
	}
	if out := logs.String(); !strings.Contains(out, "level=INFO") || !strings.Contains(out, "retrying") || !strings.Contains(out, "40001") {
		t.Errorf("log:\n%s\nwant an info record of the retry and its cause", out)
	}

	logs.Reset()
	opts.MaxRetries = -1
	s = db.store(t, 1, opts)
	fn, _ = conflictOnce(t, db, func(err error) error { return err })
	if err := s.InTx(context.Background(), fn); err == nil {
		t.Fatal("InTx succeeded without retries")
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "ran out") {
		t.Errorf("log:\n%s\nwant a warn record of the retries running out", out)
	}
}

func TestInTx_ReadsOneSnapshot(t *testing.T) {
	// A transaction that starts by reading sees one snapshot: a commit
	// between two of its reads does not show.
	db := newTestDB(t)
	s := db.store(t, 2, nil)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, nil)
	ctx := context.Background()
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		before, err := tx.AccountGet(ctx, "a")
		if err != nil {
			return err
		}
		if _, err := l.Post(ctx, ledger.Transfer{ID: "t", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(3)}); err != nil {
			return err
		}
		after, err := tx.AccountGet(ctx, "a")
		if err != nil {
			return err
		}
		if !after.Posted.Equal(before.Posted) {
			t.Errorf("a read %s then %s in one transaction; want one snapshot", before.Posted, after.Posted)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestApply_SeqFollowsOrder(t *testing.T) {
	db := newTestDB(t)
	l, _ := ledger.New(db.store(t, 2, nil), nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": 0, "b": 0}, nil)
	ts := make([]ledger.Transfer, 1000)
	for i := range ts {
		d, c := ledger.AccountID("a"), ledger.AccountID("b")
		if i%3 == 0 {
			d, c = c, d
		}
		// IDs in an order unlike their positions.
		ts[i] = ledger.Transfer{ID: ledger.TransferID(strings.Repeat("z", i%7) + string(rune('a'+i%26)) + decimal.NewFromInt(int64(i)).String()), Debit: d, Credit: c, Amount: decimal.NewFromInt(1)}
	}
	res, err := l.PostBatch(context.Background(), ts)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if i > 0 && r.Transfer.Seq != res[i-1].Transfer.Seq+1 {
			t.Fatalf("transfer %d has Seq %d after %d; want consecutive numbers in batch order", i, r.Transfer.Seq, res[i-1].Transfer.Seq)
		}
	}
	mustVerify(t, l)
}

// callerFixture is a ledger with "issuer" and a non-negative "a" holding
// 10, its store and its pool, whose database has a table of the caller's own,
// orders (id text PRIMARY KEY), for writes beside the ledger's in a
// transaction the caller owns.
func callerFixture(t *testing.T) (*pgxpool.Pool, *pgxstore.Store, *ledger.Ledger) {
	t.Helper()
	db := newTestDB(t)
	pool := db.pool(t, 2)
	s, err := pgxstore.New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, map[ledger.AccountID]int64{"a": 10})
	if _, err := pool.Exec(context.Background(), "CREATE TABLE orders (id text PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	return pool, s, l
}

func TestCallerTransaction(t *testing.T) {
	pool, s, l := callerFixture(t)
	ctx := context.Background()
	order := func(tx pgx.Tx, id string, amount int64, fail bool) error {
		if _, err := tx.Exec(ctx, "INSERT INTO orders (id) VALUES ($1)", id); err != nil {
			return err
		}
		return s.WithTx(tx).InTx(ctx, func(ltx ledger.Tx) error {
			b := ledger.NewBook(ltx, time.Now())
			if _, err := b.Post(ctx, ledger.Transfer{ID: ledger.TransferID(id), Debit: "a", Credit: "issuer", Amount: decimal.NewFromInt(amount)}); err != nil {
				return err
			}
			if fail {
				return errors.New("fail after posting")
			}
			return nil
		})
	}
	exists := func(id string) (row, transfer bool) {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM orders WHERE id = $1", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		_, err := l.Transfer(ctx, ledger.TransferID(id))
		return n == 1, err == nil
	}

	t.Run("Commit", func(t *testing.T) {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return order(tx, "o1", 3, false) }); err != nil {
			t.Fatal(err)
		}
		if row, tr := exists("o1"); !row || !tr {
			t.Errorf("after commit: order row %v, transfer %v; want both", row, tr)
		}
	})
	t.Run("CallerRollsBack", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := order(tx, "o2", 3, false); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if row, tr := exists("o2"); row || tr {
			t.Errorf("after rollback: order row %v, transfer %v; want neither", row, tr)
		}
	})
	t.Run("LedgerErrorKeepsCallerTx", func(t *testing.T) {
		// The ledger part fails (insufficient balance, then fn's own error
		// after a post); the caller's transaction stays usable and commits
		// its own rows without the ledger's.
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := order(tx, "o3", 100, false); !errors.Is(err, ledger.ErrInsufficientBalance) {
				t.Errorf("overdraft = %v, want ErrInsufficientBalance", err)
			}
			if err := order(tx, "o4", 1, true); err == nil {
				t.Errorf("fn's error was lost")
			}
			_, err := tx.Exec(ctx, "INSERT INTO orders (id) VALUES ('o5')")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string][2]bool{"o3": {true, false}, "o4": {true, false}, "o5": {true, false}} {
			if row, tr := exists(id); row != want[0] || tr != want[1] {
				t.Errorf("%s: order row %v, transfer %v; want %v, %v", id, row, tr, want[0], want[1])
			}
		}
		if b := balance(t, l, "a"); !b.Posted.Equal(decimal.NewFromInt(7)) {
			t.Errorf("a = %s, want 7", b.Posted)
		}
	})
	mustVerify(t, l)
}

func TestMigrate(t *testing.T) {
	db := newTestDB(t)
	pool := db.pool(t, 2)
	ctx := context.Background()
	t.Run("Idempotent", func(t *testing.T) {
		if err := pgxstore.Migrate(ctx, pool, ""); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM allot_schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		files, err := os.ReadDir("migrations")
		if err != nil {
			t.Fatal(err)
		}
		if n != len(files) || n < 2 {
			t.Errorf("%d migrations recorded, want one per file of migrations/ (%d)", n, len(files))
		}
	})
	t.Run("ConcurrentReplicas", func(t *testing.T) {
		schema := db.schema + "_named"
		t.Cleanup(func() {
			_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		})
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			p := db.pool(t, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = pgxstore.Migrate(ctx, p, schema)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		}
		// A store with Options.Schema works on a pool whose search_path
		// does not name the schema.
		s, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		l, _ := ledger.New(s, nil)
		mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, map[ledger.AccountID]int64{"a": 5})
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "allot_transfers"}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d transfers in schema %s, want 1", n, schema)
		}
		mustVerify(t, l)
	})
}

func TestNew_Options(t *testing.T) {
	if _, err := pgxstore.New(nil, nil); err == nil {
		t.Error("New(nil pool) succeeded")
	}
}

func TestApply_NamesTheStaleAccount(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 2, nil)
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": 0, "b": 0}, nil)
	ctx := context.Background()
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		as, err := tx.AccountsLock(ctx, []ledger.AccountID{"a", "b"}, nil)
		if err != nil {
			return err
		}
		as[0].Version++    // a: the next version
		as[1].Version += 2 // b: skips one
		err = tx.Apply(ctx, ledger.Changes{Accounts: as})
		if err == nil || !strings.Contains(err.Error(), `"b"`) || strings.Contains(err.Error(), `"a"`) {
			t.Errorf("Apply = %v, want an error about account b only", err)
		}
		// Nothing was written, and the transaction is still usable.
		got, err := tx.AccountGet(ctx, "a")
		if err != nil {
			return err
		}
		if got.Version != as[0].Version-1 {
			t.Errorf("a is at version %d after a refused Apply, want %d", got.Version, as[0].Version-1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExecLater_NoRowRollsBackTheCommit sends, with the commit, a write that
// changes no row: the server must refuse it before the COMMIT it travels
// with, so the attempt commits nothing, and the function runs again with its
// writes sent at once, where the write reports that it changed nothing.
func TestExecLater_NoRowRollsBackTheCommit(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 1, nil)
	ctx := context.Background()
	if _, err := db.pool(t, 1).Exec(ctx, "CREATE TABLE marks (id text PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	errGone := errors.New("the row is gone")
	runs := 0
	err := s.InTx(ctx, func(tx ledger.Tx) error {
		runs++
		// A read begins the transaction, so the writes below may wait.
		if _, err := tx.AccountGet(ctx, "none"); !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("AccountGet = %v, want ErrNotFound", err)
		}
		ptx := tx.(*pgxstore.Tx)
		if err := pgxstore.ExecLater(ctx, ptx, "INSERT INTO marks (id) VALUES ($1)", errGone, "m"); err != nil {
			return err
		}
		return pgxstore.ExecLater(ctx, ptx, "UPDATE marks SET id = id WHERE id = $1", errGone, "absent")
	})
	if !errors.Is(err, errGone) {
		t.Fatalf("InTx = %v, want the write's own error", err)
	}
	if runs != 2 {
		t.Errorf("the function ran %d times, want 2 (deferred, then at once)", runs)
	}
	var n int
	if err := db.pool(t, 1).QueryRow(ctx, "SELECT count(*) FROM marks").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows committed by a transaction whose write changed no row, want 0", n)
	}
}
