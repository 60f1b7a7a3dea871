package passes

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) // a daylight-saving Sunday in Europe

func TestPolicy_Builtins(t *testing.T) {
	sess := Session{ID: "s"}
	open := Access{Session: "s", Guest: "g", Start: t0, Until: t0.Add(24 * time.Hour)}
	cases := []struct {
		name   string
		policy Policy
		now    time.Time
		st     State
		want   Decision
	}{
		{"DayFirstLogin", DayPolicy, t0, State{Session: sess},
			Decision{Allowed: true, Passes: 1, AccessFrom: t0, AccessUntil: t0.Add(24 * time.Hour)}},
		{"DayInsideWindow", DayPolicy, t0.Add(23 * time.Hour), State{Session: sess, Access: open},
			Decision{Allowed: true, InWindow: true, AccessFrom: t0, AccessUntil: t0.Add(24 * time.Hour)}},
		{"DayWindowEndIsExclusive", DayPolicy, t0.Add(24 * time.Hour), State{Session: sess, Access: open},
			Decision{Allowed: true, Passes: 1, AccessFrom: t0.Add(24 * time.Hour), AccessUntil: t0.Add(48 * time.Hour)}},
		{"DayClockBeforeWindowStartStillInside", DayPolicy, t0.Add(-time.Minute), State{Session: sess, Access: open},
			Decision{Allowed: true, InWindow: true, AccessFrom: t0, AccessUntil: t0.Add(24 * time.Hour)}},
		{"DayIs24HoursAcrossDST", DayPolicy, time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), State{Session: sess},
			Decision{Allowed: true, Passes: 1, AccessFrom: time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), AccessUntil: time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)}},
		{"MonthFirstLogin", MonthPolicy, t0, State{Session: sess},
			Decision{Allowed: true, Passes: 2, AccessFrom: t0, AccessUntil: t0.Add(720 * time.Hour)}},
		{"MonthInsideWindow", MonthPolicy, t0.Add(719 * time.Hour), State{Session: sess, Access: Access{Start: t0, Until: t0.Add(720 * time.Hour)}},
			Decision{Allowed: true, InWindow: true, AccessFrom: t0, AccessUntil: t0.Add(720 * time.Hour)}},
		{"MonthAfterWindow", MonthPolicy, t0.Add(720 * time.Hour), State{Session: sess, Access: Access{Start: t0, Until: t0.Add(720 * time.Hour)}},
			Decision{Allowed: true, Passes: 2, AccessFrom: t0.Add(720 * time.Hour), AccessUntil: t0.Add(1440 * time.Hour)}},
		{"DemoFirstLoginOpens", DemoPolicy, t0, State{Session: sess},
			Decision{Allowed: true, Demo: true, AccessFrom: t0, AccessUntil: t0.Add(4 * time.Hour), LocksAt: t0.Add(4 * time.Hour)}},
		{"DemoOtherGuestWhileOpen", DemoPolicy, t0.Add(3 * time.Hour), State{Session: sess, FirstLogin: t0},
			Decision{Allowed: true, Demo: true, AccessFrom: t0.Add(3 * time.Hour), AccessUntil: t0.Add(4 * time.Hour), LocksAt: t0.Add(4 * time.Hour)}},
		{"DemoSameGuestAgain", DemoPolicy, t0.Add(time.Hour), State{Session: sess, FirstLogin: t0, Access: Access{Start: t0, Until: t0.Add(4 * time.Hour)}},
			Decision{Allowed: true, Demo: true, InWindow: true, AccessFrom: t0, AccessUntil: t0.Add(4 * time.Hour), LocksAt: t0.Add(4 * time.Hour)}},
		{"DemoLocksAtFourHours", DemoPolicy, t0.Add(4 * time.Hour), State{Session: sess, FirstLogin: t0, Access: Access{Start: t0, Until: t0.Add(4 * time.Hour)}},
			Decision{Reason: ReasonDemoLocked, Demo: true, LocksAt: t0.Add(4 * time.Hour),
				Detail: `demo session "s" locked at 2026-03-29T04:30:00Z, 4h0m0s after its first guest login; make it a paid session to go on`}},
		{"CustomWindow", Window{Cost: 5, Duration: time.Hour}, t0, State{Session: sess},
			Decision{Allowed: true, Passes: 5, AccessFrom: t0, AccessUntil: t0.Add(time.Hour)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.Decide(tc.now, tc.st)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		in      Decision
		want    Decision
		wantErr error
	}{
		{"AllowedFillsFromAndPassType", Decision{Allowed: true, Passes: 1, AccessUntil: t0.Add(time.Hour), Reason: "x", Detail: "y"},
			Decision{Allowed: true, Passes: 1, AccessFrom: t0, AccessUntil: t0.Add(time.Hour), PassType: "p"}, nil},
		{"RefusalClearsGrant", Decision{Reason: "nope", Passes: 3, AccessUntil: t0.Add(time.Hour), InWindow: true},
			Decision{Reason: "nope", PassType: "p"}, nil},
		{"RefusalWithoutReason", Decision{}, Decision{}, ErrPolicy},
		{"NegativeCost", Decision{Allowed: true, Passes: -1, AccessUntil: t0.Add(time.Hour)}, Decision{}, ErrPolicy},
		{"WindowNotAfterNow", Decision{Allowed: true, AccessUntil: t0}, Decision{}, ErrPolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := check(t0, "p", tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("check() error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("check() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecorateTitle(t *testing.T) {
	demo := Decision{Allowed: true, Demo: true}
	cases := []struct {
		name  string
		d     Decision
		title string
		want  string
	}{
		{"Demo", demo, "Brainstorm", "Brainstorm (Demonstration Use Only)"},
		{"DemoEmpty", demo, "", "(Demonstration Use Only)"},
		{"AlreadyMarked", demo, "Brainstorm (Demonstration Use Only)", "Brainstorm (Demonstration Use Only)"},
		{"NotDemo", Decision{Allowed: true}, "Brainstorm", "Brainstorm"},
		{"RefusedDemo", Decision{Demo: true, Reason: ReasonDemoLocked}, "Brainstorm", "Brainstorm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecorateTitle(tc.d, tc.title); got != tc.want {
				t.Errorf("DecorateTitle(%q) = %q, want %q", tc.title, got, tc.want)
			}
		})
	}
}

// TestNormalizeGuest: guests are the canonical form of input.Email, Unicode
// case folding included.
func TestNormalizeGuest(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"ann@example.com", "ann@example.com", true},
		{"Ann.Lee+x@Example.COM", "ann.lee+x@example.com", true},
		{"", "", false},
		{"ann", "", false},
		{"ann@", "", false},
		{"@example.com", "", false},
		{"ann@example", "ann@example", true}, // as net/mail, and every family, accept
		{"Änn@x.test", "änn@x.test", true},
		{"ÄNN@X.TEST", "änn@x.test", true}, // one person, however the case is written
		{"\u212Aate@x.test", "kate@x.test", true},
		{"ann@@example.com", "", false},
		{"a@b@example.com", "", false},
		{"ann @example.com", "", false},
		{" ann@example.com ", "ann@example.com", true},
		{"Ann <ann@example.com>", "", false},
		{"ann@example..com", "", false},
		{"ann@.example.com", "", false},
		{"ann@example.com.", "", false},
		{".ann@example.com", "", false},
		{"ann.@example.com", "", false},
		{"ann\x00@example.com", "", false},
		{"ann@exa\tmple.com", "", false},
		{"ann,bob@example.com", "", false},
	}
	for _, tc := range cases {
		got, ok := normalizeGuest(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("normalizeGuest(%q) = %q, %t, want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, c := range []byte("\x7f\"(),:;<>[\\]") {
		in := "ann" + string(c) + "@example.com"
		if _, ok := normalizeGuest(in); ok {
			t.Errorf("normalizeGuest(%q) accepted %q", in, c)
		}
	}
	long := make([]byte, 0, 300)
	for len(long) < 250 {
		long = append(long, 'a')
	}
	if _, ok := normalizeGuest(string(long) + "@example.com"); ok {
		t.Error("normalizeGuest accepted an address longer than 254 bytes")
	}
}

func TestMergeFields(t *testing.T) {
	defs := []FieldDef{{Name: "Note"}, {Name: "Reference", Required: true}}
	cases := []struct {
		name    string
		defs    []FieldDef
		session []FieldValue
		login   map[string]string
		want    []FieldValue
		wantErr error
	}{
		{"NoFields", nil, nil, nil, nil, nil},
		{"SessionValues", defs, []FieldValue{{"Reference", "PO-1"}}, nil,
			[]FieldValue{{"Note", ""}, {"Reference", "PO-1"}}, nil},
		{"LoginOverridesSession", defs, []FieldValue{{"Note", "a"}, {"Reference", "PO-1"}}, map[string]string{"Reference": "PO-2"},
			[]FieldValue{{"Note", "a"}, {"Reference", "PO-2"}}, nil},
		{"AllFromSession", defs, []FieldValue{{"Note", "a"}, {"Reference", "PO-1"}}, nil,
			[]FieldValue{{"Note", "a"}, {"Reference", "PO-1"}}, nil},
		{"LoginRepeatsSession", defs, []FieldValue{{"Note", "a"}, {"Reference", "PO-1"}}, map[string]string{"Note": "a"},
			[]FieldValue{{"Note", "a"}, {"Reference", "PO-1"}}, nil},
		{"LoginOverridesFirst", defs, []FieldValue{{"Note", "a"}, {"Reference", "PO-1"}}, map[string]string{"Note": "b"},
			[]FieldValue{{"Note", "b"}, {"Reference", "PO-1"}}, nil},
		{"SessionRequiredEmpty", defs, []FieldValue{{"Note", "a"}, {"Reference", ""}}, nil, nil, ErrMissingField},
		{"MissingRequired", defs, nil, map[string]string{"Note": "a"}, nil, ErrMissingField},
		{"RequiredEmpty", defs, []FieldValue{{"Reference", "PO-1"}}, map[string]string{"Reference": ""}, nil, ErrMissingField},
		{"UnknownInLogin", defs, []FieldValue{{"Reference", "PO-1"}}, map[string]string{"Colour": "red"}, nil, ErrUnknownField},
		{"UnknownInSession", defs, []FieldValue{{"Colour", "red"}}, nil, nil, ErrUnknownField},
		{"UnknownWithoutDefs", nil, nil, map[string]string{"Note": "a"}, nil, ErrUnknownField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mergeFields(tc.defs, tc.session, tc.login)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("mergeFields() error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mergeFields() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecision_String(t *testing.T) {
	cases := []struct {
		d    Decision
		want string
	}{
		{Decision{Allowed: true, Passes: 2, AccessUntil: t0, Balance: 3}, "allowed: 2 passes spent, access until 2026-03-29T00:30:00Z; balance 3"},
		{Decision{Allowed: true, InWindow: true, AccessUntil: t0, Balance: 3}, "allowed: inside the guest's access window, nothing spent, access until 2026-03-29T00:30:00Z; balance 3"},
		{Decision{Allowed: true, Demo: true, LocksAt: t0}, "allowed: demo session, nothing spent, open until 2026-03-29T00:30:00Z; balance 0"},
		{Decision{Reason: ReasonUnknownSession, Detail: "no session"}, "refused (unknown_session): no session"},
		{Decision{Reason: "custom"}, "refused (custom)"},
	}
	for _, tc := range cases {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
