package passes

import (
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/input"
)

// State is what a policy decides from: the session, the guest (normalised
// e-mail), the guest's current access window to the session (zero if the
// guest never had one) and the session's first allowed guest login (zero if
// none yet).
type State struct {
	Session    Session
	Guest      string
	Access     Access
	FirstLogin time.Time
}

// Policy is a pass type's rule: what a guest's login at now costs and what
// access it grants. Decide must be a pure function of its arguments (no
// clock, no storage), so it can be table-tested and so a retried transaction
// decides the same way.
//
// An allowed decision must set AccessUntil after now and Passes to zero or
// more; a refusal must set a Reason. The service checks the workspace's
// balance against Passes and spends them; a policy never sees the balance.
//
// Implementations must be safe for concurrent use (the built-ins are values
// without state).
type Policy interface {
	Decide(now time.Time, st State) Decision
}

// PolicyFunc adapts a function to a Policy.
type PolicyFunc func(now time.Time, st State) Decision

// Decide calls f(now, st).
func (f PolicyFunc) Decide(now time.Time, st State) Decision { return f(now, st) }

// Window is the policy "a login costs Cost passes and gives the guest
// Duration of access; a login inside the guest's window costs nothing". The
// built-in DayPass and MonthPass are Windows; a service defines its own pass
// type of this shape with a Window of its own, e.g. Window{Cost: 5, Duration:
// 7 * 24 * time.Hour} for a week.
type Window struct {
	Cost     int64
	Duration time.Duration
}

// Decide implements Policy.
func (w Window) Decide(now time.Time, st State) Decision {
	if st.Access.Covers(now) {
		return Decision{Allowed: true, InWindow: true, AccessFrom: st.Access.Start, AccessUntil: st.Access.Until}
	}
	return Decision{Allowed: true, Passes: w.Cost, AccessFrom: now, AccessUntil: now.Add(w.Duration)}
}

// Demo is the policy of a demonstration session: logins cost nothing, and the
// session is open for Open from its first guest login, then locked for
// everyone. While open, every activity title is marked (see DecorateTitle).
type Demo struct {
	Open time.Duration
}

// Decide implements Policy.
func (p Demo) Decide(now time.Time, st State) Decision {
	first := st.FirstLogin
	if first.IsZero() {
		first = now
	}
	locks := first.Add(p.Open)
	if !now.Before(locks) {
		return Decision{
			Reason:  ReasonDemoLocked,
			Demo:    true,
			LocksAt: locks,
			Detail:  fmt.Sprintf("demo session %q locked at %s, %s after its first guest login; make it a paid session to go on", st.Session.ID, fmtTime(locks), p.Open),
		}
	}
	from := now
	if st.Access.Covers(now) {
		from = st.Access.Start
	}
	return Decision{Allowed: true, Demo: true, InWindow: st.Access.Covers(now), AccessFrom: from, AccessUntil: locks, LocksAt: locks}
}

// The built-in policies.
var (
	// DayPolicy is DayPass's: 1 pass for 24 hours of access.
	DayPolicy Policy = Window{Cost: 1, Duration: 24 * time.Hour}
	// MonthPolicy is MonthPass's: 2 passes for 30 days (720 hours) of access.
	MonthPolicy Policy = Window{Cost: 2, Duration: 720 * time.Hour}
	// DemoPolicy is DemoPass's: free, open 4 hours from the first login.
	DemoPolicy Policy = Demo{Open: 4 * time.Hour}
)

// Reason says why a login was refused.
type Reason string

const (
	// ReasonInsufficientPasses: the login costs more passes than the
	// workspace's balance holds (ErrInsufficientPasses).
	ReasonInsufficientPasses Reason = "insufficient_passes"
	// ReasonDemoLocked: the demo session's open period is over
	// (ErrDemoLocked).
	ReasonDemoLocked Reason = "demo_locked"
	// ReasonUnknownSession: the workspace has no session with that ID
	// (ErrUnknownSession).
	ReasonUnknownSession Reason = "unknown_session"
	// ReasonMalformedGuest: the guest is not an e-mail address
	// (ErrMalformedGuest).
	ReasonMalformedGuest Reason = "malformed_guest"
	// ReasonUnknownField: the login gives a value for a custom field the
	// workspace does not have (ErrUnknownField).
	ReasonUnknownField Reason = "unknown_field"
	// ReasonMissingField: a required custom field has no value, from the
	// session or the login (ErrMissingField).
	ReasonMissingField Reason = "missing_field"
)

// Decision is the outcome of a login, and explains itself (String).
//
// The zero Decision is a refusal without a reason.
type Decision struct {
	Allowed  bool
	Reason   Reason // why it was refused; empty when allowed
	Detail   string // the refusal in words, with what to do; empty when allowed
	PassType PassType

	Passes   int64 // passes this login spent; 0 when refused
	InWindow bool  // the guest already had access: nothing new was granted

	// AccessFrom and AccessUntil are the guest's access window [from, until)
	// after this login; zero when refused.
	AccessFrom  time.Time
	AccessUntil time.Time

	// Demo marks a demonstration session; LocksAt is when it locks (or
	// locked) for everyone.
	Demo    bool
	LocksAt time.Time

	// Balance is the workspace's balance after the login; on a refusal for
	// lack of passes, the balance that was not enough. Set by the service.
	Balance int64
}

