package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// tripCounter counts SQL round trips on the wire, on every connection of
// the pools it is given: a round trip is a send followed by a wait for the
// answer (the first read after writes). It also lists the statements sent,
// for failure messages.
type tripCounter struct {
	mu    sync.Mutex
	trips int
	sqls  []string
}

// countedPool returns a pool of one connection to db's schema whose round
// trips and statements c counts.
func (c *tripCounter) countedPool(t testing.TB, db *testDB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = db.schema
	cfg.MaxConns = 1
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, c: c}, nil
	}
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// count returns the round trips and statements of fn.
func (c *tripCounter) count(fn func() error) (int, []string, error) {
	c.mu.Lock()
	c.trips, c.sqls = 0, nil
	c.mu.Unlock()
	err := fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trips, c.sqls, err
}

func (c *tripCounter) statement(sql string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sqls = append(c.sqls, strings.Join(strings.Fields(sql), " "))
}

func (c *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.statement(d.SQL)
	return ctx
}

func (c *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *tripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *tripCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.statement(d.SQL)
}

func (c *tripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// countingConn reports its round trips to c.
type countingConn struct {
	net.Conn
	c       *tripCounter
	writing bool // guarded by c.mu
}

func (n *countingConn) Write(b []byte) (int, error) {
	n.c.mu.Lock()
	n.writing = true
	n.c.mu.Unlock()
	return n.Conn.Write(b)
}

func (n *countingConn) Read(b []byte) (int, error) {
	n.c.mu.Lock()
	if n.writing {
		n.writing = false
		n.c.trips++
	}
	n.c.mu.Unlock()
	return n.Conn.Read(b)
}

// tripBudget is one operation's budget of round trips, in the steady state:
// the connection has run the operation before, so its statements are
// prepared.
type tripBudget struct {
	name   string
	budget int
	op     func(ctx context.Context, i int) error
}

// checkTrips runs each case's op once to warm up and then counts the round
// trips of a second run.
func checkTrips(t *testing.T, c *tripCounter, cases []tripBudget) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(ctx, 0); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			trips, sqls, err := c.count(func() error { return tc.op(ctx, 1) })
			if err != nil {
				t.Fatal(err)
			}
			if trips > tc.budget {
				t.Errorf("%d round trips, budget %d; statements:\n\t%s", trips, tc.budget, strings.Join(sqls, "\n\t"))
			} else {
				t.Logf("%d round trips (budget %d), %d statements", trips, tc.budget, len(sqls))
			}
		})
	}
}

