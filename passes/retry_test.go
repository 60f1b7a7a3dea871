package passes_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
)

// retrySessions and retryGuests are every session and guest the retry tests
// touch, so a snapshot holds every record a retry could change.
var (
	retrySessions = []string{"day", "demo", "s-new"}
	retryGuests   = []string{"ann@x.example", "bob@x.example"}
)

// retryState is everything a write of the package may change in "acme".
type retryState struct {
	State  state
	Fields []passes.FieldDef
}

func (f *fixture) retryState() retryState {
	f.t.Helper()
	fs, err := f.svc.Fields(f.ctx, passes.FieldsParams{Org: "acme", Actor: admin})
	if err != nil {
		f.t.Fatal(err)
	}
	return retryState{State: f.snapshot("acme", retrySessions, retryGuests), Fields: fs}
}

func (f *fixture) auditClean() {
	f.t.Helper()
	fs, err := f.svc.Audit(f.ctx, "acme")
	if err != nil || len(fs) != 0 {
		f.t.Errorf("Audit = %v, %v; want no findings", fs, err)
	}
	verify(f.t, f)
}

// TestService_RetriesReturnTheFirstResult: every write, done and then done
// again identically (a retry, an hour later), succeeds both times, returns
// the same result, and the retry changes nothing.
func TestService_RetriesReturnTheFirstResult(t *testing.T) {
	day := passes.MonthPass
	demoToDay := passes.DayPass
	name := "Renamed"
	owner := "Olga@Acme.example"
	external := false
	fields := []passes.FieldValue{{Name: "Ref", Value: "r"}, {Name: "Note", Value: "n"}}
	tests := []struct {
		name string
		// between runs after the first call and before the retry: other acts
		// the retry must not be confused by.
		between func(f *fixture)
		act     func(f *fixture) (any, error)
	}{
		{name: "Buy", act: func(f *fixture) (any, error) {
			return f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 3, RequestID: "o2"})
		}},
		{name: "Buy after another purchase and a login", between: func(f *fixture) {
			f.buy("acme", 4, "o3")
			f.mustLogin("acme", "day", "bob@x.example", "r-bob")
		}, act: func(f *fixture) (any, error) {
			return f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 3, RequestID: "o2"})
		}},
		{name: "CreateSession", act: func(f *fixture) (any, error) {
			return f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "s-new", Org: "acme", Name: "New", Owner: "olga@acme.example", PassType: passes.MonthPass,
				Fields: []passes.FieldValue{{Name: "Note", Value: "n"}}})
		}},
		{name: "CreateSession with default pass type and owner case", act: func(f *fixture) (any, error) {
			// The retry gives the owner in another case (one address) and
			// the pass type the first call left to the default.
			if s, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "s-new"}); err == nil {
				return f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "s-new", Org: "acme", Name: "New", Owner: "OLGA@acme.EXAMPLE", PassType: s.PassType,
					Fields: []passes.FieldValue{{Name: "Ref", Value: "r"}, {Name: "Note", Value: "n"}}})
			}
			return f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "s-new", Org: "acme", Name: "New", Owner: "Olga@ACME.example",
				Fields: []passes.FieldValue{{Name: "Note", Value: "n"}, {Name: "Ref", Value: "r"}}})
		}},
		{name: "CreateSession after its first login", between: func(f *fixture) {
			f.mustLogin("acme", "s-new", "bob@x.example", "r-bob")
		}, act: func(f *fixture) (any, error) {
			s, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "s-new", Org: "acme", Name: "New", Owner: "olga@acme.example"})
			// The retry returns the session as stored, FirstLogin set: the
			// first call's result plus what the login wrote.
			s.FirstLogin = time.Time{}
			return s, err
		}},
		{name: "DefineFields", act: func(f *fixture) (any, error) {
			return f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Ref"}, {Name: "Cost", Required: true}}})
		}},
		{name: "DefineFields of fields it has", act: func(f *fixture) (any, error) {
			return f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}})
		}},
		{name: "Login that spends", act: func(f *fixture) (any, error) {
			return f.login("acme", "day", "bob@x.example", "r1")
		}},
		{name: "Login inside a window", act: func(f *fixture) (any, error) {
			return f.login("acme", "day", "ann@x.example", "r1")
		}},
		{name: "Login to a demo", act: func(f *fixture) (any, error) {
			return f.login("acme", "demo", "bob@x.example", "r1")
		}},
		{name: "Login after the session became another type", between: func(f *fixture) {
			if _, err := f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "day", PassType: &day}); err != nil {
				f.t.Fatal(err)
			}
		}, act: func(f *fixture) (any, error) {
			return f.login("acme", "day", "bob@x.example", "r1")
		}},
		{name: "UpdateSession", act: func(f *fixture) (any, error) {
			return f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "demo", Name: &name, Owner: &owner, External: &external, PassType: &demoToDay, Fields: &fields})
		}},
		{name: "UpdateSession that changes nothing", act: func(f *fixture) (any, error) {
			return f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "day"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.buy("acme", 5, "o1")
			if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Ref"}}}); err != nil {
				t.Fatal(err)
			}
			f.session(passes.Session{ID: "day", Org: "acme"})
			f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
			f.mustLogin("acme", "day", "ann@x.example", "r0")
			f.clock.Advance(time.Minute)

			first, err := tt.act(f)
			if err != nil {
				t.Fatalf("first call: %v", err)
			}
			if tt.between != nil {
				tt.between(f)
			}
			f.clock.Advance(time.Hour) // a retry later is still a retry
			before := f.retryState()
			again, err := tt.act(f)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if diff := cmp.Diff(first, again); diff != "" {
				t.Errorf("retry returned another result (-first +retry):\n%s", diff)
			}
			if diff := cmp.Diff(before, f.retryState(), cmpDecimal); diff != "" {
				t.Errorf("retry changed the store (-before +after):\n%s", diff)
			}
			f.auditClean()
		})
	}
}

