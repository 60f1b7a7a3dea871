package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// cmpOpts compare decimals by value, as the contract does.
var cmpOpts = cmp.Options{cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })}

// sentinels are the error categories the ledger defines.
var sentinels = []error{
	ledger.ErrNotFound, ledger.ErrAlreadyExists, ledger.ErrConflict,
	ledger.ErrInvalid, ledger.ErrInsufficientBalance, ledger.ErrHoldNotPending,
}

// kinds returns which sentinels err matches: the ledger's, and the domain's
// given.
func kinds(err error, domain ...error) []string {
	if err == nil {
		return nil
	}
	out := []string{"error"}
	for _, s := range slices.Concat(sentinels, domain) {
		if errors.Is(err, s) {
			out = append(out, s.Error())
		}
	}
	return out
}

// sameIn is same for a domain's operation: errors compare by the ledger's
// sentinels and the domain's.
func sameIn[V any](t *rapid.T, domain []error, op string, mv V, merr error, pv V, perr error) {
	t.Helper()
	if mk, pk := kinds(merr, domain...), kinds(perr, domain...); !slices.Equal(mk, pk) {
		t.Fatalf("%s: errors differ: memstore %v (%v), pgxstore %v (%v)", op, merr, mk, perr, pk)
	}
	same(t, op, mv, nil, pv, nil)
}

// modelPair drives a memstore ledger and a pgxstore ledger with the same
// operations and clock, and fails on the first difference.
type modelPair struct {
	ctx   context.Context
	clock *clock.Fake
	mem   *ledger.Ledger
	pg    *ledger.Ledger
	pgs   *pgxstore.Store
	memS  *memstore.Store
	holds []ledger.TransferID // IDs of holds created
}

// holdID draws the ID of a hold created earlier, mostly.
func (m *modelPair) holdID(t *rapid.T) ledger.TransferID {
	if len(m.holds) > 0 && rapid.IntRange(0, 9).Draw(t, "known") > 0 {
		return rapid.SampledFrom(m.holds).Draw(t, "id")
	}
	return rapid.SampledFrom(modelIDs).Draw(t, "id")
}

func same[V any](t *rapid.T, op string, mv V, merr error, pv V, perr error) {
	t.Helper()
	if diff := cmp.Diff(kinds(merr), kinds(perr)); diff != "" {
		t.Fatalf("%s: errors differ (-memstore +pgxstore):\n%s\nmemstore: %v\npgxstore: %v", op, diff, merr, perr)
	}
	if merr != nil {
		return
	}
	if diff := cmp.Diff(mv, pv, cmpOpts); diff != "" {
		t.Fatalf("%s: results differ (-memstore +pgxstore):\n%s", op, diff)
	}
}

// The draws are weighted towards requests that succeed, with a share of
// every way to fail.
var (
	modelAccounts = []ledger.AccountID{"issuer", "a", "b", "c"}
	modelDraw     = []ledger.AccountID{"issuer", "issuer", "a", "a", "a", "b", "b", "c", "d", "nobody"}
	modelIDs      = []ledger.TransferID{"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"}
	modelAmounts  = []string{"1", "1", "2", "0.5", "0.25", "3", "7", "0.001", "0"}
)

func drawTransfer(t *rapid.T, label string) ledger.Transfer {
	return ledger.Transfer{
		ID:     rapid.SampledFrom(modelIDs).Draw(t, label+".id"),
		Debit:  rapid.SampledFrom(modelDraw).Draw(t, label+".debit"),
		Credit: rapid.SampledFrom(modelDraw).Draw(t, label+".credit"),
		Amount: decimal.RequireFromString(rapid.SampledFrom(modelAmounts).Draw(t, label+".amount")),
		Code:   rapid.SampledFrom([]string{"", "buy"}).Draw(t, label+".code"),
	}
}

type batchOutcome struct {
	Transfer ledger.Transfer
	Kinds    []string
}

func outcomes(rs []ledger.BatchResult) []batchOutcome {
	out := make([]batchOutcome, len(rs))
	for i, r := range rs {
		out[i] = batchOutcome{Transfer: r.Transfer, Kinds: kinds(r.Err)}
	}
	return out
}

