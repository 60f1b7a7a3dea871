package console

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// OpenAPI returns the OpenAPI 3.1 document of the console's JSON API, built
// from the same route table as the handler: every route is in it, and
// nothing else is.
func (c *Console) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range c.routes {
		op := map[string]any{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
				"schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			s := map[string]any{"type": q.Type}
			if q.Type == "date-time" {
				s = map[string]any{"type": "string", "format": "date-time"}
			}
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Desc, "schema": s})
		}
		if rt.Key {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": true,
				"description": "the request ID of the act: a retry with the same key returns the first result",
				"schema":      map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(rt.Body)}}}
		}
		ok := map[string]any{"description": "OK"}
		switch {
		case rt.File != "":
			ok["content"] = map[string]any{strings.Split(rt.File, ";")[0]: map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.Page:
			ok["content"] = jsonContent(map[string]any{"type": "object", "required": []string{"items", "next"},
				"properties": map[string]any{
					"items": map[string]any{"type": "array", "items": schemaOf(rt.Resp)},
					"next":  map[string]any{"type": "string", "description": "the cursor of the next page; empty on the last"},
				}})
		default:
			ok["content"] = jsonContent(schemaOf(rt.Resp))
		}
		op["responses"] = map[string]any{
			"200":     ok,
			"default": map[string]any{"$ref": "#/components/responses/Problem"},
		}
		path := c.opts.Prefix + rt.Path
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "allot console API",
			"version": "1",
			"description": "The acts and views of allot's passes, seats and licenses families, for the organization " +
				"of the signed-in actor. Errors are RFC 9457 problem documents carrying allot's error code. " +
				"Unsafe methods from a browser must come from the console's own origin.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": map[string]any{"Problem": schemaOf(typeOf[Problem]())},
			"responses": map[string]any{"Problem": map[string]any{
				"description": "an error, with allot's error code",
				"content": map[string]any{"application/problem+json": map[string]any{
					"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}},
			}},
		},
	}
}

func jsonContent(schema map[string]any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// operationID is a route's name: "GET /api/seats/events/{id}" ->
// "get_seats_events_id".
func operationID(rt route) string {
	p := strings.TrimPrefix(rt.Path, "/api/")
	p = strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(p)
	return strings.ToLower(rt.Method) + "_" + p
}

func (c *Console) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(c.OpenAPI())
}
