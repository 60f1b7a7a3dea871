package events

import (
	"encoding/json"
	"testing"
	"time"
)

// GuestAdmitted's own encoding writes what json.Marshal writes.
func TestGuestAdmitted_AppendJSONIsJSONMarshal(t *testing.T) {
	for _, g := range []GuestAdmitted{
		{},
		{Session: "s\"<1>&\\", Guest: "zoë@x.example\u2028\n\r\t\b\f\x01", PassType: "day", Passes: 2, InWindow: true,
			Until: time.Date(2026, 3, 2, 9, 0, 0, 123000, time.UTC), Balance: -3},
	} {
		want, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := g.appendJSON(nil)
		if !ok || string(got) != string(want) {
			t.Errorf("appendJSON = %s, %v; json.Marshal = %s", got, ok, want)
		}
	}
	if _, ok := (GuestAdmitted{Guest: "\xff"}).appendJSON(nil); ok {
		t.Error("appendJSON took invalid UTF-8")
	}
}

// Transferred's own encoding writes what json.Marshal writes.
func TestTransferred_AppendJSONIsJSONMarshal(t *testing.T) {
	for _, tr := range []Transferred{
		{},
		{Event: "kick\"<off>&\\ Zürich\u2029\n", Product: "module:q/a%", Quantity: 1 << 62, Available: -1, Assigned: 7},
	} {
		want, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tr.appendJSON(nil)
		if !ok || string(got) != string(want) {
			t.Errorf("appendJSON = %s, %v; json.Marshal = %s", got, ok, want)
		}
	}
	if _, ok := (Transferred{Event: "\xff"}).appendJSON(nil); ok {
		t.Error("appendJSON took invalid UTF-8")
	}
}
