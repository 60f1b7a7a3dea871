package passes_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
)

// newService is a service over an in-memory store with a fake clock at
// 2026-03-02 09:00 UTC, and a workspace "acme" that bought 10 passes.
func newService(opts *passes.Options) (*passes.Service, *clock.Fake) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	if opts == nil {
		opts = &passes.Options{}
	}
	opts.Clock = clk
	opts.Roles = testRoles
	svc, err := passes.New(memstore.New().Passes(), opts)
	if err != nil {
		panic(err)
	}
	if _, err := svc.Purchase(context.Background(), passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 10, RequestID: "order-1"}); err != nil {
		panic(err)
	}
	return svc, clk
}

func login(svc *passes.Service, session, guest, request string) {
	d, err := svc.Login(context.Background(), passes.LoginParams{
		Org: "acme", Session: session, Guest: guest, Location: "Zurich", RequestID: request,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
}

// The default pass type: a guest's login spends 1 pass and gives 24 hours of
// access to the session; logging in again inside the window spends nothing.
func Example_dayPass() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "billing", allot.Vendor)                    // the vendor sells passes
	roles.Grant("acme", "olga@acme.example", passes.WorkspaceAdmin) // olga runs the workspace
	svc, _ := passes.New(memstore.New().Passes(), &passes.Options{Clock: clk, Roles: roles})
	svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 10, RequestID: "order-1"})
	// Olga creates the session, so she is its owner.
	svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: "olga@acme.example", ID: "kickoff", Name: "Kick-off"})

	d, _ := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "kickoff", Guest: "ann@guest.example", RequestID: "r1"})
	fmt.Println(d) // allowed: 1 pass spent, access until 2026-03-03T09:00:00Z; balance 9
	clk.Advance(23 * time.Hour)
	d, _ = svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "kickoff", Guest: "ANN@guest.example", RequestID: "r2"})
	fmt.Println(d) // allowed: inside the guest's access window, nothing spent, ...; balance 9
	// The window is half-open: it ends 24 hours after the first login.
	clk.Advance(time.Hour)
	d, _ = svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "kickoff", Guest: "ann@guest.example", RequestID: "r3"})
	fmt.Println(d) // allowed: 1 pass spent, access until 2026-03-04T09:00:00Z; balance 8
	// Output:
	// allowed: 1 pass spent, access until 2026-03-03T09:00:00Z; balance 9
	// allowed: inside the guest's access window, nothing spent, access until 2026-03-03T09:00:00Z; balance 9
	// allowed: 1 pass spent, access until 2026-03-04T09:00:00Z; balance 8
}

// 30 days unlimited: a login spends 2 passes and gives the guest 720 hours of
// access to the session.
func Example_monthPass() {
	ctx := context.Background()
	svc, clk := newService(nil)
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: admin,
		ID: "retro", Org: "acme", Name: "Async retro", Owner: "olga@acme.example", PassType: passes.MonthPass,
	}); err != nil {
		panic(err)
	}
	login(svc, "retro", "ann@guest.example", "r1")
	clk.Advance(29 * 24 * time.Hour)
	login(svc, "retro", "ann@guest.example", "r2")
	login(svc, "retro", "bob@guest.example", "r3")
	// Output:
	// allowed: 2 passes spent, access until 2026-04-01T09:00:00Z; balance 8
	// allowed: inside the guest's access window, nothing spent, access until 2026-04-01T09:00:00Z; balance 8
	// allowed: 2 passes spent, access until 2026-04-30T09:00:00Z; balance 6
}

// A demo session spends nothing, is open for 4 hours from its first guest
// login and then locked for everyone. While it is open, activity titles are
// marked.
func Example_demo() {
	ctx := context.Background()
	svc, clk := newService(nil)
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: admin,
		ID: "demo", Org: "acme", Name: "Try it", Owner: "olga@acme.example", PassType: passes.DemoPass,
	}); err != nil {
		panic(err)
	}
	d, _ := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "demo", Guest: "ann@guest.example", RequestID: "r1"})
	fmt.Println(d)
	fmt.Println(passes.DecorateTitle(d, "Brainstorm"))
	clk.Advance(4 * time.Hour)
	_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "demo", Guest: "bob@guest.example", RequestID: "r2"})
	fmt.Println(err)
	// Output:
	// allowed: demo session, nothing spent, open until 2026-03-02T13:00:00Z; balance 10
	// Brainstorm (Demonstration Use Only)
	// login of "bob@guest.example" to session "demo": passes: login refused (demo_locked): demo session "demo" locked at 2026-03-02T13:00:00Z, 4h0m0s after its first guest login; make it a paid session to go on
}

