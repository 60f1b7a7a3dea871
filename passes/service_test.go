package passes_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	mem   *memstore.Store
	clock *clock.Fake
	svc   *passes.Service
}

func newFixture(t *testing.T, opts *passes.Options) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), mem: memstore.New(), clock: clock.NewFake(t0)}
	if opts == nil {
		opts = &passes.Options{}
	}
	opts.Clock = f.clock
	if opts.Roles == nil {
		opts.Roles = testRoles
	}
	svc, err := passes.New(f.mem.Passes(), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func (f *fixture) buy(ws string, n int64, req string) {
	f.t.Helper()
	if _, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: ws, Actor: vendor, Quantity: n, RequestID: req}); err != nil {
		f.t.Fatalf("Buy: %v", err)
	}
}

func (f *fixture) session(s passes.Session) {
	f.t.Helper()
	if s.Owner == "" {
		s.Owner = "owner@acme.example"
	}
	if s.Name == "" {
		s.Name = "Session " + s.ID
	}
	if _, err := f.svc.CreateSession(f.ctx, create(s)); err != nil {
		f.t.Fatalf("CreateSession: %v", err)
	}
}

func (f *fixture) login(ws, session, guest, req string) (passes.Decision, error) {
	return f.svc.Login(f.ctx, passes.LoginParams{Org: ws, Session: session, Guest: guest, RequestID: req, Location: "Bern"})
}

func (f *fixture) mustLogin(ws, session, guest, req string) passes.Decision {
	f.t.Helper()
	d, err := f.login(ws, session, guest, req)
	if err != nil {
		f.t.Fatalf("Login(%s, %s, %s): %v", session, guest, req, err)
	}
	return d
}

func (f *fixture) balance(ws string) int64 {
	f.t.Helper()
	b, err := f.svc.Balance(f.ctx, passes.BalanceParams{Org: ws, Actor: admin})
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// state is everything a refused operation must leave as it was.
type state struct {
	Ledger   storetest.State
	Usage    []passes.Usage
	Sessions []passes.Session
	Access   []passes.Access
}

func (f *fixture) snapshot(ws string, sessions, guests []string) state {
	f.t.Helper()
	var st state
	var err error
	if st.Ledger, err = storetest.Snapshot(f.ctx, f.mem); err != nil {
		f.t.Fatal(err)
	}
	err = f.mem.Passes().InTx(f.ctx, func(tx passes.Tx) error {
		var err error
		if st.Usage, err = tx.UsageList(f.ctx, passes.UsageListParams{Org: ws}); err != nil {
			return err
		}
		for _, s := range sessions {
			if got, err := tx.SessionGet(f.ctx, ws, s); err == nil {
				st.Sessions = append(st.Sessions, got)
			}
			for _, g := range guests {
				if a, err := tx.AccessLock(f.ctx, ws, s, g); err == nil {
					st.Access = append(st.Access, a)
				}
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

var cmpDecimal = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

func TestNew_Options(t *testing.T) {
	if _, err := passes.New(nil, nil); err == nil {
		t.Error("New(nil store) succeeded")
	}
	s := memstore.New().Passes()
	if _, err := passes.New(s, &passes.Options{Policies: map[passes.PassType]passes.Policy{"": passes.DayPolicy}}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("New with an unnamed policy = %v, want ErrInvalid", err)
	}
	if _, err := passes.New(s, &passes.Options{Policies: map[passes.PassType]passes.Policy{"x": nil}}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("New with a nil policy = %v, want ErrInvalid", err)
	}
	if _, err := passes.New(s, nil); err != nil {
		t.Errorf("New(store, nil) = %v", err)
	}
}

func TestService_Buy(t *testing.T) {
	f := newFixture(t, nil)
	if got := f.balance("acme"); got != 0 {
		t.Errorf("balance before buying = %d, want 0", got)
	}
	if b, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 5, RequestID: "o1"}); err != nil || b.Available != 5 {
		t.Fatalf("Buy = %+v, %v, want 5", b, err)
	}
	if b, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 5, RequestID: "o1"}); err != nil || b.Available != 5 {
		t.Errorf("Buy retried = %+v, %v, want the first result 5", b, err)
	}
	if _, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 6, RequestID: "o1"}); !errors.Is(err, passes.ErrRequestConflict) {
		t.Errorf("Buy with a reused request ID = %v, want ErrRequestConflict", err)
	}
	if b, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 3, RequestID: "o2"}); err != nil || b.Available != 8 || b.Purchased != 8 {
		t.Errorf("Buy = %+v, %v, want 8", b, err)
	}
	for _, tc := range []struct {
		ws  string
		n   int64
		req string
	}{{"", 1, "x"}, {"acme", 0, "x"}, {"acme", -1, "x"}, {"acme", 1, ""}} {
		if _, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: tc.ws, Actor: vendor, Quantity: tc.n, RequestID: tc.req}); !errors.Is(err, passes.ErrInvalid) {
			t.Errorf("Buy(%q, %d, %q) = %v, want ErrInvalid", tc.ws, tc.n, tc.req, err)
		}
	}
	if got := f.balance("acme"); got != 8 {
		t.Errorf("balance = %d, want 8", got)
	}
	// Every pass came out of the workspace's issuer: the unit sums to zero.
	l, _ := ledger.New(f.mem, nil)
	iss, err := l.Balance(f.ctx, passes.IssuerAccount("acme"))
	if err != nil || !iss.Posted.Equal(decimal.NewFromInt(-8)) {
		t.Errorf("issuer balance = %v, %v, want -8", iss.Posted, err)
	}
}

