package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// loginState reads what LoginLoad reads, with the single-record methods,
// in a transaction of its own.
func loginState(t *testing.T, s passes.Store, p passes.LoginLoadParams) passes.LoginState {
	t.Helper()
	var st passes.LoginState
	found := func(err error) bool {
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			t.Fatalf("reading %+v: %v", p, err)
		}
		return err == nil
	}
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		st = passes.LoginState{}
		var err error
		st.Prior, err = tx.UsageGetByRequest(ctx, p.Org, p.RequestID)
		st.PriorFound = found(err)
		st.Session, err = tx.SessionGet(ctx, p.Org, p.Session)
		st.SessionFound = found(err)
		if st.Fields, err = tx.FieldList(ctx, p.Org); err != nil {
			return err
		}
		st.Access, err = tx.AccessLock(ctx, p.Org, p.Session, p.Guest)
		st.AccessFound = found(err)
		if p.Balance != "" {
			st.Balance, err = tx.AccountGet(ctx, p.Balance)
			st.BalanceFound = found(err)
		}
		return nil
	})
	return st
}

// testPassesLoginLoad: LoginLoad reads what the single-record methods read,
// each record reported missing by its Found field, the workspace's own
// records only; the state it fills is overwritten whole, whatever it held.
func testPassesLoginLoad(t *testing.T, newStore Factory) {
	svc, st := passesFixtureFields(t, newStore)
	ctx := context.Background()
	for _, org := range []string{"acme", "other"} {
		p := passes.CreateSessionParams{Org: org, Actor: passesAdmin, ID: "s1", Name: "One " + org, Owner: "o@acme.example"}
		if org == "acme" {
			p.Fields = []passes.FieldValue{{Name: "Note", Value: "n"}}
		}
		if _, err := svc.CreateSession(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s1", Guest: "a@x.example", RequestID: "r1", Location: "Bern"}); err != nil {
		t.Fatal(err)
	}
	s := st.Passes()
	// Filled with what no case reads, then reused from case to case.
	got := passes.LoginState{
		PriorFound: true, Prior: passes.Usage{RequestID: "stale", Fields: []passes.FieldValue{{Name: "X"}}},
		Session:     passes.Session{ID: "stale", Fields: []passes.FieldValue{{Name: "A"}, {Name: "B"}, {Name: "C"}}},
		Fields:      []passes.FieldDef{{Name: "A"}, {Name: "B"}, {Name: "C"}},
		AccessFound: true, Access: passes.Access{Guest: "stale"},
		BalanceFound: true, Balance: ledger.AccountState{Account: ledger.Account{ID: "stale"}},
	}
	for _, tc := range []struct {
		name string
		p    passes.LoginLoadParams
		// what the case must find
		prior, session, access, balance bool
	}{
		{"AllFound", passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: "a@x.example", RequestID: "r1", Balance: passes.BalanceAccount("acme")}, true, true, true, true},
		{"NewGuestNewRequest", passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: "b@x.example", RequestID: "r2", Balance: passes.BalanceAccount("acme")}, false, true, false, true},
		{"OtherWorkspace", passes.LoginLoadParams{Org: "other", Session: "s1", Guest: "a@x.example", RequestID: "r1", Balance: passes.BalanceAccount("other")}, false, true, false, false},
		{"UnknownSessionNoBalance", passes.LoginLoadParams{Org: "acme", Session: "nope", Guest: "a@x.example", RequestID: "r9"}, false, false, false, false},
		{"AllFoundAgain", passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: "a@x.example", RequestID: "r1", Balance: passes.BalanceAccount("acme")}, true, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ptx(t, s, func(ctx context.Context, tx passes.Tx) error { return tx.LoginLoad(ctx, tc.p, &got) })
			want := loginState(t, s, tc.p)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpOpts); diff != "" {
				t.Errorf("LoginLoad(%+v) mismatch (-single reads +load):\n%s", tc.p, diff)
			}
			if got.PriorFound != tc.prior || got.SessionFound != tc.session || got.AccessFound != tc.access || got.BalanceFound != tc.balance {
				t.Errorf("LoginLoad(%+v) found prior %v, session %v, access %v, balance %v; want %v, %v, %v, %v", tc.p,
					got.PriorFound, got.SessionFound, got.AccessFound, got.BalanceFound, tc.prior, tc.session, tc.access, tc.balance)
			}
		})
	}
	if got.Prior.RequestID != "r1" || len(got.Fields) != 2 || got.Session.Org != "acme" {
		t.Errorf("the last load read %+v", got)
	}
	// A load that finds no window leaves none: the guest still has none,
	// and the audit's listing does not show one.
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		as, err := tx.AccessList(ctx, passes.AccessListParams{Org: "acme"})
		if err != nil {
			return err
		}
		if len(as) != 1 || as[0].Guest != "a@x.example" {
			t.Errorf("windows after loads: %+v, want a@x.example's only", as)
		}
		return nil
	})
	// Copies: changing what a load filled changes nothing stored.
	got.Session.Fields[0].Value, got.Fields[0].Name = "changed", "changed"
	if again := loginState(t, s, passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: "a@x.example", RequestID: "r1"}); again.Session.Fields[0].Value != "n" || again.Fields[0].Name != "Note" {
		t.Errorf("changing a load's state changed the store: %+v", again)
	}
}

