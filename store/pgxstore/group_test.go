package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// postOutcome is what a post returned, in terms that do not depend on the
// store or the clock.
type postOutcome struct {
	Err                         string // "", or the sentinel it matched
	ID                          ledger.TransferID
	Debit, Credit               ledger.AccountID
	Amount, DebitBal, CreditBal string
}

func outcomeOf(tr ledger.Transfer, err error) postOutcome {
	if err != nil {
		for _, s := range []error{ledger.ErrInsufficientBalance, ledger.ErrConflict, ledger.ErrInvalid} {
			if errors.Is(err, s) {
				return postOutcome{Err: s.Error()}
			}
		}
		return postOutcome{Err: "other: " + err.Error()}
	}
	return postOutcome{ID: tr.ID, Debit: tr.Debit, Credit: tr.Credit, Amount: tr.Amount.String(),
		DebitBal: tr.DebitBalance.String(), CreditBal: tr.CreditBalance.String()}
}

// TestGroupCommit_SameAsOneByOne posts random mixes of valid, refused
// (overdrafts), replayed and conflicting transfers between one pair of
// accounts at once, coalesced into one group, with random holds on the
// accounts, expired or live, and checks that every post's result is what
// posting them one by one, in the order the group ran them, gives.
func TestGroupCommit_SameAsOneByOne(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 4, &pgxstore.Options{GroupCommit: true, GroupCommitWait: 100 * time.Millisecond})
	var mu sync.Mutex
	var order []ledger.Transfer
	pgxstore.SetGroupTurnHook(s, func(tr ledger.Transfer) {
		mu.Lock()
		order = append(order, tr)
		mu.Unlock()
	})
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "credit", Scale: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "credit"}); err != nil {
		t.Fatal(err)
	}
	// past creates holds two hours ago, so that some have expired by now.
	pastClock := clock.NewFake(time.Now().Add(-2 * time.Hour))
	past, err := ledger.New(s, &ledger.Options{Clock: pastClock})
	if err != nil {
		t.Fatal(err)
	}
	round := 0
	rapid.Check(t, func(rt *rapid.T) {
		round++
		a, b := ledger.AccountID(fmt.Sprint("a", round)), ledger.AccountID(fmt.Sprint("b", round))
		n := rapid.IntRange(2, 12).Draw(rt, "n")
		var ts []ledger.Transfer
		for i := range n {
			kind := "valid"
			if i > 0 {
				kind = rapid.SampledFrom([]string{"valid", "valid", "overdraft", "replay", "conflict"}).Draw(rt, "kind")
			}
			tr := ledger.Transfer{ID: ledger.TransferID(fmt.Sprint("t", round, "-", i)), Debit: a, Credit: b,
				Amount: decimal.NewFromInt(int64(rapid.IntRange(1, 6).Draw(rt, "amount")))}
			if rapid.Bool().Draw(rt, "reverse") {
				tr.Debit, tr.Credit = b, a
			}
			switch kind {
			case "overdraft":
				tr.Amount = decimal.NewFromInt(1000)
			case "replay":
				tr = ts[rapid.IntRange(0, len(ts)-1).Draw(rt, "of")]
			case "conflict":
				tr.ID = ts[rapid.IntRange(0, len(ts)-1).Draw(rt, "of")].ID
				tr.Amount = tr.Amount.Add(decimal.NewFromInt(100))
			}
			ts = append(ts, tr)
		}

		// Holds on the accounts, some expired (which a post releases
		// first, as the ledger does) and some live.
		type holdDraw struct {
			debit   ledger.AccountID
			amount  int64
			expired bool
		}
		holds := make([]holdDraw, rapid.IntRange(0, 2).Draw(rt, "holds"))
		for i := range holds {
			holds[i] = holdDraw{debit: rapid.SampledFrom([]ledger.AccountID{a, b}).Draw(rt, "hold debit"),
				amount: int64(rapid.IntRange(1, 4).Draw(rt, "hold amount")), expired: rapid.Bool().Draw(rt, "expired")}
		}

		// The reference: a fresh ledger in memory, same accounts.
		refStore := memstore.New()
		ref, err := ledger.New(refStore, nil)
		if err != nil {
			rt.Fatal(err)
		}
		refPast, err := ledger.New(refStore, &ledger.Options{Clock: pastClock})
		if err != nil {
			rt.Fatal(err)
		}
		for _, lg := range []*ledger.Ledger{l, ref} {
			if lg == ref {
				if _, err := ref.DefineUnit(ctx, ledger.Unit{Code: "credit", Scale: 2}); err != nil {
					rt.Fatal(err)
				}
				if _, err := ref.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "credit"}); err != nil {
					rt.Fatal(err)
				}
			}
			for _, id := range []ledger.AccountID{a, b} {
				if _, err := lg.CreateAccount(ctx, ledger.Account{ID: id, Unit: "credit", Flags: ledger.FlagNonNegative}); err != nil {
					rt.Fatal(err)
				}
				if _, err := lg.Post(ctx, ledger.Transfer{ID: ledger.TransferID("fund-" + id), Debit: "issuer", Credit: id, Amount: decimal.NewFromInt(10)}); err != nil {
					rt.Fatal(err)
				}
			}
		}
		for i, h := range holds {
			expires := time.Now().Add(time.Hour)
			if h.expired {
				expires = time.Now().Add(-time.Hour)
			}
			other := a
			if h.debit == a {
				other = b
			}
			hold := ledger.Hold{ID: ledger.TransferID(fmt.Sprint("h", round, "-", i)), Debit: h.debit, Credit: other,
				Amount: decimal.NewFromInt(h.amount), ExpiresAt: expires}
			for _, lg := range []*ledger.Ledger{past, refPast} {
				if _, err := lg.CreateHold(ctx, hold); err != nil {
					rt.Fatal(err)
				}
			}
		}

		mu.Lock()
		order = order[:0]
		mu.Unlock()
		before := pgxstore.GroupsOpened(s)
		got := make([]postOutcome, n)
		var wg sync.WaitGroup
		for i, tr := range ts {
			wg.Go(func() {
				r, err := l.Post(ctx, tr)
				got[i] = outcomeOf(r, err)
			})
		}
		wg.Wait()
		if g := pgxstore.GroupsOpened(s) - before; g != 1 {
			rt.Logf("the %d posts ran in %d groups", n, g)
		}

		// Post them one by one in the group's order; identical transfers
		// are interchangeable.
		mu.Lock()
		ran := append([]ledger.Transfer(nil), order...)
		mu.Unlock()
		if len(ran) != n {
			rt.Fatalf("%d posts took a turn, want %d", len(ran), n)
		}
		used := make([]bool, n)
		want := make([]postOutcome, n)
		for _, tr := range ran {
			k := -1
			for i := range ts {
				if !used[i] && ts[i].ID == tr.ID && ts[i].Debit == tr.Debit && ts[i].Credit == tr.Credit && ts[i].Amount.Equal(tr.Amount) {
					k = i
					break
				}
			}
			if k < 0 {
				rt.Fatalf("the group ran %+v, which was not posted", tr)
			}
			used[k] = true
			r, err := ref.Post(ctx, ts[k])
			want[k] = outcomeOf(r, err)
		}
		// Identical posts are interchangeable: compare their outcomes as
		// sets.
		gotBy, wantBy := map[string][]string{}, map[string][]string{}
		for i, tr := range ts {
			k := fmt.Sprint(tr.ID, " ", tr.Debit, "->", tr.Credit, " ", tr.Amount)
			gotBy[k] = append(gotBy[k], fmt.Sprintf("%+v", got[i]))
			wantBy[k] = append(wantBy[k], fmt.Sprintf("%+v", want[i]))
		}
		for k := range gotBy {
			slices.Sort(gotBy[k])
			slices.Sort(wantBy[k])
			if !slices.Equal(gotBy[k], wantBy[k]) {
				rt.Errorf("posts of %s: got %v, one by one %v", k, gotBy[k], wantBy[k])
			}
		}
		for _, id := range []ledger.AccountID{a, b} {
			g, err1 := l.Balance(ctx, id)
			w, err2 := ref.Balance(ctx, id)
			if err1 != nil || err2 != nil || !g.Posted.Equal(w.Posted) || !g.Held.Equal(w.Held) {
				rt.Errorf("balance of %s: %v held %v (%v), one by one %v held %v (%v)", id, g.Posted, g.Held, err1, w.Posted, w.Held, err2)
			}
		}
		for i := range holds {
			id := ledger.TransferID(fmt.Sprint("h", round, "-", i))
			g, err1 := l.Hold(ctx, id)
			w, err2 := ref.Hold(ctx, id)
			if err1 != nil || err2 != nil || g.Status != w.Status {
				rt.Errorf("hold %s: %s (%v), one by one %s (%v)", id, g.Status, err1, w.Status, err2)
			}
		}
	})
	if r, err := l.Verify(ctx); err != nil || len(r.Discrepancies) > 0 {
		t.Errorf("Verify: %v %v", r.Discrepancies, err)
	}
	if pgxstore.GroupRunWrites(s) == 0 {
		t.Error("no member was written by a run sent ahead: the property did not cover runs")
	}
}

