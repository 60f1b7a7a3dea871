// Command demo serves the allot console on an in-memory store with a fake
// clock and a few weeks of history in all three families: a ThinkTank
// workspace's session passes, a SpotMe organization's seats and modules,
// a Powtoon organization's licenses. A switcher at the top of every screen
// changes who is acting.
//
//	go run ./console/cmd/demo            # then open the URL it prints
//	go run ./console/cmd/demo -addr :8080
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/allot-dev/allot/console"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, addr string) error {
	h, err := handler(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "allot console demo: http://%s/console/ (the clock stands at %s)\n", ln.Addr(), demoNow.Format("2006-01-02 15:04 UTC"))
	return http.Serve(ln, h)
}

// actors are whom the switcher offers, with what they may do.
var actors = []struct{ Actor, About string }{
	{"ada@acme.test", "administrator of all three"},
	{"ben@acme.test", "team admin of sales"},
	{"gus@guests.test", "a guest, no role"},
	{"billing", "the vendor"},
}

// handler is the demo: the console under /console/ and the switcher.
func handler(ctx context.Context) (http.Handler, error) {
	w, err := seed(ctx)
	if err != nil {
		return nil, err
	}
	con, err := console.New(console.Options{
		Passes: w.passes, Seats: w.seats, Licenses: w.licenses, Prefix: "/console",
		Identify: identify,
		Banner:   banner,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", con)
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusSeeOther))
	return switcher(mux), nil
}

// identify reads the actor from the "as" query parameter (which also sets
// the cookie) or the "actor" cookie; the demo's organization is always
// "acme". A real service reads its own session here.
func identify(r *http.Request) (console.Identity, error) {
	actor := r.URL.Query().Get("as")
	if actor == "" {
		if c, err := r.Cookie("actor"); err == nil {
			actor, _ = url.QueryUnescape(c.Value)
		}
	}
	if actor == "" {
		actor = actors[0].Actor
	}
	return console.Identity{Actor: actor, Org: org}, nil
}

var bannerTmpl = template.Must(template.New("b").Parse(
	`<strong>Demo</strong> · act as:{{range .}} <a href="?as={{.Actor}}" title="{{.About}}">{{.Actor}}</a> ({{.About}}){{end}}`))

// banner is the switcher shown at the top of every screen.
func banner(*http.Request) template.HTML {
	var b strings.Builder
	if err := bannerTmpl.Execute(&b, actors); err != nil {
		return ""
	}
	return template.HTML(b.String()) // the template escaped every value
}

// switcher keeps the actor a link chose in a cookie.
func switcher(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if as := r.URL.Query().Get("as"); as != "" {
			http.SetCookie(w, &http.Cookie{Name: "actor", Value: url.QueryEscape(as), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		next.ServeHTTP(w, r)
	})
}