// countedLedger returns a store over a pool of db's schema whose round
// trips c counts, and a ledger over it.
func countedLedger(t *testing.T, db *testDB) (*tripCounter, *pgxstore.Store, *ledger.Ledger) {
	t.Helper()
	c := &tripCounter{}
	s, err := pgxstore.New(c.countedPool(t, db), nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, l
}

func TestRoundTrips_Ledger(t *testing.T) {
	db := newTestDB(t)
	c, s, l := countedLedger(t, db)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative, "b": ledger.FlagNonNegative}, map[ledger.AccountID]int64{"a": 1000})
	// unseen reads what the counted operations did, on connections of its
	// own.
	unseen, err := ledger.New(db.store(t, 1, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	// past creates holds that have expired by now, on connections of its
	// own.
	past, err := ledger.New(db.store(t, 1, nil), &ledger.Options{Clock: clock.NewFake(time.Now().Add(-2 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	one := decimal.NewFromInt(1)
	post := func(ctx context.Context, tr ledger.Transfer) error {
		_, err := l.Post(ctx, tr)
		return err
	}
	id := func(prefix string, i int) ledger.TransferID {
		return ledger.TransferID(prefix + "-" + string(rune('0'+i)))
	}
	checkTrips(t, c, []tripBudget{
		// A Ledger.Post is its transaction alone: BEGIN, the lock, the
		// write and COMMIT travel together.
		{"Post", 1, func(ctx context.Context, i int) error {
			return post(ctx, ledger.Transfer{ID: id("new", i), Debit: "a", Credit: "b", Amount: one})
		}},
		// A post that writes nothing (a replay, a conflict, a refusal)
		// runs again with the write that reads back why, committing with
		// the lock again.
		{"PostReplayed", 2, func(ctx context.Context, i int) error {
			return post(ctx, ledger.Transfer{ID: "new-0", Debit: "a", Credit: "b", Amount: one})
		}},
		{"PostOverdraft", 2, func(ctx context.Context, i int) error {
			err := post(ctx, ledger.Transfer{ID: id("over", i), Debit: "b", Credit: "a", Amount: decimal.NewFromInt(1e6)})
			if !errors.Is(err, ledger.ErrInsufficientBalance) {
				return errors.New("the overdraft was not refused: " + errorString(err))
			}
			return nil
		}},
		{"PostConflict", 2, func(ctx context.Context, i int) error {
			err := post(ctx, ledger.Transfer{ID: "new-0", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(2)})
			if !errors.Is(err, ledger.ErrConflict) {
				return errors.New("the conflicting post was not refused: " + errorString(err))
			}
			return nil
		}},
		// Accounts ensured in a transaction cost it no round trip: they
		// travel with the post's lock.
		{"EnsureAccount+Post", 2, func(ctx context.Context, i int) error {
			return ensureAndPost(ctx, s, fmt.Sprint("e1-", i), 1)
		}},
		{"EnsureAccounts50+Post", 2, func(ctx context.Context, i int) error {
			return ensureAndPost(ctx, s, fmt.Sprint("e50-", i), 50)
		}},
		{"EnsureAccountsExisting+Post", 2, func(ctx context.Context, i int) error {
			return ensureAndPost(ctx, s, "e50-0", 50)
		}},
		// A lone EnsureAccount is one round trip: BEGIN, the writes and
		// COMMIT.
		{"EnsureAccount", 1, func(ctx context.Context, i int) error {
			return l.EnsureAccount(ctx, ledger.Account{ID: ledger.AccountID(fmt.Sprint("lone-", i)), Unit: "credit"})
		}},
		// A conflicting ensure is found at the commit; the function runs
		// again with writes sent at once, which reports it.
		// Five batches; pgx prepares again the statements of a batch that
		// failed, which adds the rest.
		{"EnsureAccountConflict", 8, func(ctx context.Context, i int) error {
			err := s.InTx(ctx, func(tx ledger.Tx) error {
				b := ledger.NewBook(tx, time.Now())
				if err := b.EnsureAccounts(ctx, []ledger.Account{
					{ID: ledger.AccountID(fmt.Sprint("fresh-", i)), Unit: "credit"},
					{ID: "a", Unit: "credit", Owner: "someone else"},
				}); err != nil {
					return err
				}
				_, err := b.Post(ctx, ledger.Transfer{ID: ledger.TransferID(fmt.Sprint("after-conflict-", i)), Debit: "issuer", Credit: "b", Amount: one})
				return err
			})
			var ce *ledger.ConflictError
			if !errors.As(err, &ce) || ce.ID != "a" || ce.Field != "owner" {
				return errors.New("the conflicting ensure was not refused as a conflict on a's owner: " + errorString(err))
			}
			if _, err := unseen.Account(ctx, ledger.AccountID(fmt.Sprint("fresh-", i))); !errors.Is(err, ledger.ErrNotFound) {
				return errors.New("the refused ensure opened an account: " + errorString(err))
			}
			if _, err := unseen.Transfer(ctx, ledger.TransferID(fmt.Sprint("after-conflict-", i))); !errors.Is(err, ledger.ErrNotFound) {
				return errors.New("the transaction of the refused ensure posted: " + errorString(err))
			}
			return nil
		}},
		{"CreateHold", 2, func(ctx context.Context, i int) error {
			_, err := l.CreateHold(ctx, ledger.Hold{ID: id("hold", i), Debit: "a", Credit: "b", Amount: one, ExpiresAt: time.Now().Add(time.Hour)})
			return err
		}},
		{"CreateHoldReplayed", 2, func(ctx context.Context, i int) error {
			_, err := l.CreateHold(ctx, ledger.Hold{ID: "replayed", Debit: "a", Credit: "b", Amount: one})
			return err
		}},
		{"PostHold", 2, func(ctx context.Context, i int) error {
			if i == 0 { // the warm-up also makes the hold the counted run settles
				for k := range 2 {
					if _, err := l.CreateHold(ctx, ledger.Hold{ID: id("topost", k), Debit: "a", Credit: "b", Amount: decimal.NewFromInt(2)}); err != nil {
						return err
					}
				}
			}
			_, err := l.PostHold(ctx, id("topost", i), one)
			return err
		}},
		{"VoidHold", 2, func(ctx context.Context, i int) error {
			if i == 0 { // the warm-up also makes the hold the counted run settles
				for k := range 2 {
					if _, err := l.CreateHold(ctx, ledger.Hold{ID: id("tovoid", k), Debit: "a", Credit: "b", Amount: one}); err != nil {
						return err
					}
				}
			}
			_, err := l.VoidHold(ctx, id("tovoid", i))
			return err
		}},
		{"PostHoldNotPending", 2, func(ctx context.Context, i int) error {
			_, err := l.PostHold(ctx, id("topost", 0), one)
			if !errors.Is(err, ledger.ErrHoldNotPending) {
				return errors.New("posting a posted hold was not refused: " + errorString(err))
			}
			return nil
		}},
		// Posting from an account with pending holds: the expired-holds
		// sweep travels with the lock.
		{"PostWithHolds", 1, func(ctx context.Context, i int) error {
			return post(ctx, ledger.Transfer{ID: id("withholds", i), Debit: "a", Credit: "b", Amount: one})
		}},
		// Posting from an account with an expired hold: the round trip
		// that commits with the lock writes nothing, and the post runs
		// again with the write that releases the hold first, committing
		// with the lock again.
		{"PostExpiredHold", 2, func(ctx context.Context, i int) error {
			hid := id("expired", i)
			if _, err := past.CreateHold(ctx, ledger.Hold{ID: hid, Debit: "a", Credit: "b", Amount: one, ExpiresAt: time.Now().Add(-time.Hour)}); err != nil {
				return err
			}
			if err := post(ctx, ledger.Transfer{ID: id("afterexpired", i), Debit: "a", Credit: "b", Amount: one}); err != nil {
				return err
			}
			h, err := unseen.Hold(ctx, hid)
			if err != nil {
				return err
			}
			if h.Status != ledger.HoldExpired {
				return fmt.Errorf("hold %s is %s after the post, want expired", hid, h.Status)
			}
			return nil
		}},
	})
}

// TestRoundTrips_PostReleasesExpiredHolds: a post that must first release
// expired holds of both its accounts, beside a live one, takes two round
// trips, and leaves the books as the ledger's rules say: the expired holds
// settled at their expiry, their amounts no longer held, the live hold
// still counted.
func TestRoundTrips_PostReleasesExpiredHolds(t *testing.T) {
	db := newTestDB(t)
	c, _, l := countedLedger(t, db)
	pool := db.pool(t, 1)
	const nn = ledger.FlagNonNegative
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a0": nn, "b0": nn, "a1": nn, "b1": nn},
		map[ledger.AccountID]int64{"a0": 100, "b0": 50, "a1": 100, "b1": 50})
	ctx := context.Background()
	past, err := ledger.New(db.store(t, 1, nil), &ledger.Options{Clock: clock.NewFake(time.Now().Add(-2 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	unseen, err := ledger.New(db.store(t, 1, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	// Round 0 warms the connection up (its statements prepared); round 1
	// is counted.
	for r := range 2 {
		a, b := ledger.AccountID(fmt.Sprint("a", r)), ledger.AccountID(fmt.Sprint("b", r))
		hold := func(name string) ledger.TransferID { return ledger.TransferID(fmt.Sprint(name, r)) }
		for _, h := range []ledger.Hold{
			{ID: hold("ha"), Debit: a, Credit: b, Amount: decimal.NewFromInt(30), ExpiresAt: expires},
			{ID: hold("hb"), Debit: b, Credit: a, Amount: decimal.NewFromFloat(20.5), ExpiresAt: expires},
			{ID: hold("live"), Debit: a, Credit: b, Amount: decimal.NewFromInt(10), ExpiresAt: time.Now().Add(time.Hour)},
		} {
			if _, err := past.CreateHold(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		// a has 100 posted and 40 held: 65 needs the expired 30 released.
		var got ledger.Transfer
		trips, sqls, err := c.count(func() (err error) {
			got, err = l.Post(ctx, ledger.Transfer{ID: hold("spend"), Debit: a, Credit: b, Amount: decimal.NewFromInt(65)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if r == 0 {
			continue
		}
		if trips > 2 {
			t.Errorf("the post took %d round trips, want 2; statements:\n\t%s", trips, strings.Join(sqls, "\n\t"))
		}
		if !got.DebitBalance.Equal(decimal.NewFromInt(35)) || !got.CreditBalance.Equal(decimal.NewFromInt(115)) {
			t.Errorf("balances after = %v, %v; want 35, 115", got.DebitBalance, got.CreditBalance)
		}
		for id, want := range map[ledger.AccountID][2]int64{a: {35, 10}, b: {115, 0}} {
			if b, err := unseen.Balance(ctx, id); err != nil || !b.Posted.Equal(decimal.NewFromInt(want[0])) || !b.Held.Equal(decimal.NewFromInt(want[1])) {
				t.Errorf("%s = %v posted, %v held (%v); want %d, %d", id, b.Posted, b.Held, err, want[0], want[1])
			}
		}
		for id, want := range map[ledger.TransferID]ledger.HoldStatus{hold("ha"): ledger.HoldExpired, hold("hb"): ledger.HoldExpired, hold("live"): ledger.HoldPending} {
			h, err := unseen.Hold(ctx, id)
			if err != nil || h.Status != want || (want == ledger.HoldExpired && !h.SettledAt.Equal(expires)) {
				t.Errorf("hold %s = %s settled %v (%v); want %s, settled at its expiry", id, h.Status, h.SettledAt, err, want)
			}
		}

		// Two more holds expire: a conflicting post (the same ID, another
		// amount) is refused and releases nothing; a replay releases them,
		// as the ledger does before it finds the post was made, in two
		// round trips too.
		for _, h := range []ledger.Hold{
			{ID: hold("ha2"), Debit: a, Credit: b, Amount: decimal.NewFromInt(5), ExpiresAt: expires},
			{ID: hold("hb2"), Debit: b, Credit: a, Amount: decimal.NewFromFloat(1.25), ExpiresAt: expires},
		} {
			if _, err := past.CreateHold(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		stored := func(when, want, aWant, bWant string) {
			t.Helper()
			var statuses string
			var aHeld, bHeld decimal.Decimal
			if err := pool.QueryRow(ctx, `SELECT string_agg(status, ',' ORDER BY id), (SELECT held FROM allot_accounts WHERE id = $1), (SELECT held FROM allot_accounts WHERE id = $2)
				FROM allot_holds WHERE id IN ($3, $4)`, string(a), string(b), string(hold("ha2")), string(hold("hb2"))).Scan(&statuses, &aHeld, &bHeld); err != nil {
				t.Fatal(err)
			}
			if statuses != want || !aHeld.Equal(decimal.RequireFromString(aWant)) || !bHeld.Equal(decimal.RequireFromString(bWant)) {
				t.Errorf("%s: holds stored %s, held %v and %v; want %s, %s and %s", when, statuses, aHeld, bHeld, want, aWant, bWant)
			}
		}
		spend := ledger.Transfer{ID: hold("spend"), Debit: a, Credit: b, Amount: decimal.NewFromInt(65)}
		for what, change := range map[string]func(*ledger.Transfer){
			"amount":   func(tr *ledger.Transfer) { tr.Amount = decimal.NewFromInt(64) },
			"accounts": func(tr *ledger.Transfer) { tr.Debit, tr.Credit = tr.Credit, tr.Debit },
			"code":     func(tr *ledger.Transfer) { tr.Code = "other" },
			"actor":    func(tr *ledger.Transfer) { tr.Actor = "other" },
			"metadata": func(tr *ledger.Transfer) { tr.Metadata = map[string]string{"k": "v"} },
		} {
			conflict := spend
			change(&conflict)
			if _, err := l.Post(ctx, conflict); !errors.Is(err, ledger.ErrConflict) {
				t.Errorf("a post reusing the ID with another %s: %v, want ErrConflict", what, err)
			}
			stored("after a conflict of "+what, "pending,pending", "15", "1.25")
		}
		var again ledger.Transfer
		trips, sqls, err = c.count(func() (err error) {
			again, err = l.Post(ctx, ledger.Transfer{ID: hold("spend"), Debit: a, Credit: b, Amount: decimal.RequireFromString("65.00")})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if trips > 2 {
			t.Errorf("the replay took %d round trips, want 2; statements:\n\t%s", trips, strings.Join(sqls, "\n\t"))
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("the replay returned another transfer (-first +replay):\n%s", diff)
		}
		stored("after the replay", "expired,expired", "10", "0")
		for id, want := range map[ledger.AccountID][2]int64{a: {35, 10}, b: {115, 0}} {
			if bal, err := unseen.Balance(ctx, id); err != nil || !bal.Posted.Equal(decimal.NewFromInt(want[0])) || !bal.Held.Equal(decimal.NewFromInt(want[1])) {
				t.Errorf("after the replay, %s = %v posted, %v held (%v); want %d, %d", id, bal.Posted, bal.Held, err, want[0], want[1])
			}
		}

		// Two expired holds of the credit account alone: the replay
		// releases both, and updates that account only.
		for _, id := range []ledger.TransferID{hold("hb3"), hold("hb4")} {
			if _, err := past.CreateHold(ctx, ledger.Hold{ID: id, Debit: b, Credit: a, Amount: decimal.NewFromFloat(0.5), ExpiresAt: expires}); err != nil {
				t.Fatal(err)
			}
		}
		trips, sqls, err = c.count(func() error {
			_, err := l.Post(ctx, spend)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if trips > 2 {
			t.Errorf("the replay releasing the credit account's holds took %d round trips, want 2; statements:\n\t%s", trips, strings.Join(sqls, "\n\t"))
		}
		var statuses string
		var aHeld, bHeld decimal.Decimal
		if err := pool.QueryRow(ctx, `SELECT string_agg(status, ',' ORDER BY id), (SELECT held FROM allot_accounts WHERE id = $1), (SELECT held FROM allot_accounts WHERE id = $2)
			FROM allot_holds WHERE id IN ($3, $4)`, string(a), string(b), string(hold("hb3")), string(hold("hb4"))).Scan(&statuses, &aHeld, &bHeld); err != nil {
			t.Fatal(err)
		}
		if statuses != "expired,expired" || !aHeld.Equal(decimal.NewFromInt(10)) || !bHeld.IsZero() {
			t.Errorf("after the second replay: holds %s, held %v and %v; want expired, 10 and 0", statuses, aHeld, bHeld)
		}
	}
	if r, err := unseen.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify = %+v, %v", r.Discrepancies, err)
	}
}

// ensureAndPost ensures n accounts, then posts to the first, in one
// transaction.
func ensureAndPost(ctx context.Context, s *pgxstore.Store, prefix string, n int) error {
	return s.InTx(ctx, func(tx ledger.Tx) error {
		b := ledger.NewBook(tx, time.Now())
		as := make([]ledger.Account, n)
		for k := range as {
			as[k] = ledger.Account{ID: ledger.AccountID(fmt.Sprint(prefix, "-", k)), Unit: "credit", Owner: "org", Metadata: map[string]string{"k": fmt.Sprint(k)}}
		}
		var err error
		if n == 1 {
			err = b.EnsureAccount(ctx, as[0])
		} else {
			err = b.EnsureAccounts(ctx, as)
		}
		if err != nil {
			return err
		}
		_, err = b.Post(ctx, ledger.Transfer{ID: ledger.TransferID("to-" + prefix), Debit: "issuer", Credit: as[0].ID, Amount: decimal.NewFromInt(1)})
		return err
	})
}

func errorString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// refusingFixture is a ledger with "issuer", a non-negative "a" holding 10
// and "b", on a database changed by ddl (a constraint the ledger does not
// know, which refuses some of its writes).
func refusingFixture(t *testing.T, ddl string) *ledger.Ledger {
	t.Helper()
	db := newTestDB(t)
	l, err := ledger.New(db.store(t, 2, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": ledger.FlagNonNegative, "b": 0}, map[ledger.AccountID]int64{"a": 10})
	if _, err := db.pool(t, 1).Exec(context.Background(), ddl); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPost_RefusedAtCommit makes the database refuse a post's writes, sent
// with the commit: the post is refused with the database's error, as when
// the writes are sent at once, and nothing changes.
func TestPost_RefusedAtCommit(t *testing.T) {
	l := refusingFixture(t, "ALTER TABLE allot_transfers ADD CONSTRAINT test_no_bad CHECK (code <> 'bad')")
	ctx := context.Background()
	_, err := l.Post(ctx, ledger.Transfer{ID: "t1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3), Code: "bad"})
	if err == nil || !strings.Contains(err.Error(), "test_no_bad") {
		t.Fatalf("Post = %v, want the CHECK constraint's refusal", err)
	}
	if got := balance(t, l, "a"); !got.Posted.Equal(decimal.NewFromInt(10)) {
		t.Errorf("a = %s after the refused post, want 10", got.Posted)
	}
	if _, err := l.Transfer(ctx, "t1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Transfer(t1) = %v, want ErrNotFound", err)
	}
	tr, err := l.Post(ctx, ledger.Transfer{ID: "t1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3), Code: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.DebitBalance.Equal(decimal.NewFromInt(7)) {
		t.Errorf("DebitBalance = %s, want 7", tr.DebitBalance)
	}
	mustVerify(t, l)
}

// TestRoundTrips_EventsRideWithTheCommit checks that an act's events cost
// no round trip of their own: a transaction that reads, then emits, takes as
// many round trips as one that only reads; and the events commit with it.
func TestRoundTrips_EventsRideWithTheCommit(t *testing.T) {
	db := newTestDB(t)
	c, s, l := countedLedger(t, db)
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"a": 0}, nil)
	ctx := context.Background()
	act := func(emit bool) error {
		return s.InTx(ctx, func(tx ledger.Tx) error {
			if _, err := tx.AccountGet(ctx, "a"); err != nil {
				return err
			}
			if !emit {
				return nil
			}
			return tx.(events.Emitter).Emit(ctx, events.Event{Type: events.SeatsEventCovered, Org: "acme",
				At: time.Now(), Actor: "system", Payload: events.EventCovered{Event: "e1"}})
		})
	}
	for range 2 { // warm up both
		if err := act(false); err != nil {
			t.Fatal(err)
		}
		if err := act(true); err != nil {
			t.Fatal(err)
		}
	}
	without, _, err := c.count(func() error { return act(false) })
	if err != nil {
		t.Fatal(err)
	}
	with, sqls, err := c.count(func() error { return act(true) })
	if err != nil {
		t.Fatal(err)
	}
	if with != without {
		t.Errorf("reading and emitting took %d round trips, reading alone %d; statements:\n\t%s", with, without, strings.Join(sqls, "\n\t"))
	}
	got, err := events.NewReader(s).Read(ctx, events.Query{})
	if err != nil || len(got) != 3 {
		t.Errorf("read %d events (%v); want the 3 emitted", len(got), err)
	}
}

// TestCallerTransaction_EnsureAndHolds runs ensures and holds in a
// transaction the caller owns, where every write is sent at once: a
// refused ensure is reported by EnsureAccounts, leaves the transaction
// usable and writes nothing; holds are created, posted and voided; and all
// of it commits with the caller's own row.
func TestCallerTransaction_EnsureAndHolds(t *testing.T) {
	pool, s, l := callerFixture(t)
	ctx := context.Background()
	two := decimal.NewFromInt(2)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO orders (id) VALUES ('o1')"); err != nil {
			return err
		}
		return s.WithTx(tx).InTx(ctx, func(ltx ledger.Tx) error {
			b := ledger.NewBook(ltx, time.Now())
			err := b.EnsureAccounts(ctx, []ledger.Account{{ID: "m1", Unit: "credit"}, {ID: "a", Unit: "credit", Owner: "other"}})
			var ce *ledger.ConflictError
			if !errors.As(err, &ce) || ce.ID != "a" || ce.Field != "owner" {
				t.Errorf("EnsureAccounts(m1, a owned by other) = %v, want a conflict on a's owner", err)
			}
			if err := b.EnsureAccounts(ctx, []ledger.Account{{ID: "m2", Unit: "credit"}, {ID: "a", Unit: "credit", Flags: ledger.FlagNonNegative}}); err != nil {
				return err
			}
			for _, id := range []ledger.TransferID{"h1", "h2"} {
				if _, err := b.CreateHold(ctx, ledger.Hold{ID: id, Debit: "a", Credit: "m2", Amount: two}); err != nil {
					return err
				}
			}
			if _, err := b.PostHold(ctx, "h1", decimal.NewFromInt(1)); err != nil {
				return err
			}
			if _, err := b.PostHold(ctx, "h1", decimal.NewFromInt(1)); !errors.Is(err, ledger.ErrHoldNotPending) {
				t.Errorf("posting h1 twice = %v, want ErrHoldNotPending", err)
			}
			_, err = b.VoidHold(ctx, "h2")
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Account(ctx, "m1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Account(m1) = %v, want ErrNotFound: the refused ensure wrote it", err)
	}
	if b := balance(t, l, "m2"); !b.Posted.Equal(decimal.NewFromInt(1)) {
		t.Errorf("m2 = %s, want 1", b.Posted)
	}
	if b := balance(t, l, "a"); !b.Posted.Equal(decimal.NewFromInt(9)) || !b.Held.IsZero() {
		t.Errorf("a = %s posted %s held, want 9 and 0", b.Posted, b.Held)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d order rows (%v), want 1", n, err)
	}
	mustVerify(t, l)
}

// TestHolds_RefusedAtCommit makes the database refuse a hold's writes,
// sent with the commit: the hold is refused with the database's error, as
// when the writes are sent at once, and nothing changes; then the same for
// a settlement.
func TestHolds_RefusedAtCommit(t *testing.T) {
	l := refusingFixture(t, "ALTER TABLE allot_holds ADD CONSTRAINT test_no_bad CHECK (code <> 'bad' AND status <> 'voided')")
	ctx := context.Background()
	_, err := l.CreateHold(ctx, ledger.Hold{ID: "h1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3), Code: "bad"})
	if err == nil || !strings.Contains(err.Error(), "test_no_bad") || !strings.Contains(err.Error(), `create hold "h1"`) {
		t.Fatalf("CreateHold = %v, want the CHECK constraint's refusal, reported by CreateHold", err)
	}
	if got := balance(t, l, "a"); !got.Held.IsZero() {
		t.Errorf("a holds %s after the refused hold, want 0", got.Held)
	}
	if _, err := l.Hold(ctx, "h1"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Hold(h1) = %v, want ErrNotFound", err)
	}
	if _, err := l.CreateHold(ctx, ledger.Hold{ID: "h1", Debit: "a", Credit: "b", Amount: decimal.NewFromInt(3)}); err != nil {
		t.Fatal(err)
	}
	_, err = l.VoidHold(ctx, "h1")
	if err == nil || !strings.Contains(err.Error(), "test_no_bad") || !strings.Contains(err.Error(), `void hold "h1"`) {
		t.Fatalf("VoidHold = %v, want the CHECK constraint's refusal, reported by VoidHold", err)
	}
	if h, err := l.Hold(ctx, "h1"); err != nil || h.Status != ledger.HoldPending {
		t.Errorf("Hold(h1) = %+v, %v after the refused void, want it pending", h, err)
	}
	if _, err := l.PostHold(ctx, "h1", decimal.NewFromInt(2)); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, l, "a"); !got.Posted.Equal(decimal.NewFromInt(8)) || !got.Held.IsZero() {
		t.Errorf("a = %s posted, %s held after posting 2 of the hold, want 8 and 0", got.Posted, got.Held)
	}
	mustVerify(t, l)
}

// TestMigrate_JournalSequenceName: a post takes its journal number from
// the sequence named allot_transfers_seq_seq; a schema whose identity
// sequence PostgreSQL named otherwise gets it renamed by the migration.
func TestMigrate_JournalSequenceName(t *testing.T) {
	db := newTestDBAt(t, 8)
	pool := db.pool(t, 2)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "ALTER SEQUENCE allot_transfers_seq_seq RENAME TO allot_transfers_seq_seq1"); err != nil {
		t.Fatal(err)
	}
	if err := pgxstore.Migrate(ctx, pool, db.schema); err != nil {
		t.Fatal(err)
	}
	s, err := pgxstore.New(pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustDefine(t, l, map[ledger.AccountID]ledger.Flags{"issuer": 0, "a": 0}, nil)
	tr, err := l.Post(ctx, ledger.Transfer{ID: "t1", Debit: "issuer", Credit: "a", Amount: decimal.NewFromInt(1)})
	if err != nil {
		t.Fatal(err)
	}
	var seq string
	if err := pool.QueryRow(ctx, "SELECT pg_get_serial_sequence('allot_transfers', 'seq')").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(seq, ".allot_transfers_seq_seq") || tr.Seq <= 0 {
		t.Errorf("sequence %s, transfer number %d; want allot_transfers_seq_seq and a number", seq, tr.Seq)
	}
}
