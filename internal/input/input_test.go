package input

import (
	"math"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

func TestJoin_Injective(t *testing.T) {
	part := rapid.StringOf(rapid.SampledFrom([]rune{'a', '/', '%', '2', 'F', '5', 'é'}))
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.SliceOfN(part, 1, 4).Draw(t, "a")
		b := rapid.SliceOfN(part, 1, 4).Draw(t, "b")
		ja, jb := Join(a...), Join(b...)
		if slices.Equal(a, b) != (ja == jb) {
			t.Fatalf("Join(%q) = %q, Join(%q) = %q", a, ja, b, jb)
		}
		got, ok := Split(ja)
		if !ok || !slices.Equal(got, a) {
			t.Fatalf("Split(Join(%q)) = %q, %t", a, got, ok)
		}
	})
}

func TestJoin_PlainPartsReadAsPaths(t *testing.T) {
	if got := Join("passes", "acme", "balance"); got != "passes/acme/balance" {
		t.Errorf("Join = %q", got)
	}
	if got := Join("passes", "a/b", "50%"); got != "passes/a%2Fb/50%25" {
		t.Errorf("Join = %q", got)
	}
	if _, ok := Split("a/%zz"); ok {
		t.Error("Split accepted an escape Join never writes")
	}
}

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ann@x.test":       "ann@x.test",
		" Ann@X.Test ":     "ann@x.test",
		"Änn@x.test":       "änn@x.test",
		"ÄNN@x.test":       "änn@x.test",
		"a/b@x.test":       "a/b@x.test",
		"a@localhost":      "a@localhost",
		"ΣΊΣΥΦΟΣ@x.test":   "σίσυφοσ@x.test",
		"σίσυφος@x.test":   "σίσυφοσ@x.test",
		"\u212Aate@x.test": "kate@x.test", // Kelvin sign
	} {
		got, reason := Email(in)
		if reason != "" || got != want {
			t.Errorf("Email(%q) = %q, %q; want %q", in, got, reason, want)
		}
	}
	for _, in := range []string{
		"", "ann", "@x.test", "ann@", "Ann <ann@x.test>", "<ann@x.test>", "a b@x.test",
		"ann@x.test\x00", "ann\xff@x.test", "ann@@x.test", "ann@x..test", "ann@x.test (work)",
		strings.Repeat("a", 250) + "@x.test", "an\u0085n@x.test",
	} {
		if got, reason := Email(in); reason == "" {
			t.Errorf("Email(%q) = %q, accepted", in, got)
		}
	}
}

