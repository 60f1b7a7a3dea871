package seats

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func ev(id string, startH, endH int, participants, assigned int64) Event {
	return Event{ID: id, Start: t0.Add(time.Duration(startH) * time.Hour), End: t0.Add(time.Duration(endH) * time.Hour),
		Participants: participants, SeatsAssigned: assigned}
}

func TestStatusAt(t *testing.T) {
	e := ev("e", 0, 2, 0, 0)
	for _, tc := range []struct {
		now  time.Time
		want Status
	}{
		{t0.Add(-time.Microsecond), StatusUpcoming},
		{t0, StatusLive},
		{t0.Add(2*time.Hour - time.Microsecond), StatusLive},
		{t0.Add(2 * time.Hour), StatusPast},
	} {
		if got := StatusAt(e, tc.now); got != tc.want {
			t.Errorf("StatusAt(%v) = %s, want %s", tc.now, got, tc.want)
		}
	}
}

func TestShortfall(t *testing.T) {
	for _, tc := range []struct {
		name        string
		e           Event
		wantSeats   int64
		wantModules []string
	}{
		{"Covered", Event{Participants: 5, SeatsAssigned: 5}, 0, nil},
		{"Surplus", Event{Participants: 3, SeatsAssigned: 5}, 0, nil},
		{"Short", Event{Participants: 7, SeatsAssigned: 5}, 2, nil},
		{"Modules", Event{Modules: []string{"a", "b", "c"}, ModulesAssigned: []string{"b", "z"}}, 0, []string{"a", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, m := Shortfall(tc.e)
			if s != tc.wantSeats {
				t.Errorf("seats = %d, want %d", s, tc.wantSeats)
			}
			if diff := cmp.Diff(tc.wantModules, m); diff != "" {
				t.Errorf("modules mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanConsumption(t *testing.T) {
	now := t0.Add(10 * time.Hour)
	for _, tc := range []struct {
		name      string
		events    []Event
		available int64
		want      []Assignment
	}{
		{"Nothing", nil, 10, nil},
		{"EmptyPool", []Event{ev("a", 0, 1, 5, 0)}, 0, nil},
		{"AllCovered", []Event{ev("a", 0, 1, 5, 2), ev("b", 1, 20, 3, 0)}, 10,
			[]Assignment{{"a", 3, 5}, {"b", 3, 3}}},
		{"OrderByStartThenID", []Event{ev("z", 2, 20, 1, 0), ev("b", 1, 20, 1, 0), ev("a", 1, 20, 1, 0)}, 10,
			[]Assignment{{"a", 1, 1}, {"b", 1, 1}, {"z", 1, 1}}},
		{"PartialThenNothing", []Event{ev("a", 0, 1, 5, 0), ev("b", 1, 2, 5, 0), ev("c", 2, 3, 1, 0)}, 7,
			[]Assignment{{"a", 5, 5}, {"b", 2, 2}}},
		{"SkipsUpcoming", []Event{ev("up", 11, 12, 5, 0), ev("live", 9, 11, 2, 0)}, 10,
			[]Assignment{{"live", 2, 2}}},
		{"SkipsSatisfied", []Event{ev("a", 0, 1, 5, 9), ev("b", 1, 2, 1, 0)}, 1,
			[]Assignment{{"b", 1, 1}}},
		{"NeverModules", []Event{{ID: "m", Start: t0, End: now, Modules: []string{"polls"}}}, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanConsumption(now, tc.events, tc.available)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PlanConsumption mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	for _, s := range []string{"", "a b", "a\x00", "a\xff", "a\tb", string(make([]byte, 201))} {
		if err := validID("ID", s); !errors.Is(err, ErrInvalid) {
			t.Errorf("validID(%q) = %v, want ErrInvalid", s, err)
		}
	}
	// '/' and '%' are allowed: derived ledger IDs escape them.
	for _, s := range []string{"evt-1_ü.x", "a/b", "50%", "a%2Fb", "module:x"} {
		if err := validID("ID", s); err != nil {
			t.Errorf("validID(%q) = %v", s, err)
		}
	}
}

func TestProduct(t *testing.T) {
	if Seats.IsModule() || Seats.ModuleName() != "" || Seats.validate() != nil {
		t.Errorf("Seats is not a valid non-module product")
	}
	m := Module("polls")
	if !m.IsModule() || m.ModuleName() != "polls" || m.String() != "module:polls" || m.validate() != nil {
		t.Errorf("Module(polls) = %q, wrong", m)
	}
	if p := Module("a/b"); p.validate() != nil || p.ModuleName() != "a/b" {
		t.Errorf("Module(a/b) = %q, %v: a module name may hold '/'", p, p.validate())
	}
	for _, p := range []Product{"", "seats", Module(""), Module("a b"), Module("a\x00"), Module("\xff")} {
		if err := p.validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("validate(%q) = %v, want ErrInvalid", p, err)
		}
	}
}

func TestEventCursor(t *testing.T) {
	c := eventCursor("a/c%me", t0, "id:with/slash")
	start, id, err := parseEventCursor("a/c%me", c)
	if err != nil || !start.Equal(t0) || id != "id:with/slash" {
		t.Errorf("parseEventCursor(%q) = %v, %q, %v", c, start, id, err)
	}
	// Another organization's cursor, a history cursor and malformed ones.
	foreign := []string{eventCursor("globex", t0, "e1"), historyCursor("a/c%me", map[Product]int64{Seats: 3}),
		"x", "12", "x:y", "12:", "events/a%2Fc%25me/x/e1", "events/a%2Fc%25me/12"}
	for _, bad := range foreign {
		if _, _, err := parseEventCursor("a/c%me", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("parseEventCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestHistoryCursor(t *testing.T) {
	after := map[Product]int64{Seats: 3, Module("a/b"): 7}
	c := historyCursor("acme", after)
	got, err := parseHistoryCursor("acme", c)
	if err != nil || len(got) != 2 || got[Seats] != 3 || got[Module("a/b")] != 7 {
		t.Errorf("parseHistoryCursor(%q) = %v, %v", c, got, err)
	}
	foreign := []string{historyCursor("globex", after), eventCursor("acme", t0, "e1"), "seat/3",
		"history/acme", "history/acme/seat", "history/acme/seat/-1", "history/acme/pass/1"}
	for _, bad := range foreign {
		if _, err := parseHistoryCursor("acme", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("parseHistoryCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