func TestService_CreateSession(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}}); err != nil {
		t.Fatal(err)
	}
	s := passes.Session{ID: "s1", Org: "acme", Name: "One", Owner: "o@acme.example", Fields: []passes.FieldValue{{Name: "Note", Value: "n"}}}
	got, err := f.svc.CreateSession(f.ctx, create(s))
	if err != nil {
		t.Fatal(err)
	}
	if got.PassType != passes.DayPass || !got.CreatedAt.Equal(t0) {
		t.Errorf("CreateSession = %+v, want the day pass by default and CreatedAt %v", got, t0)
	}
	again, err := f.svc.CreateSession(f.ctx, create(s))
	if err != nil || !again.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("CreateSession again = %+v, %v, want the stored session", again, err)
	}
	s2 := s
	s2.Name = "Other"
	if _, err := f.svc.CreateSession(f.ctx, create(s2)); !errors.Is(err, passes.ErrSessionExists) {
		t.Errorf("CreateSession with a taken ID = %v, want ErrSessionExists", err)
	}
	bad := []struct {
		name string
		s    passes.Session
		want error
	}{
		{"NoID", passes.Session{Org: "acme", Owner: "o@acme.example"}, passes.ErrInvalid},
		{"NoWorkspace", passes.Session{ID: "x", Owner: "o@acme.example"}, passes.ErrInvalid},
		{"BadOwner", passes.Session{ID: "x", Org: "acme", Owner: "olga"}, passes.ErrInvalid},
		{"UnknownPassType", passes.Session{ID: "x", Org: "acme", Owner: "o@acme.example", PassType: "weekly"}, passes.ErrInvalid},
		{"UnknownField", passes.Session{ID: "x", Org: "acme", Owner: "o@acme.example", Fields: []passes.FieldValue{{Name: "Colour", Value: "red"}}}, passes.ErrUnknownField},
	}
	for _, tc := range bad {
		if _, err := f.svc.CreateSession(f.ctx, create(tc.s)); !errors.Is(err, tc.want) {
			t.Errorf("%s: CreateSession = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Field values are kept in the workspace's field order, whatever order
	// they are given in, and a name may be given once.
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Ref"}}}); err != nil {
		t.Fatal(err)
	}
	two := passes.Session{ID: "s2", Org: "acme", Owner: "o@acme.example", Fields: []passes.FieldValue{{Name: "Ref", Value: "r"}, {Name: "Note", Value: "n"}}}
	got2, err := f.svc.CreateSession(f.ctx, create(two))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]passes.FieldValue{{Name: "Note", Value: "n"}, {Name: "Ref", Value: "r"}}, got2.Fields); diff != "" {
		t.Errorf("session fields mismatch (-want +got):\n%s", diff)
	}
	if _, err := f.svc.CreateSession(f.ctx, create(two)); err != nil {
		t.Errorf("CreateSession again with the fields in another order = %v", err)
	}
	dup := passes.Session{ID: "s3", Org: "acme", Owner: "o@acme.example", Fields: []passes.FieldValue{{Name: "Ref", Value: "r"}, {Name: "Ref", Value: "s"}}}
	if _, err := f.svc.CreateSession(f.ctx, create(dup)); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("a field given twice = %v, want ErrInvalid", err)
	}
	if _, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "x"}); !errors.Is(err, passes.ErrUnknownSession) {
		t.Errorf("Session(x) = %v, want ErrUnknownSession", err)
	}
	if got, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "s1"}); err != nil || got.Fields[0].Value != "n" {
		t.Errorf("Session(s1) = %+v, %v", got, err)
	}
	if _, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "other", Actor: admin, ID: "s1"}); !errors.Is(err, passes.ErrUnknownSession) {
		t.Errorf("Session(other, s1) = %v, want ErrUnknownSession: another workspace's session is unknown", err)
	}
}

