package passes_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var errInjected = errors.New("injected storage failure")

// faultStore fails every call of one Tx method.
type faultStore struct {
	passes.Store
	fail string
}

func (s *faultStore) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return s.Store.InTx(ctx, func(tx passes.Tx) error { return fn(faultTx{tx, s.fail}) })
}

type faultTx struct {
	passes.Tx
	fail string
}

func (t faultTx) err(name string) error {
	if t.fail == name {
		return errInjected
	}
	return nil
}

func (t faultTx) UnitGet(ctx context.Context, code string) (ledger.Unit, error) {
	if err := t.err("UnitGet"); err != nil {
		return ledger.Unit{}, err
	}
	return t.Tx.UnitGet(ctx, code)
}

func (t faultTx) AccountGet(ctx context.Context, id ledger.AccountID) (ledger.AccountState, error) {
	if err := t.err("AccountGet"); err != nil {
		return ledger.AccountState{}, err
	}
	return t.Tx.AccountGet(ctx, id)
}

func (t faultTx) Apply(ctx context.Context, c ledger.Changes) error {
	if err := t.err("Apply"); err != nil {
		return err
	}
	return t.Tx.Apply(ctx, c)
}

func (t faultTx) SessionInsert(ctx context.Context, s passes.Session) error {
	if err := t.err("SessionInsert"); err != nil {
		return err
	}
	return t.Tx.SessionInsert(ctx, s)
}

func (t faultTx) SessionGet(ctx context.Context, ws, id string) (passes.Session, error) {
	if err := t.err("SessionGet"); err != nil {
		return passes.Session{}, err
	}
	return t.Tx.SessionGet(ctx, ws, id)
}

func (t faultTx) SessionUpdate(ctx context.Context, s passes.Session) error {
	if err := t.err("SessionUpdate"); err != nil {
		return err
	}
	return t.Tx.SessionUpdate(ctx, s)
}

func (t faultTx) FieldInsert(ctx context.Context, f passes.FieldDef) error {
	if err := t.err("FieldInsert"); err != nil {
		return err
	}
	return t.Tx.FieldInsert(ctx, f)
}

func (t faultTx) FieldList(ctx context.Context, ws string) ([]passes.FieldDef, error) {
	if err := t.err("FieldList"); err != nil {
		return nil, err
	}
	return t.Tx.FieldList(ctx, ws)
}

func (t faultTx) FieldsLock(ctx context.Context, ws string) ([]passes.FieldDef, error) {
	if err := t.err("FieldsLock"); err != nil {
		return nil, err
	}
	return t.Tx.FieldsLock(ctx, ws)
}

func (t faultTx) AccessLock(ctx context.Context, ws, session, guest string) (passes.Access, error) {
	if err := t.err("AccessLock"); err != nil {
		return passes.Access{}, err
	}
	return t.Tx.AccessLock(ctx, ws, session, guest)
}

func (t faultTx) AccessList(ctx context.Context, p passes.AccessListParams) ([]passes.Access, error) {
	if err := t.err("AccessList"); err != nil {
		return nil, err
	}
	return t.Tx.AccessList(ctx, p)
}

func (t faultTx) AccessInsert(ctx context.Context, a passes.Access) error {
	if err := t.err("AccessInsert"); err != nil {
		return err
	}
	return t.Tx.AccessInsert(ctx, a)
}

func (t faultTx) AccessUpdate(ctx context.Context, a passes.Access) error {
	if err := t.err("AccessUpdate"); err != nil {
		return err
	}
	return t.Tx.AccessUpdate(ctx, a)
}

func (t faultTx) UsageInsert(ctx context.Context, u passes.Usage) (int64, error) {
	if err := t.err("UsageInsert"); err != nil {
		return 0, err
	}
	return t.Tx.UsageInsert(ctx, u)
}

func (t faultTx) UsageAppend(ctx context.Context, u passes.Usage) error {
	if err := t.err("UsageAppend"); err != nil {
		return err
	}
	return t.Tx.UsageAppend(ctx, u)
}

func (t faultTx) LoginLoad(ctx context.Context, p passes.LoginLoadParams, st *passes.LoginState) error {
	if err := t.err("LoginLoad"); err != nil {
		return err
	}
	return t.Tx.LoginLoad(ctx, p, st)
}

