package passes_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
)

// The fuzz targets drive the service's entry points on memstore with what
// callers may hand in: IDs, e-mail addresses, text, quantities and times.
// Each call either fails with nothing changed, or succeeds with books that
// Audit and ledger.Verify find in order.

// fuzzFixture is a workspace "acme" with passes, fields and sessions of each
// type, and a login inside a window.
func fuzzFixture(t *testing.T) *fixture {
	f := newFixture(t, nil)
	f.buy("acme", 5, "o1")
	if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}}); err != nil {
		t.Fatal(err)
	}
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.session(passes.Session{ID: "month", Org: "acme", PassType: passes.MonthPass})
	f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
	f.mustLogin("acme", "day", "ann@x.example", "r0")
	return f
}

// fuzzState is everything the fuzzed call may touch.
func fuzzState(f *fixture, workspaces, sessions, guests []string) []state {
	var out []state
	for _, ws := range workspaces {
		st := f.snapshot(ws, sessions, guests)
		out = append(out, st)
	}
	return out
}

// fuzzCheck fails t unless err is one of the expected categories with the
// state unchanged, or nil with the books in order.
func fuzzCheck(t *testing.T, f *fixture, op string, err error, before, after []state, workspaces ...string) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, passes.ErrInvalid) && !errors.Is(err, passes.ErrRefused) && !errors.Is(err, passes.ErrRequestConflict) &&
			!errors.Is(err, passes.ErrSessionExists) && !errors.Is(err, passes.ErrFieldConflict) && !errors.Is(err, passes.ErrMalformedGuest) &&
			!errors.Is(err, passes.ErrUnknownField) && !errors.Is(err, passes.ErrMissingField) {
			t.Fatalf("%s: unexpected error %v", op, err)
		}
		if diff := cmp.Diff(before, after, cmpDecimal); diff != "" {
			t.Fatalf("%s failed (%v) and changed the store (-before +after):\n%s", op, err, diff)
		}
		return
	}
	for _, ws := range append(workspaces, "acme") {
		fs, aerr := f.svc.Audit(f.ctx, ws)
		if aerr != nil && !errors.Is(aerr, passes.ErrInvalid) {
			t.Fatalf("%s: Audit(%q): %v", op, ws, aerr)
		}
		if len(fs) > 0 {
			t.Fatalf("%s: Audit(%q) found %v", op, ws, fs)
		}
	}
	l, lerr := ledger.New(f.mem, nil)
	if lerr != nil {
		t.Fatal(lerr)
	}
	r, verr := l.Verify(f.ctx)
	if verr != nil || !r.OK() {
		t.Fatalf("%s: Verify = %+v, %v", op, r, verr)
	}
}

var fuzzTimes = []int64{
	0, t0.Unix(), math.MaxInt64, math.MinInt64, -62135596800 /* year 1 */, 253402300799 /* 9999-12-31T23:59:59 */, 253402300800,
}

func FuzzBuy(f *testing.F) {
	f.Add("acme", int64(3), "o2", t0.Unix())
	f.Add("acme", int64(math.MaxInt64), "o3", t0.Unix())
	f.Add("acme", int64(5), "o1", t0.Unix()) // a retry
	f.Add("acme", int64(6), "o1", t0.Unix()) // a conflict
	f.Add("a/b", int64(1), "50%", t0.Unix())
	f.Add("a\x00", int64(1), "o", t0.Unix())
	f.Add("a\xff", int64(1), "o", t0.Unix())
	f.Add("", int64(-1), "", t0.Unix())
	for _, s := range fuzzTimes {
		f.Add("acme", int64(1), "t", s)
	}
	f.Fuzz(func(t *testing.T, ws string, quantity int64, req string, now int64) {
		fx := fuzzFixture(t)
		fx.clock.Set(time.Unix(now, 0))
		before := fuzzState(fx, []string{"acme", ws}, nil, nil)
		bal, err := fx.svc.Purchase(fx.ctx, passes.PurchaseParams{Org: ws, Actor: vendor, Quantity: quantity, RequestID: req})
		if err == nil && (bal.Available < 0 || bal.Purchased < bal.Available) {
			t.Fatalf("Purchase returned %+v", bal)
		}
		fuzzCheck(t, fx, "Buy", err, before, fuzzState(fx, []string{"acme", ws}, nil, nil), ws)
	})
}

