package allottest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/allottest"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
	"pgregory.net/rapid"
)

// recorder is a TB that records a failure instead of failing the test, so
// tests can check what the kit reports.
type recorder struct {
	failed   bool
	msg      string
	cleanups []func()
}

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	panic(stop{})
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// failure runs fn with a recorder and returns the message it failed with,
// or "" if it did not fail.
func failure(fn func(tb allottest.TB)) (msg string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stop); !ok {
				panic(p)
			}
		}
		for i := len(r.cleanups) - 1; i >= 0; i-- {
			r.cleanups[i]()
		}
		msg = r.msg
		if r.failed && msg == "" {
			msg = "(failed without a message)"
		}
	}()
	fn(r)
	return ""
}

// mustFail fails t unless fn fails with a message holding every one of want.
func mustFail(t *testing.T, fn func(tb allottest.TB), want ...string) string {
	t.Helper()
	msg := failure(fn)
	if msg == "" {
		t.Fatalf("did not fail; want a failure saying %q", want)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("failure %q does not say %q", msg, w)
		}
	}
	return msg
}

func TestNew_Defaults(t *testing.T) {
	h := allottest.New(t, nil)
	ctx := h.Ctx
	if !h.Now().Equal(allottest.Start) {
		t.Errorf("clock reads %v, want Start %v", h.Now(), allottest.Start)
	}
	if got := h.Advance(time.Hour); !got.Equal(allottest.Start.Add(time.Hour)) {
		t.Errorf("Advance(1h) = %v", got)
	}
	h.Set(allottest.Start)
	if !h.Now().Equal(allottest.Start) {
		t.Errorf("after Set, clock reads %v", h.Now())
	}

	// The vendor adds licenses; the Org Admin may not, and creates a team,
	// spelt in any case.
	if _, err := h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "BILLING", RequestID: "buy", Quantity: 2}); err != nil {
		t.Fatalf("vendor purchase: %v", err)
	}
	h.AssertRefused(t, licenses.ErrForbidden, func() error {
		_, err := h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.OrgAdmin, RequestID: "buy-0", Quantity: 1})
		return err
	})
	if _, err := h.Licenses.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "ADMIN@allot.test"}); err != nil {
		t.Fatal(err)
	}
	// The Team Admin invites, but may not buy.
	if _, err := h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "bo@x.test", Actor: allottest.TeamAdmin, RequestID: "inv"}); err != nil {
		t.Fatalf("Team Admin invite: %v", err)
	}
	h.AssertRefused(t, licenses.ErrForbidden, func() error {
		_, err := h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.TeamAdmin, RequestID: "buy-2", Quantity: 1})
		return err
	})
	// The Entitlement manager transfers seats; nobody else does.
	if _, err := h.Seats.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 10, Subscription: "s", Actor: allottest.Billing, RequestID: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Seats.CreateEvent(ctx, seats.CreateEventParams{Actor: allottest.EntitlementManager, ID: "summit", Org: "acme", Start: h.Now(), End: h.Now().Add(time.Hour), Participants: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Seats.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: allottest.EntitlementManager, Event: "summit", Quantity: 4, RequestID: "t"}); err != nil {
		t.Fatalf("Entitlement manager transfer: %v", err)
	}
	h.AssertRefused(t, seats.ErrForbidden, func() error {
		_, err := h.Seats.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: allottest.OrgAdmin, Event: "summit", Quantity: 1, RequestID: "t2"})
		return err
	})
	// Passes need no role.
	if _, err := h.Passes.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 3, RequestID: "order"}); err != nil {
		t.Fatal(err)
	}
	h.AssertBalance(t, "acme", 3)
	h.AssertPool(t, "acme", seats.Seats, 10, 4)
	h.AssertMemberState(t, "acme", "Bo@X.test", licenses.StatePending)
	h.Check(t)
}

