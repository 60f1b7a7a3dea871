package licenses_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

func Example() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &licenses.RoleSet{}
	roles.GrantOrgAdmin("acme", "ada@acme.test")
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		panic(err)
	}

	// The Org Admin buys 2 licenses and creates two teams.
	must(svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "ada@acme.test", RequestID: "buy-1", Quantity: 2}))
	for _, team := range []string{"design", "sales"} {
		if err := svc.CreateTeam(ctx, licenses.TeamParams{Org: "acme", Team: team, Actor: "ada@acme.test"}); err != nil {
			panic(err)
		}
	}

	// Bo is invited to design (pending), accepts (active), then joins sales:
	// still one license.
	must(svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "Bo@Acme.test", Actor: "ada@acme.test", RequestID: "inv-1"}))
	must(svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"}))
	m := must(svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "sales", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "inv-2"}))
	fmt.Println(m.Email, m.State, m.Teams)

	// Cy's invitation reserves the second license.
	must(svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "sales", Email: "cy@acme.test", Actor: "ada@acme.test", RequestID: "inv-3"}))
	s := must(svc.Summary(ctx, "acme"))
	fmt.Printf("purchased %d: active %d, pending %d, unassigned %d, available %d\n", s.Purchased, s.Active, s.Pending, s.Unassigned, s.Available)
	for _, t := range s.Teams {
		fmt.Printf("  %s: %d active, %d pending\n", t.ID, t.Active, t.Pending)
	}

	// A third person finds no license.
	_, err = svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "di@acme.test", Actor: "ada@acme.test", RequestID: "inv-4"})
	fmt.Println(errors.Is(err, licenses.ErrNoLicenseAvailable))
	fmt.Println(err)
	// Output:
	// bo@acme.test active [design sales]
	// purchased 2: active 1, pending 1, unassigned 0, available 0
	//   design: 1 active, 0 pending
	//   sales: 1 active, 1 pending
	// true
	// invite "di@acme.test" to team "design" of "acme": licenses: organization "acme" has no license available (2 purchased, 2 in use); buy more licenses or delete members
}

// An invitation's expiry frees its license with no background job: the
// summary counts it as available from the instant it expires.
func ExampleService_Invite_expiry() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &licenses.RoleSet{}
	roles.GrantOrgAdmin("acme", "ada@acme.test")
	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	must(svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "ada@acme.test", RequestID: "buy-1", Quantity: 1}))
	_ = svc.CreateTeam(ctx, licenses.TeamParams{Org: "acme", Team: "design", Actor: "ada@acme.test"})

	must(svc.Invite(ctx, licenses.InviteParams{
		Org: "acme", Team: "design", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "inv-1",
		ExpiresAt: clk.Now().Add(7 * 24 * time.Hour),
	}))
	fmt.Println("available:", must(svc.Summary(ctx, "acme")).Available)
	clk.Advance(7 * 24 * time.Hour)
	fmt.Println("available:", must(svc.Summary(ctx, "acme")).Available)
	_, err := svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"})
	fmt.Println(errors.Is(err, licenses.ErrInvitationExpired))
	// Output:
	// available: 0
	// available: 1
	// true
}

// Removing a member from its last team leaves it unassigned, still holding
// its license; only deleting it frees the license.
func ExampleService_Delete() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &licenses.RoleSet{}
	roles.GrantOrgAdmin("acme", "ada@acme.test")
	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	must(svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "ada@acme.test", RequestID: "buy-1", Quantity: 3}))
	_ = svc.CreateTeam(ctx, licenses.TeamParams{Org: "acme", Team: "design", Actor: "ada@acme.test"})
	must(svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "inv-1"}))
	must(svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"}))

	m := must(svc.Remove(ctx, licenses.RemoveParams{Org: "acme", Team: "design", Email: "bo@acme.test", Actor: "ada@acme.test"}))
	s := must(svc.Summary(ctx, "acme"))
	fmt.Println(m.State, "- available:", s.Available)

	if err := svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "del-1"}); err != nil {
		panic(err)
	}
	s = must(svc.Summary(ctx, "acme"))
	fmt.Println("deleted - available:", s.Available)
	for e, err := range svc.History(ctx, "acme", "bo@acme.test") {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Code, e.Change)
	}
	// Output:
	// unassigned - available: 2
	// deleted - available: 3
	// licenses.invite 1
	// licenses.free -1
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