// TestGroupCommit_CancelledMemberUndone: a member whose context is
// cancelled as its turn begins, after a member before it wrote its post in
// a run sent ahead, gets the cancellation and its post is undone; the
// group runs again and its neighbours post.
func TestGroupCommit_CancelledMemberUndone(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 4, &pgxstore.Options{GroupCommit: true, GroupCommitWait: 100 * time.Millisecond})
	var mu sync.Mutex
	cancels := map[ledger.TransferID]context.CancelFunc{}
	turns := 0
	var victim ledger.TransferID
	pgxstore.SetGroupTurnHook(s, func(tr ledger.Transfer) {
		mu.Lock()
		defer mu.Unlock()
		if turns++; turns == 4 {
			victim = tr.ID
			cancels[tr.ID]()
		}
	})
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, map[ledger.AccountID]int64{"a": 1000})
	unseen, err := ledger.New(db.store(t, 1, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 6
	want := decimal.NewFromInt(1000)
	for round := range 5 {
		mu.Lock()
		turns, victim = 0, ""
		ctxs := make([]context.Context, n)
		for i := range n {
			var cancel context.CancelFunc
			ctxs[i], cancel = context.WithCancel(ctx)
			defer cancel()
			cancels[ledger.TransferID(fmt.Sprint("c", round, "-", i))] = cancel
		}
		mu.Unlock()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = l.Post(ctxs[i], ledger.Transfer{ID: ledger.TransferID(fmt.Sprint("c", round, "-", i)), Debit: "a", Credit: "issuer", Amount: decimal.NewFromInt(int64(i + 1))})
			})
		}
		wg.Wait()
		for i := range n {
			id := ledger.TransferID(fmt.Sprint("c", round, "-", i))
			_, found := unseen.Transfer(ctx, id)
			switch {
			case id == victim:
				if !errors.Is(errs[i], context.Canceled) {
					t.Errorf("round %d: the cancelled post %s returned %v", round, id, errs[i])
				}
				if !errors.Is(found, ledger.ErrNotFound) {
					t.Errorf("round %d: the cancelled post %s was committed (%v)", round, id, found)
				}
			case errs[i] != nil || found != nil:
				t.Errorf("round %d: post %s: %v, then reading it: %v", round, id, errs[i], found)
			default:
				want = want.Sub(decimal.NewFromInt(int64(i + 1)))
			}
		}
		if victim == "" {
			t.Fatalf("round %d: the posts ran in groups too small for a fourth turn", round)
		}
	}
	if b, err := unseen.Balance(ctx, "a"); err != nil || !b.Posted.Equal(want) {
		t.Errorf("a = %v (%v), want %v", b.Posted, err, want)
	}
	t.Logf("%d groups rolled back for their members to run again", pgxstore.GroupsDoomed(s))
}