func TestNew_Options(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	mem := memstore.New()
	h := allottest.New(t, &allottest.Options{
		Store:               mem,
		Start:               at,
		OrgAdmins:           []string{"boss@x.test"},
		TeamAdmins:          []string{},
		EntitlementManagers: []string{"ops"},
		Policies:            map[passes.PassType]passes.Policy{"week": passes.Window{Cost: 5, Duration: 7 * 24 * time.Hour}},
	})
	ctx := h.Ctx
	if h.Store != mem || !h.Now().Equal(at) {
		t.Fatalf("Store %p (want %p), clock %v (want %v)", h.Store, mem, h.Now(), at)
	}
	if _, err := h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: allottest.Billing, RequestID: "buy", Quantity: 1}); err != nil {
		t.Fatalf("the vendor: %v", err)
	}
	h.AssertRefused(t, licenses.ErrForbidden, func() error { // the Org Admin given is no vendor
		_, err := h.Licenses.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "Boss@X.test", RequestID: "buy-2", Quantity: 1})
		return err
	})
	if _, err := h.Licenses.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "t", Actor: "boss@x.test"}); err != nil {
		t.Fatal(err)
	}
	h.AssertRefused(t, licenses.ErrForbidden, func() error { // no Team Admin at all
		_, err := h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "t", Email: "a@x.test", Actor: allottest.TeamAdmin, RequestID: "i"})
		return err
	})
	// A grant in one organization holds there only.
	h.Roles.Grant("acme", "lead@x.test", licenses.TeamAdmin("t"))
	if _, err := h.Licenses.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "t", Email: "a@x.test", Actor: "LEAD@x.test", RequestID: "i"}); err != nil {
		t.Fatalf("granted Team Admin: %v", err)
	}
	if ok, _ := h.Roles.HasRole(ctx, "other", "lead@x.test", licenses.TeamAdmin("t")); ok {
		t.Error("a Team Admin of acme's team t is one of other's team t too")
	}
	if ok, _ := h.Roles.HasRole(ctx, "any-org", "OPS", seats.EntitlementManager); !ok {
		t.Error("ops is not an Entitlement manager everywhere")
	}
	h.Roles.Revoke("ops")
	if ok, _ := h.Roles.HasRole(ctx, "any-org", "ops", seats.EntitlementManager); ok {
		t.Error("Revoke left ops its role")
	}
	// The policy given is the passes service's.
	if _, err := h.Passes.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 5, RequestID: "order"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Passes.CreateSession(ctx, passes.CreateSessionParams{Actor: allottest.WorkspaceAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@x.test", PassType: "week"}); err != nil {
		t.Fatal(err)
	}
	d, err := h.Passes.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: "g@x.test", RequestID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	h.AssertCharged(t, d, 5)
	h.Check(t)
}

func TestNew_RefusesBadOptions(t *testing.T) {
	mustFail(t, func(tb allottest.TB) {
		allottest.New(tb, &allottest.Options{Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	}, "Options.Start")
	mustFail(t, func(tb allottest.TB) {
		allottest.New(tb, &allottest.Options{Tenants: []string{"with space"}})
	}, "Options.Tenants")
}

// A harness is built inside a rapid test case from its *rapid.T, and its
// faults hit the services it wires.
func TestNew_InRapidProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := allottest.New(t, nil)
		n := allottest.Quantity(5).Draw(t, "n")
		h.Faults.Inject(1, allottest.FailCommit)
		if _, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: n, RequestID: "order"}); err == nil {
			t.Fatalf("Buy with a failed commit succeeded")
		}
		h.AssertBalance(t, "acme", 0)
		if _, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: n, RequestID: "order"}); err != nil {
			t.Fatal(err)
		}
		h.AssertBalance(t, "acme", n)
		h.Check(t)
	})
}

// The harness's assertions and Check read the store directly: they consume
// no planned fault.
func TestHarness_ChecksConsumeNoFault(t *testing.T) {
	h := allottest.New(t, nil)
	h.Faults.Inject(1, allottest.FailBefore)
	h.Check(t)
	h.AssertBalance(t, "acme", 0)
	h.AssertRefused(t, passes.ErrInvalid, func() error {
		_, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 0, RequestID: "order"}) // refused before any transaction
		return err
	})
	if !h.Faults.Pending() || h.Faults.Calls() != 0 {
		t.Fatalf("Calls = %d, Pending = %t; want the fault still planned", h.Faults.Calls(), h.Faults.Pending())
	}
}

func BenchmarkHarness_Login(b *testing.B) {
	h := allottest.New(b, nil)
	if _, err := h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "acme", Actor: allottest.Billing, Quantity: 1 << 40, RequestID: "order"}); err != nil {
		b.Fatal(err)
	}
	if _, err := h.Passes.CreateSession(h.Ctx, passes.CreateSessionParams{Actor: allottest.WorkspaceAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@x.test"}); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := h.Passes.Login(h.Ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: fmt.Sprintf("g%d@x.test", i), RequestID: fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
