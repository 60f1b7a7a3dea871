package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/console"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
)

// The fixture: organization "acme" with an administrator of every family,
// a vendor ("billing") and an outsider with no role; organization "globex"
// with records of its own, which acme's actors never see.
const (
	admin    = "ada@acme.test"
	outsider = "otto@acme.test"
	vendor   = "billing"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	h     http.Handler
	con   *console.Console
	clock *clock.Fake
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	st := memstore.New()
	roles := &allot.StaticRoles{}
	for _, org := range []string{"acme", "globex"} {
		must(t, roles.Grant(org, vendor, allot.Vendor))
		must(t, roles.Grant(org, admin, passes.WorkspaceAdmin, seats.EntitlementManager, licenses.OrgAdmin))
	}
	ps, err := passes.New(st.Passes(), &passes.Options{Clock: clk, Roles: roles})
	must(t, err)
	ss, err := seats.New(st.Seats(), &seats.Options{Clock: clk, Roles: roles})
	must(t, err)
	ls, err := licenses.New(st.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	must(t, err)
	for _, org := range []string{"acme", "globex"} {
		_, err = ps.Purchase(ctx, passes.PurchaseParams{Org: org, Actor: vendor, Quantity: 10, RequestID: "p1"})
		must(t, err)
		_, err = ps.CreateSession(ctx, passes.CreateSessionParams{Org: org, Actor: admin, ID: org + "-kickoff", Name: "Kick-off"})
		must(t, err)
		_, err = ss.Purchase(ctx, seats.PurchaseParams{Org: org, Actor: vendor, Product: seats.Seats, Quantity: 100, RequestID: "s1"})
		must(t, err)
		_, err = ss.Purchase(ctx, seats.PurchaseParams{Org: org, Actor: vendor, Product: seats.Module("polls"), Quantity: 2, RequestID: "s2"})
		must(t, err)
		_, err = ss.CreateEvent(ctx, seats.CreateEventParams{Org: org, Actor: admin, ID: org + "-summit", Name: "Summit",
			Start: t0.Add(-time.Hour), End: t0.Add(48 * time.Hour), Participants: 40, Modules: []string{"polls"}})
		must(t, err)
		_, err = ls.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 5, RequestID: "l1"})
		must(t, err)
		_, err = ls.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: "design"})
		must(t, err)
		_, err = ls.Invite(ctx, licenses.InviteParams{Org: org, Actor: admin, Team: "design", Email: "mia@" + org + ".test", RequestID: "i1"})
		must(t, err)
	}
	con, err := console.New(console.Options{Passes: ps, Seats: ss, Licenses: ls, Prefix: "/console",
		Identify: func(r *http.Request) (console.Identity, error) {
			actor := r.Header.Get("X-Actor")
			if actor == "" {
				return console.Identity{}, console.ErrNoIdentity
			}
			return console.Identity{Actor: actor, Org: "acme"}, nil
		}})
	must(t, err)
	return &fixture{h: con, con: con, clock: clk}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type req struct {
	method, path, body, actor, key string
	header                         map[string]string
}

type resp struct {
	status int
	ctype  string
	body   string
}

func (f *fixture) do(t *testing.T, r req) resp {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, "/console"+r.path, body)
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.actor != "" {
		hr.Header.Set("X-Actor", r.actor)
	}
	if r.key != "" {
		hr.Header.Set("Idempotency-Key", r.key)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, hr)
	return resp{status: w.Code, ctype: w.Header().Get("Content-Type"), body: w.Body.String()}
}

func problem(t *testing.T, r resp) console.Problem {
	t.Helper()
	if r.ctype != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", r.ctype, r.body)
	}
	var p console.Problem
	must(t, json.Unmarshal([]byte(r.body), &p))
	if p.Status != r.status || p.Type != "about:blank" || p.Title == "" || p.Code == "" {
		t.Errorf("problem %+v does not describe status %d", p, r.status)
	}
	return p
}

