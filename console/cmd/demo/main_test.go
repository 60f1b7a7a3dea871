package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// The demo's history loads, and every screen shows it to the administrator.
func TestDemo_Screens(t *testing.T) {
	h, err := handler(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/console/passes":              "Client strategy (Globex)",
		"/console/seats":               "backstage-2026",
		"/console/seats?tab=live":      "missing-banner",
		"/console/seats?tab=past":      "Partner webinar",
		"/console/licenses":            "ola@acme.test",
		"/console/licenses?as=billing": "forbidden",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(w.Body)
		if !strings.Contains(string(body), want) || !strings.Contains(string(body), "act as:") {
			t.Errorf("%s (%d) does not show %q", path, w.Code, want)
		}
	}
}
