package xlsx_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/table"
	"github.com/allot-dev/allot/xlsx"
	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

func rows(rs ...[]string) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// cells reads every sheet of a workbook back as text, with each cell's type.
func cells(t *testing.T, b []byte) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, sheet := range f.GetSheetList() {
		rs, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			for j := range r {
				ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
				typ, _ := f.GetCellType(sheet, ref)
				r[j] = fmt.Sprintf("%s:%s", typeName(typ), r[j])
			}
		}
		out[sheet] = rs
	}
	return out
}

func typeName(t excelize.CellType) string {
	switch t {
	case excelize.CellTypeNumber, excelize.CellTypeUnset:
		return "n"
	case excelize.CellTypeSharedString, excelize.CellTypeInlineString:
		return "s"
	case excelize.CellTypeDate:
		return "d"
	case excelize.CellTypeFormula:
		return "FORMULA"
	}
	return strconv.Itoa(int(t))
}

func TestWrite_TypesEveryCellByItsColumn(t *testing.T) {
	usage := table.Table{
		Name: "Usage",
		Columns: []table.Column{{Name: "Timestamp", Kind: table.Time}, {Name: "Session Name", Kind: table.Text},
			{Name: "Passes", Kind: table.Integer}, {Name: "Note", Kind: table.Text}},
		Rows: rows(
			[]string{"2026-03-02T09:00:00Z", "Kick-off", "1", "=1+2"},
			[]string{"2026-03-02T10:30:00.5Z", "＝SUM(A1)", "-2", ""},
			[]string{"", "not a time", "x", "@cmd"},
			[]string{"2026-03-02T11:00:00Z", "bell\x07 and tab\t", "3", "line\nfeed"},
		),
	}
	summary := table.Table{Name: "Summary", Columns: []table.Column{{Name: "Purchased", Kind: table.Integer}}, Rows: rows([]string{"10"})}
	var b bytes.Buffer
	if err := xlsx.Write(&b, usage, summary); err != nil {
		t.Fatal(err)
	}
	got := cells(t, b.Bytes())
	want := map[string][][]string{
		"Usage": {
			{"s:Timestamp", "s:Session Name", "s:Passes", "s:Note"},
			{"n:46083.375", "s:Kick-off", "n:1", "s:=1+2"},
			{"n:46083.437505787035", "s:＝SUM(A1)", "n:-2"},
			{"s:", "s:not a time", "s:x", "s:@cmd"},
			{"n:46083.458333333336", "s:bell\uFFFD and tab\t", "n:3", "s:line\nfeed"},
		},
		"Summary": {{"s:Purchased"}, {"n:10"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("cells (-want +got):\n%s", d)
	}
}

func TestWrite_Refusals(t *testing.T) {
	one := table.Table{Name: "usage", Columns: []table.Column{{Name: "a", Kind: table.Text}}, Rows: rows()}
	for name, tables := range map[string][]table.Table{
		"no table":                  nil,
		"names differ only in case": {one, {Name: "USAGE", Columns: one.Columns, Rows: rows()}},
		"a bad sheet name":          {{Name: "a/b", Columns: one.Columns, Rows: rows()}},
		"a long sheet name":         {{Name: strings.Repeat("x", 32), Columns: one.Columns, Rows: rows()}},
	} {
		var b bytes.Buffer
		err := xlsx.Write(&b, tables...)
		var ie *xlsx.InvalidError
		if !errors.Is(err, xlsx.ErrInvalid) || !errors.As(err, &ie) || allot.ErrorCode(err) != allot.CodeInvalid {
			t.Errorf("%s: %v; want an invalid request", name, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written", name, b.Len())
		}
	}
	rowErr := errors.New("store down")
	err := xlsx.Write(io.Discard, table.Table{Name: "x", Columns: one.Columns, Rows: func(yield func([]string, error) bool) {
		yield(nil, rowErr)
	}})
	if !errors.Is(err, rowErr) || allot.ErrorCode(err) != allot.CodeInternal {
		t.Errorf("a row's error: %v", err)
	}
}

// BenchmarkWrite writes sheets of a thousand to a million rows. Its
// peak-heap-MiB is the live heap's high-water mark while writing: it stays
// flat from a hundred thousand rows on (about 60 MiB, excelize's 16 MiB
// stream buffer and the garbage collector's headroom), since rows stream to
// a temporary file rather than sit in memory.
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(strconv.Itoa(n)+"rows", func(b *testing.B) {
			row := []string{"2026-03-02T09:00:00Z", "kickoff", "ann@example.com", "1"}
			tb := table.Table{
				Name:    "usage",
				Columns: []table.Column{{Name: "Timestamp", Kind: table.Time}, {Name: "Session ID", Kind: table.Text}, {Name: "User", Kind: table.Text}, {Name: "Passes", Kind: table.Integer}},
				Rows: func(yield func([]string, error) bool) {
					for range n {
						if !yield(row, nil) {
							return
						}
					}
				},
			}
			b.ReportAllocs()
			peak := watchHeap()
			for b.Loop() {
				if err := xlsx.Write(io.Discard, tb); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "rows/op")
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
		})
	}
}

// watchHeap samples the live heap every millisecond until the returned
// function is called, which returns the highest sample: the memory a
// workbook needs while it is written, which allocations per op do not show.
func watchHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}
