package passes_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// One person is one guest however the case of their address is written,
// beyond ASCII too: a second login inside the window spends nothing, and the
// log shows the canonical address, the owner's too.
func TestService_GuestsFoldUnicodeCase(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 5, "o1")
	f.session(passes.Session{ID: "day", Org: "acme", Owner: "Ölga@ACME.example"})
	first := f.mustLogin("acme", "day", "Änn@x.test", "r1")
	again := f.mustLogin("acme", "day", "ÄNN@x.test", "r2")
	if first.Passes != 1 || again.Passes != 0 || !again.InWindow {
		t.Errorf("logins of Änn and ÄNN spent %d and %d (in window %t), want 1 and 0 (true)", first.Passes, again.Passes, again.InWindow)
	}
	if b := f.balance("acme"); b != 4 {
		t.Errorf("balance %d, want 4", b)
	}
	page, err := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "acme", User: "äNN@X.TEST"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("log of äNN@X.TEST has %d rows, want 2", len(page.Items))
	}
	for _, u := range page.Items {
		if u.User != "änn@x.test" || u.Owner != "ölga@acme.example" {
			t.Errorf("row shows user %q and owner %q, want the canonical änn@x.test and ölga@acme.example", u.User, u.Owner)
		}
	}
	// The owner compares canonically: creating the session again naming
	// its owner in another case is the same session.
	if _, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "day", Org: "acme", Name: "Session day", Owner: "ÖLGA@acme.EXAMPLE"}); err != nil {
		t.Errorf("CreateSession again with the owner in other case = %v", err)
	}
}

// A purchase that would take the balance beyond what an int64 holds is
// refused and changes nothing; no view of the ledger wraps around.
func TestService_BuyBeyondMaxInt64(t *testing.T) {
	f := newFixture(t, nil)
	if got, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: math.MaxInt64, RequestID: "o1"}); err != nil || got.Available != math.MaxInt64 {
		t.Fatalf("Buy(MaxInt64) = %+v, %v", got, err)
	}
	before := f.snapshot("acme", nil, nil)
	for _, q := range []int64{math.MaxInt64, 1} {
		got, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: q, RequestID: "o2"})
		if !errors.Is(err, passes.ErrInvalid) || got != (allot.Purchase{}) {
			t.Errorf("Buy(%d) on a full balance = %+v, %v; want ErrInvalid", q, got, err)
		}
	}
	if diff := cmp.Diff(before, f.snapshot("acme", nil, nil), cmpDecimal); diff != "" {
		t.Errorf("a refused purchase changed the store (-before +after):\n%s", diff)
	}
	if got, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: math.MaxInt64, RequestID: "o1"}); err != nil || got.Available != math.MaxInt64 {
		t.Errorf("Buy(MaxInt64) retried = %+v, %v; want the first answer", got, err)
	}
	if b := f.balance("acme"); b != math.MaxInt64 {
		t.Errorf("balance %d, want MaxInt64", b)
	}

	// A balance taken beyond an int64 by a transfer posted to the ledger
	// directly is an error wherever passes would show it as an int64.
	l, err := ledger.New(f.mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Post(f.ctx, ledger.Transfer{ID: "direct", Debit: passes.IssuerAccount("acme"), Credit: passes.BalanceAccount("acme"), Amount: decimal.NewFromInt(1)})
	if err != nil {
		t.Skipf("the ledger refuses a balance beyond an int64 itself: %v", err)
	}
	if b, err := f.svc.Balance(f.ctx, passes.BalanceParams{Org: "acme", Actor: admin}); !errors.Is(err, passes.ErrInvalid) || b != 0 {
		t.Errorf("Balance of MaxInt64+1 = %+v, %v; want ErrInvalid", b, err)
	}
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
	before = f.snapshot("acme", []string{"demo"}, []string{"a@x.example"})
	if d, err := f.login("acme", "demo", "a@x.example", "r1"); !errors.Is(err, passes.ErrInvalid) || d.Allowed || d.Balance != 0 {
		t.Errorf("a login that would log the balance MaxInt64+1 = %+v, %v; want ErrInvalid", d, err)
	}
	if diff := cmp.Diff(before, f.snapshot("acme", []string{"demo"}, []string{"a@x.example"}), cmpDecimal); diff != "" {
		t.Errorf("the refused login changed the store (-before +after):\n%s", diff)
	}
}

// Workspace "a" buying with request "b/login/c" and workspace "a/buy/b"
// logging a guest in with request "c" are two acts: their transfer IDs
// differ, and neither blocks the other.
func TestService_DerivedIDsDoNotCollide(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("a", 1, "b/login/c")
	f.buy("a/buy/b", 1, "o1")
	f.session(passes.Session{ID: "s", Org: "a/buy/b"})
	d, err := f.login("a/buy/b", "s", "g@x.example", "c")
	if err != nil || d.Passes != 1 {
		t.Fatalf("first login of workspace a/buy/b with request c = %v, %v; want 1 pass spent", d, err)
	}
	if b := f.balance("a"); b != 1 {
		t.Errorf("balance of a = %d, want 1", b)
	}
	if b := f.balance("a/buy/b"); b != 0 {
		t.Errorf("balance of a/buy/b = %d, want 0", b)
	}
	verify(t, f)
}

