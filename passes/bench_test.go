package passes_test

import (
	"context"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
)

func benchService(b *testing.B, pt passes.PassType) (*passes.Service, *clock.Fake) {
	b.Helper()
	clk := clock.NewFake(t0)
	svc, err := passes.New(memstore.New().Passes(), &passes.Options{Clock: clk, Roles: testRoles})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: 1 << 50, RequestID: "o1"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Reference"}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: admin, ID: "s", Org: "acme", Name: "S", Owner: "o@acme.example", PassType: pt,
		Fields: []passes.FieldValue{{Name: "Reference", Value: "PO-1"}}}); err != nil {
		b.Fatal(err)
	}
	return svc, clk
}

// BenchmarkPasses_LoginCharge: every login is a new guest's, so it spends a
// pass, writes the guest's window and a log row.
func BenchmarkPasses_LoginCharge(b *testing.B) {
	svc, _ := benchService(b, passes.DayPass)
	ctx := context.Background()
	r := passes.LoginParams{Org: "acme", Session: "s", Location: "Bern"}
	i := 0
	for b.Loop() {
		id := strconv.Itoa(i)
		r.Guest, r.RequestID = "g"+id+"@x.example", id
		d, err := svc.Login(ctx, r)
		if err != nil || d.Passes != 1 {
			b.Fatalf("login %d: %v, %v", i, d, err)
		}
		i++
	}
}

// BenchmarkPasses_LoginInWindow: one guest logging in again and again inside
// their window: nothing spent, a log row each.
func BenchmarkPasses_LoginInWindow(b *testing.B) {
	svc, _ := benchService(b, passes.DayPass)
	ctx := context.Background()
	r := passes.LoginParams{Org: "acme", Session: "s", Guest: "g@x.example", Location: "Bern", RequestID: "first"}
	if _, err := svc.Login(ctx, r); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		r.RequestID = strconv.Itoa(i)
		d, err := svc.Login(ctx, r)
		if err != nil || !d.InWindow {
			b.Fatalf("login %d: %v, %v", i, d, err)
		}
		i++
	}
}

const exportRows = 1_000_000

var exportOnce struct {
	sync.Once
	svc *passes.Service
	err error
}

// exportService is a workspace with a million log rows, written straight to
// the store (logging in a million times would only make the setup slower).
func exportService(b *testing.B) *passes.Service {
	exportOnce.Do(func() {
		mem := memstore.New()
		ctx := context.Background()
		svc, err := passes.New(mem.Passes(), &passes.Options{Clock: clock.NewFake(t0), Roles: testRoles})
		if err != nil {
			exportOnce.err = err
			return
		}
		if _, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: admin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Reference"}}}); err != nil {
			exportOnce.err = err
			return
		}
		const batch = 10_000
		for start := 0; start < exportRows && exportOnce.err == nil; start += batch {
			exportOnce.err = mem.Passes().InTx(ctx, func(tx passes.Tx) error {
				for i := start; i < start+batch; i++ {
					_, err := tx.UsageInsert(ctx, passes.Usage{
						Org: "acme", RequestID: strconv.Itoa(i), At: t0.Add(time.Duration(i) * time.Second),
						Session: "s" + strconv.Itoa(i%50), SessionName: "Weekly planning", External: i%3 == 0,
						Location: "Zurich, CH", User: "guest" + strconv.Itoa(i%1000) + "@example.com", Owner: "olga@acme.example",
						PassType: passes.DayPass, Passes: int64(i % 2), BalanceAfter: int64(exportRows - i),
						Fields: []passes.FieldValue{{Name: "Note", Value: "=cmd"}, {Name: "Reference", Value: "PO-" + strconv.Itoa(i%97)}},
					})
					if err != nil {
						return err
					}
				}
				return nil
			})
		}
		exportOnce.svc = svc
	})
	if exportOnce.err != nil {
		b.Fatal(exportOnce.err)
	}
	return exportOnce.svc
}

// BenchmarkPasses_ExportCSV exports a usage log of a million rows; one op is
// the whole export.
func BenchmarkPasses_ExportCSV(b *testing.B) {
	svc := exportService(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		if err := svc.ExportCSV(ctx, io.Discard, passes.LogParams{Actor: admin, Org: "acme"}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(n*exportRows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(allocsPerRow(b, svc), "allocs/row")
}

// allocsPerRow measures the export's allocations per row as the difference
// between two log sizes, so the fixed cost of an export does not count.
func allocsPerRow(b *testing.B, svc *passes.Service) float64 {
	ctx := context.Background()
	measure := func(to time.Time) float64 {
		return testing.AllocsPerRun(1, func() {
			if err := svc.ExportCSV(ctx, io.Discard, passes.LogParams{Actor: admin, Org: "acme", To: to}); err != nil {
				b.Fatal(err)
			}
		})
	}
	small, large := measure(t0.Add(10_000*time.Second)), measure(t0.Add(110_000*time.Second))
	return (large - small) / 100_000
}