// BenchmarkPgx_PostHotGroup16: 16 writers posting between one hot pair of
// accounts, with group commit; compare with Pgx_PostHot (one writer).
func BenchmarkPgx_PostHotGroup16(b *testing.B) {
	benchHotWriters(b, 16, &pgxstore.Options{GroupCommit: true})
}

// BenchmarkPgx_PostHot16: the same 16 writers without group commit.
func BenchmarkPgx_PostHot16(b *testing.B) {
	benchHotWriters(b, 16, nil)
}

func benchHotWriters(b *testing.B, writers int, opts *pgxstore.Options) {
	db := newTestDB(b)
	l, err := ledger.New(db.store(b, int32(writers), opts), nil)
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
	one := decimal.New(1, -2)
	b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Post(ctx, ledger.Transfer{ID: benchID("hot"), Debit: "hot", Credit: "issuer", Amount: one}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N)
}

// TestGroupCommit_MembersSentAhead: the members of a group post without a
// round trip of their own; the member whose turn it is sends their
// statements with its own.
func TestGroupCommit_MembersSentAhead(t *testing.T) {
	const n = 8
	s, second := groupRounds(t, n)
	// The leader waits for no one: the round before ran in a group as
	// large, but the wait is too short for anyone to join. The second
	// member's turn waits until all have joined.
	pgxstore.SetGroupGather(s, 0)
	var turns atomic.Int32
	pgxstore.SetGroupTurnHook(s, func(ledger.Transfer) {
		if turns.Add(1) == 2 {
			time.Sleep(200 * time.Millisecond)
		}
	})
	trips, sqls, groups := second()
	if groups != 1 {
		t.Skipf("the %d posts ran in %d groups", n, groups)
	}
	// The leader's lock and write (with those of the members that had
	// joined), one member's for the others, COMMIT.
	if trips > 3 {
		t.Errorf("%d posts in one group took %d round trips, want at most 3; statements:\n\t%s", n, trips, strings.Join(sqls, "\n\t"))
	}
}