// TestService_DefineFieldsRetriedConcurrently: the same definition sent many
// times at once (a client retrying before its first answer came) succeeds
// every time, each with the same fields, defined once.
func TestService_DefineFieldsRetriedConcurrently(t *testing.T) {
	f := newFixture(t, nil)
	const workers = 16
	defs := []passes.FieldDef{{Name: "Note"}, {Name: "Ref", Required: true}}
	got := make([][]passes.FieldDef, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[w], errs[w] = f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: defs})
		}()
	}
	wg.Wait()
	want := []passes.FieldDef{{Org: "acme", Name: "Note"}, {Org: "acme", Name: "Ref", Required: true, Position: 1}}
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("DefineFields %d: %v", w, errs[w])
		}
		if diff := cmp.Diff(want, got[w]); diff != "" {
			t.Errorf("DefineFields %d (-want +got):\n%s", w, diff)
		}
	}
	if fs, _ := f.svc.Fields(f.ctx, passes.FieldsParams{Org: "acme", Actor: admin}); !cmp.Equal(fs, want) {
		t.Errorf("Fields = %v, want %v", fs, want)
	}
}

// TestService_RetryOfAnotherActIsRefused: a request ID or session ID reused
// for another act is refused with nothing changed.
func TestService_RetryOfAnotherActIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	f.buy("acme", 5, "o1")
	f.session(passes.Session{ID: "day", Org: "acme"})
	f.mustLogin("acme", "day", "ann@x.example", "r1")
	before := f.retryState()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"Buy of another quantity", func() error {
			_, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 6, RequestID: "o1"})
			return err
		}(), passes.ErrRequestConflict},
		{"Login of another guest", func() error { _, err := f.login("acme", "day", "bob@x.example", "r1"); return err }(), passes.ErrRequestConflict},
		{"CreateSession with other contents", func() error {
			_, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "day", Org: "acme", Name: "Other", Owner: "owner@acme.example"})
			return err
		}(), passes.ErrSessionExists},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if diff := cmp.Diff(before, f.retryState(), cmpDecimal); diff != "" {
		t.Errorf("refused retries changed the store (-before +after):\n%s", diff)
	}
}

