package passes_test

import (
	"fmt"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
)

// Sessions list by ID a page at a time; the iterator yields what the pages
// hold; a cursor of another listing or workspace, or a bad limit, is
// invalid and names its field.
func TestSessions_Paging(t *testing.T) {
	f := newFixture(t, nil)
	for _, id := range []string{"e", "a/b", "c", "a", "d%", "b"} {
		f.session(passes.Session{ID: id, Org: "acme", Name: "S " + id})
	}
	f.session(passes.Session{ID: "z", Org: "globex", Name: "theirs"})
	want := []string{"a", "a/b", "b", "c", "d%", "e"}

	var paged []string
	p := passes.SessionsParams{Org: "acme", Actor: admin, Limit: 4}
	pages := 0
	for {
		page, err := f.svc.SessionsPage(f.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.Items {
			paged = append(paged, s.ID)
		}
		if page.Next == "" {
			break
		}
		p.Cursor = page.Next
	}
	if diff := cmp.Diff(want, paged); diff != "" || pages != 2 {
		t.Errorf("paged sessions in %d pages (-want +got):\n%s", pages, diff)
	}
	var iterated []string
	for s, err := range f.svc.Sessions(f.ctx, passes.SessionsParams{Org: "acme", Actor: admin, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		iterated = append(iterated, s.ID)
	}
	if diff := cmp.Diff(want, iterated); diff != "" {
		t.Errorf("Sessions (-want +got):\n%s", diff)
	}
	if page, err := f.svc.SessionsPage(f.ctx, passes.SessionsParams{Org: "acme", Actor: admin}); err != nil || len(page.Items) != 6 || page.Next != "" {
		t.Errorf("Limit 0 (the default, %d) = %d items, next %q, %v", allot.DefaultLimit, len(page.Items), page.Next, err)
	}

	first, _ := f.svc.SessionsPage(f.ctx, passes.SessionsParams{Org: "acme", Actor: admin, Limit: 1})
	f.mustLoginAfterBuy()
	logPage, _ := f.svc.LogPage(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Limit: 1})
	for name, tc := range map[string]struct {
		p     passes.SessionsParams
		field string
	}{
		"malformed cursor":     {passes.SessionsParams{Org: "acme", Actor: admin, Cursor: "%%%"}, "Cursor"},
		"another workspace's":  {passes.SessionsParams{Org: "globex", Actor: admin, Cursor: first.Next}, "Cursor"},
		"the usage log's":      {passes.SessionsParams{Org: "acme", Actor: admin, Cursor: logPage.Next}, "Cursor"},
		"a negative limit":     {passes.SessionsParams{Org: "acme", Actor: admin, Limit: -1}, "Limit"},
		"a limit beyond max":   {passes.SessionsParams{Org: "acme", Actor: admin, Limit: allot.MaxLimit + 1}, "Limit"},
		"an org that is no ID": {passes.SessionsParams{Org: "a b", Actor: admin}, "Org"},
	} {
		_, err := f.svc.SessionsPage(f.ctx, tc.p)
		if !isInvalid(err, tc.field) || allot.ErrorCode(err) != allot.CodeInvalid {
			t.Errorf("%s: %v; want invalid %s", name, err, tc.field)
		}
		n := 0
		for _, err := range f.svc.Sessions(f.ctx, tc.p) {
			n++
			if !isInvalid(err, tc.field) {
				t.Errorf("%s: Sessions yielded %v", name, err)
			}
		}
		if n != 1 {
			t.Errorf("%s: Sessions yielded %d times, want one error", name, n)
		}
	}
	if logPage.Next == "" || first.Next == "" {
		t.Fatal("the fixture has too few rows or sessions for a second page")
	}
}

// mustLoginAfterBuy logs two guests in to session "a" of acme, so its
// usage log has two rows.
func (f *fixture) mustLoginAfterBuy() {
	f.t.Helper()
	f.buy("acme", 10, "o-paging")
	for i := range 2 {
		f.mustLogin("acme", "a", fmt.Sprintf("g%d@x.example", i), fmt.Sprintf("paging-%d", i))
	}
}

// The usage log's cursor is its own and its workspace's: a sessions
// cursor, another workspace's cursor or a made-up one is invalid, as is a
// bad limit; the iterator yields the pages' rows.
func TestLog_CursorAndLimit(t *testing.T) {
	f := newFixture(t, nil)
	f.session(passes.Session{ID: "a", Org: "acme", Name: "A"})
	f.mustLoginAfterBuy()
	page, err := f.svc.LogPage(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("LogPage = %+v, %v", page, err)
	}
	rest, err := f.svc.LogPage(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Cursor: page.Next})
	if err != nil || len(rest.Items) != 1 || rest.Next != "" || rest.Items[0].Seq <= page.Items[0].Seq {
		t.Fatalf("second page = %+v, %v", rest, err)
	}
	var all []passes.Usage
	for u, err := range f.svc.Log(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, u)
	}
	if diff := cmp.Diff(append(page.Items, rest.Items...), all); diff != "" {
		t.Errorf("Log differs from its pages (-pages +iterated):\n%s", diff)
	}
	f.session(passes.Session{ID: "b", Org: "acme", Name: "B"})
	sessions, _ := f.svc.SessionsPage(f.ctx, passes.SessionsParams{Org: "acme", Actor: admin, Limit: 1})
	for name, p := range map[string]passes.LogParams{
		"a number":            {Org: "acme", Actor: admin, Cursor: "1"},
		"another workspace's": {Org: "globex", Actor: admin, Cursor: page.Next},
		"the sessions'":       {Org: "acme", Actor: admin, Cursor: sessions.Next},
	} {
		if _, err := f.svc.LogPage(f.ctx, p); !isInvalid(err, "Cursor") {
			t.Errorf("%s cursor: %v; want invalid Cursor", name, err)
		}
	}
	for _, n := range []int{-1, allot.MaxLimit + 1} {
		if _, err := f.svc.LogPage(f.ctx, passes.LogParams{Org: "acme", Actor: admin, Limit: n}); !isInvalid(err, "Limit") {
			t.Errorf("Limit %d: %v; want invalid Limit", n, err)
		}
	}
}
