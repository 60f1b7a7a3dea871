package events

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot"
)

// The event types, one for every act the three products describe. Each
// names its payload type.
const (
	// passes (ThinkTank's session passes)
	PassesPurchased    Type = "passes.purchased"      // allot.Purchase: the vendor added passes
	PassesAdmitted     Type = "passes.guest_admitted" // GuestAdmitted: a login was allowed, charged or inside a window
	PassesLoginRefused Type = "passes.login_refused"  // LoginRefused: a login was refused, with its reason
	PassesDemoOpened   Type = "passes.demo_opened"    // DemoOpened: a demo session's first login opened it
	PassesDemoLocked   Type = "passes.demo_locked"    // DemoLocked: a demo session's open period ended; At is when

	// seats (SpotMe's Entitlements)
	SeatsPurchased     Type = "seats.purchased"      // allot.Purchase: the vendor added seats or a module
	SeatsTransferred   Type = "seats.transferred"    // Transferred: an Entitlement manager moved seats or a module
	SeatsAssigned      Type = "seats.assigned"       // Transferred: the consumption check moved seats
	SeatsEventLacking  Type = "seats.event_lacking"  // EventLacking: an event started lacking seats or modules
	SeatsEventCovered  Type = "seats.event_covered"  // EventCovered: an event no longer lacks anything
	SeatsModuleMissing Type = "seats.module_missing" // ModuleMissing: an event uses a module it was not given

	// licenses (Powtoon's license page)
	LicensesPurchased         Type = "licenses.purchased"          // allot.Purchase: the vendor added licenses
	LicensesReduced           Type = "licenses.reduced"            // allot.Purchase: the vendor took licenses away
	LicensesInvited           Type = "licenses.invited"            // Member: a person was invited to a team
	LicensesAccepted          Type = "licenses.accepted"           // Member: an invitation was accepted
	LicensesInvitationExpired Type = "licenses.invitation_expired" // Member: an invitation expired; At is when
	LicensesRemovedFromTeam   Type = "licenses.removed_from_team"  // Member: a member left one team
	LicensesUnassigned        Type = "licenses.unassigned"         // Member: a member left its last team and keeps its license
	LicensesDeleted           Type = "licenses.deleted"            // Member: a member was deleted and its license freed
	LicensesReassigned        Type = "licenses.reassigned"         // Reassigned: a license moved from one person to another
	LicensesRequested         Type = "licenses.requested"          // LicenseRequest: an admin asked the vendor for more

	// every family
	PoolThreshold Type = "pool.threshold_crossed" // Threshold: a pool's use crossed a threshold, up or down
)

// GuestAdmitted is a login a passes session allowed.
type GuestAdmitted struct {
	Session  string
	Guest    string
	PassType string
	Passes   int64 // passes spent: 0 inside a window or in a demo
	InWindow bool  // the guest already had access
	Until    time.Time
	Balance  int64 // the workspace's balance after the login
}

// LoginRefused is a login a passes session refused; nothing else changed.
type LoginRefused struct {
	Session string
	Guest   string
	Reason  string // the refusal's reason, e.g. "insufficient_passes", "demo_locked"
	Balance int64
}

// DemoOpened is the first login of a demo session, which opens it.
type DemoOpened struct {
	Session string
	LocksAt time.Time
}

// DemoLocked is the end of a demo session's open period. It is written by
// the first login that finds the session locked; the event's At is LockedAt.
type DemoLocked struct {
	Session  string
	LockedAt time.Time
}

// Transferred is seats or a module moved from an organization's pool to one
// of its events.
type Transferred struct {
	Event     string
	Product   string // "seat" or "module:<name>"
	Quantity  int64
	Available int64 // left in the pool after it
	Assigned  int64 // the event's units of Product after it
}

// EventLacking is an event that lacks entitlements: seats for its
// participants, or modules it uses.
type EventLacking struct {
	Event   string
	Seats   int64    // seats it lacks
	Modules []string // modules it uses and was not given, sorted
}

// EventCovered is an event that no longer lacks anything.
type EventCovered struct {
	Event string
}

// ModuleMissing is an event using a module it was not given.
type ModuleMissing struct {
	Event  string
	Module string
}

// Member is a licenses member as an act left it.
type Member struct {
	Email     string
	State     string // "pending", "active", "unassigned", "expired", "deleted"
	Teams     []string
	Team      string    // the team the act was about, if any
	ExpiresAt time.Time // a pending invitation's end; zero: none
	// Counts of the organization right after the act.
	Purchased, Available, Pending, Active, Unassigned int64
}

// Reassigned is a license moved from a deleted member to an invited person.
type Reassigned struct {
	From, To Member
}

// LicenseRequest is an organization admin asking the vendor for more
// licenses (Powtoon's "+ Add licenses", which e-mails the vendor).
type LicenseRequest struct {
	Quantity int64
	Note     string
}

// Threshold is a pool's use crossing a threshold: Percent of Purchased is
// in use (Used), going Up or down. The families emit it for every pool:
// passes' balance, each seats product, licenses.
type Threshold struct {
	Product   string
	Percent   int
	Up        bool
	Used      int64
	Purchased int64
}