// TestService_UpdateSession: the rules of a change to a session.
func TestService_UpdateSession(t *testing.T) {
	ptr := func(pt passes.PassType) *passes.PassType { return &pt }
	t.Run("a locked demo made a paid session charges later logins", func(t *testing.T) {
		f := newFixture(t, nil)
		f.buy("acme", 5, "o1")
		f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
		d0 := f.mustLogin("acme", "demo", "ann@x.example", "r1")
		f.clock.Advance(4 * time.Hour)
		if _, err := f.login("acme", "demo", "bob@x.example", "r2"); !errors.Is(err, passes.ErrDemoLocked) {
			t.Fatalf("login to the locked demo = %v, want ErrDemoLocked", err)
		}
		before, err := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "demo"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "demo", PassType: ptr(passes.DayPass)})
		if err != nil {
			t.Fatal(err)
		}
		want := before
		want.PassType = passes.DayPass
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateSession (-want +got):\n%s", diff)
		}
		if s, _ := f.svc.Session(f.ctx, passes.SessionParams{Org: "acme", Actor: admin, ID: "demo"}); !cmp.Equal(s, got) {
			t.Errorf("Session = %+v, want %+v", s, got)
		}
		d := f.mustLogin("acme", "demo", "bob@x.example", "r2")
		if d.Passes != 1 || d.PassType != passes.DayPass || d.Demo || d.Balance != 4 {
			t.Errorf("login after the change = %v, want 1 pass spent under %q, balance 4", d, passes.DayPass)
		}
		// Ann's demo window ended at the lock: she pays too.
		if d := f.mustLogin("acme", "demo", "ann@x.example", "r3"); d.Passes != 1 {
			t.Errorf("login of the demo's guest after the lock = %v, want 1 pass spent", d)
		}
		rows, err := f.svc.LogPage(f.ctx, passes.LogParams{Actor: admin, Org: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if r := rows.Items[0]; r.PassType != passes.DemoPass || !r.Demo || r.Passes != 0 || !cmp.Equal(r.Decision(), d0) {
			t.Errorf("the demo's row became %+v; the log keeps rows as logged", r)
		}
		f.auditClean()
	})
	t.Run("an open demo made paid keeps its windows until they end", func(t *testing.T) {
		f := newFixture(t, nil)
		f.buy("acme", 5, "o1")
		f.session(passes.Session{ID: "demo", Org: "acme", PassType: passes.DemoPass})
		f.mustLogin("acme", "demo", "ann@x.example", "r1")
		f.clock.Advance(time.Hour)
		if _, err := f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "demo", PassType: ptr(passes.MonthPass)}); err != nil {
			t.Fatal(err)
		}
		if d := f.mustLogin("acme", "demo", "ann@x.example", "r2"); d.Passes != 0 || !d.InWindow || d.PassType != passes.MonthPass {
			t.Errorf("login inside the demo's window = %v, want inside the window, nothing spent", d)
		}
		if d := f.mustLogin("acme", "demo", "bob@x.example", "r3"); d.Passes != 2 {
			t.Errorf("new guest = %v, want 2 passes spent", d)
		}
		f.clock.Advance(3 * time.Hour) // the demo's window ends
		if d := f.mustLogin("acme", "demo", "ann@x.example", "r4"); d.Passes != 2 {
			t.Errorf("login after the demo's window = %v, want 2 passes spent", d)
		}
		f.auditClean()
	})
	t.Run("a paid session with past logins made a demo is locked", func(t *testing.T) {
		f := newFixture(t, nil)
		f.buy("acme", 5, "o1")
		f.session(passes.Session{ID: "day", Org: "acme"})
		f.mustLogin("acme", "day", "ann@x.example", "r1")
		f.clock.Advance(5 * time.Hour)
		if _, err := f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "day", PassType: ptr(passes.DemoPass)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.login("acme", "day", "bob@x.example", "r2"); !errors.Is(err, passes.ErrDemoLocked) {
			t.Errorf("login = %v, want ErrDemoLocked: the demo's period runs from the first login", err)
		}
		f.auditClean() // a session that spent before it became a demo is in order
	})
	t.Run("details", func(t *testing.T) {
		f := newFixture(t, nil)
		if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Ref"}}}); err != nil {
			t.Fatal(err)
		}
		f.session(passes.Session{ID: "s", Org: "acme", Name: "Old", External: true, Fields: []passes.FieldValue{{Name: "Note", Value: "a"}}})
		name, owner, external := "New", " Olga@ACME.example ", false
		fields := []passes.FieldValue{{Name: "Ref", Value: "r"}, {Name: "Note", Value: "n"}}
		got, err := f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "s", Name: &name, Owner: &owner, External: &external, Fields: &fields})
		if err != nil {
			t.Fatal(err)
		}
		want := passes.Session{ID: "s", Org: "acme", Name: "New", Owner: "olga@acme.example", PassType: passes.DayPass, CreatedAt: t0,
			Fields: []passes.FieldValue{{Name: "Note", Value: "n"}, {Name: "Ref", Value: "r"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateSession (-want +got):\n%s", diff)
		}
		empty := []passes.FieldValue{}
		got, err = f.svc.UpdateSession(f.ctx, passes.UpdateSessionParams{Actor: admin, Org: "acme", ID: "s", Fields: &empty})
		if err != nil || got.Fields != nil || got.Name != "New" {
			t.Errorf("clearing the fields = %+v, %v; want no fields, the rest kept", got, err)
		}
	})
	t.Run("refusals change nothing", func(t *testing.T) {
		f := newFixture(t, nil)
		if _, err := f.svc.DefineFields(f.ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}}); err != nil {
			t.Fatal(err)
		}
		f.session(passes.Session{ID: "day", Org: "acme"})
		f.session(passes.Session{ID: "other", Org: "globex"})
		empty, bad, nul := "", "not-an-address", "a\x00b"
		unknown := []passes.FieldValue{{Name: "Cost", Value: "1"}}
		before := f.retryState()
		for _, tc := range []struct {
			name string
			c    passes.UpdateSessionParams
			want error
		}{
			{"unknown session", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "nope"}, passes.ErrUnknownSession},
			{"another workspace's session", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "other"}, passes.ErrUnknownSession},
			{"unknown pass type", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "day", PassType: ptr("weekly")}, passes.ErrInvalid},
			{"empty owner", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "day", Owner: &empty}, passes.ErrInvalid},
			{"malformed owner", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "day", Owner: &bad}, passes.ErrInvalid},
			{"name with NUL", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "day", Name: &nul}, passes.ErrInvalid},
			{"unknown field", passes.UpdateSessionParams{Org: "acme", Actor: admin, ID: "day", Fields: &unknown}, passes.ErrUnknownField},
			{"empty ID", passes.UpdateSessionParams{Org: "acme", Actor: admin}, passes.ErrInvalid},
		} {
			_, err := f.svc.UpdateSession(f.ctx, tc.c)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
			checkCoded(t, err)
		}
		if diff := cmp.Diff(before, f.retryState(), cmpDecimal); diff != "" {
			t.Errorf("refused changes changed the store (-before +after):\n%s", diff)
		}
	})
}
