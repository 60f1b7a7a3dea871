package pgxstore_test

import (
	"os"
	"strings"
	"testing"
)

// TestSkipNotice checks what a run without a database says: which tests
// were skipped, the variable to set, and a command to copy, naming the local
// server when one answers.
func TestSkipNotice(t *testing.T) {
	for _, local := range []bool{false, true} {
		got := skipNotice(local)
		for _, want := range []string{"PostgreSQL tests", "skipped", envURL + `="` + localURL + `" go test work`} {
			if !strings.Contains(got, want) {
				t.Errorf("skipNotice(%t) = %q, want it to contain %q", local, got, want)
			}
		}
		if answers := strings.Contains(got, "answers on 127.0.0.1:5432"); answers != local {
			t.Errorf("skipNotice(%t) = %q: mentions the local server: %t", local, got, answers)
		}
	}
}

// TestNoticeWriter checks that a verbose run (-v, -json), whose output go
// test shows, gets the notice on standard output with the rest, so that
// -json keeps it inside its events.
func TestNoticeWriter(t *testing.T) {
	w, done := noticeWriter(true)
	defer done()
	if w != os.Stdout {
		t.Errorf("noticeWriter(verbose) = %v, want os.Stdout", w)
	}
}