// payloads gives each known type's payload, as a zero value.
var payloads = map[Type]func() any{
	PassesPurchased:           func() any { return allot.Purchase{} },
	PassesAdmitted:            func() any { return GuestAdmitted{} },
	PassesLoginRefused:        func() any { return LoginRefused{} },
	PassesDemoOpened:          func() any { return DemoOpened{} },
	PassesDemoLocked:          func() any { return DemoLocked{} },
	SeatsPurchased:            func() any { return allot.Purchase{} },
	SeatsTransferred:          func() any { return Transferred{} },
	SeatsAssigned:             func() any { return Transferred{} },
	SeatsEventLacking:         func() any { return EventLacking{} },
	SeatsEventCovered:         func() any { return EventCovered{} },
	SeatsModuleMissing:        func() any { return ModuleMissing{} },
	LicensesPurchased:         func() any { return allot.Purchase{} },
	LicensesReduced:           func() any { return allot.Purchase{} },
	LicensesInvited:           func() any { return Member{} },
	LicensesAccepted:          func() any { return Member{} },
	LicensesInvitationExpired: func() any { return Member{} },
	LicensesRemovedFromTeam:   func() any { return Member{} },
	LicensesUnassigned:        func() any { return Member{} },
	LicensesDeleted:           func() any { return Member{} },
	LicensesReassigned:        func() any { return Reassigned{} },
	LicensesRequested:         func() any { return LicenseRequest{} },
	PoolThreshold:             func() any { return Threshold{} },
}

// payloadTypes gives each known type's payload type.
var payloadTypes = func() map[Type]reflect.Type {
	m := make(map[Type]reflect.Type, len(payloads))
	for t, mk := range payloads {
		m[t] = reflect.TypeOf(mk())
	}
	return m
}()

// jsonAppender is a payload that appends its own JSON, as json.Marshal
// would write it, or reports false for a value it leaves to json.Marshal.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, bool)
}

// appendJSON appends g as json.Marshal writes it, for a login's event on
// the hot path; false for a string that is not valid UTF-8 or a time
// json.Marshal refuses, which json.Marshal handles.
func (g GuestAdmitted) appendJSON(b []byte) ([]byte, bool) {
	if g.Until.Year() < 0 || g.Until.Year() > 9999 {
		return nil, false
	}
	b = append(b, `{"Session":`...)
	b, ok1 := appendString(b, g.Session)
	b = append(b, `,"Guest":`...)
	b, ok2 := appendString(b, g.Guest)
	b = append(b, `,"PassType":`...)
	b, ok3 := appendString(b, g.PassType)
	b = append(b, `,"Passes":`...)
	b = strconv.AppendInt(b, g.Passes, 10)
	b = append(b, `,"InWindow":`...)
	b = strconv.AppendBool(b, g.InWindow)
	b = append(b, `,"Until":"`...)
	b = g.Until.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","Balance":`...)
	b = strconv.AppendInt(b, g.Balance, 10)
	b = append(b, '}')
	return b, ok1 && ok2 && ok3
}

// appendJSON appends t as json.Marshal writes it, for a seat transfer's
// event on the hot path; false for a string that is not valid UTF-8, which
// json.Marshal handles.
func (t Transferred) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"Event":`...)
	b, ok1 := appendString(b, t.Event)
	b = append(b, `,"Product":`...)
	b, ok2 := appendString(b, t.Product)
	b = append(b, `,"Quantity":`...)
	b = strconv.AppendInt(b, t.Quantity, 10)
	b = append(b, `,"Available":`...)
	b = strconv.AppendInt(b, t.Available, 10)
	b = append(b, `,"Assigned":`...)
	b = strconv.AppendInt(b, t.Assigned, 10)
	b = append(b, '}')
	return b, ok1 && ok2
}

// appendString appends s as a JSON string; false if s is not valid UTF-8.
func appendString(b []byte, s string) ([]byte, bool) {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return b, false
			}
			if r == '\u2028' || r == '\u2029' {
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n - 1
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), true
}

// Types returns every event type this version knows, sorted.
func Types() []Type {
	out := make([]Type, 0, len(payloads))
	for t := range payloads {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func reflectNew(v any) any  { return reflect.New(reflect.TypeOf(v)).Interface() }
func reflectElem(p any) any { return reflect.ValueOf(p).Elem().Interface() }

// Clone returns e with its payload's slices copied, so that the event no
// longer shares memory with the records it was made from: a store that
// keeps events as Go values keeps clones.
func (e Event) Clone() Event {
	switch p := e.Payload.(type) {
	case EventLacking:
		p.Modules = slices.Clone(p.Modules)
		e.Payload = p
	case Member:
		p.Teams = slices.Clone(p.Teams)
		e.Payload = p
	case Reassigned:
		p.From.Teams, p.To.Teams = slices.Clone(p.From.Teams), slices.Clone(p.To.Teams)
		e.Payload = p
	case json.RawMessage:
		e.Payload = slices.Clone(p)
	case []byte:
		e.Payload = slices.Clone(p)
	}
	return e
}
