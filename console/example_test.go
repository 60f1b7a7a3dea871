package console_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/console"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
)

// The service mounts the console on its own mux and tells it who is
// acting: here, from the service's session cookie.
func Example() {
	ctx := context.Background()
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
	roles.Grant("acme", "billing", allot.Vendor)
	lic, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Roles: roles})
	lic.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 20, RequestID: "order-1"})
	sessions := map[string]string{"s3cr3t": "ada@acme.test"} // the service's own sessions

	con, err := console.New(console.Options{
		Licenses: lic, // and Passes, Seats: the screens of the services given
		Prefix:   "/console",
		Identify: func(r *http.Request) (console.Identity, error) {
			c, err := r.Cookie("session")
			if err != nil || sessions[c.Value] == "" {
				return console.Identity{}, console.ErrNoIdentity // 401
			}
			return console.Identity{Actor: sessions[c.Value], Org: "acme"}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", con) // the screens at /console/licenses, the API at /console/api/

	get := func(path, session string) {
		r := httptest.NewRequest("GET", path, nil)
		if session != "" {
			r.AddCookie(&http.Cookie{Name: "session", Value: session})
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(path, w.Code, w.Header().Get("Content-Type"))
	}
	get("/console/licenses", "s3cr3t")
	get("/console/api/licenses/summary", "s3cr3t")
	get("/console/api/licenses/summary", "") // no session: 401
	// Output:
	// /console/licenses 200 text/html; charset=utf-8
	// /console/api/licenses/summary 200 application/json
	// /console/api/licenses/summary 401 application/problem+json
}
