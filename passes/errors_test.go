package passes_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/shopspring/decimal"
)

// coder is what every error the service returns has somewhere in its chain.
type coder interface{ Code() string }

// leakedID matches an internal ledger account or transfer ID of passes in a
// message: the caller knows workspaces, sessions and request IDs, not the
// ledger's names for them.
var leakedID = regexp.MustCompile(`passes/\S*/(balance|issuer|spent|buy/|login/)`)

// goIdent matches a Go identifier of the library in a message.
var goIdent = regexp.MustCompile(`\b(Options|passes|ledger|memstore|pgxstore|input|errcode|allot)\.[A-Za-z]`)

// checkCoded fails t unless err carries a Code through errors.As, and its
// message shows no internal ledger ID and no Go identifier.
func checkCoded(t *testing.T, err error) {
	t.Helper()
	var c coder
	if !errors.As(err, &c) {
		t.Errorf("%v (%T) has no Code in its chain", err, err)
	}
	if m := leakedID.FindString(err.Error()); m != "" {
		t.Errorf("message %q shows the internal ledger ID %q", err, m)
	}
	if m := goIdent.FindString(err.Error()); m != "" {
		t.Errorf("message %q shows the Go identifier %q", err, m)
	}
}

// errFixture is a workspace "acme" with 1 pass, a required custom field
// "Ref", a day session "day" with a value of it, a demo session "demo" and
// a session "custom" of a pass type with a policy of its own that refuses
// every login with the reason "full".
func errFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, &passes.Options{Policies: map[passes.PassType]passes.Policy{
		"full": passes.PolicyFunc(func(time.Time, passes.State) passes.Decision {
			return passes.Decision{Reason: "full", Detail: "the session is full; try the next one"}
		}),
		"broken": passes.PolicyFunc(func(time.Time, passes.State) passes.Decision { return passes.Decision{} }),
	}})
	f.buy("acme", 1, "o1")
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Ref", Required: true}}}); err != nil {
		t.Fatal(err)
	}
	f.session(passes.Session{ID: "day", Org: "acme", Fields: []passes.FieldValue{{Name: "Ref", Value: "x"}}})
	f.session(passes.Session{ID: "bare", Org: "acme"})
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass, Fields: []passes.FieldValue{{Name: "Ref", Value: "x"}}})
	f.session(passes.Session{ID: "custom", Org: "acme", PassType: "full", Fields: []passes.FieldValue{{Name: "Ref", Value: "x"}}})
	f.session(passes.Session{ID: "broken", Org: "acme", PassType: "broken", Fields: []passes.FieldValue{{Name: "Ref", Value: "x"}}})
	return f
}

// hideRequests is a store that does not see the usage row of a login
// request, as a transaction running alongside the login that wrote it does
// not: a retry then finds the row taken only when it inserts its own.
type hideRequests struct{ passes.Store }

func (s hideRequests) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return s.Store.InTx(ctx, func(tx passes.Tx) error { return fn(hideTx{tx}) })
}

type hideTx struct{ passes.Tx }

func (hideTx) UsageGetByRequest(context.Context, string, string) (passes.Usage, error) {
	return passes.Usage{}, ledger.ErrNotFound
}

func (t hideTx) LoginLoad(ctx context.Context, p passes.LoginLoadParams, st *passes.LoginState) error {
	err := t.Tx.LoginLoad(ctx, p, st)
	st.Prior, st.PriorFound = passes.Usage{}, false
	return err
}