func TestService_DefineFields(t *testing.T) {
	f := newFixture(t, nil)
	got, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Reference", Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	got2, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Reference", Required: true}, {Name: "Cost centre"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []passes.FieldDef{
		{Org: "acme", Name: "Note", Position: 0},
		{Org: "acme", Name: "Reference", Required: true, Position: 1},
		{Org: "acme", Name: "Cost centre", Position: 2},
	}
	if diff := cmp.Diff(want[:2], got); diff != "" {
		t.Errorf("DefineFields mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got2); diff != "" {
		t.Errorf("DefineFields again mismatch (-want +got):\n%s", diff)
	}
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note", Required: true}}}); !errors.Is(err, passes.ErrFieldConflict) {
		t.Errorf("redefining Note as required = %v, want ErrFieldConflict", err)
	}
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Z"}, {Name: ""}}}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("an empty field name = %v, want ErrInvalid", err)
	}
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "", Actor: admin, Fields: nil}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("an empty workspace = %v, want ErrInvalid", err)
	}
	if fs, _ := f.svc.Fields(f.ctx, passes.FieldsParams{Org: "acme", Actor: admin}); len(fs) != 3 {
		t.Errorf("Fields after refused definitions = %v, want the 3 fields (Z rolled back)", fs)
	}
}