func (t faultTx) UsageGetByRequest(ctx context.Context, ws, req string) (passes.Usage, error) {
	if err := t.err("UsageGetByRequest"); err != nil {
		return passes.Usage{}, err
	}
	return t.Tx.UsageGetByRequest(ctx, ws, req)
}

func (t faultTx) UsageList(ctx context.Context, p passes.UsageListParams) ([]passes.Usage, error) {
	if err := t.err("UsageList"); err != nil {
		return nil, err
	}
	return t.Tx.UsageList(ctx, p)
}

// TestService_StorageFailures fails each storage method in turn under every
// operation: the operation returns the storage error (never a refusal or a
// success) and changes nothing.
func TestService_StorageFailures(t *testing.T) {
	methods := []string{"UnitGet", "AccountGet", "Apply", "SessionInsert", "SessionGet", "SessionUpdate", "FieldInsert", "FieldList",
		"FieldsLock", "LoginLoad", "AccessInsert", "AccessUpdate", "AccessList", "UsageAppend", "UsageList"}
	ops := []struct {
		name string
		run  func(ctx context.Context, svc *passes.Service) error
	}{
		{"Buy", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, RequestID: "o9"})
			return err
		}},
		{"Balance", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: admin})
			return err
		}},
		{"DefineFields", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "New"}}})
			return err
		}},
		{"Fields", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Fields(ctx, passes.FieldsParams{Org: "acme", Actor: admin})
			return err
		}},
		{"CreateSession", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: admin, ID: "new", Org: "acme", Owner: "o@acme.example"})
			return err
		}},
		{"Session", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Session(ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "day"})
			return err
		}},
		{"LoginCharge", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "fresh", Guest: "new@x.example", RequestID: "n1"})
			return err
		}},
		{"LoginWindowRenewed", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "old@x.example", RequestID: "n2"})
			return err
		}},
		{"LoginDemo", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "demo", Guest: "new@x.example", RequestID: "n3"})
			return err
		}},
		{"Log", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.LogPage(ctx, passes.LogParams{Actor: admin, Org: "acme"})
			return err
		}},
		{"Audit", func(ctx context.Context, svc *passes.Service) error {
			_, err := svc.Audit(ctx, "acme")
			return err
		}},
		{"ExportCSV", func(ctx context.Context, svc *passes.Service) error {
			return svc.ExportCSV(ctx, &bytes.Buffer{}, passes.LogParams{Actor: admin, Org: "acme"})
		}},
	}
	hit := map[string]bool{}
	for _, m := range methods {
		for _, op := range ops {
			f := newFixture(t, nil)
			f.buy("acme", 10, "o1")
			f.session(passes.Session{ID: "day", Org: "acme"})
			f.session(passes.Session{ID: "fresh", Org: "acme"})
			f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
			f.mustLogin("acme", "day", "old@x.example", "o")
			f.clock.Advance(25 * time.Hour)
			svc, err := passes.New(&faultStore{Store: f.mem.Passes(), fail: m}, &passes.Options{Clock: f.clock, Roles: testRoles})
			if err != nil {
				t.Fatal(err)
			}
			sessions, guests := []string{"day", "fresh", "demo", "new"}, []string{"old@x.example", "new@x.example"}
			before := f.snapshot("acme", sessions, guests)
			err = op.run(f.ctx, svc)
			if err == nil {
				continue // the operation does not call m
			}
			hit[m] = true
			if !errors.Is(err, errInjected) || errors.Is(err, passes.ErrRefused) {
				t.Errorf("%s with %s failing = %v, want the storage error", op.name, m, err)
			}
			if diff := cmp.Diff(before, f.snapshot("acme", sessions, guests), cmpDecimal); diff != "" {
				t.Errorf("%s with %s failing changed the store (-before +after):\n%s", op.name, m, diff)
			}
		}
	}
	for _, m := range methods {
		if !hit[m] {
			t.Errorf("no operation called %s", m)
		}
	}
}

