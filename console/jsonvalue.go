package console

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// The API speaks JSON with snake_case names. The families' records carry no
// JSON tags (they are the library's, not the API's), so jsonValue turns a
// record into plain JSON values with the names the API documents, and
// schemaOf describes the same shape for the OpenAPI document: one walker
// of the Go types, so the document and the answers cannot disagree.

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// snake turns a Go name into the API's: "SeatsMissing" -> "seats_missing",
// "RequestID" -> "request_id".
func snake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// jsonName is a struct field's name in the API: its json tag's, else the
// snake_case of its Go name; "" for a field the API leaves out.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	if tag, ok := f.Tag.Lookup("json"); ok {
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			return ""
		}
		if name != "" {
			return name
		}
	}
	return snake(f.Name)
}

// jsonValue returns v as plain JSON values: structs as objects with the
// API's names (embedded structs flattened), times as RFC 3339 strings in UTC
// (zero times as null), nil slices as empty arrays.
func jsonValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	switch {
	case t == timeType:
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return nil
		}
		return tm.UTC().Format(time.RFC3339Nano)
	case t.Implements(marshalerType) || t.Implements(textType):
		return v.Interface()
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return jsonValue(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		addFields(m, v)
		return m
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonValue(v.Index(i))
		}
		return out
	case reflect.Map:
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = jsonValue(it.Value())
		}
		return m
	}
	return v.Interface()
}

func addFields(m map[string]any, v reflect.Value) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Type != timeType {
			addFields(m, v.Field(i))
			continue
		}
		if name := jsonName(f); name != "" {
			m[name] = jsonValue(v.Field(i))
		}
	}
}

// schemaOf is the JSON Schema (as OpenAPI 3.1 uses it) of what jsonValue
// makes of a t, or of what the API decodes into a t.
func schemaOf(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	case t.Implements(marshalerType) || t.Implements(textType):
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.Struct:
		props := map[string]any{}
		addSchemaFields(props, t)
		return map[string]any{"type": "object", "properties": props}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

func addSchemaFields(props map[string]any, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Type != timeType {
			addSchemaFields(props, f.Type)
			continue
		}
		if name := jsonName(f); name != "" {
			props[name] = schemaOf(f.Type)
		}
	}
}