func FuzzCreateSession(f *testing.F) {
	f.Add("acme", "new", "Kick-off", "Ölga@ACME.example", "", "Note", "n")
	f.Add("acme", "day", "Session day", "owner@acme.example", "day", "", "") // exists
	f.Add("acme", "day", "Other", "owner@acme.example", "day", "", "")       // taken
	f.Add("other", "day", "Theirs", "o@other.example", "30days", "", "")     // another workspace's ID
	f.Add("a/b%", "s/1", "x", "o@x.test", "demo", "Note", "\x00")
	f.Add("acme", "s\x00", "caf\xe9", "o@x.test", "weekly", "Colour", "red")
	f.Add("acme", "s", "n", "not an address", "", "", "")
	f.Fuzz(func(t *testing.T, ws, id, name, owner, passType, field, value string) {
		fx := fuzzFixture(t)
		s := passes.Session{ID: id, Org: ws, Name: name, Owner: owner, PassType: passes.PassType(passType)}
		if field != "" {
			s.Fields = []passes.FieldValue{{Name: field, Value: value}}
		}
		sessions := []string{"day", id}
		before := fuzzState(fx, []string{"acme", ws}, sessions, nil)
		got, err := fx.svc.CreateSession(fx.ctx, create(s))
		if err == nil && (got.Org != ws || got.ID != id) {
			t.Fatalf("CreateSession = %+v", got)
		}
		fuzzCheck(t, fx, "CreateSession", err, before, fuzzState(fx, []string{"acme", ws}, sessions, nil), ws)
	})
}

func FuzzDefineFields(f *testing.F) {
	f.Add("acme", "Ref", "Note", false)
	f.Add("acme", "Note", "Note", true) // a conflict
	f.Add("other", "Note", "Ref", true)
	f.Add("acme", "", "x", false)
	f.Add("acme", "\xff", "x", false)
	f.Add("a b", "x", "y", false)
	f.Add("a/%", "x\x00", "y", false)
	f.Fuzz(func(t *testing.T, ws, a, b string, required bool) {
		fx := fuzzFixture(t)
		before := fuzzState(fx, []string{"acme", ws}, nil, nil)
		fieldsBefore, _ := fx.svc.Fields(fx.ctx, passes.FieldsParams{Org: ws, Actor: admin})
		got, err := fx.svc.DefineFields(fx.ctx, passes.DefineFieldsParams{Org: ws, Actor: admin, Fields: []passes.FieldDef{{Name: a, Required: required}, {Name: b}}})
		after := fuzzState(fx, []string{"acme", ws}, nil, nil)
		fieldsAfter, _ := fx.svc.Fields(fx.ctx, passes.FieldsParams{Org: ws, Actor: admin})
		if err != nil && !cmp.Equal(fieldsBefore, fieldsAfter) {
			t.Fatalf("DefineFields failed (%v) and changed the fields: %v -> %v", err, fieldsBefore, fieldsAfter)
		}
		if err == nil {
			for i, fd := range got {
				if fd.Position != i || fd.Org != ws {
					t.Fatalf("DefineFields = %v", got)
				}
			}
		}
		fuzzCheck(t, fx, "DefineFields", err, before, after, ws)
	})
}