func TestService_LoginRefusalsChangeNothing(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Reference", Required: true}}}); err != nil {
		t.Fatal(err)
	}
	f.buy("acme", 1, "o1")
	f.buy("other", 5, "o1")
	f.session(passes.Session{ID: "day", Org: "acme", Fields: []passes.FieldValue{{Name: "Reference", Value: "PO"}}})
	f.session(passes.Session{ID: "month", Org: "acme", PassType: passes.MonthPass, Fields: []passes.FieldValue{{Name: "Reference", Value: "PO"}}})
	f.session(passes.Session{ID: "bare", Org: "acme"})
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass, Fields: []passes.FieldValue{{Name: "Reference", Value: "PO"}}})
	f.session(passes.Session{ID: "theirs", Org: "other"})
	f.mustLogin("acme", "demo", "ann@x.example", "d1")
	f.clock.Advance(4 * time.Hour)

	sessions := []string{"day", "month", "bare", "demo", "theirs"}
	guests := []string{"ann@x.example", "bob@x.example"}
	cases := []struct {
		name   string
		r      passes.LoginParams
		want   error
		reason passes.Reason
	}{
		{"InsufficientPasses", passes.LoginParams{Session: "month", Guest: "bob@x.example"}, passes.ErrInsufficientPasses, passes.ReasonInsufficientPasses},
		{"DemoLocked", passes.LoginParams{Session: "demo", Guest: "bob@x.example"}, passes.ErrDemoLocked, passes.ReasonDemoLocked},
		{"DemoLockedForFirstGuestToo", passes.LoginParams{Session: "demo", Guest: "ann@x.example"}, passes.ErrDemoLocked, passes.ReasonDemoLocked},
		{"UnknownSession", passes.LoginParams{Session: "nope", Guest: "bob@x.example"}, passes.ErrUnknownSession, passes.ReasonUnknownSession},
		{"AnotherWorkspacesSession", passes.LoginParams{Session: "theirs", Guest: "bob@x.example"}, passes.ErrUnknownSession, passes.ReasonUnknownSession},
		{"MalformedGuest", passes.LoginParams{Session: "day", Guest: "bob"}, passes.ErrMalformedGuest, passes.ReasonMalformedGuest},
		{"UnknownField", passes.LoginParams{Session: "day", Guest: "bob@x.example", Fields: map[string]string{"Colour": "red"}}, passes.ErrUnknownField, passes.ReasonUnknownField},
		{"MissingField", passes.LoginParams{Session: "bare", Guest: "bob@x.example"}, passes.ErrMissingField, passes.ReasonMissingField},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot("acme", sessions, guests)
			tc.r.Org, tc.r.RequestID = "acme", fmt.Sprint("r", i)
			d, err := f.svc.Login(f.ctx, tc.r)
			if !errors.Is(err, tc.want) || !errors.Is(err, passes.ErrRefused) {
				t.Fatalf("Login = %v, want %v (and ErrRefused)", err, tc.want)
			}
			var re *passes.RefusalError
			if !errors.As(err, &re) || re.Decision.Reason != tc.reason {
				t.Errorf("error %v does not carry a decision with reason %s", err, tc.reason)
			}
			if d.Allowed || d.Reason != tc.reason || d.Detail == "" || d.Passes != 0 {
				t.Errorf("Decision = %+v, want a refusal for %s with a detail", d, tc.reason)
			}
			if diff := cmp.Diff(before, f.snapshot("acme", sessions, guests), cmpDecimal); diff != "" {
				t.Errorf("a refused login changed the store (-before +after):\n%s", diff)
			}
		})
	}
	d, _ := f.svc.Login(f.ctx, passes.LoginParams{Org: "acme", Session: "month", Guest: "bob@x.example", RequestID: "z"})
	if d.Balance != 1 || d.PassType != passes.MonthPass {
		t.Errorf("insufficient-passes decision = %+v, want the balance 1 and the pass type", d)
	}
	// Requests that are not logins at all.
	for _, r := range []passes.LoginParams{{Session: "day", Guest: "a@x.example", RequestID: "r"}, {Org: "acme", Session: "day", Guest: "a@x.example"}} {
		if _, err := f.svc.Login(f.ctx, r); !errors.Is(err, passes.ErrInvalid) || errors.Is(err, passes.ErrRefused) {
			t.Errorf("Login(%+v) = %v, want ErrInvalid", r, err)
		}
	}
}

func TestService_LoginNoAccountsYet(t *testing.T) {
	f := newFixture(t, nil)
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
	if _, err := f.login("acme", "day", "a@x.example", "r1"); !errors.Is(err, passes.ErrInsufficientPasses) {
		t.Errorf("paid login in a workspace that never bought = %v, want ErrInsufficientPasses", err)
	}
	if d := f.mustLogin("acme", "demo", "a@x.example", "r2"); d.Balance != 0 || !d.Demo {
		t.Errorf("demo login = %+v, want allowed with balance 0", d)
	}
}