func TestEmail_AcceptsOnlyWhatNetMailParsesToItself(t *testing.T) {
	chars := []rune{'a', 'Z', '.', '@', ' ', '<', '>', '"', '(', ')', ',', 'Ä', 'ß', '\x00', '/', '%', '+', '-', '[', ']'}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringOf(rapid.SampledFrom(chars)).Draw(t, "s")
		got, reason := Email(s)
		if reason != "" {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || !strings.EqualFold(a.Address, strings.TrimSpace(s)) {
			t.Fatalf("Email(%q) accepted %q, net/mail says %v, %v", s, got, a, err)
		}
		if again, _ := Email(got); again != got {
			t.Fatalf("Email is not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

// Every pair of runes that strings.EqualFold deems equal folds to one rune.
func TestFoldRune_AgreesWithEqualFold(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		f := FoldRune(r)
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			if FoldRune(o) != f {
				t.Fatalf("FoldRune(%U) = %U but FoldRune(%U) = %U", r, f, o, FoldRune(o))
			}
		}
		if !strings.EqualFold(string(r), string(f)) {
			t.Fatalf("FoldRune(%U) = %U, which EqualFold does not match", r, f)
		}
	}
}

func TestID(t *testing.T) {
	for _, ok := range []string{"a", "kick-off", "a/b", "50%", "Zürich", strings.Repeat("x", MaxIDLen)} {
		if r := ID(ok); r != "" {
			t.Errorf("ID(%q) = %q", ok, r)
		}
	}
	for _, bad := range []string{"", "a b", "a\x00", "a\xff", "a\tb", "a\u2028", strings.Repeat("x", MaxIDLen+1)} {
		if r := ID(bad); r == "" {
			t.Errorf("ID(%q) accepted", bad)
		}
	}
	if Metadata(map[string]string{"k": "v"}) != "" || Metadata(map[string]string{"k": "\xff"}) == "" || Metadata(map[string]string{"\x00": "v"}) == "" {
		t.Error("Metadata does not check keys and values")
	}
}

func TestInt64(t *testing.T) {
	for _, c := range []struct {
		in   decimal.Decimal
		want int64
		ok   bool
	}{
		{decimal.NewFromInt(42), 42, true},
		{decimal.RequireFromString("42.000"), 42, true},
		{decimal.NewFromInt(math.MaxInt64), math.MaxInt64, true},
		{decimal.NewFromInt(math.MinInt64), math.MinInt64, true},
		{decimal.RequireFromString("9223372036854775808"), 0, false},
		{decimal.RequireFromString("18446744073709551614"), 0, false},
		{decimal.RequireFromString("-9223372036854775809"), 0, false},
		{decimal.RequireFromString("1.5"), 0, false},
		{decimal.RequireFromString("1e19"), 0, false},
	} {
		got, ok := Int64(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Int64(%s) = %d, %t; want %d, %t", c.in, got, ok, c.want, c.ok)
		}
	}
	if _, ok := Add(math.MaxInt64, 1); ok {
		t.Error("Add overflowed silently")
	}
	if _, ok := Add(math.MinInt64, -1); ok {
		t.Error("Add underflowed silently")
	}
	if s, ok := Add(-3, 5); !ok || s != 2 {
		t.Errorf("Add(-3, 5) = %d, %t", s, ok)
	}
}

func TestTime(t *testing.T) {
	for _, ok := range []time.Time{{}, MinTime, MaxTime, time.Now()} {
		if r := Time(ok); r != "" {
			t.Errorf("Time(%v) = %q", ok, r)
		}
	}
	for _, bad := range []time.Time{MaxTime.Add(time.Microsecond), MinTime.Add(-time.Nanosecond), time.Date(586580, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if r := Time(bad); r == "" {
			t.Errorf("Time(%v) accepted", bad)
		}
	}
}

func TestActor(t *testing.T) {
	for in, want := range map[string]string{
		" Billing ":  "billing",
		"ÄNN@x.test": "änn@x.test",
		"System":     "system",
	} {
		if got, reason := Actor(in); reason != "" || got != want {
			t.Errorf("Actor(%q) = %q, %q; want %q", in, got, reason, want)
		}
	}
	for _, bad := range []string{"", "  ", "ann@@x.test", "a\x00", "\xff"} {
		if got, reason := Actor(bad); reason == "" {
			t.Errorf("Actor(%q) = %q, accepted", bad, got)
		}
	}
}

// TestEmail_PlainAddressFastPath: the allocation-free check of plain ASCII
// addresses accepts only what the full check (net/mail) accepts, and gives
// its canonical form.
func TestEmail_PlainAddressFastPath(t *testing.T) {
	chars := []rune{'a', 'Z', '0', '.', '@', '-', '+', '_', '/', '%', '!', '~', '`', '{', '\'', '"', ' ', '(', '[', 'Ä', '\x00'}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringOf(rapid.SampledFrom(chars)).Draw(t, "s")
		got, ok := plainAddress(s)
		if !ok {
			return
		}
		want, reason := emailSlow(s)
		if reason != "" || got != want {
			t.Fatalf("plainAddress(%q) = %q, the full check = %q, %q", s, got, want, reason)
		}
	})
	for _, s := range []string{"ann@x.example", "Ann.Lee+x@Example.COM", "a/b%c@x.test", "o'neil@x.test", "a@b"} {
		if _, ok := plainAddress(s); !ok {
			t.Errorf("plainAddress(%q) left a plain address to net/mail", s)
		}
	}
}

// emailSlow is Email without its fast path.
func emailSlow(s string) (string, string) {
	return Email(" " + s) // a leading space is trimmed, and no plain address has one
}