// A service defines its own pass type: a Window (cost and duration), or any
// function of the time and state as a PolicyFunc.
func Example_customPolicy() {
	ctx := context.Background()
	const week passes.PassType = "week"
	const vip passes.PassType = "vip"
	svc, _ := newService(&passes.Options{Policies: map[passes.PassType]passes.Policy{
		week: passes.Window{Cost: 5, Duration: 7 * 24 * time.Hour},
		// Guests from the owner's own domain enter free for a day; others pay
		// 3 passes for a day.
		vip: passes.PolicyFunc(func(now time.Time, st passes.State) passes.Decision {
			w := passes.Window{Cost: 3, Duration: 24 * time.Hour}
			if domain(st.Guest) == domain(st.Session.Owner) {
				w.Cost = 0
			}
			return w.Decide(now, st)
		}),
	}})
	for _, s := range []passes.Session{
		{ID: "course", Org: "acme", Name: "Course", Owner: "olga@acme.example", PassType: week},
		{ID: "board", Org: "acme", Name: "Board", Owner: "olga@acme.example", PassType: vip},
	} {
		if _, err := svc.CreateSession(ctx, create(s)); err != nil {
			panic(err)
		}
	}
	login(svc, "course", "ann@guest.example", "r1")
	login(svc, "board", "ann@guest.example", "r2")
	login(svc, "board", "carl@acme.example", "r3")
	login(svc, "board", "bob@guest.example", "r4")
	// Output:
	// allowed: 5 passes spent, access until 2026-03-09T09:00:00Z; balance 5
	// allowed: 3 passes spent, access until 2026-03-03T09:00:00Z; balance 2
	// allowed: 0 passes spent, access until 2026-03-03T09:00:00Z; balance 2
	// login of "bob@guest.example" to session "board": passes: login refused (insufficient_passes): session "board" (vip) costs 3 passes and the workspace has 2; buy passes and retry
}

func domain(email string) string { return email[strings.LastIndexByte(email, '@')+1:] }

// The usage log exported as CSV, with a custom field.
func ExampleService_ExportCSV() {
	ctx := context.Background()
	svc, clk := newService(nil)
	if _, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Reference", Required: true}}}); err != nil {
		panic(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: admin,
		ID: "kickoff", Org: "acme", Name: "Kick-off", Owner: "olga@acme.example", External: true,
		Fields: []passes.FieldValue{{Name: "Reference", Value: "PO-7"}},
	}); err != nil {
		panic(err)
	}
	login(svc, "kickoff", "ann@guest.example", "r1")
	clk.Advance(time.Hour)
	if _, err := svc.Login(ctx, passes.LoginParams{
		Org: "acme", Session: "kickoff", Guest: "Ann@Guest.example", Location: "=HYPERLINK(\"x\")", RequestID: "r2",
		Fields: map[string]string{"Reference": "PO-8"},
	}); err != nil {
		panic(err)
	}
	var out strings.Builder
	if err := svc.ExportCSV(ctx, &out, passes.LogParams{Actor: admin, Org: "acme"}); err != nil {
		panic(err)
	}
	// Records end in CRLF, as RFC 4180 has it; printed here with plain newlines.
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// allowed: 1 pass spent, access until 2026-03-03T09:00:00Z; balance 9
	// Timestamp,Session ID,Session Name,Internal/External,Location,User,Session Owner,Passes,Balance,Reference
	// 2026-03-02T09:00:00Z,kickoff,Kick-off,External,Zurich,ann@guest.example,olga@acme.example,1,9,PO-7
	// 2026-03-02T10:00:00Z,kickoff,Kick-off,External,"'=HYPERLINK(""x"")",ann@guest.example,olga@acme.example,0,9,PO-8
}
