package input

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLen is the longest ID, in bytes, that a tenant, a record or a request
// may have. Derived ledger IDs join several of them, and stay well within
// what a database index keeps.
const MaxIDLen = 200

// Text returns why s cannot be stored as text, or "": every store keeps
// valid UTF-8 without NUL bytes, and nothing else (PostgreSQL's text and
// jsonb refuse NUL, and its JSON columns rewrite invalid UTF-8).
func Text(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL byte"
	}
	return ""
}

// ID returns why s cannot be an ID, or "": an ID is 1 to MaxIDLen bytes of
// valid UTF-8 with no white space and no control characters. Any other
// character is allowed; derived ledger IDs escape those that would be
// ambiguous (see Join).
func ID(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > MaxIDLen:
		return fmt.Sprintf("has %d bytes, more than %d", len(s), MaxIDLen)
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return "" // printable ASCII, the usual ID
	}
	if r := Text(s); r != "" {
		return r
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Sprintf("contains %q; use no white space or control characters", r)
		}
	}
	return ""
}

// Metadata returns why a key or value of m cannot be stored, or "".
func Metadata(m map[string]string) string {
	for k, v := range m {
		if r := Text(k); r != "" {
			return fmt.Sprintf("key %q %s", k, r)
		}
		if r := Text(v); r != "" {
			return fmt.Sprintf("value of %q %s", k, r)
		}
	}
	return ""
}
