package xlsx_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenCells compares the cells of a workbook, one line per row, each
// cell as type:value, with testdata/name, or rewrites it under -update.
func goldenCells(t *testing.T, name string, workbook []byte) {
	t.Helper()
	var b strings.Builder
	got := cells(t, workbook)
	for _, sheet := range sheets(t, workbook) {
		b.WriteString("# " + sheet + "\n")
		for _, row := range got[sheet] {
			b.WriteString(strings.ReplaceAll(strings.Join(row, " | "), "\n", `\n`) + "\n")
		}
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if d := cmp.Diff(string(want), b.String()); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, d)
	}
}

// sheets returns a workbook's sheet names in their order.
func sheets(t *testing.T, b []byte) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.GetSheetList()
}