// testPassesLoginWrites: the writes a login makes after its load (which a
// store may send later) commit together, roll back together, and report a
// taken key as they do without a load.
func testPassesLoginWrites(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	ctx := context.Background()
	sess := sampleSession("s1")
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error { return tx.SessionInsert(ctx, sess) })
	load := func(ctx context.Context, tx passes.Tx, guest, req string) error {
		var st passes.LoginState
		if err := tx.LoginLoad(ctx, passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: guest, RequestID: req}, &st); err != nil {
			return err
		}
		if st.PriorFound || !st.SessionFound || st.AccessFound {
			return fmt.Errorf("LoginLoad(%s, %s) = %+v, want the session only", guest, req, st)
		}
		return nil
	}
	acc := passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example", Start: start, Until: start.Add(time.Hour)}
	u := sampleUsage("r1", start)
	u.Session = "s1"
	first := sess
	first.FirstLogin = start
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := load(ctx, tx, acc.Guest, "r1"); err != nil {
			return err
		}
		if err := tx.AccessInsert(ctx, acc); err != nil {
			return err
		}
		if err := tx.SessionUpdate(ctx, first); err != nil {
			return err
		}
		return tx.UsageAppend(ctx, u)
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		got, err := tx.UsageGetByRequest(ctx, "acme", "r1")
		if err != nil {
			return err
		}
		if got.Seq <= 0 {
			t.Errorf("UsageAppend's row has Seq %d, want positive", got.Seq)
		}
		u.Seq = got.Seq
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("UsageAppend's row mismatch (-want +got):\n%s", diff)
		}
		if a, err := tx.AccessLock(ctx, "acme", "s1", acc.Guest); err != nil || !cmp.Equal(acc, a) {
			t.Errorf("window after the login = %+v, %v, want %+v", a, err, acc)
		}
		if got, err := tx.SessionGet(ctx, "acme", "s1"); err != nil || !got.FirstLogin.Equal(start) {
			t.Errorf("session after the login = %+v, %v, want its first login set", got, err)
		}
		return nil
	})
	// An update of the window after a load that found it.
	longer := acc
	longer.Until = start.Add(48 * time.Hour)
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		var st passes.LoginState
		if err := tx.LoginLoad(ctx, passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: acc.Guest, RequestID: "r2"}, &st); err != nil {
			return err
		}
		if !st.AccessFound || !cmp.Equal(acc, st.Access) {
			t.Errorf("LoginLoad's window = %+v (found %v), want %+v", st.Access, st.AccessFound, acc)
		}
		return tx.AccessUpdate(ctx, longer)
	})
	if got := loginState(t, s, passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: acc.Guest}); !cmp.Equal(longer, got.Access) {
		t.Errorf("window after its update = %+v, want %+v", got.Access, longer)
	}

	// Taken keys, each in a transaction of its own.
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, tx passes.Tx) error
	}{
		{"UsageAppendTwice", func(ctx context.Context, tx passes.Tx) error {
			if err := load(ctx, tx, "b@x.example", "r3"); err != nil {
				return err
			}
			if err := tx.UsageAppend(ctx, sampleUsage("r3", start)); err != nil {
				return err
			}
			return tx.UsageAppend(ctx, sampleUsage("r3", start))
		}},
		{"UsageAppendCommitted", func(ctx context.Context, tx passes.Tx) error {
			return tx.UsageAppend(ctx, sampleUsage("r1", start))
		}},
		{"AccessInsertTwice", func(ctx context.Context, tx passes.Tx) error {
			if err := load(ctx, tx, "c@x.example", "r4"); err != nil {
				return err
			}
			c := passes.Access{Org: "acme", Session: "s1", Guest: "c@x.example", Start: start, Until: start.Add(time.Hour)}
			if err := tx.AccessInsert(ctx, c); err != nil {
				return err
			}
			return tx.AccessInsert(ctx, c)
		}},
	} {
		err := s.InTx(ctx, func(tx passes.Tx) error { return tc.fn(ctx, tx) })
		if !errors.Is(err, ledger.ErrAlreadyExists) {
			t.Errorf("%s = %v, want ErrAlreadyExists", tc.name, err)
		}
	}
	// Missing rows.
	err := s.InTx(ctx, func(tx passes.Tx) error {
		if err := load(ctx, tx, "d@x.example", "r5"); err != nil {
			return err
		}
		return tx.AccessUpdate(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "d@x.example", Start: start, Until: start.Add(time.Hour)})
	})
	if !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("AccessUpdate of a guest without a window after a load = %v, want ErrNotFound", err)
	}

	// A login's writes roll back with its transaction.
	errBoom := errors.New("boom")
	renamed := first
	renamed.Name = "Renamed"
	err = s.InTx(ctx, func(tx passes.Tx) error {
		if err := load(ctx, tx, "e@x.example", "r6"); err != nil {
			return err
		}
		if err := tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "e@x.example", Start: start, Until: start.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.SessionUpdate(ctx, renamed); err != nil {
			return err
		}
		if err := tx.UsageAppend(ctx, sampleUsage("r6", start)); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	for _, req := range []string{"r3", "r4", "r5", "r6"} {
		for _, guest := range []string{"b@x.example", "c@x.example", "d@x.example", "e@x.example"} {
			if got := loginState(t, s, passes.LoginLoadParams{Org: "acme", Session: "s1", Guest: guest, RequestID: req}); got.PriorFound || got.AccessFound || got.Session.Name != first.Name {
				t.Errorf("after refused and rolled back writes, %s/%s reads %+v", guest, req, got)
			}
		}
	}
}

// testPassesDemoLockMark: a session's demo lock is marked once per lock
// instant, in the workspace's session only, with the transaction.
func testPassesDemoLockMark(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	ctx := context.Background()
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		for _, org := range []string{"acme", "other"} {
			sess := sampleSession("s1")
			sess.Org, sess.PassType = org, passes.DemoPass
			if err := tx.SessionInsert(ctx, sess); err != nil {
				return err
			}
		}
		return nil
	})
	mark := func(org string, at time.Time) bool {
		t.Helper()
		var first bool
		ptx(t, s, func(ctx context.Context, tx passes.Tx) (err error) {
			first, err = tx.SessionDemoLockMark(ctx, org, "s1", at)
			return err
		})
		return first
	}
	locks := start.Add(4 * time.Hour)
	for _, tc := range []struct {
		name string
		org  string
		at   time.Time
		want bool
	}{
		{"First", "acme", locks, true},
		{"Again", "acme", locks, false},
		{"SameMicrosecondOtherZone", "acme", locks.Add(400 * time.Nanosecond).In(time.FixedZone("X", 3600)), false},
		{"OtherWorkspace", "other", locks, true},
		{"AnotherLock", "acme", locks.Add(time.Hour), true},
		{"TheFirstLockAgain", "acme", locks, true}, // a session keeps the last lock marked
	} {
		if got := mark(tc.org, tc.at); got != tc.want {
			t.Errorf("%s: SessionDemoLockMark(%s, %v) = %v, want %v", tc.name, tc.org, tc.at, got, tc.want)
		}
	}
	// Twice in one transaction: the second finds the first's mark.
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		for i, want := range []bool{true, false} {
			got, err := tx.SessionDemoLockMark(ctx, "acme", "s1", locks.Add(2*time.Hour))
			if err != nil {
				return err
			}
			if got != want {
				t.Errorf("mark %d in one transaction = %v, want %v", i, got, want)
			}
		}
		return nil
	})
	// A rolled back mark is no mark.
	errBoom := errors.New("boom")
	err := s.InTx(ctx, func(tx passes.Tx) error {
		if first, err := tx.SessionDemoLockMark(ctx, "acme", "s1", locks.Add(3*time.Hour)); err != nil || !first {
			return fmt.Errorf("mark = %v, %v, want the first", first, err)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if !mark("acme", locks.Add(3*time.Hour)) {
		t.Errorf("a mark rolled back counted")
	}
	// Missing sessions, another workspace's included.
	for _, k := range [][2]string{{"acme", "nope"}, {"third", "s1"}} {
		err := s.InTx(ctx, func(tx passes.Tx) error {
			_, err := tx.SessionDemoLockMark(ctx, k[0], k[1], locks)
			return err
		})
		if !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("SessionDemoLockMark(%s, %s) = %v, want ErrNotFound", k[0], k[1], err)
		}
	}
	// Concurrent marks of one lock: one is the first.
	const workers = 8
	var wg sync.WaitGroup
	firsts := make([]bool, workers)
	errs := make([]error, workers)
	at := locks.Add(10 * time.Hour)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = s.InTx(ctx, func(tx passes.Tx) (err error) {
				firsts[w], err = tx.SessionDemoLockMark(ctx, "acme", "s1", at)
				return err
			})
		}()
	}
	wg.Wait()
	n := 0
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("mark %d: %v", w, errs[w])
		}
		if firsts[w] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d concurrent marks of one lock: %d were the first, want 1", workers, n)
	}
}

