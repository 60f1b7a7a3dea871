// Package console is allot's console: the three products' screens
// (ThinkTank's Session Passes, SpotMe's Entitlements tab, Powtoon's license
// page) and the JSON API they stand on, as one http.Handler a service
// mounts on its mux. It is a module of its own, so only services that mount
// it depend on what it imports.
//
// # Who is acting
//
// Who is acting is the service's business: Options.Identify reads the
// request (a session cookie, a token) and returns the actor and the
// organization. A request it names no actor for gets 401. Every screen and
// API call then goes through the families' role checks: an actor the family
// refuses gets 403, and another organization's record is never found (404),
// since every call names the identity's organization.
//
// # The API
//
// The routes are listed by the OpenAPI 3.1 document the handler serves at
// Prefix+"/api/openapi.json", built from the same route table as the mux.
// Records are JSON objects with snake_case names; listings are cursor
// pages, {"items": [...], "next": "..."}, read with the cursor and limit
// query parameters. Writes that take a request ID need an Idempotency-Key
// header, which becomes the request ID: a retry with the same key returns
// the first result; without one the answer is 400. Errors are problem
// documents (application/problem+json, RFC 9457): Problem, with allot's
// error code and allot.HTTPStatus of it. Downloads (the usage log, the
// entitlements overview, events and transactions) stream CSV.
//
// # Cross-origin requests
//
// Every unsafe method (POST, PUT, PATCH, DELETE) from a browser must come
// from the console's own origin (http.CrossOriginProtection): a cross-site
// form post or fetch is refused with 403 before it reaches the families.
// Clients that are not browsers send no Sec-Fetch-Site or Origin header and
// pass.
//
// # Screens
//
// The screens are server-rendered with html/template; their templates and
// styles are embedded, and they need no JavaScript. Their forms carry a
// request ID of their own, so a double submission acts once.
package console
