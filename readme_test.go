package allot_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// fromLink is the line before a Go block of README.md that names the
// example or test it is taken from: "From [`path`](path)".
var fromLink = regexp.MustCompile("\\[`([^`]+\\.go)`\\]\\(([^)]+\\.go)\\)")

// TestREADME_SnippetsAreExcerpts keeps README.md's Go snippets true: each
// is a verbatim excerpt (the same lines, in order, whatever their
// indentation) of the example or test its "From [`file`](file)" names,
// which run in CI. Change the example first, then copy its lines.
func TestREADME_SnippetsAreExcerpts(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	blocks := 0
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		blocks++
		var source string
		for j := i - 1; j >= 0 && j >= i-4 && source == ""; j-- {
			if m := fromLink.FindStringSubmatch(lines[j]); m != nil {
				source = m[2]
			}
		}
		snippet := lines[start:end]
		i = end
		if source == "" {
			t.Errorf("README.md:%d: a Go snippet with no \"From [`file.go`](file.go)\" line before it; take it from an example that runs", start)
			continue
		}
		if !strings.HasSuffix(source, "_test.go") {
			t.Errorf("README.md:%d: the snippet comes from %s, which is not a test file that CI runs", start, source)
			continue
		}
		body, err := os.ReadFile(source)
		if err != nil {
			t.Errorf("README.md:%d: %v", start, err)
			continue
		}
		if !containsLines(strings.Split(string(body), "\n"), snippet) {
			t.Errorf("README.md:%d: the snippet is not a verbatim excerpt of %s; copy the lines from it:\n%s", start, source, strings.Join(snippet, "\n"))
		}
	}
	if blocks == 0 {
		t.Fatal("README.md has no Go snippets; the test is looking in the wrong place")
	}
}

// containsLines reports whether want appears in have as consecutive lines,
// comparing each line without its leading white space.
func containsLines(have, want []string) bool {
	trim := func(s string) string { return strings.TrimLeft(strings.TrimRight(s, " \t\r"), " \t") }
	for i := 0; i+len(want) <= len(have); i++ {
		ok := true
		for j := range want {
			if trim(have[i+j]) != trim(want[j]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
