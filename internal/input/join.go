package input

import "strings"

// Join makes a derived ledger ID of parts: each part with '%' written as
// "%25" and '/' as "%2F", joined by '/'. No part of the result holds a
// '/', so the result splits back into exactly the parts it was made of:
// two different lists of parts never give one ID, whatever characters the
// parts hold. Parts without '%' or '/' (the usual case) appear as given,
// so such IDs read as plain paths.
func Join(parts ...string) string {
	n := len(parts) - 1
	escape := false
	for _, p := range parts {
		n += len(p)
		if strings.ContainsAny(p, "%/") {
			escape = true
		}
	}
	var b strings.Builder
	if escape {
		n += n / 2
	}
	b.Grow(n)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		if !escape {
			b.WriteString(p)
			continue
		}
		for j := range len(p) {
			switch c := p[j]; c {
			case '%':
				b.WriteString("%25")
			case '/':
				b.WriteString("%2F")
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// Split is the inverse of Join: the parts an ID was joined from. It reports
// false for a string Join cannot have made.
func Split(id string) ([]string, bool) {
	fields := strings.Split(id, "/")
	for i, f := range fields {
		if !strings.Contains(f, "%") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(f); j++ {
			if f[j] != '%' {
				b.WriteByte(f[j])
				continue
			}
			switch {
			case strings.HasPrefix(f[j:], "%25"):
				b.WriteByte('%')
			case strings.HasPrefix(f[j:], "%2F"):
				b.WriteByte('/')
			default:
				return nil, false
			}
			j += 2
		}
		fields[i] = b.String()
	}
	return fields, true
}