// String explains the decision in one line.
func (d Decision) String() string {
	var b strings.Builder
	if !d.Allowed {
		fmt.Fprintf(&b, "refused (%s)", d.Reason)
		if d.Detail != "" {
			b.WriteString(": ")
			b.WriteString(d.Detail)
		}
		return b.String()
	}
	b.WriteString("allowed")
	switch {
	case d.Demo:
		fmt.Fprintf(&b, ": demo session, nothing spent, open until %s", fmtTime(d.LocksAt))
	case d.InWindow:
		fmt.Fprintf(&b, ": inside the guest's access window, nothing spent, access until %s", fmtTime(d.AccessUntil))
	default:
		fmt.Fprintf(&b, ": %s spent, access until %s", plural(d.Passes), fmtTime(d.AccessUntil))
	}
	fmt.Fprintf(&b, "; balance %d", d.Balance)
	return b.String()
}

// DemoMark is what DecorateTitle adds to an activity title of an open demo
// session.
const DemoMark = "Demonstration Use Only"

// DecorateTitle returns title as an activity of the session the decision
// admitted to should show it: marked "Demonstration Use Only" when the
// decision admits to an open demo session, unchanged otherwise. A title
// already marked is not marked twice.
func DecorateTitle(d Decision, title string) string {
	if !d.Allowed || !d.Demo || strings.HasSuffix(title, "("+DemoMark+")") {
		return title
	}
	if title == "" {
		return "(" + DemoMark + ")"
	}
	return title + " (" + DemoMark + ")"
}

// check validates what a policy returned and fills in what the service owns.
func check(now time.Time, pt PassType, d Decision) (Decision, error) {
	d.PassType = pt
	if !d.Allowed {
		if d.Reason == "" {
			return d, fmt.Errorf("%w: pass type %q refused a login without a reason", ErrPolicy, pt)
		}
		d.Passes, d.InWindow, d.AccessFrom, d.AccessUntil = 0, false, time.Time{}, time.Time{}
		return d, nil
	}
	switch {
	case d.Passes < 0:
		return d, fmt.Errorf("%w: pass type %q asked for %d passes", ErrPolicy, pt, d.Passes)
	case !d.AccessUntil.After(now):
		return d, fmt.Errorf("%w: pass type %q allowed a login with access until %s, not after now (%s)", ErrPolicy, pt, fmtTime(d.AccessUntil), fmtTime(now))
	}
	d.Reason, d.Detail = "", ""
	if d.AccessFrom.IsZero() {
		d.AccessFrom = now
	}
	return d, nil
}

// normalizeGuest returns the canonical form of an e-mail address (see
// input.Email: trimmed, a plain address net/mail accepts, Unicode case
// folded), the form guests are compared and logged in, or false.
func normalizeGuest(s string) (string, bool) {
	g, r := input.Email(s)
	return g, r == ""
}

// mergeFields validates a login's custom field values against the
// workspace's definitions and returns the row's values in field order: the
// login's value, else the session's. A name that is not defined is an
// *FieldError (unknown); a required field without a value is one too
// (missing). When the values are the session's own, in order, the result
// shares session's memory.
func mergeFields(defs []FieldDef, session []FieldValue, login map[string]string) ([]FieldValue, error) {
	for name := range login {
		if !hasField(defs, name) {
			return nil, &FieldError{Name: name, Unknown: true}
		}
	}
	for _, f := range session {
		if !hasField(defs, f.Name) {
			return nil, &FieldError{Name: f.Name, Unknown: true}
		}
	}
	var out []FieldValue // nil while the values so far are session's own, in order
	for i, f := range defs {
		v, ok := login[f.Name]
		if !ok {
			v = fieldValue(session, i, f.Name)
		}
		if f.Required && v == "" {
			return nil, &FieldError{Name: f.Name}
		}
		if out == nil {
			if i < len(session) && session[i] == (FieldValue{Name: f.Name, Value: v}) {
				continue
			}
			out = make([]FieldValue, len(defs))
			copy(out, session[:i])
		}
		out[i] = FieldValue{Name: f.Name, Value: v}
	}
	if out == nil && len(defs) > 0 {
		// The session has a value of every field and the login overrides
		// none: the row's values are the session's, with no copy.
		return session[:len(defs)], nil
	}
	return out, nil
}

func hasField(defs []FieldDef, name string) bool {
	for _, f := range defs {
		if f.Name == name {
			return true
		}
	}
	return false
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func plural(n int64) string {
	if n == 1 {
		return "1 pass"
	}
	return fmt.Sprintf("%d passes", n)
}