func FuzzLogin(f *testing.F) {
	f.Add("acme", "day", "bob@x.example", "Bern", "r1", "Note", "n", int64(0))
	f.Add("acme", "day", "ANN@X.EXAMPLE", "", "r1", "", "", int64(60))                // inside the window
	f.Add("acme", "day", "ann@x.example", "", "r0", "", "", int64(0))                 // a retry
	f.Add("acme", "day", "bob@x.example", "", "r0", "", "", int64(0))                 // a reused request
	f.Add("acme", "month", "Änn@x.test", "Zürich", "r/1%", "Colour", "red", int64(1)) // unknown field
	f.Add("acme", "demo", "ÄNN@x.test", "", "r2", "", "", int64(5*60))                // locked
	f.Add("acme", "month", "bob@x.example", "", "r3", "", "", int64(math.MaxInt64))
	f.Add("a/b", "s%1", "g@x.test", "\x00", "r", "", "", int64(0))
	f.Add("acme", "day", "bob@x.example", "\xff", "r\t", "", "\x00", int64(0))
	f.Add("other", "day", "bob@x.example", "", "r4", "", "", int64(0)) // another workspace's ID
	f.Add("acme", "day", "not-an-email", "", "r5", "", "", int64(0))
	f.Fuzz(func(t *testing.T, ws, session, guest, location, req, field, value string, minutes int64) {
		fx := fuzzFixture(t)
		// A funded session of the fuzzed ID in the fuzzed workspace, if
		// the service takes them.
		_, _ = fx.svc.Purchase(fx.ctx, passes.PurchaseParams{Org: ws, Actor: vendor, Quantity: 3, RequestID: "fund"})
		_, _ = fx.svc.CreateSession(fx.ctx, passes.CreateSessionParams{Actor: admin, ID: session, Org: ws, Name: "S", Owner: "o@x.test", PassType: passes.MonthPass})
		fx.clock.Advance(time.Duration(minutes) * time.Minute)
		r := passes.LoginParams{Org: ws, Session: session, Guest: guest, Location: location, RequestID: req}
		if field != "" {
			r.Fields = map[string]string{field: value}
		}
		sessions, guests := []string{"day", "month", "demo", session}, []string{"ann@x.example", "bob@x.example", guest}
		before := fuzzState(fx, []string{"acme", ws}, sessions, guests)
		d, err := fx.svc.Login(fx.ctx, r)
		after := fuzzState(fx, []string{"acme", ws}, sessions, guests)
		if err != nil && d.Allowed {
			t.Fatalf("Login returned an allowed decision %v with its error %v", d, err)
		}
		if err == nil && (!d.Allowed || d.Passes < 0 || d.Balance < 0) {
			t.Fatalf("Login = %v without an error", d)
		}
		fuzzCheck(t, fx, "Login", err, before, after, ws)
	})
}

func FuzzLog(f *testing.F) {
	f.Add("acme", "", "", int64(0), int64(0), "", 0)
	f.Add("acme", "day", "ANN@x.example", t0.Unix(), t0.Add(time.Hour).Unix(), "1", 1)
	f.Add("acme", "d\x00", "a", int64(math.MaxInt64), int64(math.MinInt64), "-1", 1001)
	f.Add("\xff", "", "Änn@x.test", int64(253402300800), int64(0), "x", -1)
	f.Fuzz(func(t *testing.T, ws, session, user string, from, to int64, cursor string, limit int) {
		fx := fuzzFixture(t)
		p := passes.LogParams{Actor: admin, Org: ws, Session: session, User: user, Cursor: cursor, Limit: limit}
		if from != 0 {
			p.From = time.Unix(from, 0)
		}
		if to != 0 {
			p.To = time.Unix(to, 0)
		}
		before := fuzzState(fx, []string{"acme", ws}, nil, nil)
		page, err := fx.svc.LogPage(fx.ctx, p)
		if err == nil && len(page.Items) > max(limit, 100) {
			t.Fatalf("Log returned %d rows with Limit %d", len(page.Items), limit)
		}
		if err != nil && !errors.Is(err, passes.ErrInvalid) && !errors.Is(err, passes.ErrMalformedGuest) {
			t.Fatalf("Log: unexpected error %v", err)
		}
		if diff := cmp.Diff(before, fuzzState(fx, []string{"acme", ws}, nil, nil), cmpDecimal); diff != "" {
			t.Fatalf("Log changed the store (-before +after):\n%s", diff)
		}
	})
}
