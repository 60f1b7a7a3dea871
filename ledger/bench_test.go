package ledger_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/shopspring/decimal"
)

// benchLedger returns a ledger on memstore with an issuer and accounts
// acct-0 .. acct-(n-1), all of unit "pass".
func benchLedger(b *testing.B, n int) *ledger.Ledger {
	b.Helper()
	ctx := context.Background()
	l, _ := ledger.New(memstore.New(), nil)
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "pass"}); err != nil {
		b.Fatal(err)
	}
	if _, err := l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"}); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID("acct-" + strconv.Itoa(i)), Unit: "pass", Flags: ledger.FlagNonNegative}); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// ids returns n distinct transfer IDs with a prefix, made before the timer
// starts.
func ids(prefix string, n int) []ledger.TransferID {
	out := make([]ledger.TransferID, n)
	for i := range out {
		out[i] = ledger.TransferID(prefix + strconv.Itoa(i))
	}
	return out
}

var one = decimal.NewFromInt(1)

func benchPost(b *testing.B, l *ledger.Ledger) {
	ctx := context.Background()
	tids := ids("t-", b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := l.Post(ctx, ledger.Transfer{ID: tids[i], Debit: "issuer", Credit: "acct-0", Amount: one}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedger_Post posts one transfer per operation, idempotency check
// and journal included, on an empty ledger.
func BenchmarkLedger_Post(b *testing.B) {
	benchPost(b, benchLedger(b, 1))
}

// largeJournal returns a ledger with 1,000,000 transfers in its journal,
// all between the same two accounts.
func largeJournal() (*ledger.Ledger, error) {
	const prior, chunk = 1_000_000, 1000
	ctx := context.Background()
	l, _ := ledger.New(memstore.New(), nil)
	l.DefineUnit(ctx, ledger.Unit{Code: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "acct-0", Unit: "pass", Flags: ledger.FlagNonNegative})
	batch := make([]ledger.Transfer, chunk)
	for k := 0; k < prior; k += chunk {
		for i := range batch {
			batch[i] = ledger.Transfer{ID: ledger.TransferID(fmt.Sprintf("prior-%d", k+i)), Debit: "issuer", Credit: "acct-0", Amount: one}
		}
		res, err := l.PostBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		if res[0].Err != nil {
			return nil, res[0].Err
		}
	}
	return l, nil
}

// BenchmarkLedger_PostLargeJournal is BenchmarkLedger_Post with 1,000,000
// transfers already in the journal. The ledger is built afresh for every
// call, outside the timer, so each measurement starts from the same million
// and adds b.N transfers, as BenchmarkLedger_Post adds them to an empty one.
func BenchmarkLedger_PostLargeJournal(b *testing.B) {
	l, err := largeJournal()
	if err != nil {
		b.Fatal(err)
	}
	benchPost(b, l)
}

// BenchmarkLedger_HoldPost reserves one unit and posts it: two operations,
// two transactions.
func BenchmarkLedger_HoldPost(b *testing.B) {
	ctx := context.Background()
	l := benchLedger(b, 1)
	if _, err := l.Post(ctx, ledger.Transfer{ID: "fund", Debit: "issuer", Credit: "acct-0", Amount: decimal.NewFromInt(1 << 40)}); err != nil {
		b.Fatal(err)
	}
	hids := ids("h-", b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := l.CreateHold(ctx, ledger.Hold{ID: hids[i], Debit: "acct-0", Credit: "issuer", Amount: one}); err != nil {
			b.Fatal(err)
		}
		if _, err := l.PostHold(ctx, hids[i], one); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedger_PostManyHolds posts from an account with 10,000 live holds
// that expire: every write asks which of them have expired, and the answer
// must not cost a scan of them all.
func BenchmarkLedger_PostManyHolds(b *testing.B) {
	const holds = 10_000
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	l, _ := ledger.New(memstore.New(), &ledger.Options{Clock: c})
	l.DefineUnit(ctx, ledger.Unit{Code: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"})
	l.CreateAccount(ctx, ledger.Account{ID: "pool", Unit: "pass", Flags: ledger.FlagNonNegative})
	if _, err := l.Post(ctx, ledger.Transfer{ID: "fund", Debit: "issuer", Credit: "pool", Amount: decimal.NewFromInt(1 << 40)}); err != nil {
		b.Fatal(err)
	}
	for i := range holds {
		h := ledger.Hold{ID: ledger.TransferID("h-" + strconv.Itoa(i)), Debit: "pool", Credit: "issuer", Amount: one, ExpiresAt: c.Now().Add(time.Duration(i+1) * time.Hour)}
		if _, err := l.CreateHold(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	tids := ids(fmt.Sprintf("many-%d-", b.N), b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := l.Post(ctx, ledger.Transfer{ID: tids[i], Debit: "pool", Credit: "issuer", Amount: one}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLedger_PostParallel posts from every goroutine at once, each on an
// account of its own.
func BenchmarkLedger_PostParallel(b *testing.B) {
	const accounts = 64
	l := benchLedger(b, accounts)
	ctx := context.Background()
	var worker, seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		acct := ledger.AccountID("acct-" + strconv.Itoa(int(worker.Add(1)-1)%accounts))
		for pb.Next() {
			id := ledger.TransferID("p-" + strconv.FormatInt(seq.Add(1), 10))
			if _, err := l.Post(ctx, ledger.Transfer{ID: id, Debit: "issuer", Credit: acct, Amount: one}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
