package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// replicas returns n ledgers over the test's schema, each with a pool of
// its own: independent service replicas sharing one database.
func replicas(t *testing.T, db *testDB, n int) []*ledger.Ledger {
	t.Helper()
	out := make([]*ledger.Ledger, n)
	for i := range out {
		l, err := ledger.New(db.store(t, 3, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = l
	}
	return out
}

func mustDefine(t *testing.T, l *ledger.Ledger, accounts map[ledger.AccountID]ledger.Flags, fund map[ledger.AccountID]int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.DefineUnit(ctx, ledger.Unit{Code: "credit", Scale: 2}); err != nil {
		t.Fatal(err)
	}
	for id, flags := range accounts {
		if _, err := l.CreateAccount(ctx, ledger.Account{ID: id, Unit: "credit", Flags: flags}); err != nil {
			t.Fatal(err)
		}
	}
	for id, n := range fund {
		if _, err := l.Post(ctx, ledger.Transfer{ID: ledger.TransferID("fund-" + id), Debit: "issuer", Credit: id, Amount: decimal.NewFromInt(n)}); err != nil {
			t.Fatal(err)
		}
	}
}

func mustVerify(t *testing.T, l *ledger.Ledger) ledger.Report {
	t.Helper()
	r, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Discrepancies {
		t.Errorf("Verify: %s", d)
	}
	return r
}

func balance(t *testing.T, l *ledger.Ledger, id ledger.AccountID) ledger.Balance {
	t.Helper()
	b, err := l.Balance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReplicas_HotAccount(t *testing.T) {
	db := newTestDB(t)
	ls := replicas(t, db, 4)
	const funded, workers, each = 100, 3, 20 // 4*3*20 = 240 attempts for 100 units
	mustDefine(t, ls[0], map[ledger.AccountID]ledger.Flags{"issuer": 0, "hot": ledger.FlagNonNegative, "sink": 0}, map[ledger.AccountID]int64{"hot": funded})
	var mu sync.Mutex
	posted, refused := 0, 0
	var wg sync.WaitGroup
	for r, l := range ls {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					_, err := l.Post(context.Background(), ledger.Transfer{ID: ledger.TransferID(fmt.Sprintf("r%d-w%d-%d", r, w, i)), Debit: "hot", Credit: "sink", Amount: decimal.NewFromInt(1)})
					mu.Lock()
					switch {
					case err == nil:
						posted++
					case errors.Is(err, ledger.ErrInsufficientBalance):
						refused++
					default:
						t.Errorf("replica %d: %v", r, err)
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if total := len(ls) * workers * each; posted != funded || refused != total-funded {
		t.Errorf("%d posted and %d refused, want %d and %d", posted, refused, funded, total-funded)
	}
	if b := balance(t, ls[1], "hot"); !b.Posted.IsZero() {
		t.Errorf("hot account ends at %s, want 0", b.Posted)
	}
	mustVerify(t, ls[2])
}

func TestReplicas_Ring(t *testing.T) {
	db := newTestDB(t)
	ls := replicas(t, db, 4)
	ring := []ledger.AccountID{"r0", "r1", "r2", "r3", "r4"}
	accounts := map[ledger.AccountID]ledger.Flags{"issuer": 0}
	fund := map[ledger.AccountID]int64{}
	for _, id := range ring {
		accounts[id], fund[id] = ledger.FlagNonNegative, 20
	}
	mustDefine(t, ls[0], accounts, fund)

	// Draw every request before the goroutines start: single transfers and
	// groups of two, between random accounts of the ring in random order.
	const workers, each = 3, 25
	rng := rand.New(rand.NewPCG(1, 2))
	plans := make([][][]ledger.Transfer, len(ls)*workers)
	for p := range plans {
		for i := range each {
			var group []ledger.Transfer
			for k := range 1 + rng.IntN(2) {
				d := rng.IntN(len(ring))
				c := (d + 1 + rng.IntN(len(ring)-1)) % len(ring)
				group = append(group, ledger.Transfer{ID: ledger.TransferID(fmt.Sprintf("p%d-%d-%d", p, i, k)), Debit: ring[d], Credit: ring[c], Amount: decimal.NewFromInt(int64(1 + rng.IntN(8)))})
			}
			plans[p] = append(plans[p], group)
		}
	}
	var wg sync.WaitGroup
	for p, plan := range plans {
		l := ls[p%len(ls)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, group := range plan {
				_, err := l.PostGroup(context.Background(), group)
				if err != nil && !errors.Is(err, ledger.ErrInsufficientBalance) {
					t.Errorf("worker %d: %v", p, err)
				}
			}
		}()
	}
	wg.Wait()
	sum := decimal.Zero
	for _, id := range ring {
		b := balance(t, ls[0], id)
		if b.Posted.Sign() < 0 {
			t.Errorf("%s overdrawn: %s", id, b.Posted)
		}
		sum = sum.Add(b.Posted)
	}
	if !sum.Equal(decimal.NewFromInt(20 * int64(len(ring)))) {
		t.Errorf("the ring holds %s, want %d: value was created or destroyed", sum, 20*len(ring))
	}
	r := mustVerify(t, ls[3])
	t.Logf("%d transfers in the journal", r.Transfers)
}

func TestReplicas_SameIDOnce(t *testing.T) {
	db := newTestDB(t)
	ls := replicas(t, db, 6)
	mustDefine(t, ls[0], map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative}, nil)
	for round := range 5 {
		id := ledger.TransferID(fmt.Sprint("once-", round))
		start := make(chan struct{})
		results := make([]ledger.Transfer, len(ls))
		errs := make([]error, len(ls))
		var wg sync.WaitGroup
		for i, l := range ls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = l.Post(context.Background(), ledger.Transfer{ID: id, Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(7)})
			}()
		}
		close(start)
		wg.Wait()
		for i := range ls {
			if errs[i] != nil {
				t.Errorf("round %d replica %d: %v", round, i, errs[i])
			} else if results[i].Seq != results[0].Seq {
				t.Errorf("round %d: replica %d got Seq %d, replica 0 got %d; want one transfer", round, i, results[i].Seq, results[0].Seq)
			}
		}
	}
	if b := balance(t, ls[0], "a"); !b.Posted.Equal(decimal.NewFromInt(35)) {
		t.Errorf("a = %s, want 35: each of 5 IDs posted once", b.Posted)
	}
	if r := mustVerify(t, ls[0]); r.Transfers != 5 {
		t.Errorf("journal has %d transfers, want 5", r.Transfers)
	}
}
