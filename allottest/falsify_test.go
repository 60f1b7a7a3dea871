package allottest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// counterexample is what rapid reported when a property failed: the
// failure, and the log of the shrunk run it replayed.
type counterexample struct {
	failed bool
	errors []string // what rapid reported
	log    []string // the shrunk run: draws and messages, in order
}

// steps returns the actions of the shrunk run of a state machine.
func (c counterexample) steps() []string {
	var out []string
	for _, l := range c.log {
		if a, ok := strings.CutPrefix(l, "[rapid] draw action: "); ok {
			out = append(out, a)
		}
	}
	return out
}

// mustBeShort fails t unless the property failed, with a message holding
// want, and rapid shrank the run to at most max actions.
func (c counterexample) mustBeShort(t *testing.T, max int, want string) {
	t.Helper()
	if !c.failed {
		t.Fatalf("the property passed; want the kit to catch the broken flow")
	}
	report := strings.Join(c.errors, "\n") + "\n" + strings.Join(c.log, "\n")
	if !strings.Contains(report, want) {
		t.Errorf("the failure does not say %q:\n%s", want, report)
	}
	steps := c.steps()
	if len(steps) == 0 || len(steps) > max {
		t.Errorf("rapid shrank the run to %d actions %v, want 1 to %d:\n%s", len(steps), steps, max, report)
	}
	t.Logf("shrunk to %d actions %v; the last lines:\n%s", len(steps), steps, tail(c.log, 3))
}

func tail(lines []string, n int) string {
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// falsify runs prop with rapid.Check, as a test would, through a TB that
// records the failure instead of failing t, and returns what rapid found.
// rapid writes a failing run to testdata/rapid under the working
// directory: falsify moves it to a temporary one.
func falsify(t *testing.T, prop func(*rapid.T)) counterexample {
	t.Helper()
	t.Chdir(t.TempDir())
	tb := &rapidTB{name: t.Name()}
	rapid.Check(tb, prop)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return counterexample{failed: tb.failed, errors: tb.errors, log: tb.log}
}

// rapidTB is a rapid.TB that records.
type rapidTB struct {
	name   string
	mu     sync.Mutex
	failed bool
	errors []string
	log    []string
}

func (r *rapidTB) Helper()      {}
func (r *rapidTB) Name() string { return r.name }
func (r *rapidTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
}
func (r *rapidTB) Log(args ...any) { r.Logf("%s", fmt.Sprint(args...)) }
func (r *rapidTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *rapidTB) Error(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *rapidTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *rapidTB) Fatal(args ...any)                 { r.Error(args...) }
func (r *rapidTB) Fail()                             { r.Errorf("failed") }
func (r *rapidTB) FailNow()                          { r.Fail() }
func (r *rapidTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
func (r *rapidTB) Skipf(format string, args ...any) { r.Logf("skip: "+format, args...) }
func (r *rapidTB) Skip(args ...any)                 { r.Log(args...) }
func (r *rapidTB) SkipNow()                         {}

var _ rapid.TB = (*rapidTB)(nil)
