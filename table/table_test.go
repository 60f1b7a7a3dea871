package table_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/table"
	"pgregory.net/rapid"
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

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"Kick-off":     "Kick-off",
		"=1+1":         "'=1+1",
		"+1":           "'+1",
		"-1":           "'-1",
		"@SUM(A1)":     "'@SUM(A1)",
		"\tx":          "'\tx",
		"\rx":          "'\rx",
		"\n=1+1":       "'\n=1+1",
		"＝1+1":         "'＝1+1",
		"＋1":           "'＋1",
		"－1":           "'－1",
		"＠SUM(A1)":     "'＠SUM(A1)",
		"a=b":          "a=b",
		"Zürich = top": "Zürich = top",
		"Ünïcode":      "Ünïcode",
		"'=already'":   "'=already'",
	} {
		if got := table.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteCSV_Golden(t *testing.T) {
	tb := table.Table{
		Name:    "usage",
		Columns: []table.Column{{Name: "Name", Kind: table.Text}, {Name: "Passes", Kind: table.Integer}, {Name: "When", Kind: table.Time}},
		Rows: rows(
			[]string{"Kick-off", "1", "2026-03-02T09:00:00Z"},
			[]string{"=HYPERLINK(\"x\")", "-2", "2026-03-02T10:00:00Z"},
			[]string{"a,b", "0", ""},
			[]string{"two\nlines", "3", ""},
			[]string{" padded ", "4", ""},
			[]string{"＝1+1", "5", ""},
		),
	}
	var b bytes.Buffer
	if err := table.WriteCSV(&b, tb); err != nil {
		t.Fatal(err)
	}
	const want = "Name,Passes,When\r\n" +
		"Kick-off,1,2026-03-02T09:00:00Z\r\n" +
		"\"'=HYPERLINK(\"\"x\"\")\",-2,2026-03-02T10:00:00Z\r\n" +
		"\"a,b\",0,\r\n" +
		"\"two\nlines\",3,\r\n" +
		"\" padded \",4,\r\n" +
		"'＝1+1,5,\r\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

// TestWriteCSV_RoundTrips checks that a CSV reader reads back every cell as
// written, neutralized text cells with their apostrophe, for any text.
func TestWriteCSV_RoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ncol := rapid.IntRange(1, 4).Draw(t, "columns")
		cols := make([]table.Column, ncol)
		for i := range cols {
			cols[i] = table.Column{Name: "c" + strconv.Itoa(i), Kind: table.Text}
		}
		cell := rapid.OneOf(rapid.String(), rapid.SampledFrom([]string{"", " ", "\"", ",", "\r\n", "\n", "=1", "a\"b", "x\ny"}))
		data := rapid.SliceOfN(rapid.SliceOfN(cell, ncol, ncol), 0, 5).Draw(t, "rows")
		var b bytes.Buffer
		if err := table.WriteCSV(&b, table.Table{Columns: cols, Rows: rows(data...)}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(b.String(), "\r\n") {
			t.Fatalf("the last record does not end with CRLF: %q", b.String())
		}
		r := csv.NewReader(&b)
		r.FieldsPerRecord = ncol
		got, err := r.ReadAll()
		if err != nil {
			t.Fatalf("reading back %q: %v", b.String(), err)
		}
		if len(got) != len(data)+1 {
			t.Fatalf("read %d records, wrote %d", len(got), len(data)+1)
		}
		for i, row := range data {
			for j, c := range row {
				// encoding/csv reads a quoted CRLF as LF, and drops a CR
				// before the end of a field: compare modulo that.
				want := strings.ReplaceAll(table.Neutralize(c), "\r\n", "\n")
				have := got[i+1][j]
				if strings.ReplaceAll(want, "\r", "") != strings.ReplaceAll(have, "\r", "") {
					t.Fatalf("row %d cell %d: wrote %q, read %q", i, j, want, have)
				}
			}
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteCSV_Errors(t *testing.T) {
	cols := []table.Column{{Name: "a", Kind: table.Text}}
	rowErr := errors.New("store down")
	err := table.WriteCSV(io.Discard, table.Table{Columns: cols, Rows: func(yield func([]string, error) bool) {
		if yield([]string{"x"}, nil) {
			yield(nil, rowErr)
		}
	}})
	if !errors.Is(err, rowErr) || allot.ErrorCode(err) != allot.CodeInternal {
		t.Errorf("a row's error: %v (%q)", err, allot.ErrorCode(err))
	}
	err = table.WriteCSV(failingWriter{}, table.Table{Name: "usage", Columns: cols, Rows: rows([]string{"x"})})
	if err == nil || allot.ErrorCode(err) != allot.CodeInternal {
		t.Errorf("a failing writer: %v", err)
	}
}

// BenchmarkWriteCSV writes tables of a thousand and a million rows: the
// bytes allocated per table (-benchmem) are the same for both, as the
// writer holds one row at a time.
func BenchmarkWriteCSV(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(n)+"rows", func(b *testing.B) {
			row := []string{"2026-03-02T09:00:00Z", "kickoff", "Kick-off, the first", "ann@example.com", "1", "9"}
			tb := table.Table{
				Columns: []table.Column{{Name: "Timestamp", Kind: table.Time}, {Name: "Session ID", Kind: table.Text}, {Name: "Session Name", Kind: table.Text},
					{Name: "User", Kind: table.Text}, {Name: "Passes", Kind: table.Integer}, {Name: "Balance", Kind: table.Integer}},
				Rows: func(yield func([]string, error) bool) {
					for range n {
						if !yield(row, nil) {
							return
						}
					}
				},
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := table.WriteCSV(io.Discard, tb); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "rows/op")
		})
	}
}

func ExampleWriteCSV() {
	t := table.Table{
		Name:    "overview",
		Columns: []table.Column{{Name: "Product", Kind: table.Text}, {Name: "Purchased", Kind: table.Integer}},
		Rows:    rows([]string{"seat", "100"}, []string{"=cmd()", "-1"}),
	}
	var b strings.Builder
	_ = table.WriteCSV(&b, t)
	fmt.Print(strings.ReplaceAll(b.String(), "\r\n", "⏎\n"))
	// Output:
	// Product,Purchased⏎
	// seat,100⏎
	// '=cmd(),-1⏎
}