// testPassesDemoLockedOnce: however many logins find a demo session locked,
// one after the other or at once, the outbox holds one PassesDemoLocked
// event per lock, and a PassesLoginRefused event per refusal.
func testPassesDemoLockedOnce(t *testing.T, newStore Factory) {
	st := newStore(t)
	clk := clock.NewFake(start)
	svc, err := passes.New(st.Passes(), &passes.Options{Clock: clk, Roles: passesRoles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"demo", "other"} {
		if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: passesAdmin, ID: id, Owner: "o@acme.example", PassType: passes.DemoPass}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: id, Guest: "a@x.example", RequestID: "open-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(5 * time.Hour)
	refuse := func(session, req string) {
		_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: session, Guest: req + "@x.example", RequestID: req})
		if !errors.Is(err, passes.ErrDemoLocked) {
			t.Errorf("login %s to %s = %v, want ErrDemoLocked", req, session, err)
		}
	}
	refuse("demo", "seq0")
	refuse("demo", "seq1")
	const workers = 6
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refuse("demo", fmt.Sprint("par", w))
		}()
	}
	wg.Wait()
	refuse("other", "o0")
	refuse("other", "o1")
	// Made a paid session and a demo again, it keeps its first login and
	// its lock: no second event.
	for _, pt := range []passes.PassType{passes.DayPass, passes.DemoPass} {
		if _, err := svc.UpdateSession(ctx, passes.UpdateSessionParams{Org: "acme", Actor: passesAdmin, ID: "demo", PassType: &pt}); err != nil {
			t.Fatal(err)
		}
	}
	refuse("demo", "seq2")

	locked := map[string]int{}
	refused := 0
	r := events.NewReader(st)
	for e, err := range r.All(ctx, events.Query{Org: "acme", Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		switch p := e.Payload.(type) {
		case events.DemoLocked:
			locked[p.Session]++
			if want := start.Add(4 * time.Hour).Truncate(time.Microsecond); !p.LockedAt.Equal(want) {
				t.Errorf("session %s locked at %v, want %v", p.Session, p.LockedAt, want)
			}
		case events.LoginRefused:
			refused++
		}
	}
	if locked["demo"] != 1 || locked["other"] != 1 || len(locked) != 2 {
		t.Errorf("PassesDemoLocked events per session: %v, want one each for demo and other", locked)
	}
	if want := 3 + workers + 2; refused != want {
		t.Errorf("%d PassesLoginRefused events, want %d", refused, want)
	}
}
