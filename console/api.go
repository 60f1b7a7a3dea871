package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot"
)

// route is one operation of the JSON API. The route table is the API: the
// mux is built from it and so is the OpenAPI document.
type route struct {
	Method, Path string
	Tag          string // the family: "passes", "seats" or "licenses"
	Summary      string
	Query        []queryParam
	Body         reflect.Type // the request body's type; nil: no body
	Resp         reflect.Type // the answer's type (a page's item type when Page)
	Page         bool         // the answer is a cursor page of Resp
	Key          bool         // the act takes a request ID: Idempotency-Key is required
	File         string       // a download's content type; the answer is a file, not JSON
	serve        func(c *call) (any, error)
}

type queryParam struct {
	Name, Type, Desc string // Type: "string", "integer", "boolean" or "date-time"
}

var (
	qCursor = queryParam{"cursor", "string", "the next of the previous page; empty for the first page"}
	qLimit  = queryParam{"limit", "integer", "items per page; 0 means 100, at most 1000"}
)

// call is one API request being served.
type call struct {
	r   *http.Request
	id  Identity
	key string // the Idempotency-Key
}

func (c *call) ctx() context.Context { return c.r.Context() }

// decode reads the JSON body into v, refusing unknown fields.
func (c *call) decode(v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, c.r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("body", "a JSON object is required")
		}
		return badRequest("body", "not the JSON this route takes: "+err.Error())
	}
	return nil
}

func (c *call) str(name string) string { return c.r.URL.Query().Get(name) }

func (c *call) int(name string) (int, error) {
	s := c.str(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest(name, "not an integer")
	}
	return n, nil
}

func (c *call) bool(name string) (bool, error) {
	s := c.str(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, badRequest(name, "not true or false")
	}
	return b, nil
}

func (c *call) time(name string) (time.Time, error) {
	s := c.str(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badRequest(name, "not an RFC 3339 time such as 2026-03-01T09:00:00Z")
	}
	return t, nil
}

// paging reads cursor and limit.
func (c *call) paging() (string, int, error) {
	limit, err := c.int("limit")
	return c.str("cursor"), limit, err
}

// pageJSON is a cursor page as the API answers it.
type pageJSON struct {
	Items []any  `json:"items"`
	Next  string `json:"next"`
}

func page[T any](p allot.Page[T], err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := pageJSON{Items: make([]any, len(p.Items)), Next: p.Next}
	for i, it := range p.Items {
		out.Items[i] = jsonValue(reflect.ValueOf(it))
	}
	return out, nil
}

// items is a listing the family answers whole: a page with no next.
func items[T any](s []T, err error) (any, error) {
	return page(allot.Page[T]{Items: s}, err)
}

// serveRoute serves one route: the Idempotency-Key check, the call, and the
// answer as JSON, a file or a problem document.
func (c *Console) serveRoute(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := &call{r: r, id: identityOf(r.Context()), key: strings.TrimSpace(r.Header.Get("Idempotency-Key"))}
		if rt.Key && cl.key == "" {
			c.fail(w, r, badRequest("Idempotency-Key", "this act needs an Idempotency-Key header: a key of your own, the same when you retry"))
			return
		}
		out, err := rt.serve(cl)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if f, ok := out.(download); ok {
			c.serveDownload(w, r, rt.File, f)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if _, ok := out.(pageJSON); !ok {
			out = jsonValue(reflect.ValueOf(out))
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }
