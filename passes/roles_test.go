package passes_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
)

// The tests' actors: admin is a Workspace Administrator and vendor the
// vendor, in every workspace (testRoles).
const (
	admin  = "admin@acme.example"
	vendor = "billing"
)

// actors grants roles by actor, in every workspace.
type actors map[string][]allot.Role

func (a actors) HasRole(_ context.Context, _, actor string, role allot.Role) (bool, error) {
	for _, r := range a[actor] {
		if r == role {
			return true, nil
		}
	}
	return false, nil
}

// vendor2 is another of the vendor's actors.
const vendor2 = "billing-2"

var testRoles allot.Roles = actors{admin: {passes.WorkspaceAdmin}, vendor: {allot.Vendor}, vendor2: {allot.Vendor}}

// create is the admin's request to create s.
func create(s passes.Session) passes.CreateSessionParams {
	return passes.CreateSessionParams{
		Org: s.Org, Actor: admin, ID: s.ID, Name: s.Name, Owner: s.Owner,
		External: s.External, PassType: s.PassType, Fields: s.Fields,
	}
}

// restricted are the calls that check a role, each made by actor, with
// arguments that would succeed for an actor holding the role.
func restricted(svc *passes.Service, actor string) map[string]func(ctx context.Context) error {
	two := passes.MonthPass
	return map[string]func(ctx context.Context) error{
		"Purchase": func(ctx context.Context) error {
			_, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: actor, Quantity: 1, RequestID: "o9"})
			return err
		},
		"Balance": func(ctx context.Context) error {
			_, err := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: actor})
			return err
		},
		"CreateSession": func(ctx context.Context) error {
			_, err := svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: actor, ID: "new", Name: "New", Owner: "o@acme.example"})
			return err
		},
		"UpdateSession": func(ctx context.Context) error {
			_, err := svc.UpdateSession(ctx, passes.UpdateSessionParams{Org: "acme", Actor: actor, ID: "day", PassType: &two})
			return err
		},
		"Session": func(ctx context.Context) error {
			_, err := svc.Session(ctx, passes.SessionParams{Org: "acme", Actor: actor, ID: "day"})
			return err
		},
		"SessionsPage": func(ctx context.Context) error {
			_, err := svc.SessionsPage(ctx, passes.SessionsParams{Org: "acme", Actor: actor})
			return err
		},
		"Sessions": func(ctx context.Context) error {
			for _, err := range svc.Sessions(ctx, passes.SessionsParams{Org: "acme", Actor: actor}) {
				return err
			}
			return errors.New("Sessions yielded nothing")
		},
		"DefineFields": func(ctx context.Context) error {
			_, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: actor, Fields: []passes.FieldDef{{Name: "Ref"}}})
			return err
		},
		"Fields": func(ctx context.Context) error {
			_, err := svc.Fields(ctx, passes.FieldsParams{Org: "acme", Actor: actor})
			return err
		},
		"LogPage": func(ctx context.Context) error {
			_, err := svc.LogPage(ctx, passes.LogParams{Org: "acme", Actor: actor})
			return err
		},
		"Log": func(ctx context.Context) error {
			for _, err := range svc.Log(ctx, passes.LogParams{Org: "acme", Actor: actor}) {
				return err
			}
			return errors.New("Log yielded nothing")
		},
		"LogTable": func(ctx context.Context) error {
			_, err := svc.LogTable(ctx, passes.LogParams{Org: "acme", Actor: actor})
			return err
		},
		"Totals": func(ctx context.Context) error {
			_, err := svc.Totals(ctx, passes.TotalsParams{Org: "acme", Actor: actor})
			return err
		},
		"TotalsTable": func(ctx context.Context) error {
			_, err := svc.TotalsTable(ctx, passes.TotalsParams{Org: "acme", Actor: actor})
			return err
		},
		"ExportCSV": func(ctx context.Context) error {
			var buf bytes.Buffer
			err := svc.ExportCSV(ctx, &buf, passes.LogParams{Org: "acme", Actor: actor})
			if err == nil && buf.Len() == 0 {
				return errors.New("ExportCSV wrote nothing")
			}
			if err != nil && buf.Len() != 0 {
				return errors.New("a refused ExportCSV wrote")
			}
			return err
		},
	}
}

