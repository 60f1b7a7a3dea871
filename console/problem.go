package console

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
)

// Problem is an error as the API answers it: an RFC 9457 problem document
// (application/problem+json) whose Code is allot's error code
// (allot.ErrorCode), the same for one situation in every family, and whose
// Status is allot.HTTPStatus of it.
type Problem struct {
	Type   string `json:"type"`             // always "about:blank"
	Title  string `json:"title"`            // the HTTP status's text
	Status int    `json:"status"`           // the HTTP status
	Code   string `json:"code"`             // allot's error code, e.g. "insufficient"
	Detail string `json:"detail,omitempty"` // what happened and what to do, fit to show
	// Field names what an invalid request got wrong: a body or query field
	// of the API ("quantity"), or the header "Idempotency-Key".
	Field string `json:"field,omitempty"`
}

// Codes the console adds to allot's for the HTTP layer itself.
const (
	CodeUnauthenticated  = "unauthenticated"    // no actor: 401
	CodeMethodNotAllowed = "method_not_allowed" // 405
)

// problemOf maps any error to its problem document. The detail of an
// internal or transient error is not shown: it may name the service's
// internals.
func problemOf(err error) Problem {
	code, status := allot.ErrorCode(err), allot.HTTPStatus(err)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: err.Error()}
	if p.Title == "" {
		p.Title = "Client Closed Request" // 499: the client went away
	}
	switch code {
	case allot.CodeInternal, allot.CodeUnavailable:
		p.Detail = "the request failed on our side; retry it later with the same Idempotency-Key"
	}
	p.Field = fieldOf(err)
	return p
}

// fieldOf names the request field an invalid error is about, as the API
// spells it.
func fieldOf(err error) string {
	var field string
	var re *requestError
	var pe *passes.InvalidError
	var se *seats.InvalidError
	var le *licenses.InvalidError
	switch {
	case errors.As(err, &re):
		return re.field
	case errors.As(err, &pe):
		field = pe.Field
	case errors.As(err, &se):
		field = se.Field
	case errors.As(err, &le):
		field = le.Field
	default:
		return ""
	}
	if field == "RequestID" {
		return "Idempotency-Key"
	}
	return snake(field)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// requestError is a problem of the HTTP request itself: a malformed body or
// query, a missing header. Its code is "invalid".
type requestError struct {
	field, reason string
}

func (e *requestError) Error() string { return e.field + ": " + e.reason }
func (e *requestError) Code() string  { return allot.CodeInvalid }

func badRequest(field, reason string) error { return &requestError{field: field, reason: reason} }

// unauthenticated is the problem of a request that names no actor.
var unauthenticated = Problem{
	Type: "about:blank", Title: http.StatusText(http.StatusUnauthorized), Status: http.StatusUnauthorized,
	Code: CodeUnauthenticated, Detail: "sign in first: this request names no actor",
}