// routeCase is how the tests call one route: as someone allowed, and as
// someone the family refuses.
type routeCase struct {
	path, body string
	actor      string // allowed; default admin
	refused    string // refused with 403; default outsider; "-" for none (the act checks no role)
	foreign    string // the path with another organization's record: 404
}

// routeCases has one case per route; TestAPI_EveryRouteHasACase keeps it
// complete.
var routeCases = map[string]routeCase{
	"GET /api/passes/balance":       {path: "/api/passes/balance"},
	"POST /api/passes/purchases":    {path: "/api/passes/purchases", body: `{"quantity":5}`, actor: vendor, refused: admin},
	"GET /api/passes/sessions":      {path: "/api/passes/sessions"},
	"POST /api/passes/sessions":     {path: "/api/passes/sessions", body: `{"id":"retro","name":"Retro"}`},
	"GET /api/passes/sessions/{id}": {path: "/api/passes/sessions/acme-kickoff", foreign: "/api/passes/sessions/globex-kickoff"},
	"PATCH /api/passes/sessions/{id}": {path: "/api/passes/sessions/acme-kickoff", body: `{"name":"Kick-off 2026"}`,
		foreign: "/api/passes/sessions/globex-kickoff"},
	"GET /api/passes/fields":       {path: "/api/passes/fields"},
	"PUT /api/passes/fields":       {path: "/api/passes/fields", body: `{"fields":[{"name":"Note"}]}`},
	"POST /api/passes/logins":      {path: "/api/passes/logins", body: `{"session":"acme-kickoff","location":"Berlin"}`, actor: "gus@guest.test", refused: "-"},
	"GET /api/passes/log":          {path: "/api/passes/log"},
	"GET /api/passes/log.csv":      {path: "/api/passes/log.csv"},
	"GET /api/passes/log.xlsx":     {path: "/api/passes/log.xlsx"},
	"GET /api/seats/overview":      {path: "/api/seats/overview"},
	"GET /api/seats/overview.csv":  {path: "/api/seats/overview.csv"},
	"GET /api/seats/overview.xlsx": {path: "/api/seats/overview.xlsx"},
	"POST /api/seats/purchases":    {path: "/api/seats/purchases", body: `{"product":"seat","quantity":10}`, actor: vendor, refused: admin},
	"GET /api/seats/history":       {path: "/api/seats/history"},
	"GET /api/seats/history.csv":   {path: "/api/seats/history.csv"},
	"GET /api/seats/history.xlsx":  {path: "/api/seats/history.xlsx"},
	"GET /api/seats/events":        {path: "/api/seats/events?status=live&only_missing=true"},
	"GET /api/seats/events.csv":    {path: "/api/seats/events.csv?status=live,past"},
	"GET /api/seats/events.xlsx":   {path: "/api/seats/events.xlsx?status=live,past"},
	"POST /api/seats/events": {path: "/api/seats/events",
		body: `{"id":"gala","name":"Gala","start":"2026-04-01T18:00:00Z","end":"2026-04-01T23:00:00Z","participants":12}`},
	"GET /api/seats/events/{id}": {path: "/api/seats/events/acme-summit", foreign: "/api/seats/events/globex-summit"},
	"PUT /api/seats/events/{id}/participants": {path: "/api/seats/events/acme-summit/participants", body: `{"participants":45}`,
		foreign: "/api/seats/events/globex-summit/participants"},
	"PUT /api/seats/events/{id}/modules": {path: "/api/seats/events/acme-summit/modules", body: `{"modules":["polls"]}`,
		foreign: "/api/seats/events/globex-summit/modules"},
	"POST /api/seats/events/{id}/seat-transfers": {path: "/api/seats/events/acme-summit/seat-transfers", body: `{"quantity":40}`,
		foreign: "/api/seats/events/globex-summit/seat-transfers"},
	"POST /api/seats/events/{id}/module-transfers": {path: "/api/seats/events/acme-summit/module-transfers", body: `{"module":"polls"}`,
		foreign: "/api/seats/events/globex-summit/module-transfers"},
	"POST /api/seats/consumption-checks": {path: "/api/seats/consumption-checks"},
	"GET /api/licenses/summary":          {path: "/api/licenses/summary"},
	"GET /api/licenses/summary.csv":      {path: "/api/licenses/summary.csv"},
	"GET /api/licenses/summary.xlsx":     {path: "/api/licenses/summary.xlsx"},
	"GET /api/licenses/teams.csv":        {path: "/api/licenses/teams.csv"},
	"GET /api/licenses/teams.xlsx":       {path: "/api/licenses/teams.xlsx"},
	"GET /api/licenses/members.csv":      {path: "/api/licenses/members.csv?state=pending"},
	"GET /api/licenses/members.xlsx":     {path: "/api/licenses/members.xlsx?team=design"},
	"POST /api/licenses/purchases":       {path: "/api/licenses/purchases", body: `{"quantity":3}`, actor: vendor, refused: admin},
	"POST /api/licenses/reductions":      {path: "/api/licenses/reductions", body: `{"quantity":1}`, actor: vendor, refused: admin},
	"GET /api/licenses/teams":            {path: "/api/licenses/teams"},
	"POST /api/licenses/teams":           {path: "/api/licenses/teams", body: `{"team":"sales"}`},
	"GET /api/licenses/members":          {path: "/api/licenses/members?state=pending"},
	"GET /api/licenses/members/{email}": {path: "/api/licenses/members/mia@acme.test",
		foreign: "/api/licenses/members/mia@globex.test"},
	"DELETE /api/licenses/members/{email}": {path: "/api/licenses/members/mia@acme.test",
		foreign: "/api/licenses/members/mia@globex.test"},
	"GET /api/licenses/members/{email}/history": {path: "/api/licenses/members/mia@acme.test/history",
		foreign: "/api/licenses/members/mia@globex.test/history"},
	"POST /api/licenses/invitations":            {path: "/api/licenses/invitations", body: `{"team":"design","email":"noa@acme.test"}`},
	"POST /api/licenses/members/{email}/accept": {path: "/api/licenses/members/mia@acme.test/accept", actor: "mia@acme.test"},
	"POST /api/licenses/members/{email}/reassign": {path: "/api/licenses/members/mia@acme.test/reassign", body: `{"to":"noa@acme.test"}`,
		foreign: "/api/licenses/members/mia@globex.test/reassign"},
	"DELETE /api/licenses/teams/{team}/members/{email}": {path: "/api/licenses/teams/design/members/mia@acme.test",
		foreign: "/api/licenses/teams/design/members/mia@globex.test"},
}

