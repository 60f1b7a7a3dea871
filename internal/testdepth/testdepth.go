// Package testdepth tells allot's tests how deep to go.
//
// A default run (go test work on a developer's machine) keeps every test
// and property but runs each at its everyday size: rapid's default of 100
// cases per property and the short loops the tests choose. Setting the
// environment variable ALLOT_TEST_DEEP=1, as .ci/run does, asks for the deep
// run: properties check DeepRapidChecks cases each, and loops that call N
// take their deep count.
//
// A test package opts in with a TestMain that calls Run (or Apply, after
// flag.Parse), which applies the depth to rapid before the tests start;
// loops ask N. An explicit
// -rapid.checks flag or RAPID_CHECKS variable wins over the depth.
package testdepth

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// Env is the environment variable that asks for the deep run when it holds
// a true value ("1", "true"); unset, empty or false is the default run.
const Env = "ALLOT_TEST_DEEP"

// DeepRapidChecks is how many cases each rapid property checks in the deep
// run, five times rapid's default of 100: under -race, in .ci/run, the
// in-memory properties then take about as long as the PostgreSQL ones.
const DeepRapidChecks = 500

// Deep reports whether the environment asks for the deep run.
func Deep() bool {
	deep, err := strconv.ParseBool(os.Getenv(Env))
	return err == nil && deep
}

// N returns light in the default run and deep in the deep run: the size of
// a loop, a workload or a count of rounds.
func N(light, deep int) int {
	if Deep() {
		return deep
	}
	return light
}

// Run parses the test flags, applies the depth to rapid, and runs the
// tests, returning m.Run's exit code. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testdepth.Run(m)) }
func Run(m *testing.M) int {
	flag.Parse()
	Apply()
	return m.Run()
}

// Apply applies the depth to rapid's flags; a TestMain that does more than
// Run calls it after flag.Parse.
func Apply() {
	if err := applyRapid(flag.CommandLine); err != nil {
		// Only a rapid whose flag refuses a count gets here; stop rather than
		// run a deep run at the default depth.
		panic("testdepth: " + err.Error())
	}
}

// applyRapid sets fs's rapid.checks flag to DeepRapidChecks in the deep run,
// unless the command line or RAPID_CHECKS chose a count. A flag set without
// rapid's flags (a package whose tests do not use rapid) is left alone.
func applyRapid(fs *flag.FlagSet) error {
	if !Deep() {
		return nil
	}
	f := fs.Lookup("rapid.checks")
	if f == nil {
		return nil
	}
	if _, ok := os.LookupEnv("RAPID_CHECKS"); ok {
		return nil
	}
	explicit := false
	fs.Visit(func(v *flag.Flag) { explicit = explicit || v == f })
	if explicit {
		return nil
	}
	return fs.Set("rapid.checks", strconv.Itoa(DeepRapidChecks))
}