// TestGroupCommit_LeaderGathers: once a group of n posts has committed, the
// next group's leader waits for as many before its first round trip, which
// then carries them all: the group takes that round trip and its COMMIT.
func TestGroupCommit_LeaderGathers(t *testing.T) {
	const n = 8
	s, second := groupRounds(t, n)
	// Long enough for every post of the round to join, however slow the
	// machine.
	pgxstore.SetGroupGather(s, time.Minute)
	trips, sqls, groups := second()
	if groups != 1 {
		t.Fatalf("the %d posts ran in %d groups, want 1", n, groups)
	}
	if trips != 2 {
		t.Errorf("%d posts in one group took %d round trips, want 2; statements:\n\t%s", n, trips, strings.Join(sqls, "\n\t"))
	}
}

// groupRounds returns a store with group commit, over which a post of 1
// from a non-negative account "a" of 100 to an issuer has run alone, then a
// first round of n such posts at once, in one group (the test is skipped otherwise): the
// connection has prepared every statement a group of n uses, and the last
// group of "a" and the issuer had n posts. second runs a second such round
// and returns its round trips, its statements and the number of groups it
// ran in, having checked the balance of "a" after it.
func groupRounds(t *testing.T, n int) (*pgxstore.Store, func() (int, []string, int64)) {
	t.Helper()
	db := newTestDB(t)
	c := &tripCounter{}
	pool := c.countedPool(t, db)
	s, err := pgxstore.New(pool, &pgxstore.Options{GroupCommit: true, GroupCommitWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, map[ledger.AccountID]int64{"a": 100})
	ctx := context.Background()
	// pgx prepares each statement text once per connection (a round trip),
	// savepoints too, whose names differ by the member's place in its
	// group: prepare every name a group of n can use.
	err = pool.AcquireFunc(ctx, func(conn *pgxpool.Conn) error {
		for i := range n {
			sql := fmt.Sprint("SAVEPOINT allot_group_", i)
			if _, err := conn.Conn().Prepare(ctx, sql, sql); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	round := func(r int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := l.Post(ctx, ledger.Transfer{ID: ledger.TransferID(fmt.Sprint("ahead-", r, "-", i)), Debit: "a", Credit: "issuer", Amount: decimal.NewFromInt(1)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	// A post alone prepares the statements of a group of one, which the
	// rounds may not all use; round 0, those of a larger group.
	if _, err := l.Post(ctx, ledger.Transfer{ID: "alone", Debit: "a", Credit: "issuer", Amount: decimal.NewFromInt(1)}); err != nil {
		t.Fatal(err)
	}
	before := pgxstore.GroupsOpened(s)
	round(0)
	if g := pgxstore.GroupsOpened(s) - before; g != 1 {
		t.Skipf("the %d posts of the first round ran in %d groups", n, g)
	}
	return s, func() (int, []string, int64) {
		before := pgxstore.GroupsOpened(s)
		trips, sqls, _ := c.count(func() error {
			round(1)
			return nil
		})
		if b, err := l.Balance(ctx, "a"); err != nil || !b.Posted.Equal(decimal.NewFromInt(99-2*int64(n))) {
			t.Errorf("a = %v (%v), want %d", b.Posted, err, 99-2*n)
		}
		return trips, sqls, pgxstore.GroupsOpened(s) - before
	}
}

// TestGroupCommit_SecondPostAlone: a transaction of a store with group
// commit that posts between two accounts, then between two others, joins
// the group of the first pair; its second post is written alone, and the
// posts that joined meanwhile are not sent with it into a run on the other
// pair, so the group commits without running again.
func TestGroupCommit_SecondPostAlone(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 4, &pgxstore.Options{GroupCommit: true, GroupCommitWait: 100 * time.Millisecond})
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	const nn = ledger.FlagNonNegative
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": nn, "b": nn, "x": nn, "y": nn},
		map[ledger.AccountID]int64{"a": 100, "x": 100})
	ctx := context.Background()
	const n = 3
	var wg sync.WaitGroup
	err = s.InTx(ctx, func(tx ledger.Tx) error {
		book := ledger.NewBook(tx, time.Now())
		if _, err := book.Post(ctx, ledger.Transfer{ID: "first", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(1)}); err != nil {
			return err
		}
		// Posts on the first pair join the group while this transaction
		// is still under way.
		for i := range n {
			wg.Go(func() {
				if _, err := l.Post(ctx, ledger.Transfer{ID: ledger.TransferID(fmt.Sprint("joined-", i)), Debit: "a", Credit: "b", Amount: decimal.NewFromInt(1)}); err != nil {
					t.Error(err)
				}
			})
		}
		time.Sleep(50 * time.Millisecond)
		_, err := book.Post(ctx, ledger.Transfer{ID: "second", Debit: "x", Credit: "y", Amount: decimal.NewFromInt(1)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if d := pgxstore.GroupsDoomed(s); d != 0 {
		t.Errorf("%d groups rolled back for their members to run again, want 0", d)
	}
	for id, want := range map[ledger.AccountID]int64{"a": 100 - 1 - n, "b": 1 + n, "x": 99, "y": 1} {
		if b, err := l.Balance(ctx, id); err != nil || !b.Posted.Equal(decimal.NewFromInt(want)) {
			t.Errorf("%s = %v (%v), want %d", id, b.Posted, err, want)
		}
	}
	mustVerify(t, l)
}