// TestService_LoginSpendTransfer: a spending login posts one transfer, named
// after its workspace and request, from the workspace's balance account to
// its spent account, and its log row names it.
func TestService_LoginSpendTransfer(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("north-wing", 3, "o1")
	f.session(passes.Session{ID: "month", Org: "north-wing", PassType: passes.MonthPass})
	f.mustLogin("north-wing", "month", "Ann@X.example", "req-7")
	l, _ := ledger.New(f.mem, nil)
	got, err := l.Transfer(f.ctx, "passes/north-wing/login/req-7")
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Transfer{
		ID: "passes/north-wing/login/req-7", Debit: passes.BalanceAccount("north-wing"), Credit: passes.SpentAccount("north-wing"),
		Amount: decimal.NewFromInt(2), Code: passes.CodeSpend, Actor: "ann@x.example",
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(decimal.Decimal.Equal), cmpopts.IgnoreFields(ledger.Transfer{},
		"Seq", "PostedAt", "Unit", "DebitBalance", "CreditBalance")); diff != "" {
		t.Errorf("spend transfer mismatch (-want +got):\n%s", diff)
	}
	page, _ := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "north-wing"})
	if len(page.Items) != 1 || page.Items[0].Transfer != string(want.ID) {
		t.Errorf("log rows %+v, want one naming transfer %q", page.Items, want.ID)
	}
}

func TestService_LoginRetry(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 3, "o1")
	f.session(passes.Session{ID: "day", Org: "acme"})
	first := f.mustLogin("acme", "day", "Ann@X.example", "r1")
	f.clock.Advance(30 * time.Hour) // past the window: a new login would spend again
	again := f.mustLogin("acme", "day", "ann@x.example", "r1")
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retry returned another decision (-first +retry):\n%s", diff)
	}
	if b := f.balance("acme"); b != 2 {
		t.Errorf("balance after a retried login = %d, want 2", b)
	}
	if _, err := f.login("acme", "day", "bob@x.example", "r1"); !errors.Is(err, passes.ErrRequestConflict) {
		t.Errorf("request ID reused by another guest = %v, want ErrRequestConflict", err)
	}
	_, err := f.svc.Login(f.ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "ann@x.example", RequestID: "r1", Location: "Bern", Fields: map[string]string{"Note": "x"}})
	if !errors.Is(err, passes.ErrRequestConflict) {
		t.Errorf("request ID reused with other fields = %v, want ErrRequestConflict", err)
	}
	page, _ := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "acme"})
	if len(page.Items) != 1 {
		t.Errorf("log has %d rows after a retry, want 1", len(page.Items))
	}
}

func TestService_LoginCases(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 10, "o1")
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.session(passes.Session{ID: "month", Org: "acme", PassType: passes.MonthPass})
	// One guest's window is per session: another session charges again.
	if d := f.mustLogin("acme", "day", "a@x.example", "1"); d.Passes != 1 {
		t.Errorf("first day login spent %d", d.Passes)
	}
	if d := f.mustLogin("acme", "month", "a@x.example", "2"); d.Passes != 2 {
		t.Errorf("first month login spent %d", d.Passes)
	}
	// The guest is compared case-insensitively.
	if d := f.mustLogin("acme", "day", "A@X.EXAMPLE", "3"); d.Passes != 0 || !d.InWindow {
		t.Errorf("same guest, other case = %+v, want inside the window", d)
	}
	// Another guest pays for their own window.
	if d := f.mustLogin("acme", "day", "b@x.example", "4"); d.Passes != 1 {
		t.Errorf("second guest spent %d, want 1", d.Passes)
	}
	if b := f.balance("acme"); b != 6 {
		t.Errorf("balance = %d, want 6", b)
	}
}