func routeKeys(t *testing.T, f *fixture) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string }
		}
	}
	r := f.do(t, req{method: "GET", path: "/api/openapi.json"})
	must(t, json.Unmarshal([]byte(r.body), &doc))
	var keys []string
	for p, ops := range doc.Paths {
		for m := range ops {
			keys = append(keys, strings.ToUpper(m)+" "+strings.TrimPrefix(p, "/console"))
		}
	}
	sort.Strings(keys)
	return keys
}

func needsKey(t *testing.T, f *fixture, key string) bool {
	t.Helper()
	var doc map[string]any
	must(t, json.Unmarshal([]byte(f.do(t, req{method: "GET", path: "/api/openapi.json"}).body), &doc))
	method, path, _ := strings.Cut(key, " ")
	op := doc["paths"].(map[string]any)["/console"+path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		if p.(map[string]any)["name"] == "Idempotency-Key" {
			return true
		}
	}
	return false
}

// Every documented route has a case, and every case is a documented
// route: the OpenAPI document, the mux and the tests name the same routes.
func TestAPI_EveryRouteHasACase(t *testing.T) {
	f := newFixture(t)
	keys := routeKeys(t, f)
	if len(keys) != len(routeCases) {
		t.Errorf("the document has %d operations, the tests %d", len(keys), len(routeCases))
	}
	for _, k := range keys {
		if _, ok := routeCases[k]; !ok {
			t.Errorf("route %s has no test case", k)
		}
	}
	for k := range routeCases {
		if !slicesContains(keys, k) {
			t.Errorf("test case %s is not a documented route", k)
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// Every route of the document answers (not 404 or 405), and a route the
// document does not have answers 404 as a problem.
func TestAPI_OpenAPIRoutesAnswer(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, req{method: "GET", path: "/api/openapi.json"})
	if r.status != 200 || !strings.Contains(r.body, `"openapi": "3.1.0"`) {
		t.Fatalf("openapi.json: %d %s", r.status, r.body[:min(200, len(r.body))])
	}
	for _, k := range routeKeys(t, f) {
		method, path, _ := strings.Cut(k, " ")
		path = pathParam.ReplaceAllString(path, "x")
		got := f.do(t, req{method: method, path: path, actor: admin, key: "k-" + k, body: "{}"})
		if got.status == 404 && strings.Contains(got.body, "no such API route") || got.status == 405 {
			t.Errorf("%s %s: %d %s", method, path, got.status, got.body)
		}
	}
	for _, bad := range []req{{method: "GET", path: "/api/nothing"}, {method: "DELETE", path: "/api/passes/balance"}} {
		bad.actor = admin
		got := f.do(t, bad)
		p := problem(t, got)
		if (got.status != 404 && got.status != 405) || (p.Code != "not_found" && p.Code != "method_not_allowed") {
			t.Errorf("%s %s: %d %+v", bad.method, bad.path, got.status, p)
		}
	}
}

// Each route, called by an allowed actor, answers 200 with JSON (or a CSV
// file); called by a refused actor, 403 with the forbidden code; with no
// actor, 401; on another organization's record, 404.
func TestAPI_EveryRoute(t *testing.T) {
	keys := routeKeys(t, newFixture(t))
	for _, k := range keys {
		rc := routeCases[k]
		method, _, _ := strings.Cut(k, " ")
		t.Run(k, func(t *testing.T) {
			f := newFixture(t)
			actor := rc.actor
			if actor == "" {
				actor = admin
			}
			key := ""
			if needsKey(t, f, k) {
				key = "req-1"
			}
			got := f.do(t, req{method: method, path: rc.path, body: rc.body, actor: actor, key: key})
			if got.status != 200 {
				t.Fatalf("allowed: %d %s", got.status, got.body)
			}
			switch base := strings.Split(rc.path, "?")[0]; {
			case strings.HasSuffix(base, ".csv"):
				if !strings.HasPrefix(got.ctype, "text/csv") || !strings.Contains(got.body, "\r\n") {
					t.Errorf("download: %q %q", got.ctype, got.body)
				}
			case strings.HasSuffix(base, ".xlsx"):
				// A workbook is a zip archive.
				if !strings.Contains(got.ctype, "spreadsheetml") || !strings.HasPrefix(got.body, "PK\x03\x04") {
					t.Errorf("download: %q, %d bytes", got.ctype, len(got.body))
				}
			default:
				if got.ctype != "application/json" || !json.Valid([]byte(got.body)) {
					t.Errorf("answer: %q %s", got.ctype, got.body)
				}
			}

			if got := f.do(t, req{method: method, path: rc.path, body: rc.body, key: key}); got.status != 401 || problem(t, got).Code != "unauthenticated" {
				t.Errorf("no actor: %d %s", got.status, got.body)
			}
			if refused := rc.refused; refused != "-" {
				if refused == "" {
					refused = outsider
				}
				got := f.do(t, req{method: method, path: rc.path, body: rc.body, actor: refused, key: "req-2"})
				if got.status != 403 || problem(t, got).Code != "forbidden" {
					t.Errorf("refused actor %s: %d %s", refused, got.status, got.body)
				}
			}
			if rc.foreign != "" {
				got := f.do(t, req{method: method, path: rc.foreign, body: rc.body, actor: actor, key: "req-3"})
				if got.status != 404 || problem(t, got).Code != "not_found" {
					t.Errorf("another organization's record: %d %s", got.status, got.body)
				}
			}
		})
	}
}

// A write that takes a request ID needs an Idempotency-Key: without one it
// is a 400 naming the header, and nothing changes; with one, a retry
// returns the first result.
func TestAPI_IdempotencyKey(t *testing.T) {
	f := newFixture(t)
	n := 0
	for _, k := range routeKeys(t, f) {
		if !needsKey(t, f, k) {
			continue
		}
		n++
		rc := routeCases[k]
		method, _, _ := strings.Cut(k, " ")
		actor := rc.actor
		if actor == "" {
			actor = admin
		}
		got := f.do(t, req{method: method, path: rc.path, body: rc.body, actor: actor})
		if p := problem(t, got); got.status != 400 || p.Code != "invalid" || p.Field != "Idempotency-Key" {
			t.Errorf("%s without a key: %d %+v", k, got.status, p)
		}
	}
	if n < 10 {
		t.Errorf("only %d routes need a key", n)
	}

	first := f.do(t, req{method: "POST", path: "/api/seats/events/acme-summit/seat-transfers", body: `{"quantity":10}`, actor: admin, key: "t-1"})
	f.clock.Advance(time.Hour)
	again := f.do(t, req{method: "POST", path: "/api/seats/events/acme-summit/seat-transfers", body: `{"quantity":10}`, actor: admin, key: "t-1"})
	if first.status != 200 || first.body != again.body {
		t.Errorf("retry:\n%d %s\n%d %s", first.status, first.body, again.status, again.body)
	}
	other := f.do(t, req{method: "POST", path: "/api/seats/events/acme-summit/seat-transfers", body: `{"quantity":11}`, actor: admin, key: "t-1"})
	if p := problem(t, other); other.status != 409 || p.Code != "request_reused" {
		t.Errorf("the key for another act: %d %+v", other.status, p)
	}
	var ev struct {
		SeatsAssigned int64 `json:"seats_assigned"`
	}
	must(t, json.Unmarshal([]byte(f.do(t, req{method: "GET", path: "/api/seats/events/acme-summit", actor: admin}).body), &ev))
	if ev.SeatsAssigned != 10 {
		t.Errorf("seats assigned = %d, want 10", ev.SeatsAssigned)
	}
}

// A cross-site form post is refused (403) before it reaches the families;
// a same-origin one and a non-browser client pass.
func TestAPI_CrossOriginRefused(t *testing.T) {
	f := newFixture(t)
	body := `{"team":"sales"}`
	cross := f.do(t, req{method: "POST", path: "/api/licenses/teams", body: body, actor: admin,
		header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}})
	if p := problem(t, cross); cross.status != 403 || p.Code != "forbidden" || !strings.Contains(p.Detail, "cross-origin") {
		t.Errorf("cross-site: %d %+v", cross.status, p)
	}
	teams := f.do(t, req{method: "GET", path: "/api/licenses/teams", actor: admin})
	if strings.Contains(teams.body, "sales") {
		t.Errorf("a refused cross-site post created the team: %s", teams.body)
	}
	same := f.do(t, req{method: "POST", path: "/api/licenses/teams", body: body, actor: admin,
		header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
	if same.status != 200 {
		t.Errorf("same-origin: %d %s", same.status, same.body)
	}
	// A cross-site GET is safe and answers.
	get := f.do(t, req{method: "GET", path: "/api/licenses/teams", actor: admin, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if get.status != 200 {
		t.Errorf("cross-site GET: %d", get.status)
	}
}

// Pages are {"items": [...], "next": "..."}; the next cursor reads the
// following page; a bad cursor or limit is a 400 naming it.
func TestAPI_Pages(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"a", "b", "c"} {
		r := f.do(t, req{method: "POST", path: "/api/passes/sessions", body: `{"id":"` + id + `","name":"S"}`, actor: admin})
		must(t, errIf(r.status != 200, r.body))
	}
	var ids []string
	next := ""
	for range 10 {
		r := f.do(t, req{method: "GET", path: "/api/passes/sessions?limit=2&cursor=" + next, actor: admin})
		var pg struct {
			Items []struct{ ID string }
			Next  *string
		}
		must(t, json.Unmarshal([]byte(r.body), &pg))
		if pg.Next == nil {
			t.Fatalf("no next in %s", r.body)
		}
		for _, it := range pg.Items {
			ids = append(ids, it.ID)
		}
		if next = *pg.Next; next == "" {
			break
		}
	}
	if got := strings.Join(ids, ","); got != "a,acme-kickoff,b,c" {
		t.Errorf("sessions = %s", got)
	}
	for q, field := range map[string]string{"cursor=zzz": "cursor", "limit=5000": "limit", "limit=x": "limit", "from=yesterday": "from"} {
		r := f.do(t, req{method: "GET", path: "/api/passes/log?" + q, actor: admin})
		if p := problem(t, r); r.status != 400 || p.Field != field {
			t.Errorf("%s: %d %+v", q, r.status, p)
		}
	}
}

// Errors carry the families' codes and statuses, with the field named.
func TestAPI_Problems(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name        string
		r           req
		status      int
		code, field string
	}{
		{"InsufficientSeats", req{method: "POST", path: "/api/seats/events/acme-summit/seat-transfers", body: `{"quantity":500}`, actor: admin, key: "k"}, 409, "insufficient", ""},
		{"BadQuantity", req{method: "POST", path: "/api/seats/events/acme-summit/seat-transfers", body: `{"quantity":0}`, actor: admin, key: "k"}, 400, "invalid", "quantity"},
		{"UnknownBodyField", req{method: "POST", path: "/api/licenses/teams", body: `{"name":"x"}`, actor: admin}, 400, "invalid", "body"},
		{"NoBody", req{method: "POST", path: "/api/licenses/teams", actor: admin}, 400, "invalid", "body"},
		{"UnknownSession", req{method: "POST", path: "/api/passes/logins", body: `{"session":"nope"}`, actor: "gus@guest.test", key: "k"}, 404, "not_found", ""},
		{"SessionTaken", req{method: "POST", path: "/api/passes/sessions", body: `{"id":"acme-kickoff","name":"Other"}`, actor: admin}, 409, "already_exists", ""},
		{"BadActor", req{method: "GET", path: "/api/passes/balance", actor: "a@"}, 400, "invalid", "actor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(t, tc.r)
			p := problem(t, got)
			if got.status != tc.status || p.Code != tc.code || p.Field != tc.field || p.Detail == "" {
				t.Errorf("got %d %+v, want %d %s %q", got.status, p, tc.status, tc.code, tc.field)
			}
		})
	}
}

// A guest's login spends a pass and shows in the log with the balance.
func TestAPI_PassesStory(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, req{method: "POST", path: "/api/passes/logins", body: `{"session":"acme-kickoff","location":"Lisbon"}`, actor: "Gus@Guest.test", key: "g1"})
	if r.status != 200 || !strings.Contains(r.body, `"allowed":true`) || !strings.Contains(r.body, `"balance":9`) {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	log := f.do(t, req{method: "GET", path: "/api/passes/log?session=acme-kickoff", actor: admin})
	if !strings.Contains(log.body, `"user":"gus@guest.test"`) || !strings.Contains(log.body, `"balance_after":9`) {
		t.Errorf("log: %s", log.body)
	}
	csv := f.do(t, req{method: "GET", path: "/api/passes/log.csv", actor: admin})
	if !strings.HasPrefix(csv.body, "Timestamp,Session ID") || !strings.Contains(csv.body, "gus@guest.test") {
		t.Errorf("csv: %s", csv.body)
	}
	if refused := f.do(t, req{method: "GET", path: "/api/passes/log.csv", actor: outsider}); refused.status != 403 {
		t.Errorf("csv for an outsider: %d %s", refused.status, refused.body)
	}
}

func errIf(cond bool, msg string) error {
	if cond {
		return &strError{msg}
	}
	return nil
}

type strError struct{ s string }

func (e *strError) Error() string { return e.s }
