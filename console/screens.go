package console

import (
	"crypto/rand"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

//go:embed templates
var templateFS embed.FS

func assetHandler() http.Handler { return http.FileServerFS(assets) }

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	},
	"pct": func(part, whole int64) string {
		if whole <= 0 || part <= 0 {
			return "0"
		}
		return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 2, 64)
	},
	"join":   strings.Join,
	"add":    func(a, b int64) int64 { return a + b },
	"sub":    func(a, b int64) int64 { return a - b },
	"path":   url.PathEscape,
	"states": func() []string { return []string{"", "active", "pending", "unassigned", "expired"} },
}

// screen is one parsed page: the layout with its content.
func parseScreen(name string) *template.Template {
	return template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
}

var screens = map[string]*template.Template{
	"index":    parseScreen("index"),
	"passes":   parseScreen("passes"),
	"seats":    parseScreen("seats"),
	"licenses": parseScreen("licenses"),
	"error":    parseScreen("error"),
}

// view is what every page shows around its content.
type view struct {
	Title    string
	Screen   string
	Prefix   string
	Identity Identity
	Nav      []navLink
	Banner   template.HTML
	Notice   string   // what the last act did
	Problem  *Problem // what the last act or the page's own read failed with
	Data     any
}

type navLink struct {
	Name, Href string
	Current    bool
}

func (c *Console) view(r *http.Request, screen, title string) *view {
	v := &view{Title: title, Screen: screen, Prefix: c.opts.Prefix, Identity: identityOf(r.Context()), Notice: r.URL.Query().Get("done")}
	for _, l := range []struct {
		on         bool
		name, path string
	}{
		{c.opts.Passes != nil, "Session Passes", "passes"},
		{c.opts.Seats != nil, "Entitlements", "seats"},
		{c.opts.Licenses != nil, "Licenses", "licenses"},
	} {
		if l.on {
			v.Nav = append(v.Nav, navLink{Name: l.name, Href: c.opts.Prefix + "/" + l.path, Current: l.path == screen})
		}
	}
	if c.opts.Banner != nil {
		v.Banner = c.opts.Banner(r)
	}
	return v
}

// render writes the page; a page whose act failed answers with the
// problem's status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, v *view) {
	status := http.StatusOK
	if v.Problem != nil {
		status = v.Problem.Status
		if status >= 500 {
			c.log.ErrorContext(r.Context(), "console: screen failed", "path", r.URL.Path, "detail", v.Problem.Detail)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := screens[name].Execute(w, v); err != nil {
		c.log.ErrorContext(r.Context(), "console: render", "screen", name, "err", err)
	}
}

// failScreen shows a page that could not be read at all: the actor may not
// see it (403), or the service failed.
func (c *Console) failScreen(w http.ResponseWriter, r *http.Request, v *view, err error) {
	p := problemOf(err)
	v.Problem = &p
	c.render(w, r, "error", v)
}

// done redirects after a successful act, so a reload does not repeat it
// (a repeat would be harmless anyway: forms carry a request ID).
func (c *Console) done(w http.ResponseWriter, r *http.Request, screen string, q url.Values, notice string) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("done", notice)
	http.Redirect(w, r, c.opts.Prefix+"/"+screen+"?"+q.Encode(), http.StatusSeeOther)
}

// requestID is a fresh request ID for a form: submitting the form twice
// (a double click, a resubmission) acts once.
func requestID() string { return "form-" + rand.Text() }

// formError is a bad form field.
func formError(field, reason string) error { return badRequest(field, reason) }

func (c *Console) screenRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		v := c.view(r, "index", "Console")
		if len(v.Nav) == 1 {
			http.Redirect(w, r, v.Nav[0].Href, http.StatusSeeOther)
			return
		}
		c.render(w, r, "index", v)
	})
	if c.opts.Passes != nil {
		mux.HandleFunc("GET /passes", c.passesScreen)
		mux.HandleFunc("POST /passes/login", c.passesLogin)
	}
	if c.opts.Seats != nil {
		mux.HandleFunc("GET /seats", c.seatsScreen)
		mux.HandleFunc("POST /seats/transfer", c.seatsTransfer)
	}
	if c.opts.Licenses != nil {
		mux.HandleFunc("GET /licenses", c.licensesScreen)
		mux.HandleFunc("POST /licenses/invite", c.licensesInvite)
		mux.HandleFunc("POST /licenses/remove", c.licensesRemove)
		mux.HandleFunc("POST /licenses/delete", c.licensesDelete)
	}
}

// parseDate reads a date input (2006-01-02) as the start of that day, UTC.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse("2006-01-02", s)
}