// Every refusal the service can return, provoked through its methods on
// memstore, has the code of its situation, the HTTP status of that code,
// still matches its sentinels, and names no internal ledger ID and no Go
// identifier.
func TestErrors_Codes(t *testing.T) {
	type tc struct {
		name   string
		run    func(f *fixture) error
		code   string
		status int
		is     []error // sentinels the error matches
		field  string  // the Field of the *InvalidError; "" when it is none
		reason passes.Reason
	}
	login := func(f *fixture, session, guest, req string, fields map[string]string) error {
		_, err := f.svc.Login(f.ctx, passes.LoginParams{Org: "acme", Session: session, Guest: guest, RequestID: req, Fields: fields})
		return err
	}
	logErr := func(p passes.LogParams) func(f *fixture) error {
		return func(f *fixture) error { _, err := f.svc.LogPage(f.ctx, p); return err }
	}
	cases := []tc{
		// invalid
		{name: "NewWithoutStore", run: func(*fixture) error { _, err := passes.New(nil, nil); return err },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "store"},
		{name: "NewUnnamedPassType", run: func(f *fixture) error {
			_, err := passes.New(f.mem.Passes(), &passes.Options{Policies: map[passes.PassType]passes.Policy{"": passes.DayPolicy}})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Policies"},
		{name: "NewNilPolicy", run: func(f *fixture) error {
			_, err := passes.New(f.mem.Passes(), &passes.Options{Policies: map[passes.PassType]passes.Policy{"x": nil}})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Policies"},
		{name: "BuyEmptyWorkspace", run: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "", Actor: vendor, Quantity: 1, RequestID: "o2"})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Org"},
		{name: "BuyEmptyRequestID", run: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, RequestID: ""})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "RequestID"},
		{name: "BuyBadRequestID", run: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, RequestID: "o 2"})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "RequestID"},
		{name: "BuyZero", run: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 0, RequestID: "o2"})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Quantity"},
		{name: "BuyBeyondInt64", run: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: math.MaxInt64, RequestID: "o2"})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Quantity"},
		{name: "BuyClockBeyond9999", run: func(f *fixture) error {
			f.clock.Set(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, RequestID: "o2"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "clock"},
		{name: "BalanceBadWorkspace", run: func(f *fixture) error {
			_, err := f.svc.Balance(f.ctx, passes.BalanceParams{Org: "a\x00", Actor: admin})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Org"},
		{name: "BalanceBeyondInt64", run: func(f *fixture) error {
			f.buy("acme", math.MaxInt64-1, "o2")
			l, err := ledger.New(f.mem, nil)
			if err != nil {
				return err
			}
			if _, err := l.Post(f.ctx, ledger.Transfer{ID: "direct", Debit: passes.IssuerAccount("acme"), Credit: passes.BalanceAccount("acme"), Amount: decimal.NewFromInt(1)}); err != nil {
				return err
			}
			_, err = f.svc.Balance(f.ctx, passes.BalanceParams{Org: "acme", Actor: admin})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "balance"},
		{name: "DefineFieldsEmptyName", run: func(f *fixture) error {
			_, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: ""}}})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Name"},
		{name: "FieldsBadWorkspace", run: func(f *fixture) error {
			_, err := f.svc.Fields(f.ctx, passes.FieldsParams{Org: "", Actor: admin})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Org"},
		{name: "CreateSessionNoID", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, Org: "acme", Owner: "o@acme.example"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "ID"},
		{name: "CreateSessionBadName", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "x", Org: "acme", Name: "\xff", Owner: "o@acme.example"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Name"},
		{name: "CreateSessionBadOwner", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "x", Org: "acme", Owner: "olga"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Owner"},
		{name: "CreateSessionUnknownPassType", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "x", Org: "acme", Owner: "o@acme.example", PassType: "weekly"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "PassType"},
		{name: "CreateSessionFieldTwice", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "x", Org: "acme", Owner: "o@acme.example",
				Fields: []passes.FieldValue{{Name: "Ref", Value: "a"}, {Name: "Ref", Value: "b"}}})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Fields"},
		{name: "CreateSessionBadFieldValue", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "x", Org: "acme", Owner: "o@acme.example",
				Fields: []passes.FieldValue{{Name: "Ref", Value: "a\x00"}}})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Fields"},
		{name: "CreateSessionUnknownField", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "x", Org: "acme", Owner: "o@acme.example",
				Fields: []passes.FieldValue{{Name: "Cost centre", Value: "a"}}})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrUnknownField}},
		{name: "SessionBadID", run: func(f *fixture) error {
			_, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: ""})
			return err
		},
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "ID"},
		{name: "LoginEmptyRequestID", run: func(f *fixture) error { return login(f, "day", "a@x.example", "", nil) },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "RequestID"},
		{name: "LoginBadSession", run: func(f *fixture) error { return login(f, "d ay", "a@x.example", "r1", nil) },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Session"},
		{name: "LoginBadLocation", run: func(f *fixture) error {
			_, err := f.svc.Login(f.ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "a@x.example", RequestID: "r1", Location: "\x00"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Location"},
		{name: "LoginBadFieldValue", run: func(f *fixture) error { return login(f, "day", "a@x.example", "r1", map[string]string{"Ref": "\xff"}) },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Fields"},
		{name: "LoginWindowBeyond9999", run: func(f *fixture) error {
			f.clock.Set(time.Date(9999, 12, 31, 12, 0, 0, 0, time.UTC)) // a day later is year 10000
			return login(f, "day", "a@x.example", "r1", nil)
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "clock"},
		{name: "LoginStoredPassTypeUnknown", run: func(f *fixture) error {
			other, err := passes.New(f.mem.Passes(), &passes.Options{Clock: f.clock, Roles: testRoles})
			if err != nil {
				return err
			}
			_, err = other.Login(f.ctx, passes.LoginParams{Org: "acme", Session: "custom", Guest: "a@x.example", RequestID: "r1"})
			return err
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "PassType"},
		{name: "LogBadLimit", run: logErr(passes.LogParams{Actor: admin, Org: "acme", Limit: 1001}),
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Limit"},
		{name: "LogBadCursor", run: logErr(passes.LogParams{Actor: admin, Org: "acme", Cursor: "x"}),
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Cursor"},
		{name: "LogBadFrom", run: logErr(passes.LogParams{Actor: admin, Org: "acme", From: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}),
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "From"},
		{name: "LogBadTo", run: logErr(passes.LogParams{Actor: admin, Org: "acme", To: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}),
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "To"},
		{name: "LogBadSession", run: logErr(passes.LogParams{Actor: admin, Org: "acme", Session: "a b"}),
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Session"},
		{name: "LogBadUser", run: logErr(passes.LogParams{Actor: admin, Org: "acme", User: "ann"}),
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid, passes.ErrMalformedGuest}, field: "User"},
		{name: "UsagesBadWorkspace", run: func(f *fixture) error {
			for _, err := range f.svc.Log(f.ctx, passes.LogParams{Actor: admin}) {
				return err
			}
			return nil
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Org"},
		{name: "ExportBadWorkspace", run: func(f *fixture) error { return f.svc.ExportCSV(f.ctx, io.Discard, passes.LogParams{Actor: admin}) },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Org"},
		{name: "AuditBadWorkspace", run: func(f *fixture) error { _, err := f.svc.Audit(f.ctx, "a/\n"); return err },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrInvalid}, field: "Org"},

		// refused logins
		{name: "RefusedMalformedGuest", run: func(f *fixture) error { return login(f, "day", "ann", "r1", nil) },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrRefused, passes.ErrMalformedGuest}, reason: passes.ReasonMalformedGuest},
		{name: "RefusedUnknownField", run: func(f *fixture) error {
			return login(f, "day", "a@x.example", "r1", map[string]string{"Cost centre": "7"})
		}, code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrRefused, passes.ErrUnknownField}, reason: passes.ReasonUnknownField},
		{name: "RefusedMissingField", run: func(f *fixture) error { return login(f, "bare", "a@x.example", "r1", nil) },
			code: allot.CodeInvalid, status: http.StatusBadRequest, is: []error{passes.ErrRefused, passes.ErrMissingField}, reason: passes.ReasonMissingField},
		{name: "RefusedUnknownSession", run: func(f *fixture) error { return login(f, "nope", "a@x.example", "r1", nil) },
			code: allot.CodeNotFound, status: http.StatusNotFound, is: []error{passes.ErrRefused, passes.ErrUnknownSession}, reason: passes.ReasonUnknownSession},
		{name: "RefusedInsufficientPasses", run: func(f *fixture) error {
			f.mustLogin("acme", "day", "a@x.example", "r1")
			return login(f, "day", "b@x.example", "r2", nil)
		}, code: allot.CodeInsufficient, status: http.StatusConflict, is: []error{passes.ErrRefused, passes.ErrInsufficientPasses}, reason: passes.ReasonInsufficientPasses},
		{name: "RefusedInsufficientNeverBought", run: func(f *fixture) error {
			f.session(passes.Session{ID: "day", Org: "globex"})
			_, err := f.svc.Login(f.ctx, passes.LoginParams{Org: "globex", Session: "day", Guest: "a@x.example", RequestID: "r1"})
			return err
		}, code: allot.CodeInsufficient, status: http.StatusConflict, is: []error{passes.ErrRefused, passes.ErrInsufficientPasses}, reason: passes.ReasonInsufficientPasses},
		{name: "RefusedDemoLocked", run: func(f *fixture) error {
			f.mustLogin("acme", "demo", "a@x.example", "r1")
			f.clock.Advance(4 * time.Hour)
			return login(f, "demo", "b@x.example", "r2", nil)
		}, code: allot.CodeDemoLocked, status: http.StatusConflict, is: []error{passes.ErrRefused, passes.ErrDemoLocked}, reason: passes.ReasonDemoLocked},
		{name: "RefusedByOwnPolicy", run: func(f *fixture) error { return login(f, "custom", "a@x.example", "r1", nil) },
			code: allot.CodeForbidden, status: http.StatusForbidden, is: []error{passes.ErrRefused}, reason: "full"},

		// not found
		{name: "SessionUnknown", run: func(f *fixture) error {
			_, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "globex", Actor: admin, ID: "day"})
			return err
		},
			code: allot.CodeNotFound, status: http.StatusNotFound, is: []error{passes.ErrUnknownSession}},

		// already exists
		{name: "SessionExists", run: func(f *fixture) error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "day", Org: "acme", Name: "Other", Owner: "o@acme.example"})
			return err
		}, code: allot.CodeAlreadyExists, status: http.StatusConflict, is: []error{passes.ErrSessionExists}},
		{name: "FieldConflict", run: func(f *fixture) error {
			_, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Ref"}}})
			return err
		}, code: allot.CodeAlreadyExists, status: http.StatusConflict, is: []error{passes.ErrFieldConflict}},

		// request reused
		{name: "BuyRequestReused", run: func(f *fixture) error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 2, RequestID: "o1"})
			return err
		},
			code: allot.CodeRequestReused, status: http.StatusConflict, is: []error{passes.ErrRequestConflict, ledger.ErrConflict}},
		{name: "LoginRequestReused", run: func(f *fixture) error {
			f.mustLogin("acme", "day", "a@x.example", "r1")
			return login(f, "demo", "a@x.example", "r1", nil)
		}, code: allot.CodeRequestReused, status: http.StatusConflict, is: []error{passes.ErrRequestConflict}},
		{name: "SpendRequestReused", run: func(f *fixture) error {
			// The ledger has a spend of request r1 the log does not show.
			l, err := ledger.New(f.mem, nil)
			if err != nil {
				return err
			}
			f.buy("acme", 5, "o2")
			if _, err := l.Post(f.ctx, ledger.Transfer{ID: "passes/acme/login/r1", Debit: passes.BalanceAccount("acme"), Credit: passes.SpentAccount("acme"), Amount: decimal.NewFromInt(3), Code: passes.CodeSpend}); err != nil {
				return err
			}
			return login(f, "day", "a@x.example", "r1", nil)
		}, code: allot.CodeRequestReused, status: http.StatusConflict, is: []error{passes.ErrRequestConflict, ledger.ErrConflict}},

		// unavailable: a retry finds its row only when inserting its own
		{name: "LoginRaced", run: func(f *fixture) error {
			f.mustLogin("acme", "day", "a@x.example", "r1")
			svc, err := passes.New(hideRequests{f.mem.Passes()}, &passes.Options{Clock: f.clock, Roles: testRoles})
			if err != nil {
				return err
			}
			_, err = svc.Login(f.ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "a@x.example", RequestID: "r1", Location: "Bern"})
			return err
		}, code: allot.CodeUnavailable, status: http.StatusServiceUnavailable, is: []error{ledger.ErrAlreadyExists}},

		// internal
		{name: "BrokenPolicy", run: func(f *fixture) error { return login(f, "broken", "a@x.example", "r1", nil) },
			code: allot.CodeInternal, status: http.StatusInternalServerError, is: []error{passes.ErrPolicy}},
		{name: "LedgerRefusesAccounts", run: func(f *fixture) error {
			// globex's balance account exists, counting seats.
			l, err := ledger.New(f.mem, nil)
			if err != nil {
				return err
			}
			if _, err := l.DefineUnit(f.ctx, ledger.Unit{Code: "seat"}); err != nil {
				return err
			}
			if _, err := l.CreateAccount(f.ctx, ledger.Account{ID: passes.BalanceAccount("globex"), Unit: "seat"}); err != nil {
				return err
			}
			_, err = f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "globex", Actor: vendor, Quantity: 1, RequestID: "o1"})
			return err
		}, code: allot.CodeInternal, status: http.StatusInternalServerError, is: []error{ledger.ErrConflict}},
	}

	covered := map[error]bool{}
	reasons := map[passes.Reason]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := errFixture(t)
			err := c.run(f)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			checkCoded(t, err)
			if got := allot.ErrorCode(err); got != c.code {
				t.Errorf("ErrorCode = %q, want %q", got, c.code)
			}
			if got := allot.HTTPStatus(err); got != c.status {
				t.Errorf("HTTPStatus = %d, want %d", got, c.status)
			}
			for _, s := range c.is {
				covered[s] = true
				if !errors.Is(err, s) {
					t.Errorf("does not match %v", s)
				}
			}
			var ie *passes.InvalidError
			switch {
			case errors.As(err, &ie) && ie.Field != c.field:
				t.Errorf("InvalidError.Field = %q, want %q", ie.Field, c.field)
			case ie == nil && c.field != "":
				t.Errorf("not an *InvalidError, want one of field %q", c.field)
			}
			var re *passes.RefusalError
			switch {
			case errors.As(err, &re):
				reasons[re.Decision.Reason] = true
				if re.Decision.Reason != c.reason {
					t.Errorf("refusal reason %q, want %q", re.Decision.Reason, c.reason)
				}
			case c.reason != "":
				t.Errorf("not a *RefusalError, want one of reason %q", c.reason)
			}
		})
	}

	// The table provokes every sentinel and every built-in reason.
	for _, s := range []error{
		passes.ErrRefused, passes.ErrInsufficientPasses, passes.ErrDemoLocked, passes.ErrUnknownSession,
		passes.ErrMalformedGuest, passes.ErrUnknownField, passes.ErrMissingField, passes.ErrInvalid,
		passes.ErrSessionExists, passes.ErrFieldConflict, passes.ErrRequestConflict, passes.ErrPolicy,
	} {
		if !covered[s] {
			t.Errorf("no case provokes %v", s)
		}
	}
	for _, r := range []passes.Reason{
		passes.ReasonInsufficientPasses, passes.ReasonDemoLocked, passes.ReasonUnknownSession,
		passes.ReasonMalformedGuest, passes.ReasonUnknownField, passes.ReasonMissingField,
	} {
		if !reasons[r] {
			t.Errorf("no case provokes a refusal of reason %q", r)
		}
	}
}

// failingStore fails every transaction, as a store whose disk broke.
type failingStore struct{}

func (failingStore) InTx(context.Context, func(tx passes.Tx) error) error {
	return errors.New("disk on fire")
}

// failingWriter fails every write, as a connection the client dropped.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// calls runs every exported method of svc once with valid arguments.
func calls(svc *passes.Service) map[string]func(ctx context.Context) error {
	lp := passes.LogParams{Actor: admin, Org: "acme"}
	return map[string]func(ctx context.Context) error{
		"Buy": func(ctx context.Context) error {
			_, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, RequestID: "o9"})
			return err
		},
		"Balance": func(ctx context.Context) error {
			_, err := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: admin})
			return err
		},
		"DefineFields": func(ctx context.Context) error {
			_, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}})
			return err
		},
		"Fields": func(ctx context.Context) error {
			_, err := svc.Fields(ctx, passes.FieldsParams{Org: "acme", Actor: admin})
			return err
		},
		"CreateSession": func(ctx context.Context) error {
			_, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: admin, ID: "s9", Org: "acme", Owner: "o@acme.example"})
			return err
		},
		"Session": func(ctx context.Context) error {
			_, err := svc.Session(ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "day"})
			return err
		},
		"UpdateSession": func(ctx context.Context) error {
			name := "Renamed"
			_, err := svc.UpdateSession(ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "day", Name: &name})
			return err
		},
		"Login": func(ctx context.Context) error {
			_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "a@x.example", RequestID: "r9"})
			return err
		},
		"LogPage": func(ctx context.Context) error { _, err := svc.LogPage(ctx, lp); return err },
		"Log": func(ctx context.Context) error {
			for _, err := range svc.Log(ctx, lp) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"ExportCSV": func(ctx context.Context) error { return svc.ExportCSV(ctx, &bytes.Buffer{}, lp) },
		"Audit":     func(ctx context.Context) error { _, err := svc.Audit(ctx, "acme"); return err },
	}
}