// rolesFixture is a workspace "acme" with 5 passes, a day session with a
// login, and a custom field.
func rolesFixture(t *testing.T, opts *passes.Options) *fixture {
	f := newFixture(t, opts)
	ctx := context.Background()
	if _, err := f.svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}}}); err != nil {
		t.Fatal(err)
	}
	f.buy("acme", 5, "o1")
	f.session(passes.Session{ID: "day", Org: "acme", Name: "Day"})
	f.mustLogin("acme", "day", "ann@x.example", "r1")
	return f
}

// Every restricted call refuses an actor without its role (an
// administrator buying, the vendor reading, anyone else doing anything, and
// anyone at all under nil Roles) with a *allot.ForbiddenError, code
// forbidden, and changes nothing; the same call by the role's holder
// succeeds.
func TestRoles_RefusalsAreForbiddenAndChangeNothing(t *testing.T) {
	f := rolesFixture(t, nil)
	for _, actor := range []string{"eve@acme.example", "Eve", admin, vendor} {
		for name, call := range restricted(f.svc, actor) {
			if actor == admin && name != "Purchase" || actor == vendor && name == "Purchase" {
				continue // the actor holds the role this call needs
			}
			before := f.retryState()
			err := call(f.ctx)
			var fe *allot.ForbiddenError
			if !errors.Is(err, passes.ErrForbidden) || !errors.As(err, &fe) || allot.ErrorCode(err) != allot.CodeForbidden || allot.HTTPStatus(err) != http.StatusForbidden {
				t.Errorf("%s by %q: %v; want forbidden", name, actor, err)
				continue
			}
			want := passes.WorkspaceAdmin
			if name == "Purchase" {
				want = allot.Vendor
			}
			if fe.Org != "acme" || len(fe.Need) != 1 || fe.Need[0] != want {
				t.Errorf("%s by %q: %+v; want org acme, role %s", name, actor, fe, want)
			}
			if diff := cmp.Diff(before, f.retryState(), cmpDecimal); diff != "" {
				t.Errorf("%s by %q changed the store (-before +after):\n%s", name, actor, diff)
			}
		}
	}
	// The holders of the roles succeed, in canonical form or not.
	for name, call := range restricted(f.svc, " ADMIN@acme.example ") {
		if name == "Purchase" {
			continue
		}
		if err := call(f.ctx); err != nil {
			t.Errorf("%s by the administrator: %v", name, err)
		}
	}
	if err := restricted(f.svc, " Billing ")["Purchase"](f.ctx); err != nil {
		t.Errorf("Purchase by the vendor: %v", err)
	}

	nobody := rolesFixture(t, nil)
	none, err := passes.New(nobody.mem.Passes(), &passes.Options{Clock: nobody.clock})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range restricted(none, admin) {
		if err := call(nobody.ctx); !errors.Is(err, allot.ErrForbidden) {
			t.Errorf("%s with nil Roles: %v; want forbidden", name, err)
		}
	}
	if _, err := none.Login(nobody.ctx, passes.LoginParams{Org: "acme", Session: "day", Guest: "bob@x.example", RequestID: "r2"}); err != nil {
		t.Errorf("Login checks no role, yet with nil Roles: %v", err)
	}
	if _, err := none.Audit(nobody.ctx, "acme"); err != nil {
		t.Errorf("Audit checks no role, yet with nil Roles: %v", err)
	}
}

// An actor that is not one is invalid (Field "Actor"), before any role is
// asked for, and changes nothing.
func TestRoles_MalformedActorIsInvalid(t *testing.T) {
	f := rolesFixture(t, nil)
	for _, actor := range []string{"", "  ", "a@", "nul\x00"} {
		for name, call := range restricted(f.svc, actor) {
			before := f.retryState()
			err := call(f.ctx)
			var ie *passes.InvalidError
			if !errors.As(err, &ie) || ie.Field != "Actor" || allot.ErrorCode(err) != allot.CodeInvalid {
				t.Errorf("%s by %q: %v; want invalid Actor", name, actor, err)
			}
			if diff := cmp.Diff(before, f.retryState(), cmpDecimal); diff != "" {
				t.Errorf("%s by %q changed the store:\n%s", name, actor, diff)
			}
		}
	}
}