// Two workspaces may each have a session with one ID: neither is refused as
// taken, each reads its own, and a guest's window in one is not a window in
// the other.
func TestService_SessionIDsPerWorkspace(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 2, "o1")
	f.buy("globex", 2, "o1")
	f.session(passes.Session{ID: "kickoff", Org: "acme", Name: "Acme kick-off"})
	f.session(passes.Session{ID: "kickoff", Org: "globex", Name: "Globex kick-off", PassType: passes.MonthPass})
	for ws, name := range map[string]string{"acme": "Acme kick-off", "globex": "Globex kick-off"} {
		s, err := f.svc.Session(f.ctx, passes.SessionParams{Org: ws, Actor: admin, ID: "kickoff"})
		if err != nil || s.Name != name || s.Org != ws {
			t.Errorf("Session(%s, kickoff) = %+v, %v; want %q", ws, s, err, name)
		}
	}
	if _, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "initech", Actor: admin, ID: "kickoff"}); !errors.Is(err, passes.ErrUnknownSession) {
		t.Errorf("Session(initech, kickoff) = %v, want ErrUnknownSession", err)
	}
	if d := f.mustLogin("acme", "kickoff", "ann@x.example", "r1"); d.Passes != 1 {
		t.Errorf("acme login spent %d, want 1", d.Passes)
	}
	if d := f.mustLogin("globex", "kickoff", "ann@x.example", "r1"); d.Passes != 2 || d.InWindow {
		t.Errorf("globex login = %v, want 2 passes spent: acme's window is not globex's", d)
	}
	if d, err := f.login("initech", "kickoff", "ann@x.example", "r1"); !errors.Is(err, passes.ErrUnknownSession) {
		t.Errorf("login to another workspace's session = %v, %v; want ErrUnknownSession", d, err)
	}
	verify(t, f)
}

// commitFailStore runs fn and then fails the transaction, as a commit that
// fails (or a context cancelled before the commit) does: nothing fn did
// remains.
type commitFailStore struct {
	passes.Store
	cancel context.CancelFunc // if set, cancel the context rather than fail
}

func (s commitFailStore) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return s.Store.InTx(ctx, func(tx passes.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.cancel != nil {
			s.cancel()
			return nil // the store sees the cancelled context before committing
		}
		return errInjected
	})
}

// A login whose transaction fails after it decided returns no grant with its
// error: the zero Decision, nothing spent, no access.
func TestService_LoginFailedCommitGrantsNothing(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		f := newFixture(t, nil)
		f.buy("acme", 3, "o1")
		f.session(passes.Session{ID: "day", Org: "acme"})
		f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
		ctx, cancel := context.WithCancel(f.ctx)
		st := commitFailStore{Store: f.mem.Passes()}
		if cancelled {
			st.cancel = cancel
		}
		svc, err := passes.New(st, &passes.Options{Clock: f.clock, Roles: testRoles})
		if err != nil {
			t.Fatal(err)
		}
		before := f.snapshot("acme", []string{"day", "demo"}, []string{"a@x.example"})
		for _, session := range []string{"day", "demo"} {
			d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: session, Guest: "a@x.example", RequestID: "r-" + session})
			if err == nil || errors.Is(err, passes.ErrRefused) {
				t.Errorf("cancelled %t, %s: Login = %v, want the storage error", cancelled, session, err)
			}
			if d != (passes.Decision{}) {
				t.Errorf("cancelled %t, %s: Login returned %v with its error; want the zero Decision", cancelled, session, d)
			}
		}
		if diff := cmp.Diff(before, f.snapshot("acme", []string{"day", "demo"}, []string{"a@x.example"}), cmpDecimal); diff != "" {
			t.Errorf("cancelled %t: a login that did not commit changed the store (-before +after):\n%s", cancelled, diff)
		}
		cancel()
	}
}

