package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func (f *fixture) form(t *testing.T, path, actor string, vals url.Values, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", "/console"+path, strings.NewReader(vals.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Actor", actor)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *fixture) page(t *testing.T, path, actor string) (int, string) {
	t.Helper()
	r := f.do(t, req{method: "GET", path: path, actor: actor})
	return r.status, r.body
}

// The screens show to the family's administrators and refuse others with
// 403; with no actor, 401.
func TestScreens_Roles(t *testing.T) {
	f := newFixture(t)
	for path, want := range map[string][]string{
		"/passes":                {"Session Passes", "Balance", "Export to CSV", "Session Owner", "Balance After"},
		"/seats":                 {"Overview", "Purchased", "Transactions of seat", "All transactions", "Export XLS"},
		"/seats?tab=live":        {"missing-banner", "Show only events missing entitlements", "Missing 40 seats polls", "Transfer seats"},
		"/seats?tab=past":        {"No workspaces here."},
		"/licenses":              {"Invite a member", "mia@acme.test", "pending", "Details: distribution by team"},
		"/licenses?state=active": {"No members."},
		"/":                      {"Session Passes", "Entitlements", "Licenses"},
	} {
		status, body := f.page(t, path, admin)
		if status != 200 {
			t.Errorf("%s: %d %s", path, status, body)
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not show %q", path, w)
			}
		}
		if path == "/" {
			continue
		}
		if status, body := f.page(t, path, outsider); status != 403 || !strings.Contains(body, "forbidden") {
			t.Errorf("%s as an outsider: %d", path, status)
		}
		if status, _ := f.page(t, path, ""); status != 401 {
			t.Errorf("%s with no actor: %d", path, status)
		}
	}
}

// Transferring the missing seats and module clears the red badge and the
// banner.
func TestScreens_SeatsTransfer(t *testing.T) {
	f := newFixture(t)
	w := f.form(t, "/seats/transfer", admin, url.Values{"event": {"acme-summit"}, "tab": {"live"}, "quantity": {"40"}, "request_id": {"r1"}}, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("transfer seats: %d %s", w.Code, w.Body)
	}
	_, body := f.page(t, "/seats?tab=live", admin)
	if !strings.Contains(body, "Missing polls") || strings.Contains(body, "40 seats") {
		t.Errorf("after the seats, only the module is missing:\n%s", body)
	}
	f.form(t, "/seats/transfer", admin, url.Values{"event": {"acme-summit"}, "tab": {"live"}, "module": {"polls"}, "request_id": {"r2"}}, nil)
	_, body = f.page(t, "/seats?tab=live", admin)
	if strings.Contains(body, "missing-banner") || !strings.Contains(body, "Covered") {
		t.Errorf("after the module, nothing is missing:\n%s", body)
	}
	// Too many seats: the screen shows the problem with its status.
	w = f.form(t, "/seats/transfer", admin, url.Values{"event": {"acme-summit"}, "tab": {"live"}, "quantity": {"500"}, "request_id": {"r3"}}, nil)
	if w.Code != 409 || !strings.Contains(w.Body.String(), "insufficient") {
		t.Errorf("too many seats: %d", w.Code)
	}
	// Another organization's event is not found.
	w = f.form(t, "/seats/transfer", admin, url.Values{"event": {"globex-summit"}, "tab": {"live"}, "quantity": {"1"}, "request_id": {"r4"}}, nil)
	if w.Code != 404 {
		t.Errorf("another organization's event: %d", w.Code)
	}
}

// Inviting moves the bar; removing from the last team leaves the member
// unassigned; deleting frees the license.
func TestScreens_Licenses(t *testing.T) {
	f := newFixture(t)
	w := f.form(t, "/licenses/invite", admin, url.Values{"team": {"design"}, "email": {"noa@acme.test"}, "request_id": {"i"}}, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("invite: %d %s", w.Code, w.Body)
	}
	_, body := f.page(t, "/licenses", admin)
	if !strings.Contains(body, `id="n-pending">2<`) || !strings.Contains(body, `id="n-available">3<`) {
		t.Errorf("after the invitation: %s", body)
	}
	if r := f.do(t, req{method: "POST", path: "/api/licenses/members/noa@acme.test/accept", actor: "noa@acme.test"}); r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	f.form(t, "/licenses/remove", admin, url.Values{"team": {"design"}, "email": {"noa@acme.test"}, "request_id": {"rm"}}, nil)
	f.form(t, "/licenses/delete", admin, url.Values{"email": {"mia@acme.test"}, "request_id": {"del"}}, nil)
	_, body = f.page(t, "/licenses", admin)
	if !strings.Contains(body, `id="n-unassigned">1<`) || !strings.Contains(body, `id="n-available">4<`) {
		t.Errorf("after remove and delete: %s", body)
	}
	if w := f.form(t, "/licenses/delete", outsider, url.Values{"email": {"noa@acme.test"}, "request_id": {"x"}}, nil); w.Code != 403 {
		t.Errorf("an outsider deletes: %d", w.Code)
	}
}

// A guest entering a session shows as a row, and the balance drops.
func TestScreens_PassesLogin(t *testing.T) {
	f := newFixture(t)
	w := f.form(t, "/passes/login", admin, url.Values{"session": {"acme-kickoff"}, "location": {"Porto"}, "request_id": {"l1"}}, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	_, body := f.page(t, "/passes?session=acme-kickoff", admin)
	if !strings.Contains(body, `id="balance">9<`) || !strings.Contains(body, "Porto") || !strings.Contains(body, `id="internal">1<`) {
		t.Errorf("after the login: %s", body)
	}
	if _, body := f.page(t, "/passes?from=2026-03-03", admin); strings.Contains(body, "Porto") {
		t.Errorf("the from filter keeps an earlier row")
	}
}

// A cross-site form post is refused and changes nothing.
func TestScreens_CrossSiteFormRefused(t *testing.T) {
	f := newFixture(t)
	w := f.form(t, "/licenses/delete", admin, url.Values{"email": {"mia@acme.test"}, "request_id": {"d"}},
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	if w.Code != 403 {
		t.Errorf("cross-site delete: %d", w.Code)
	}
	if _, body := f.page(t, "/licenses", admin); !strings.Contains(body, "mia@acme.test") {
		t.Errorf("the member was deleted")
	}
}
