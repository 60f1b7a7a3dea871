package licenses_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

func Example() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
	roles.Grant("acme", "billing", allot.Vendor) // the vendor adds licenses
	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})

	svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 2, RequestID: "buy-1"})
	svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "ada@acme.test"})
	svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "sales", Actor: "ada@acme.test"})
	svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "Bo@Acme.test", Actor: "ada@acme.test", RequestID: "inv-1"})
	svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"})
	bo, _ := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "sales", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "inv-2"})
	fmt.Println(bo.Email, bo.State, bo.Teams) // bo@acme.test active [design sales]: still one license
	svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "sales", Email: "cy@acme.test", Actor: "ada@acme.test", RequestID: "inv-3"})
	s, _ := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@acme.test"})
	fmt.Printf("purchased %d: active %d, pending %d, available %d\n", s.Purchased, s.Active, s.Pending, s.Available)

	_, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "di@acme.test", Actor: "ada@acme.test", RequestID: "inv-4"})
	fmt.Println(errors.Is(err, licenses.ErrNoLicenseAvailable), allot.ErrorCode(err), allot.HTTPStatus(err)) // true insufficient 409
	fmt.Println(err)
	// Output:
	// bo@acme.test active [design sales]
	// purchased 2: active 1, pending 1, available 0
	// true insufficient 409
	// invite "di@acme.test" to team "design" of "acme": licenses: organization "acme" has no license available (2 purchased, 2 in use); buy more licenses or delete members
}

// An invitation's expiry frees its license with no background job: the
// summary counts it as available from the instant it expires.
func ExampleService_Invite_expiry() {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
	roles.Grant("acme", "billing", allot.Vendor) // the vendor adds licenses
	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	must(svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 1, RequestID: "buy-1"}))
	_, _ = svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "ada@acme.test"})

	must(svc.Invite(ctx, licenses.InviteParams{
		Org: "acme", Team: "design", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "inv-1",
		ExpiresAt: clk.Now().Add(7 * 24 * time.Hour),
	}))
	fmt.Println("available:", must(svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@acme.test"})).Available)
	clk.Advance(7 * 24 * time.Hour)
	fmt.Println("available:", must(svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@acme.test"})).Available)
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
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
	roles.Grant("acme", "billing", allot.Vendor) // the vendor adds licenses
	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	must(svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 3, RequestID: "buy-1"}))
	_, _ = svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "ada@acme.test"})
	must(svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "inv-1"}))
	must(svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: "bo@acme.test", Actor: "bo@acme.test"}))

	m := must(svc.Remove(ctx, licenses.RemoveParams{Org: "acme", Team: "design", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "rm-1"}))
	s := must(svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@acme.test"}))
	fmt.Println(m.State, "- available:", s.Available)

	if _, err := svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Email: "bo@acme.test", Actor: "ada@acme.test", RequestID: "del-1"}); err != nil {
		panic(err)
	}
	s = must(svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@acme.test"}))
	fmt.Println("deleted - available:", s.Available)
	for e, err := range svc.History(ctx, licenses.HistoryParams{Org: "acme", Actor: "ada@acme.test", Email: "bo@acme.test"}) {
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
