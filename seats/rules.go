package seats

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status is where an event is in time, relative to now.
type Status string

const (
	// StatusUpcoming: now is before the event's Start.
	StatusUpcoming Status = "upcoming"
	// StatusLive: Start <= now < End.
	StatusLive Status = "live"
	// StatusPast: now >= End.
	StatusPast Status = "past"
)

// StatusAt returns the event's status at now: its window is [Start, End).
func StatusAt(e Event, now time.Time) Status {
	switch {
	case now.Before(e.Start):
		return StatusUpcoming
	case now.Before(e.End):
		return StatusLive
	}
	return StatusPast
}

// Shortfall returns what the event lacks: seats for the participants beyond
// those assigned, and the modules it uses that it was not assigned (sorted).
// An event with more seats than participants lacks none; surplus seats stay
// with it (transfers are final).
func Shortfall(e Event) (seats int64, modules []string) {
	if e.Participants > e.SeatsAssigned {
		seats = e.Participants - e.SeatsAssigned
	}
	for _, m := range e.Modules {
		if !slices.Contains(e.ModulesAssigned, m) {
			modules = append(modules, m)
		}
	}
	return seats, modules
}

// Assignment is seats the consumption check transfers to one event.
type Assignment struct {
	Event string
	Seats int64 // seats transferred
	// Reached is the event's SeatsAssigned after the transfer; with the
	// event it names the transfer, so the same assignment is never made
	// twice.
	Reached int64
}

// Covered reports whether the check covers the event at now: live and past
// events, whose participants have joined, but not upcoming ones, whose
// registrations may still fall, since assigned seats never return.
func Covered(e Event, now time.Time) bool { return StatusAt(e, now) != StatusUpcoming }

// PlanConsumption decides which seats the consumption check assigns, given
// the events and the seats available in the pool. Events are taken in order
// of Start, then ID; each covered event lacking seats gets what it lacks
// while the pool lasts. When the pool runs short, the event at which it runs
// out gets what is left (a partial assignment) and later events get nothing:
// the earliest events are served first. Modules are never assigned.
func PlanConsumption(now time.Time, events []Event, available int64) []Assignment {
	if !slices.IsSortedFunc(events, compareEvents) {
		events = slices.Clone(events)
		slices.SortFunc(events, compareEvents)
	}
	var plan []Assignment
	for _, e := range events {
		if available <= 0 {
			break
		}
		if !Covered(e, now) {
			continue
		}
		need, _ := Shortfall(e)
		if need == 0 {
			continue
		}
		n := min(need, available)
		available -= n
		plan = append(plan, Assignment{Event: e.ID, Seats: n, Reached: e.SeatsAssigned + n})
	}
	return plan
}

// compareEvents orders events by Start, then ID: the order of every listing
// and of the consumption check.
func compareEvents(a, b Event) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// normalizeModules returns the names sorted, each once; nil for none.
func normalizeModules(ms []string) []string {
	if len(ms) == 0 {
		return nil
	}
	ms = slices.Clone(ms)
	slices.Sort(ms)
	return slices.Compact(ms)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