func TestService_ConcurrentLoginsOfOneGuestSpendOnce(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 100, "o1")
	f.session(passes.Session{ID: "month", Org: "acme", PassType: passes.MonthPass})
	const workers = 16
	var wg sync.WaitGroup
	ds := make([]passes.Decision, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds[w], errs[w] = f.login("acme", "month", "a@x.example", fmt.Sprint("r", w))
		}()
	}
	wg.Wait()
	spent := int64(0)
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("login %d: %v", w, errs[w])
		}
		spent += ds[w].Passes
	}
	if spent != 2 || f.balance("acme") != 98 {
		t.Errorf("concurrent logins spent %d (balance %d), want 2 (98)", spent, f.balance("acme"))
	}
}

func TestService_DemoLocksForEveryone(t *testing.T) {
	f := newFixture(t, nil)
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
	f.clock.Advance(time.Hour) // the 4 hours start at the first guest login, not at creation
	d := f.mustLogin("acme", "demo", "a@x.example", "1")
	locks := t0.Add(5 * time.Hour)
	if !d.LocksAt.Equal(locks) || !d.AccessUntil.Equal(locks) {
		t.Errorf("demo decision = %+v, want locking at %v", d, locks)
	}
	f.clock.Advance(4*time.Hour - time.Microsecond)
	if d := f.mustLogin("acme", "demo", "b@x.example", "2"); !d.Allowed || !d.LocksAt.Equal(locks) {
		t.Errorf("late demo login = %+v", d)
	}
	f.clock.Advance(time.Microsecond)
	for i, g := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		if _, err := f.login("acme", "demo", g, fmt.Sprint("x", i)); !errors.Is(err, passes.ErrDemoLocked) {
			t.Errorf("%s after the lock: %v, want ErrDemoLocked", g, err)
		}
	}
	s, _ := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "demo"})
	if !s.FirstLogin.Equal(t0.Add(time.Hour)) {
		t.Errorf("FirstLogin = %v, want %v", s.FirstLogin, t0.Add(time.Hour))
	}
}

func TestService_BrokenPolicy(t *testing.T) {
	f := newFixture(t, &passes.Options{Policies: map[passes.PassType]passes.Policy{
		"broken": passes.PolicyFunc(func(now time.Time, st passes.State) passes.Decision { return passes.Decision{Allowed: true} }),
	}})
	f.session(passes.Session{ID: "s", Org: "acme", PassType: "broken"})
	if _, err := f.login("acme", "s", "a@x.example", "1"); !errors.Is(err, passes.ErrPolicy) {
		t.Errorf("a policy granting no window = %v, want ErrPolicy", err)
	}
	// A session whose pass type the service was not configured with.
	other, _ := passes.New(f.mem.Passes(), &passes.Options{Clock: f.clock, Roles: testRoles})
	if _, err := other.Login(f.ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: "a@x.example", RequestID: "2"}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("unknown stored pass type = %v, want ErrInvalid", err)
	}
}

func TestService_CancelledContext(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 3, "o1")
	f.session(passes.Session{ID: "day", Org: "acme"})
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	if _, err := f.svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "a@x.example", RequestID: "1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Login with a cancelled context = %v", err)
	}
	if f.balance("acme") != 3 {
		t.Error("a cancelled login spent")
	}
}

// logFixture has a month of logins in two workspaces.
func logFixture(t *testing.T) *fixture {
	f := newFixture(t, nil)
	f.buy("acme", 100, "o1")
	f.buy("other", 100, "o1")
	f.session(passes.Session{ID: "a1", Org: "acme"})
	f.session(passes.Session{ID: "a2", Org: "acme", External: true})
	f.session(passes.Session{ID: "o1", Org: "other"})
	for i := range 30 {
		guest := fmt.Sprintf("g%d@x.example", i%3)
		s := []string{"a1", "a2"}[i%2]
		f.mustLogin("acme", s, guest, fmt.Sprint("r", i))
		f.mustLogin("other", "o1", guest, fmt.Sprint("r", i))
		f.clock.Advance(10 * time.Hour)
	}
	return f
}

