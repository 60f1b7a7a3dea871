package allottest

import (
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/allot-dev/allot/internal/input"
	"pgregory.net/rapid"
)

// The characters IDs are drawn from: plain ones, and those that once made
// derived IDs ambiguous or that stores treat specially.
var idRunes = []rune("abcxyz019-_.:/%'\"\\éü日")

// ID draws a valid ID of 1 to 12 characters: a tenant, a session, an
// event, a team, a request. Draws are biased toward a few short IDs, so
// that actions of a state machine meet each other's records.
func ID() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.SampledFrom([]string{"a", "b", "acme", "a/b", "50%", "Zürich"}),
		rapid.StringOfN(rapid.SampledFrom(idRunes), 1, 12, input.MaxIDLen),
	)
}

// MalformedID draws an ID every family refuses with its invalid error:
// empty, too long, with white space or control characters, a NUL byte, or
// bytes that are not UTF-8.
func MalformedID() *rapid.Generator[string] {
	return rapid.SampledFrom([]string{
		"",
		strings.Repeat("x", input.MaxIDLen+1),
		"with space",
		"tab\there",
		"new\nline",
		"nul\x00byte",
		"\x00",
		"bad\xffutf8",
		"\xc3",
		"line\u2028sep",
	})
}

// localRunes are the characters of an address's local part: ASCII, and
// letters with more than one case, which every family folds alike.
var localRunes = []rune("abcxyzABCXYZ019._+-äÄößẞσςΣKkK\u212Aİı")

// Email draws a valid e-mail address, in any case and with Unicode letters.
func Email() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		local := rapid.StringOfN(rapid.SampledFrom(localRunes), 1, 8, 64).Draw(t, "local")
		local = strings.Trim(local, ".")
		if local == "" || strings.Contains(local, "..") {
			local = "guest"
		}
		domain := rapid.SampledFrom([]string{"x.test", "Acme.example", "guest.example", "ÜBER.test"}).Draw(t, "domain")
		return local + "@" + domain
	})
}

// SameEmail draws another spelling of address: the same person to every
// family. Each letter may change to any of its cases (Unicode simple case
// folding, so "ß" and "ẞ", "σ", "ς" and "Σ", "k" and the Kelvin sign), and
// white space may surround it.
func SameEmail(address string) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		var b strings.Builder
		b.WriteString(rapid.SampledFrom([]string{"", " ", "\t"}).Draw(t, "lead"))
		for i, r := range address {
			orbit := []rune{r}
			for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
				orbit = append(orbit, o)
			}
			b.WriteRune(rapid.SampledFrom(orbit).Draw(t, "rune"+itoa(i)))
		}
		b.WriteString(rapid.SampledFrom([]string{"", " "}).Draw(t, "trail"))
		return b.String()
	})
}

// MalformedEmail draws something every family refuses as an e-mail
// address.
func MalformedEmail() *rapid.Generator[string] {
	return rapid.SampledFrom([]string{
		"",
		"ann",
		"@x.test",
		"ann@",
		"ann@@x.test",
		"Ann <ann@x.test>",
		"ann@x.test (work)",
		"an n@x.test",
		"ann@x..test",
		"ann\x00@x.test",
		"ann\xff@x.test",
		strings.Repeat("a", 250) + "@x.test",
	})
}

// Quantity draws a quantity from 1 to max, biased toward the small ones.
func Quantity(max int64) *rapid.Generator[int64] {
	return rapid.Int64Range(1, max)
}

// MalformedQuantity draws a quantity no purchase or transfer accepts:
// zero or negative.
func MalformedQuantity() *rapid.Generator[int64] {
	return rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(math.MinInt64, -1))
}

// HugeQuantity draws a quantity near math.MaxInt64: accepted once, and
// refused when a counter or balance would pass what an int64 holds.
func HugeQuantity() *rapid.Generator[int64] {
	return rapid.Int64Range(math.MaxInt64-16, math.MaxInt64)
}

// TimeAround draws an instant near edge: edge itself, a microsecond, a
// second, a minute or an hour either side, or anywhere within spread of it.
// Windows are half-open, so the draws just before and at an edge are the
// ones that tell a rule's two sides apart.
func TimeAround(edge time.Time, spread time.Duration) *rapid.Generator[time.Time] {
	steps := []time.Duration{0, time.Microsecond, -time.Microsecond, time.Second, -time.Second,
		time.Minute, -time.Minute, time.Hour, -time.Hour}
	return rapid.OneOf(
		rapid.Map(rapid.SampledFrom(steps), func(d time.Duration) time.Time { return edge.Add(d) }),
		rapid.Map(rapid.Int64Range(-int64(spread/time.Microsecond), int64(spread/time.Microsecond)), func(us int64) time.Time {
			return edge.Add(time.Duration(us) * time.Microsecond)
		}),
	)
}

// MalformedTime draws an instant no store keeps, refused wherever a time is
// accepted: before year 1 or after year 9999.
func MalformedTime() *rapid.Generator[time.Time] {
	return rapid.SampledFrom([]time.Time{
		input.MaxTime.Add(time.Microsecond),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(586580, 1, 1, 0, 0, 0, 0, time.UTC),
		input.MinTime.Add(-time.Microsecond),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	})
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
