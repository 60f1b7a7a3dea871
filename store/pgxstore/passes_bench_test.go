package pgxstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/allot-dev/allot/passes"
)

// benchPasses returns a passes service over a fresh schema with a workspace
// that has bought plenty of passes and a day-pass session.
func benchPasses(b *testing.B) *passes.Service {
	b.Helper()
	db := newTestDB(b)
	svc, err := passes.New(db.store(b, 2, nil).Passes(), &passes.Options{Roles: passesRoles})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 1 << 40, RequestID: "o1"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@acme.example"}); err != nil {
		b.Fatal(err)
	}
	return svc
}

// BenchmarkPasses_LoginCharge: a new guest's login, one transaction that
// spends a pass, writes the guest's window and a usage row.
func BenchmarkPasses_LoginCharge(b *testing.B) {
	svc := benchPasses(b)
	ctx := context.Background()
	prefix := string(benchID("g"))
	b.ResetTimer()
	for i := range b.N {
		id := prefix + "-" + strconv.Itoa(i)
		d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: id + "@x.example", RequestID: id})
		if err != nil || d.Passes != 1 {
			b.Fatalf("login: %v, %v", d, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkPasses_LoginInWindow: one guest inside their window: a usage row
// and nothing spent.
func BenchmarkPasses_LoginInWindow(b *testing.B) {
	svc := benchPasses(b)
	ctx := context.Background()
	r := passes.LoginParams{Org: "acme", Session: "s", Guest: "g@x.example", RequestID: "first"}
	if _, err := svc.Login(ctx, r); err != nil {
		b.Fatal(err)
	}
	prefix := string(benchID("w"))
	b.ResetTimer()
	for i := range b.N {
		r.RequestID = prefix + "-" + strconv.Itoa(i)
		if d, err := svc.Login(ctx, r); err != nil || !d.InWindow {
			b.Fatalf("login: %v, %v", d, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}
