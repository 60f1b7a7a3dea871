package pgxstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// The benchmarks commit durably (synchronous_commit as the server has it,
// on by default) against the database of ALLOT_TEST_DATABASE_URL. Each
// ledger benchmark has a raw PostgreSQL ceiling beside it, measured in the
// same run with plain SQL. See BENCHMARKS.md for the figures and the
// command that reproduces them.

var benchSeq atomic.Int64

// benchID returns an ID no other benchmark iteration uses.
func benchID(prefix string) ledger.TransferID {
	return ledger.TransferID(fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), benchSeq.Add(1)))
}

// benchLedger returns a ledger over a fresh schema with a "credit" unit, a
// negative-allowed issuer and a non-negative "hot" account funded with a
// billion.
func benchLedger(b *testing.B, conns int32) (*testDB, *ledger.Ledger) {
	b.Helper()
	db := newTestDB(b)
	l, err := ledger.New(db.store(b, conns, nil), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "credit", Scale: 2}); err != nil {
		b.Fatal(err)
	}
	for _, a := range []ledger.Account{{ID: "issuer", Unit: "credit"}, {ID: "hot", Unit: "credit", Flags: ledger.FlagNonNegative}} {
		if _, err := l.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := l.Post(ctx, ledger.Transfer{ID: "fund", Debit: "issuer", Credit: "hot", Amount: decimal.New(1, 9)}); err != nil {
		b.Fatal(err)
	}
	return db, l
}