// A purchase returns its record, and its retry the very same record
// whatever happened since; another quantity, subscription or vendor actor
// with its request ID is request_reused.
func TestPurchase_RecordAndRetry(t *testing.T) {
	f := newFixture(t, nil)
	p := passes.PurchaseParams{Org: "acme", Actor: " Billing ", Quantity: 5, Subscription: "sub-1", RequestID: "o1"}
	first, err := f.svc.Purchase(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := allot.Purchase{Org: "acme", Product: "pass", Quantity: 5, Subscription: "sub-1", Actor: vendor, RequestID: "o1", At: t0, Purchased: 5, Available: 5}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Fatalf("Purchase (-want +got):\n%s", diff)
	}
	f.session(passes.Session{ID: "day", Org: "acme", Name: "Day"})
	f.clock.Advance(time.Hour)
	f.mustLogin("acme", "day", "ann@x.example", "r1")
	second, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 3, RequestID: "o2"})
	if err != nil || second.Purchased != 8 || second.Available != 7 || !second.At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second purchase = %+v, %v; want 8 purchased, 7 available", second, err)
	}
	f.clock.Advance(48 * time.Hour)
	before := f.retryState()
	again, err := f.svc.Purchase(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("retried Purchase (-first +retry):\n%s", diff)
	}
	for name, q := range map[string]passes.PurchaseParams{
		"another quantity":     {Org: "acme", Actor: vendor, Quantity: 6, Subscription: "sub-1", RequestID: "o1"},
		"another subscription": {Org: "acme", Actor: vendor, Quantity: 5, Subscription: "sub-2", RequestID: "o1"},
		"no subscription":      {Org: "acme", Actor: vendor, Quantity: 5, RequestID: "o1"},
		"another actor":        {Org: "acme", Actor: vendor2, Quantity: 5, Subscription: "sub-1", RequestID: "o1"},
	} {
		got, err := f.svc.Purchase(f.ctx, q)
		if !errors.Is(err, passes.ErrRequestConflict) || allot.ErrorCode(err) != allot.CodeRequestReused || got != (allot.Purchase{}) {
			t.Errorf("%s: %+v, %v; want request_reused", name, got, err)
		}
	}
	if diff := cmp.Diff(before, f.retryState(), cmpDecimal); diff != "" {
		t.Errorf("retries changed the store (-before +after):\n%s", diff)
	}
	if _, err := f.svc.Purchase(f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1, Subscription: "a b", RequestID: "o3"}); !isInvalid(err, "Subscription") {
		t.Errorf("a subscription that is not an ID: %v", err)
	}
}

func isInvalid(err error, field string) bool {
	var ie *passes.InvalidError
	return errors.As(err, &ie) && ie.Field == field
}

// A session's owner is, unless given, the administrator who creates it; an
// actor without an e-mail address must give one.
func TestCreateSession_OwnerDefaultsToCreator(t *testing.T) {
	f := newFixture(t, &passes.Options{Roles: actors{"olga@acme.example": {passes.WorkspaceAdmin}, "ops": {passes.WorkspaceAdmin}}})
	p := passes.CreateSessionParams{Org: "acme", Actor: "Olga@Acme.example", ID: "kickoff", Name: "Kick-off"}
	s, err := f.svc.CreateSession(f.ctx, p)
	if err != nil || s.Owner != "olga@acme.example" {
		t.Fatalf("CreateSession = %+v, %v; want owner olga@acme.example", s, err)
	}
	f.clock.Advance(time.Hour)
	if again, err := f.svc.CreateSession(f.ctx, p); err != nil || !cmp.Equal(s, again) {
		t.Errorf("retried CreateSession = %+v, %v; want %+v", again, err, s)
	}
	if _, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Org: "acme", Actor: "ops", ID: "x", Name: "X"}); !isInvalid(err, "Owner") {
		t.Errorf("an actor without an e-mail address and no owner: %v; want invalid Owner", err)
	}
	if s, err := f.svc.CreateSession(f.ctx, passes.CreateSessionParams{Org: "acme", Actor: "ops", ID: "y", Name: "Y", Owner: "Piet@acme.example"}); err != nil || s.Owner != "piet@acme.example" {
		t.Errorf("an owner given: %+v, %v", s, err)
	}
}
