package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// Identity is who acts, and in which organization: ThinkTank's workspace,
// SpotMe's and Powtoon's organization. Every call the console makes names
// Org as its tenant and Actor as who acts, so another organization's records
// are never found.
type Identity struct {
	Actor string
	Org   string
}

// ErrNoIdentity is what an Identify function returns for a request that
// names no actor (no session cookie, an expired token): the console answers
// 401.
var ErrNoIdentity = errors.New("console: the request names no actor")

// Options configure the console. Identify is required, and at least one of
// the services.
type Options struct {
	// Passes, Seats and Licenses are the services the console serves; a nil
	// one has no routes, no screen and no place in the OpenAPI document.
	Passes   *passes.Service
	Seats    *seats.Service
	Licenses *licenses.Service
	// Identify returns who is acting from the request, or ErrNoIdentity
	// (or an Identity with an empty Actor): the console answers 401. Any
	// other error is answered with its problem document (500 unless it
	// carries an allot error code). Required.
	Identify func(r *http.Request) (Identity, error)
	// Prefix is the path the console is mounted at, e.g. "/console", with
	// no trailing slash; empty for the root. The handler expects requests
	// with their full path (mount it at Prefix+"/"), and its links, forms
	// and OpenAPI document use it.
	Prefix string
	// Banner, if set, returns HTML shown at the top of every screen, such
	// as the service's own account switcher or a link back to it. Default:
	// none.
	Banner func(r *http.Request) template.HTML
	// Logger receives the requests that failed on the service's side
	// (internal errors, a download that broke off). Default: nothing is
	// logged.
	Logger *slog.Logger
}

// Console is the console's http.Handler: the JSON API under Prefix+"/api/",
// its OpenAPI 3.1 document at Prefix+"/api/openapi.json", the screens at
// Prefix+"/passes", "/seats" and "/licenses", and their assets. It is safe
// for concurrent use.
type Console struct {
	opts    Options
	routes  []route
	handler http.Handler
	log     *slog.Logger
}

// New returns the console over the services in opts.
func New(opts Options) (*Console, error) {
	if opts.Identify == nil {
		return nil, errors.New("console: Options.Identify is required")
	}
	if opts.Passes == nil && opts.Seats == nil && opts.Licenses == nil {
		return nil, errors.New("console: give at least one of Options.Passes, Seats and Licenses")
	}
	if p := opts.Prefix; p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
		return nil, fmt.Errorf("console: Options.Prefix %q must start with '/' and not end with one", p)
	}
	c := &Console{opts: opts, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.routes = c.apiRoutes()

	api := http.NewServeMux()
	for _, rt := range c.routes {
		api.Handle(rt.Method+" "+rt.Path, c.serveRoute(rt))
	}
	pages := http.NewServeMux()
	c.screenRoutes(pages)

	mux := http.NewServeMux()
	mux.Handle("GET /api/openapi.json", http.HandlerFunc(c.serveOpenAPI))
	mux.Handle("GET /assets/", assetHandler())
	mux.Handle("/api/", c.authenticate(problemMux(api)))
	mux.Handle("/", c.authenticate(pages))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, Problem{Type: "about:blank", Title: http.StatusText(http.StatusForbidden),
			Status: http.StatusForbidden, Code: allot.CodeForbidden,
			Detail: "cross-origin request refused: send it from the console's own pages"})
	}))
	var h http.Handler = cop.Handler(mux)
	if opts.Prefix != "" {
		h = http.StripPrefix(opts.Prefix, h)
	}
	c.handler = h
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	c.handler.ServeHTTP(w, r)
}

type identityKey struct{}

// identityOf returns the request's identity, set by authenticate.
func identityOf(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// authenticate answers 401 to a request that names no actor, and hands the
// others on with their identity in the context.
func (c *Console) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := c.opts.Identify(r)
		switch {
		case errors.Is(err, ErrNoIdentity) || (err == nil && strings.TrimSpace(id.Actor) == ""):
			writeProblem(w, unauthenticated)
			return
		case err != nil:
			c.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// fail answers err as a problem document, logging it when it is the
// service's fault.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p.Status >= 500 {
		c.log.ErrorContext(r.Context(), "console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, p)
}

// problemMux answers the requests mux has no route for (404) or no method
// for (405) with problem documents instead of plain text.
func problemMux(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			h.ServeHTTP(&statusProblem{w: w}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// statusProblem turns the mux's own error answers into problem documents.
type statusProblem struct {
	w       http.ResponseWriter
	written bool
}

func (s *statusProblem) Header() http.Header { return s.w.Header() }
func (s *statusProblem) Write(b []byte) (int, error) {
	if !s.written {
		s.WriteHeader(http.StatusOK)
	}
	return len(b), nil
}

func (s *statusProblem) WriteHeader(status int) {
	if s.written {
		return
	}
	s.written = true
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: allot.CodeNotFound,
		Detail: "no such API route: see openapi.json"}
	if status == http.StatusMethodNotAllowed {
		p.Code, p.Detail = CodeMethodNotAllowed, "the route does not take this method: see openapi.json"
	}
	writeProblem(s.w, p)
}

var _ io.Writer = (*statusProblem)(nil)