func TestService_Log(t *testing.T) {
	f := logFixture(t)
	all := collect(t, f.svc, passes.LogParams{Actor: admin, Org: "acme"})
	if len(all) != 30 {
		t.Fatalf("%d rows, want 30", len(all))
	}
	// The balance column is the running balance and passes sum to what was spent.
	bal, spent := int64(100), int64(0)
	for i, u := range all {
		bal -= u.Passes
		spent += u.Passes
		if u.BalanceAfter != bal {
			t.Errorf("row %d: balance after %d, want running balance %d", i, u.BalanceAfter, bal)
		}
		if i > 0 && (u.Seq <= all[i-1].Seq || u.At.Before(all[i-1].At)) {
			t.Errorf("row %d out of order", i)
		}
		if u.Org != "acme" {
			t.Errorf("row %d of workspace %q", i, u.Org)
		}
		if (u.Passes > 0) != (u.Transfer != "") {
			t.Errorf("row %d: passes %d with transfer %q", i, u.Passes, u.Transfer)
		}
	}
	if got := f.balance("acme"); got != 100-spent || got != bal {
		t.Errorf("balance %d, log says %d spent of 100", got, spent)
	}

	// Pages of 7 read the same rows.
	var paged []passes.Usage
	p := passes.LogParams{Actor: admin, Org: "acme", Limit: 7}
	for {
		page, err := f.svc.LogPage(f.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > 7 {
			t.Fatalf("page of %d rows", len(page.Items))
		}
		paged = append(paged, page.Items...)
		if page.Next == "" {
			break
		}
		p.Cursor = page.Next
	}
	if diff := cmp.Diff(all, paged); diff != "" {
		t.Errorf("paged log differs (-all +paged):\n%s", diff)
	}

	filters := []struct {
		name string
		p    passes.LogParams
		keep func(u passes.Usage) bool
	}{
		{"Session", passes.LogParams{Actor: admin, Session: "a2"}, func(u passes.Usage) bool { return u.Session == "a2" }},
		{"User", passes.LogParams{Actor: admin, User: "G1@x.example"}, func(u passes.Usage) bool { return u.User == "g1@x.example" }},
		{"TimeRange", passes.LogParams{Actor: admin, From: t0.Add(50 * time.Hour), To: t0.Add(100 * time.Hour)}, func(u passes.Usage) bool {
			return !u.At.Before(t0.Add(50*time.Hour)) && u.At.Before(t0.Add(100*time.Hour))
		}},
		{"All", passes.LogParams{Actor: admin, Session: "a1", User: "g0@x.example", From: t0.Add(10 * time.Hour)}, func(u passes.Usage) bool {
			return u.Session == "a1" && u.User == "g0@x.example" && !u.At.Before(t0.Add(10*time.Hour))
		}},
	}
	for _, tc := range filters {
		t.Run(tc.name, func(t *testing.T) {
			var want []passes.Usage
			for _, u := range all {
				if tc.keep(u) {
					want = append(want, u)
				}
			}
			tc.p.Org, tc.p.Limit = "acme", 2
			if diff := cmp.Diff(want, collect(t, f.svc, tc.p)); diff != "" || len(want) == 0 {
				t.Errorf("filtered log mismatch (%d wanted) (-want +got):\n%s", len(want), diff)
			}
		})
	}

	for _, p := range []passes.LogParams{{}, {Org: "acme", Limit: -1}, {Org: "acme", Limit: 1001}, {Org: "acme", Cursor: "x"}, {Org: "acme", User: "nobody"}} {
		if _, err := f.svc.LogPage(f.ctx, p); err == nil {
			t.Errorf("Log(%+v) succeeded", p)
		}
		var n int
		for _, err := range f.svc.Log(f.ctx, p) {
			if err == nil {
				t.Errorf("Usages(%+v) yielded a row", p)
			}
			n++
		}
		if n != 1 {
			t.Errorf("Usages(%+v) yielded %d times, want the error once", p, n)
		}
	}
	// Stopping early stops reading.
	n := 0
	for range f.svc.Log(f.ctx, passes.LogParams{Actor: admin, Org: "acme", Limit: 2}) {
		n++
		if n == 3 {
			break
		}
	}
}

func collect(t *testing.T, svc *passes.Service, p passes.LogParams) []passes.Usage {
	t.Helper()
	var out []passes.Usage
	for u, err := range svc.Log(context.Background(), p) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func TestService_ExportCSV(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 10, "o1")
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "@Ref"}}}); err != nil {
		t.Fatal(err)
	}
	f.session(passes.Session{ID: "s", Org: "acme", Name: "Zürich \"Q1\", plan", Owner: "o@acme.example"})
	cells := []string{"=1+2", "+41 44", "-2", "@SUM(A1)", "\tx", "\ry", "plain", "multi\nline"}
	for i, c := range cells {
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Login(f.ctx, passes.LoginParams{
			Org: "acme", Session: "s", Guest: "a@x.example", Location: c, RequestID: fmt.Sprint(i),
			Fields: map[string]string{"Note": c},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A field defined after the rows: its column is empty.
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Later"}}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.svc.ExportCSV(f.ctx, &buf, passes.LogParams{Actor: admin, Org: "acme", Limit: 3}); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&buf)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := append(append([]string{}, logHeader...), "Note", "'@Ref", "Later")
	if diff := cmp.Diff(wantHeader, recs[0]); diff != "" {
		t.Errorf("header mismatch (-want +got):\n%s", diff)
	}
	// table.WriteCSV keeps a cell's bytes as they are, a carriage return
	// included, behind the apostrophe that keeps the cell inert.
	wantCell := []string{"'=1+2", "'+41 44", "'-2", "'@SUM(A1)", "'\tx", "'\ry", "plain", "multi\nline"}
	if len(recs) != len(cells)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(cells)+1)
	}
	for i, rec := range recs[1:] {
		if rec[4] != wantCell[i] || rec[9] != wantCell[i] {
			t.Errorf("row %d: location %q, note %q, want %q", i, rec[4], rec[9], wantCell[i])
		}
		if rec[2] != "Zürich \"Q1\", plan" || rec[3] != "Internal" || rec[11] != "" {
			t.Errorf("row %d = %q", i, rec)
		}
		wantAt := t0.Add(time.Duration(i+1) * time.Minute).Format(time.RFC3339)
		wantPasses := "0"
		if i == 0 {
			wantPasses = "1"
		}
		if rec[0] != wantAt || rec[7] != wantPasses || rec[8] != "9" {
			t.Errorf("row %d: at %q passes %q balance %q, want %q %q 9", i, rec[0], rec[7], rec[8], wantAt, wantPasses)
		}
	}
	// RFC 4180: records end in CRLF.
	var raw bytes.Buffer
	_ = f.svc.ExportCSV(f.ctx, &raw, passes.LogParams{Actor: admin, Org: "acme", Session: "none"})
	if raw.String() != strings.Join(append(append([]string{}, logHeader...), "Note", "'@Ref", "Later"), ",")+"\r\n" {
		t.Errorf("empty export = %q, want the header row only, ending in CRLF", raw.String())
	}
	if err := f.svc.ExportCSV(f.ctx, &raw, passes.LogParams{Actor: admin}); !errors.Is(err, passes.ErrInvalid) {
		t.Errorf("ExportCSV without a workspace = %v, want ErrInvalid", err)
	}
	if err := f.svc.ExportCSV(f.ctx, failWriter{}, passes.LogParams{Actor: admin, Org: "acme", Limit: 1}); err == nil {
		t.Error("ExportCSV to a failing writer succeeded")
	}
}

// logHeader is ThinkTank's header of the usage log, before custom fields.
var logHeader = []string{"Timestamp", "Session ID", "Session Name", "Internal/External", "Location", "User", "Session Owner", "Passes", "Balance"}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
