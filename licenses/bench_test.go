package licenses_test

import (
	"context"
	"fmt"
	"github.com/allot-dev/allot"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

func benchService(b *testing.B, purchased int64, teams int) (*licenses.Service, *clock.Fake) {
	b.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	roles := &allot.StaticRoles{}
	roles.Grant(org, admin, licenses.OrgAdmin)
	roles.Grant(org, vendor, allot.Vendor)
	svc, err := licenses.New(memstore.New().Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: purchased}); err != nil {
		b.Fatal(err)
	}
	for i := range teams {
		if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Team: fmt.Sprintf("team%02d", i), Actor: admin}); err != nil {
			b.Fatal(err)
		}
	}
	return svc, clk
}

// BenchmarkLicenses_InviteAccept: one new member invited (a hold on the
// pool, with an expiry) and accepted (the hold posted), each in its own
// transaction.
func BenchmarkLicenses_InviteAccept(b *testing.B) {
	ctx := context.Background()
	svc, clk := benchService(b, int64(b.N)+1, 10)
	emails := make([]string, b.N)
	reqs := make([]string, b.N)
	for i := range emails {
		emails[i] = fmt.Sprintf("m%08d@acme.test", i)
		reqs[i] = fmt.Sprintf("inv-%d", i)
	}
	exp := clk.Now().Add(7 * 24 * time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "team03", Email: emails[i], Actor: admin, RequestID: reqs[i], ExpiresAt: exp}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Accept(ctx, licenses.AcceptParams{Org: org, Email: emails[i], Actor: emails[i]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLicenses_Invite: one new member invited to a team (a hold on the
// pool, with an expiry), the hot act of the family.
func BenchmarkLicenses_Invite(b *testing.B) {
	ctx := context.Background()
	svc, clk := benchService(b, int64(b.N)+1, 10)
	emails := make([]string, b.N)
	reqs := make([]string, b.N)
	for i := range emails {
		emails[i] = fmt.Sprintf("m%08d@acme.test", i)
		reqs[i] = fmt.Sprintf("inv-%d", i)
	}
	exp := clk.Now().Add(7 * 24 * time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: org, Team: "team03", Email: emails[i], Actor: admin, RequestID: reqs[i], ExpiresAt: exp}); err != nil {
			b.Fatal(err)
		}
	}
}

var summaryFixture struct {
	once sync.Once
	svc  *licenses.Service
}

// BenchmarkLicenses_Summary: the summary of an organization with 100,000
// members in 10 teams, 10,000 of them with pending invitations that expire
// at different times, half of which have expired without any write
// touching them.
func BenchmarkLicenses_Summary(b *testing.B) {
	ctx := context.Background()
	summaryFixture.once.Do(func() {
		const members = 100_000
		svc, clk := benchService(b, members, 10)
		for i := range members {
			email := fmt.Sprintf("m%08d@acme.test", i)
			p := licenses.InviteParams{Org: org, Team: fmt.Sprintf("team%02d", i%10), Email: email, Actor: admin, RequestID: fmt.Sprint("inv-", i)}
			if i%10 == 0 {
				p.ExpiresAt = clk.Now().Add(time.Duration(i+1) * time.Second)
			}
			if _, err := svc.Invite(ctx, p); err != nil {
				b.Fatal(err)
			}
			if i%10 != 0 {
				if _, err := svc.Accept(ctx, licenses.AcceptParams{Org: org, Email: email, Actor: email}); err != nil {
					b.Fatal(err)
				}
			}
			if i%3 == 0 { // some in a second team: counted once
				p.Team, p.RequestID = fmt.Sprintf("team%02d", (i+1)%10), fmt.Sprint("inv2-", i)
				if _, err := svc.Invite(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		}
		clk.Advance(members / 2 * time.Second)
		summaryFixture.svc = svc
	})
	svc := summaryFixture.svc
	s, err := svc.Summary(ctx, licenses.SummaryParams{Org: org, Actor: admin})
	if err != nil {
		b.Fatal(err)
	}
	if s.Active != 90_000 || s.Pending+s.Expired != 10_000 || s.Expired == 0 {
		b.Fatalf("fixture summary %+v", s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := svc.Summary(ctx, licenses.SummaryParams{Org: org, Actor: admin}); err != nil {
			b.Fatal(err)
		}
	}
}