// modelStart is the instant every model comparison starts at.
var modelStart = time.Date(2026, 3, 29, 0, 30, 0, 123456000, time.UTC)

// checkModel runs a comparison of pgxstore with memstore: prop once per
// rapid case, on a pgxstore over a test database whose tables are emptied
// before each case.
func checkModel(t *testing.T, prop func(t *rapid.T, pgs *pgxstore.Store)) {
	db := newTestDB(t)
	pool := db.pool(t, 2)
	pgs, err := pgxstore.New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		if err := emptyTables(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
		prop(t, pgs)
	})
}

// TestModel checks that pgxstore behaves as memstore, the reference store:
// the same operations give the same results, errors and final state.
func TestModel(t *testing.T) {
	ctx, start := context.Background(), modelStart
	checkModel(t, func(t *rapid.T, pgs *pgxstore.Store) {
		m := &modelPair{ctx: ctx, clock: clock.NewFake(start), memS: memstore.New(), pgs: pgs}
		m.mem, _ = ledger.New(m.memS, &ledger.Options{Clock: m.clock})
		m.pg, _ = ledger.New(pgs, &ledger.Options{Clock: m.clock})
		m.setup(t)
		t.Repeat(map[string]func(*rapid.T){
			"post": func(t *rapid.T) {
				tr := drawTransfer(t, "t")
				mv, merr := m.mem.Post(ctx, tr)
				pv, perr := m.pg.Post(ctx, tr)
				same(t, "Post", mv, merr, pv, perr)
			},
			"group": func(t *rapid.T) {
				n := rapid.IntRange(1, 3).Draw(t, "n")
				ts := make([]ledger.Transfer, n)
				for i := range ts {
					ts[i] = drawTransfer(t, fmt.Sprint("t", i))
				}
				mv, merr := m.mem.PostGroup(ctx, ts)
				pv, perr := m.pg.PostGroup(ctx, ts)
				same(t, "PostGroup", mv, merr, pv, perr)
			},
			"batch": func(t *rapid.T) {
				n := rapid.IntRange(0, 6).Draw(t, "n")
				ts := make([]ledger.Transfer, n)
				for i := range ts {
					ts[i] = drawTransfer(t, fmt.Sprint("t", i))
				}
				mv, merr := m.mem.PostBatch(ctx, ts)
				pv, perr := m.pg.PostBatch(ctx, ts)
				same(t, "PostBatch", outcomes(mv), merr, outcomes(pv), perr)
			},
			"hold": func(t *rapid.T) {
				tr := drawTransfer(t, "h")
				h := ledger.Hold{ID: tr.ID, Debit: tr.Debit, Credit: tr.Credit, Amount: tr.Amount, Code: tr.Code}
				if rapid.Bool().Draw(t, "expires") {
					// Whole steps of the clock, so that expiries fall exactly on
					// the readings; sometimes sub-microsecond off them.
					h.ExpiresAt = m.clock.Now().Add(time.Duration(rapid.IntRange(-1, 6).Draw(t, "steps")) * 30 * time.Second)
					if rapid.Bool().Draw(t, "off") {
						h.ExpiresAt = h.ExpiresAt.Add(1500 * time.Nanosecond)
					}
				}
				mv, merr := m.mem.CreateHold(ctx, h)
				pv, perr := m.pg.CreateHold(ctx, h)
				same(t, "CreateHold", mv, merr, pv, perr)
				if merr == nil {
					m.holds = append(m.holds, h.ID)
				}
			},
			"postHold": func(t *rapid.T) {
				id := m.holdID(t)
				amount := decimal.RequireFromString(rapid.SampledFrom(modelAmounts).Draw(t, "amount"))
				mv, merr := m.mem.PostHold(ctx, id, amount)
				pv, perr := m.pg.PostHold(ctx, id, amount)
				same(t, "PostHold", mv, merr, pv, perr)
			},
			"voidHold": func(t *rapid.T) {
				id := m.holdID(t)
				mv, merr := m.mem.VoidHold(ctx, id)
				pv, perr := m.pg.VoidHold(ctx, id)
				same(t, "VoidHold", mv, merr, pv, perr)
			},
			"ensure": func(t *rapid.T) {
				n := rapid.IntRange(1, 3).Draw(t, "n")
				as := make([]ledger.Account, n)
				for i := range as {
					as[i] = ledger.Account{
						ID:    rapid.SampledFrom([]ledger.AccountID{"a", "issuer", "d", "e", ""}).Draw(t, fmt.Sprint("id", i)),
						Unit:  rapid.SampledFrom([]string{"credit", "credit", "nope"}).Draw(t, fmt.Sprint("unit", i)),
						Owner: rapid.SampledFrom([]string{"org", "org", ""}).Draw(t, fmt.Sprint("owner", i)),
						Flags: ledger.Flags(rapid.IntRange(0, 1).Draw(t, fmt.Sprint("flags", i))),
					}
					if rapid.Bool().Draw(t, fmt.Sprint("meta", i)) {
						as[i].Metadata = map[string]string{"k": "v"}
					}
				}
				merr := m.mem.EnsureAccounts(ctx, as)
				perr := m.pg.EnsureAccounts(ctx, as)
				same(t, "EnsureAccounts", merr == nil, merr, perr == nil, perr)
			},
			"advance": func(t *rapid.T) {
				m.clock.Advance(time.Duration(rapid.IntRange(0, 4).Draw(t, "steps")) * 30 * time.Second)
			},
			"read": func(t *rapid.T) {
				acct := rapid.SampledFrom(modelDraw).Draw(t, "account")
				id := rapid.SampledFrom(modelIDs).Draw(t, "id")
				mb, merr := m.mem.Balance(ctx, acct)
				pb, perr := m.pg.Balance(ctx, acct)
				same(t, "Balance", mb, merr, pb, perr)
				mh, merr := m.mem.Hold(ctx, id)
				ph, perr := m.pg.Hold(ctx, id)
				same(t, "Hold", mh, merr, ph, perr)
				mt, merr := m.mem.Transfer(ctx, id)
				pt, perr := m.pg.Transfer(ctx, id)
				same(t, "Transfer", mt, merr, pt, perr)
				at := m.clock.Now().Add(-time.Duration(rapid.IntRange(0, 300).Draw(t, "ago")) * time.Second)
				ma, merr := m.mem.BalanceAt(ctx, acct, at)
				pa, perr := m.pg.BalanceAt(ctx, acct, at)
				same(t, "BalanceAt", ma, merr, pa, perr)
				p := ledger.HistoryParams{Account: acct, Limit: rapid.IntRange(0, 3).Draw(t, "limit")}
				for range 10 {
					mp, merr := m.mem.History(ctx, p)
					pp, perr := m.pg.History(ctx, p)
					same(t, "History", mp, merr, pp, perr)
					if merr != nil || mp.Next == "" {
						break
					}
					p.Cursor = mp.Next
				}
			},
			"": func(t *rapid.T) {
				ms, merr := storetest.Snapshot(ctx, m.memS)
				ps, perr := storetest.Snapshot(ctx, m.pgs)
				same(t, "state", ms, merr, ps, perr)
				mr, merr := m.mem.Verify(ctx)
				pr, perr := m.pg.Verify(ctx)
				same(t, "Verify", mr, merr, pr, perr)
				if !pr.OK() {
					t.Fatalf("Verify found discrepancies: %v", pr.Discrepancies)
				}
			},
		})
	})
}

func (m *modelPair) setup(t *rapid.T) {
	for _, l := range []*ledger.Ledger{m.mem, m.pg} {
		if _, err := l.DefineUnit(m.ctx, ledger.Unit{Code: "credit", Scale: 2}); err != nil {
			t.Fatal(err)
		}
		for _, id := range modelAccounts[:4] {
			flags := ledger.FlagNonNegative
			if id == "issuer" {
				flags = 0
			}
			if _, err := l.CreateAccount(m.ctx, ledger.Account{ID: id, Unit: "credit", Flags: flags, Owner: "org"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.PostBatch(m.ctx, []ledger.Transfer{
			{ID: "fund-a", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(10)},
			{ID: "fund-b", Debit: "issuer", Credit: "b", Amount: decimal.NewFromInt(5)},
		}); err != nil {
			t.Fatal(err)
		}
	}
}
