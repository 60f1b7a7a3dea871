package testdepth

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

func TestN(t *testing.T) {
	t.Setenv(Env, "")
	if got := N(10, 1000); got != 10 {
		t.Errorf("N(10, 1000) with %s unset = %d, want 10", Env, got)
	}
	for _, v := range []string{"1", "true"} {
		t.Setenv(Env, v)
		if got := N(10, 1000); got != 1000 {
			t.Errorf("N(10, 1000) with %s=%s = %d, want 1000", Env, v, got)
		}
	}
	for _, v := range []string{"0", "false", "deep"} {
		t.Setenv(Env, v)
		if Deep() {
			t.Errorf("Deep() with %s=%s = true, want false", Env, v)
		}
	}
}

// rapidFlags is a flag set with rapid's checks flag at its default.
func rapidFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Int("rapid.checks", 100, "")
	return fs
}

func TestApplyRapid(t *testing.T) {
	t.Run("DefaultRunKeepsRapidsDefault", func(t *testing.T) {
		t.Setenv(Env, "")
		fs := rapidFlags()
		if err := applyRapid(fs); err != nil {
			t.Fatal(err)
		}
		if got := fs.Lookup("rapid.checks").Value.String(); got != "100" {
			t.Errorf("rapid.checks = %s, want 100", got)
		}
	})
	t.Run("DeepRunChecksMore", func(t *testing.T) {
		t.Setenv(Env, "1")
		t.Setenv("RAPID_CHECKS", "")
		os.Unsetenv("RAPID_CHECKS") // restored by Setenv when the test ends
		fs := rapidFlags()
		if err := applyRapid(fs); err != nil {
			t.Fatal(err)
		}
		if got, want := fs.Lookup("rapid.checks").Value.String(), strconv.Itoa(DeepRapidChecks); got != want {
			t.Errorf("rapid.checks = %s, want %s", got, want)
		}
	})
	t.Run("CommandLineWins", func(t *testing.T) {
		t.Setenv(Env, "1")
		fs := rapidFlags()
		if err := fs.Parse([]string{"-rapid.checks=7"}); err != nil {
			t.Fatal(err)
		}
		if err := applyRapid(fs); err != nil {
			t.Fatal(err)
		}
		if got := fs.Lookup("rapid.checks").Value.String(); got != "7" {
			t.Errorf("rapid.checks = %s, want the command line's 7", got)
		}
	})
	t.Run("NoRapidNoChange", func(t *testing.T) {
		t.Setenv(Env, "1")
		if err := applyRapid(flag.NewFlagSet("test", flag.ContinueOnError)); err != nil {
			t.Fatal(err)
		}
	})
}
