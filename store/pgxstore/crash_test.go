package pgxstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// crashGroup is the n-th group the helper posts: always the same contents
// for the same n, so re-posting it is idempotent.
func crashGroup(n int) []ledger.Transfer {
	id := fmt.Sprintf("crash-%d", n)
	return []ledger.Transfer{
		{ID: ledger.TransferID(id + "-a"), Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(2)},
		{ID: ledger.TransferID(id + "-b"), Debit: "a", Credit: "b", Amount: decimal.NewFromInt(1)},
	}
}

func crashHelper(schema string) error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(envURL))
	if err != nil {
		return err
	}
	s, err := pgxstore.New(pool, &pgxstore.Options{Schema: schema})
	if err != nil {
		return err
	}
	l, err := ledger.New(s, nil)
	if err != nil {
		return err
	}
	for n := 0; ; n++ {
		if _, err := l.PostGroup(ctx, crashGroup(n)); err != nil {
			return err
		}
		// A batch too, so that a kill can land inside a large Apply.
		batch := make([]ledger.Transfer, 50)
		for i := range batch {
			batch[i] = ledger.Transfer{ID: ledger.TransferID(fmt.Sprintf("crash-%d-batch-%d", n, i)), Debit: "issuer", Credit: "b", Amount: decimal.NewFromInt(1)}
		}
		if _, err := l.PostBatch(ctx, batch); err != nil {
			return err
		}
		fmt.Println(n)
	}
}

func TestCrash_KilledMidPost(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 2, &pgxstore.Options{Schema: db.schema})
	l, _ := ledger.New(s, nil)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative, "b": ledger.FlagNonNegative}, nil)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashSchemaEnv+"="+db.schema)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it commit a few groups, then kill it at a moment of its own.
		lines := bufio.NewScanner(out)
		last := -1
		for last < 5+round*7 && lines.Scan() {
			last, _ = strconv.Atoi(strings.TrimSpace(lines.Text()))
		}
		time.Sleep(time.Duration(round) * 3 * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() {
			last, _ = strconv.Atoi(strings.TrimSpace(lines.Text()))
		}
		_ = cmd.Wait()
		if last < 0 {
			t.Fatalf("round %d: the helper committed nothing before it was killed", round)
		}
		r := mustVerify(t, l)

		// Re-post everything the helper may have started, and a little
		// more: what committed is returned as it was, nothing twice.
		ctx := context.Background()
		for n := 0; n <= last+2; n++ {
			if _, err := l.PostGroup(ctx, crashGroup(n)); err != nil {
				t.Fatalf("round %d: re-post group %d: %v", round, n, err)
			}
		}
		after := mustVerify(t, l)
		if after.Transfers < r.Transfers {
			t.Errorf("round %d: journal shrank from %d to %d", round, r.Transfers, after.Transfers)
		}
		var n int
		if err := s.InTx(ctx, func(tx ledger.Tx) error {
			ts, err := tx.TransferList(ctx, ledger.TransferListParams{Account: "a"})
			n = len(ts)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if a := balance(t, l, "a"); !a.Posted.Equal(decimal.NewFromInt(int64(n / 2))) {
			t.Errorf("round %d: a = %s after %d transfers of its groups; want one unit per group", round, a.Posted, n)
		}
		// The helper printed each group after its commit, so it committed
		// at most group last+1 beyond what it printed: groups 0..last+2 now
		// exist, each once.
		if want := 2 * (last + 3); n != want {
			t.Errorf("round %d: %d transfers touch a, want %d: a group is missing, doubled or half committed", round, n, want)
		}
	}
}