// createAccounts creates n non-negative accounts named prefix0..prefix(n-1)
// in one transaction.
func createAccounts(b *testing.B, l *ledger.Ledger, prefix string, n int) []ledger.AccountID {
	b.Helper()
	ids := make([]ledger.AccountID, n)
	err := l.Store().InTx(context.Background(), func(tx ledger.Tx) error {
		book := ledger.NewBook(tx, time.Now())
		for i := range ids {
			ids[i] = ledger.AccountID(fmt.Sprintf("%s%05d", prefix, i))
			if _, err := book.CreateAccount(context.Background(), ledger.Account{ID: ids[i], Unit: "credit", Flags: ledger.FlagNonNegative}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

func reportRate(b *testing.B, transfers int) {
	b.ReportMetric(float64(transfers)/b.Elapsed().Seconds(), "transfers/s")
}

// BenchmarkPgx_PostHot posts one transfer per transaction, each debiting the
// same non-negative account.
func BenchmarkPgx_PostHot(b *testing.B) {
	_, l := benchLedger(b, 2)
	ctx := context.Background()
	one := decimal.New(1, -2)
	b.ResetTimer()
	for range b.N {
		if _, err := l.Post(ctx, ledger.Transfer{ID: benchID("hot"), Debit: "hot", Credit: "issuer", Amount: one}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// rawTransfer is the raw PostgreSQL ceiling of one transfer: BEGIN, the
// UPDATE of both balance rows in ID order and COMMIT, sent in one round
// trip.
func rawTransfer(ctx context.Context, pool *pgxpool.Pool, debit, credit ledger.AccountID) error {
	return rawPost(ctx, pool, debit, credit, "")
}

// rawPost is rawTransfer that, given a transfer ID, also inserts the
// transfer's journal row (numbered by the journal's sequence, into its four
// indexes) before COMMIT: what any ledger that keeps a journal writes at
// the least, with no lock read, check or idempotency lookup.
func rawPost(ctx context.Context, pool *pgxpool.Pool, debit, credit ledger.AccountID, id ledger.TransferID) error {
	first, second, delta := debit, credit, "-0.01"
	if second < first {
		first, second, delta = credit, debit, "0.01"
	}
	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue("UPDATE allot_accounts SET posted = posted + $2::numeric, version = version + 1 WHERE id = $1", string(first), delta)
	b.Queue("UPDATE allot_accounts SET posted = posted - $2::numeric, version = version + 1 WHERE id = $1", string(second), delta)
	if id != "" {
		b.Queue(`INSERT INTO allot_transfers (id, debit, credit, amount, unit, posted_at, debit_balance, credit_balance)
VALUES ($1, $2, $3, 0.01, 'credit', now(), 0, 0)`, string(id), string(debit), string(credit))
	}
	b.Queue("COMMIT")
	return pool.SendBatch(ctx, &b).Close()
}

// BenchmarkPgx_RawHot is the ceiling for PostHot: rawTransfer between the
// same two accounts.
func BenchmarkPgx_RawHot(b *testing.B) {
	db, _ := benchLedger(b, 2)
	pool := db.pool(b, 2)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := rawTransfer(ctx, pool, "hot", "issuer"); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N)
}

// BenchmarkPgx_RawSpread is the ceiling for PostSpread: rawTransfer between
// random pairs of 10,000 accounts, from as many goroutines.
func BenchmarkPgx_RawSpread(b *testing.B) { rawSpread(b, false) }

// BenchmarkPgx_RawSpreadJournal is RawSpread with each transfer's journal
// row (rawPost): the floor under PostSpread that the ceiling leaves out.
func BenchmarkPgx_RawSpreadJournal(b *testing.B) { rawSpread(b, true) }

func rawSpread(b *testing.B, journal bool) {
	const accounts = 10000
	db, l := benchLedger(b, 2)
	ctx := context.Background()
	ids := createAccounts(b, l, "acct", accounts)
	fund := make([]ledger.Transfer, accounts)
	for i, id := range ids {
		fund[i] = ledger.Transfer{ID: ledger.TransferID("fund-" + string(id)), Debit: "issuer", Credit: id, Amount: decimal.New(1, 6)}
	}
	if _, err := l.PostBatch(ctx, fund); err != nil {
		b.Fatal(err)
	}
	pool := db.pool(b, 16)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := rand.IntN(accounts)
			j := (i + 1 + rand.IntN(accounts-1)) % accounts
			var id ledger.TransferID
			if journal {
				id = benchID("raw")
			}
			if err := rawPost(ctx, pool, ids[i], ids[j], id); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N)
}

// BenchmarkPgx_PostSpread posts one transfer per transaction between random
// pairs of 10,000 accounts, from many goroutines at once.
func BenchmarkPgx_PostSpread(b *testing.B) {
	const accounts = 10000
	_, l := benchLedger(b, 16)
	ctx := context.Background()
	ids := createAccounts(b, l, "acct", accounts)
	fund := make([]ledger.Transfer, accounts)
	for i, id := range ids {
		fund[i] = ledger.Transfer{ID: ledger.TransferID("fund-" + string(id)), Debit: "issuer", Credit: id, Amount: decimal.New(1, 6)}
	}
	if _, err := l.PostBatch(ctx, fund); err != nil {
		b.Fatal(err)
	}
	one := decimal.New(1, -2)
	b.SetParallelism(8) // 8 goroutines per core: the commits wait on the disk
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := rand.IntN(accounts)
			j := (i + 1 + rand.IntN(accounts-1)) % accounts
			if _, err := l.Post(ctx, ledger.Transfer{ID: benchID("spread"), Debit: ids[i], Credit: ids[j], Amount: one}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N)
}

// BenchmarkPgx_PostBatch1000 posts 1,000 transfers per transaction, all
// debiting one hot account, with PostBatch.
func BenchmarkPgx_PostBatch1000(b *testing.B) {
	const size = 1000
	_, l := benchLedger(b, 2)
	ctx := context.Background()
	sinks := createAccounts(b, l, "sink", 10)
	one := decimal.New(1, -2)
	batch := make([]ledger.Transfer, size)
	b.ResetTimer()
	for range b.N {
		for i := range batch {
			batch[i] = ledger.Transfer{ID: benchID("batch"), Debit: "hot", Credit: sinks[i%len(sinks)], Amount: one}
		}
		res, err := l.PostBatch(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	reportRate(b, b.N*size)
}

// BenchmarkPgx_RawCopy1000 is the ceiling for PostBatch1000: per
// transaction, COPY of 1,000 rows into a table shaped and indexed like the
// journal, and one UPDATE of the hot row, in plain SQL.
func BenchmarkPgx_RawCopy1000(b *testing.B) {
	const size = 1000
	db, _ := benchLedger(b, 2)
	pool := db.pool(b, 2)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE raw_journal (LIKE allot_transfers INCLUDING ALL)"); err != nil {
		b.Fatal(err)
	}
	cols := []string{"id", "debit", "credit", "amount", "unit", "posted_at", "debit_balance", "credit_balance"}
	rows := make([][]any, size)
	amount := decimal.New(1, -2).String()
	b.ResetTimer()
	for range b.N {
		now := time.Now()
		for i := range rows {
			rows[i] = []any{string(benchID("raw")), "hot", fmt.Sprintf("sink%05d", i%10), amount, "credit", now, "0", "0"}
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"raw_journal"}, cols, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE allot_accounts SET posted = posted - 10, version = version + 1 WHERE id = 'hot'")
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*size)
}

// BenchmarkPgx_SeatsTransfer transfers one seat per operation with
// seats.Service.TransferSeats, each with its own request ID, to one of 100
// events of one organization: every operation locks the same pool.
func BenchmarkPgx_SeatsTransfer(b *testing.B) {
	db := newTestDB(b)
	roles := seatsRoles()
	roles.Grant("acme", "ana", seats.EntitlementManager)
	svc, err := seats.New(db.store(b, 2, nil).Seats(), &seats.Options{Roles: roles})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1 << 40, Subscription: "s", Actor: "billing", RequestID: "p"}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 100)
	now := time.Now()
	for i := range ids {
		ids[i] = fmt.Sprint("e", i)
		if _, err := svc.CreateEvent(ctx, seats.CreateEventParams{Actor: seatsOrganizer, ID: ids[i], Org: "acme", Start: now, End: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: ids[i%len(ids)], Quantity: 1, RequestID: string(benchID("seat"))}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b, i)
}
