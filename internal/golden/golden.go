// Package golden checks a program's output against a golden file kept in
// testdata. Run the tests with -update to rewrite the files from the current
// output, then review the diff.
package golden

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// Check compares got with testdata/<name>.golden, or rewrites that file
// when the tests run with -update.
func Check(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s output mismatch (-golden +got):\n%s", name, diff)
	}
}

// Run runs a program's run function, as its main does, and checks what it
// wrote against testdata/<name>.golden.
func Run(t *testing.T, name string, run func(io.Writer) error) {
	t.Helper()
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v", err)
	}
	Check(t, name, out.Bytes())
}
