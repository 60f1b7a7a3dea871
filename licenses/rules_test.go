package licenses

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/input"
	"github.com/google/go-cmp/cmp"
)

func TestTransition(t *testing.T) {
	states := []State{StateNone, StatePending, StateActive, StateUnassigned, StateExpired}
	events := []Event{EventInvite, EventAccept, EventLeave, EventLeaveLast, EventDelete, EventExpire}
	// The whole table: every (state, event) pair, legal or not.
	want := map[State]map[Event]State{
		StateNone:       {EventInvite: StatePending},
		StatePending:    {EventInvite: StatePending, EventAccept: StateActive, EventLeave: StatePending, EventLeaveLast: StateNone, EventDelete: StateNone, EventExpire: StateExpired},
		StateActive:     {EventInvite: StateActive, EventLeave: StateActive, EventLeaveLast: StateUnassigned, EventDelete: StateNone},
		StateUnassigned: {EventInvite: StateActive, EventDelete: StateNone},
		StateExpired:    {EventInvite: StatePending, EventLeave: StateExpired, EventLeaveLast: StateNone, EventDelete: StateNone},
	}
	got := map[State]map[Event]State{}
	for _, s := range states {
		got[s] = map[Event]State{}
		for _, ev := range events {
			to, err := Transition(s, ev)
			if err != nil {
				if !errors.Is(err, ErrIllegalTransition) {
					t.Errorf("Transition(%s, %s) error %v does not match ErrIllegalTransition", s, ev, err)
				}
				if to != s {
					t.Errorf("Transition(%s, %s) refused but returned %s, want the state unchanged", s, ev, to)
				}
				continue
			}
			got[s][ev] = to
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Transition() table mismatch (-want +got):\n%s", diff)
	}
}

func TestTransition_Illegal(t *testing.T) {
	_, err := Transition(StateActive, EventAccept)
	var te *TransitionError
	if !errors.As(err, &te) || te.From != StateActive || te.Event != EventAccept {
		t.Fatalf("Transition(active, accept) = %v, want a *TransitionError naming both", err)
	}
	if got, want := err.Error(), "licenses: a member in state active cannot accept"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	// No member reads as "none", not as an empty state.
	_, err = Transition(StateNone, EventAccept)
	if got, want := fmt.Sprint(err), "licenses: a member in state none cannot accept"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestState_HoldsLicense(t *testing.T) {
	got := map[State]bool{}
	for _, s := range []State{StateNone, StatePending, StateActive, StateUnassigned, StateExpired} {
		got[s] = s.HoldsLicense()
	}
	want := map[State]bool{StateNone: false, StatePending: true, StateActive: true, StateUnassigned: true, StateExpired: false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HoldsLicense() mismatch (-want +got):\n%s", diff)
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"bo@acme.test", "bo@acme.test", true},
		{"  Bo.Smith@ACME.Test \n", "bo.smith@acme.test", true},
		{"a+tag@sub.example.com", "a+tag@sub.example.com", true},
		{"", "", false},
		{"   ", "", false},
		{"bo", "", false},
		{"@acme.test", "", false},
		{"bo@", "", false},
		{"bo@@acme.test", "", false},
		{"bo@x@acme.test", "", false},
		{"bo smith@acme.test", "", false},
		{"bo/x@acme.test", "bo/x@acme.test", true}, // net/mail accepts '/'; member account IDs escape it
		{"50%@acme.test", "50%@acme.test", true},
		{"bo@localhost", "bo@localhost", true},
		{"Änn@X.test", "änn@x.test", true}, // Unicode simple case folding
		{"ÄNN@x.TEST", "änn@x.test", true},
		{"\u212Aate@x.test", "kate@x.test", true}, // Kelvin sign folds to k
		{"Bo <bo@acme.test>", "", false},
		{"bo@.acme", "", false},
		{"bo@acme.", "", false},
		{"bo@acme..test", "", false},
		{"bo\x00@acme.test", "", false},
		{"bo\xff@acme.test", "", false},
		{string(make([]byte, 250)) + "@a.test", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("NormalizeEmail(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		var ie *InvalidError
		if err != nil && (!errors.Is(err, ErrInvalid) || !errors.As(err, &ie) || ie.Field != "email") {
			t.Errorf("NormalizeEmail(%q) error %v is not an *InvalidError of field email", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, ok := range map[string]bool{
		"acme": true, "team-1_x.y": true, "a/b": true, "50%": true, "Zürich": true, strings.Repeat("x", 200): true,
		"": false, "a b": false, "a\x00": false, "a\xff": false, "a\u2028b": false, strings.Repeat("x", 201): false,
	} {
		if err := validID("Org", id); (err == nil) != ok {
			t.Errorf("validID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}

// TestForbiddenBytes: licenses refuses exactly the bytes the library's one
// rule (internal/input) refuses, in an address and in an ID, wherever they
// stand.
func TestForbiddenBytes(t *testing.T) {
	for c := range 256 {
		b := string(rune(c))
		if c >= 0x80 {
			b = string([]byte{byte(c)})
		}
		email := "ann" + b + "x@acme.test"
		_, err := NormalizeEmail(email)
		if _, reason := input.Email(email); (reason != "") != (err != nil) {
			t.Errorf("NormalizeEmail(%q) = %v, input.Email says %q", email, err, reason)
		}
		id := "team" + b + "1"
		if err, reason := validID("Team", id), input.ID(id); (reason != "") != (err != nil) {
			t.Errorf("validID(%q) = %v, input.ID says %q", id, err, reason)
		}
	}
}

func TestMember_At(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		m    Member
		want State
	}{
		{"PendingNoExpiry", Member{State: StatePending}, StatePending},
		{"PendingBeforeExpiry", Member{State: StatePending, ExpiresAt: now.Add(time.Microsecond)}, StatePending},
		{"PendingAtExpiry", Member{State: StatePending, ExpiresAt: now}, StateExpired}, // half-open: [invited, expiry)
		{"PendingAfterExpiry", Member{State: StatePending, ExpiresAt: now.Add(-time.Hour)}, StateExpired},
		{"ActiveWithOldExpiry", Member{State: StateActive, ExpiresAt: now.Add(-time.Hour)}, StateActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.At(now).State; got != tt.want {
				t.Errorf("At(now).State = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAvailable(t *testing.T) {
	if got := available(10, 3, 2, 1); got != 4 {
		t.Errorf("available(10, 3, 2, 1) = %d, want 4", got)
	}
}