// Malformed input is refused with ErrInvalid and changes nothing: IDs by
// input.ID, text by input.Text, times by input.Time.
func TestService_InvalidInputChangesNothing(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 3, "o1")
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}}); err != nil {
		t.Fatal(err)
	}
	f.session(passes.Session{ID: "day", Org: "acme"})
	long := strings.Repeat("x", 201)
	ok := passes.LoginParams{Org: "acme", Session: "day", Guest: "a@x.example", RequestID: "r"}
	login := func(change func(r *passes.LoginParams)) func() error {
		return func() error {
			r := ok
			change(&r)
			d, err := f.svc.Login(f.ctx, r)
			if d != (passes.Decision{}) {
				return errors.New("a decision came with an invalid request")
			}
			return err
		}
	}
	session := func(change func(s *passes.Session)) func() error {
		return func() error {
			s := passes.Session{ID: "new", Org: "acme", Owner: "o@acme.example"}
			change(&s)
			_, err := f.svc.CreateSession(f.ctx, create(s))
			return err
		}
	}
	buy := func(ws, req string) func() error {
		return func() error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: ws, Actor: vendor, Quantity: 1, RequestID: req})
			return err
		}
	}
	logAt := func(from, to time.Time) func() error {
		return func() error {
			_, err := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "acme", From: from, To: to})
			return err
		}
	}
	cases := map[string]func() error{
		"BuyWorkspaceSpace":    buy("a b", "o2"),
		"BuyWorkspaceNUL":      buy("a\x00", "o2"),
		"BuyWorkspaceBadUTF8":  buy("a\xff", "o2"),
		"BuyWorkspaceTooLong":  buy(long, "o2"),
		"BuyRequestControl":    buy("acme", "o\n2"),
		"SessionIDSpace":       session(func(s *passes.Session) { s.ID = "new one" }),
		"SessionNameBadUTF8":   session(func(s *passes.Session) { s.Name = "caf\xe9" }),
		"SessionNameNUL":       session(func(s *passes.Session) { s.Name = "a\x00" }),
		"SessionOwnerNUL":      session(func(s *passes.Session) { s.Owner = "o\x00@acme.example" }),
		"SessionFieldValueNUL": session(func(s *passes.Session) { s.Fields = []passes.FieldValue{{Name: "Note", Value: "\x00"}} }),
		"DefineFieldsBadUTF8": func() error {
			_, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "\xff"}}})
			return err
		},
		"LoginWorkspaceTab":    login(func(r *passes.LoginParams) { r.Org = "ac\tme" }),
		"LoginRequestTooLong":  login(func(r *passes.LoginParams) { r.RequestID = long }),
		"LoginSessionEmpty":    login(func(r *passes.LoginParams) { r.Session = "" }),
		"LoginLocationNUL":     login(func(r *passes.LoginParams) { r.Location = "Bern\x00" }),
		"LoginFieldValueUTF8":  login(func(r *passes.LoginParams) { r.Fields = map[string]string{"Note": "\xc3"} }),
		"LoginFieldNameNUL":    login(func(r *passes.LoginParams) { r.Fields = map[string]string{"\x00": "x"} }),
		"LogFromAfterYear9999": logAt(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}),
		"LogToBeforeYear1":     logAt(time.Time{}, time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)),
		"LogWorkspaceBadUTF8":  func() error { _, err := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "\xff"}); return err },
		"BalanceWorkspaceSpace": func() error {
			_, err := f.svc.Balance(f.ctx, passes.BalanceParams{Org: "a b", Actor: admin})
			return err
		},
		"SessionWorkspaceEmpty": func() error {
			_, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "", Actor: admin, ID: "day"})
			return err
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot("acme", []string{"day", "new"}, []string{"a@x.example"})
			if err := run(); !errors.Is(err, passes.ErrInvalid) {
				t.Errorf("= %v, want ErrInvalid", err)
			}
			if diff := cmp.Diff(before, f.snapshot("acme", []string{"day", "new"}, []string{"a@x.example"}), cmpDecimal); diff != "" {
				t.Errorf("changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

// A clock outside the years every store keeps is refused, and so is a
// window it would grant beyond them.
func TestService_TimesOutOfRange(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 3, "o1")
	f.session(passes.Session{ID: "month", Org: "acme", PassType: passes.MonthPass})
	f.clock.Set(time.Date(9999, 12, 20, 0, 0, 0, 0, time.UTC)) // 30 days later is year 10000
	before := f.snapshot("acme", []string{"month"}, []string{"a@x.example"})
	if d, err := f.login("acme", "month", "a@x.example", "r1"); !errors.Is(err, passes.ErrInvalid) || d.Allowed {
		t.Errorf("login granting a window past year 9999 = %v, %v; want ErrInvalid", d, err)
	}
	f.clock.Set(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, RequestID: "o2"}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("Buy with the clock in year 10000 = %v, want ErrInvalid", err)
	}
	if diff := cmp.Diff(before, f.snapshot("acme", []string{"month"}, []string{"a@x.example"}), cmpDecimal); diff != "" {
		t.Errorf("changed the store (-before +after):\n%s", diff)
	}
}

// verify fails the test if the ledger's books disagree with its journal.
func verify(t *testing.T, f *fixture) {
	t.Helper()
	l, err := ledger.New(f.mem, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Verify(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Discrepancies {
		t.Errorf("Verify: %s", d)
	}
}
