package events

import (
	"encoding/json"
	"testing"
	"time"
)

// Member's and Threshold's own encodings write what json.Marshal writes.
func TestMemberThreshold_AppendJSONIsJSONMarshal(t *testing.T) {
	for _, v := range []interface {
		appendJSON([]byte) ([]byte, bool)
	}{
		Member{},
		Member{Teams: []string{}},
		Member{Email: "zoë@x.example", State: "pending", Teams: []string{"=A1", "Zürich\u2028\"<&>\"", "\x01\n"}, Team: "Zürich",
			ExpiresAt: time.Date(2026, 3, 2, 9, 0, 0, 123000, time.UTC), Purchased: 9, Available: -1, Pending: 2, Active: 3, Unassigned: 5},
		Threshold{},
		Threshold{Product: "license", Percent: 80, Up: true, Used: 8, Purchased: 10},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := v.appendJSON(nil)
		if !ok || string(got) != string(want) {
			t.Errorf("appendJSON = %s, %v; json.Marshal = %s", got, ok, want)
		}
	}
	if _, ok := (Member{Teams: []string{"\xff"}}).appendJSON(nil); ok {
		t.Error("appendJSON took invalid UTF-8")
	}
	if _, ok := (Member{ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).appendJSON(nil); ok {
		t.Error("appendJSON took a year json.Marshal refuses")
	}
}
