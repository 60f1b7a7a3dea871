package input

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
)

// MaxEmailLen is the longest e-mail address, in bytes.
const MaxEmailLen = 254

// Email returns the canonical form of an e-mail address, the one every
// family identifies a person by, or a reason it is not one.
//
// The address is trimmed of surrounding white space and must be a bare
// address (local@domain, no display name, comments or angle brackets) that
// net/mail parses to itself, so everything accepted here net/mail accepts
// too; at most MaxEmailLen bytes, with no control characters. Its canonical
// form is its Unicode simple case folding (see Fold), so "Änn@X.test" and
// "äNN@x.TEST" are one person.
func Email(s string) (string, string) {
	// The common address is checked without net/mail's allocations;
	// TestEmail_PlainAddressFastPath shows it agrees with the rest.
	if a, ok := plainAddress(s); ok {
		return a, ""
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "is empty; give an e-mail address like name@example.com"
	case len(s) > MaxEmailLen:
		return "", fmt.Sprintf("has %d bytes, more than the %d an address may have", len(s), MaxEmailLen)
	}
	if r := Text(s); r != "" {
		return "", r
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", fmt.Sprintf("%q contains %q; an address holds no white space or control characters", s, r)
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fmt.Sprintf("%q is not a plain address like name@example.com", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Sprintf("%q is not a plain address like name@example.com", s)
	}
	return Fold(s), ""
}

// Fold returns s with every rune replaced by its lower-case form after
// upper-casing it: the same key for every string strings.EqualFold deems
// equal to s (Unicode simple case folding), in lower case, as addresses are
// usually written. ASCII-only strings without upper case are returned as
// they are, without allocating.
func Fold(s string) string {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		b.WriteRune(FoldRune(r))
	}
	return b.String()
}

// FoldRune is Fold of one rune.
func FoldRune(r rune) rune {
	if r < 0x80 {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	if unicode.SimpleFold(r) == r {
		return r // no other case, as for the Turkish dotted and dotless i
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// Actor returns the one form in which every family compares, checks and
// records who acts, or a reason it is not one:
//
//   - an actor holding '@' is an e-mail address and must be one: its form
//     is Email's, so "ÄNN@x.test" and "änn@x.test" are one person;
//   - any other actor (a system such as "billing") is trimmed of white
//     space and folded the same way (Fold), and must not be empty.
//
// Either way it must be valid UTF-8 without NUL.
func Actor(s string) (string, string) {
	if r := Text(s); r != "" {
		return "", r
	}
	if strings.ContainsRune(s, '@') {
		return Email(s)
	}
	a := strings.TrimSpace(s)
	if a == "" {
		return "", "is empty; name who acts"
	}
	return Fold(a), ""
}

// atext are the ASCII characters of an RFC 5322 atom, which net/mail takes in
// a dot-atom local part or domain.
var atext = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range []byte("!#$%&'*+-/=?^_`{|}~") {
		t[c] = true
	}
	return t
}()

// plainAddress reports whether s is a dot-atom, an at sign and a dot-atom,
// all ASCII, no longer than MaxEmailLen, and returns it lower-cased.
// Every such address is one Email accepts as it is, and lower-casing
// is its folding of ASCII.
func plainAddress(s string) (string, bool) {
	if len(s) == 0 || len(s) > MaxEmailLen {
		return "", false
	}
	at, upper := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '@':
			if at >= 0 {
				return "", false
			}
			at = i
		case c == '.':
			if i == 0 || i == len(s)-1 || s[i-1] == '.' || s[i-1] == '@' || s[i+1] == '@' {
				return "", false
			}
		case !atext[c]:
			return "", false
		case 'A' <= c && c <= 'Z':
			upper = true
		}
	}
	if at <= 0 || at == len(s)-1 {
		return "", false
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true
}