// A store failure reaches the caller of every method as internal (500), with
// its own message, and a code the service gave it: no error leaves the
// service without one.
func TestErrors_StoreFailureIsInternal(t *testing.T) {
	svc, err := passes.New(failingStore{}, &passes.Options{Roles: testRoles})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range calls(svc) {
		err := call(context.Background())
		if err == nil {
			t.Errorf("%s on a failing store: no error", name)
			continue
		}
		checkCoded(t, err)
		if got := allot.ErrorCode(err); got != allot.CodeInternal {
			t.Errorf("%s: ErrorCode(%v) = %q, want internal", name, err, got)
		}
		if got := allot.HTTPStatus(err); got != http.StatusInternalServerError {
			t.Errorf("%s: HTTPStatus(%v) = %d, want 500", name, err, got)
		}
	}

	// An export whose writer fails is internal too.
	f := errFixture(t)
	err = f.svc.ExportCSV(f.ctx, failingWriter{}, passes.LogParams{Actor: admin, Org: "acme"})
	if err == nil {
		t.Fatal("ExportCSV to a failing writer: no error")
	}
	checkCoded(t, err)
	if got := allot.ErrorCode(err); got != allot.CodeInternal {
		t.Errorf("ExportCSV to a failing writer: ErrorCode(%v) = %q, want internal", err, got)
	}
}

// A cancelled context is canceled (499) and a passed deadline timeout (504),
// whatever the method.
func TestErrors_Context(t *testing.T) {
	f := errFixture(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	late, cancelLate := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelLate()
	for _, c := range []struct {
		ctx    context.Context
		code   string
		status int
	}{
		{cancelled, allot.CodeCanceled, 499},
		{late, allot.CodeTimeout, http.StatusGatewayTimeout},
	} {
		for name, call := range calls(f.svc) {
			err := call(c.ctx)
			if err == nil {
				t.Errorf("%s with a done context: no error", name)
				continue
			}
			checkCoded(t, err)
			if got := allot.ErrorCode(err); got != c.code {
				t.Errorf("%s: ErrorCode(%v) = %q, want %q", name, err, got, c.code)
			}
			if got := allot.HTTPStatus(err); got != c.status {
				t.Errorf("%s: HTTPStatus(%v) = %d, want %d", name, err, got, c.status)
			}
		}
	}
}