func TestService_LoginRetryFields(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 3, "o1")
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Ref"}}}); err != nil {
		t.Fatal(err)
	}
	f.session(passes.Session{ID: "day", Org: "acme"})
	r := passes.LoginParams{Org: "acme", Session: "day", Guest: "a@x.example", RequestID: "r1", Fields: map[string]string{"Note": "n", "Ref": "x"}}
	first, err := f.svc.Login(f.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := f.svc.Login(f.ctx, r); err != nil || !cmp.Equal(first, again) {
		t.Errorf("retry with the same fields = %v, %v, want %v", again, err, first)
	}
	r.Fields = map[string]string{"Note": "other"}
	if _, err := f.svc.Login(f.ctx, r); !errors.Is(err, passes.ErrRequestConflict) {
		t.Errorf("retry with another field value = %v, want ErrRequestConflict", err)
	}
	r.Fields, r.Location = nil, "elsewhere"
	if _, err := f.svc.Login(f.ctx, r); !errors.Is(err, passes.ErrRequestConflict) {
		t.Errorf("retry from another location = %v, want ErrRequestConflict", err)
	}
}

// retryStore runs every function twice: the first run is rolled back, as a
// store does after a transient conflict at commit, and the second commits.
type retryStore struct{ passes.Store }

func (s retryStore) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return storetest.RunTwice(ctx, s.Store.InTx, fn)
}

// A login whose transaction the store runs again starts from a clean state:
// it decides, spends and logs as a login run once does.
func TestService_StoreRunsTransactionTwice(t *testing.T) {
	type result struct {
		Decisions []passes.Decision
		Errors    []string
		Balance   int64
		Log       []passes.Usage
	}
	run := func(f *fixture) result {
		var r result
		f.buy("acme", 3, "o1")
		if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}}); err != nil {
			t.Fatal(err)
		}
		f.session(passes.Session{ID: "day", Org: "acme", Fields: []passes.FieldValue{{Name: "Note", Value: "n"}}})
		f.session(passes.Session{ID: "month", Org: "acme", PassType: passes.MonthPass})
		f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
		for i, l := range []struct{ session, guest string }{
			{"day", "ann@x.example"},   // spends 1
			{"day", "ann@x.example"},   // inside the window
			{"demo", "ann@x.example"},  // opens the demo
			{"month", "bob@x.example"}, // spends 2
			{"day", "cy@x.example"},    // refused: nothing left
			{"month", "bob@x.example"}, // inside the window
		} {
			f.clock.Advance(time.Minute)
			d, err := f.login("acme", l.session, l.guest, fmt.Sprint("r", i))
			r.Decisions = append(r.Decisions, d)
			r.Errors = append(r.Errors, fmt.Sprint(err))
		}
		r.Balance = f.balance("acme")
		page, err := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		r.Log = page.Items
		return r
	}
	once := newFixture(t, nil)
	want := run(once)

	twice := newFixture(t, nil)
	svc, err := passes.New(retryStore{twice.mem.Passes()}, &passes.Options{Clock: twice.clock, Roles: testRoles})
	if err != nil {
		t.Fatal(err)
	}
	twice.svc = svc
	got := run(twice)
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(passes.Usage{}, "Seq")); diff != "" {
		t.Errorf("run twice by the store mismatch (-once +twice):\n%s", diff)
	}
	if got.Balance != 0 || len(got.Log) != 5 {
		t.Errorf("balance %d and %d log rows, want 0 and 5", got.Balance, len(got.Log))
	}
}

// noTxStore runs no transaction at all.
type noTxStore struct{ passes.Store }

func (noTxStore) InTx(context.Context, func(tx passes.Tx) error) error { return errInjected }

// A definition of custom fields that no workspace could accept is refused
// before any transaction opens.
func TestService_DefineFieldsChecksFirst(t *testing.T) {
	svc, err := passes.New(noTxStore{memstore.New().Passes()}, &passes.Options{Roles: testRoles})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		org    string
		fields []passes.FieldDef
	}{
		{"", nil},
		{"acme", []passes.FieldDef{{Name: "Z"}, {Name: ""}}},
	} {
		_, err := svc.DefineFields(context.Background(), passes.DefineFieldsParams{Org: tc.org, Actor: admin, Fields: tc.fields})
		if !errors.Is(err, passes.ErrInvalid) || errors.Is(err, errInjected) {
			t.Errorf("DefineFields(%q, %v) = %v, want ErrInvalid without a transaction", tc.org, tc.fields, err)
		}
	}
}
