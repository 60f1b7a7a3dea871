package passes

import (
	"time"
)

// PassType names a session's policy. The built-in ones are DayPass (the
// default), MonthPass and DemoPass; Options.Policies adds more.
type PassType string

const (
	// DayPass: a login spends 1 pass and gives the guest 24 hours of access
	// to the session; logins inside the window spend nothing.
	DayPass PassType = "day"
	// MonthPass: a login spends 2 passes and gives the guest 30 days (720
	// hours) of unlimited access to the session.
	MonthPass PassType = "30days"
	// DemoPass: logins spend nothing; the session is open for 4 hours from
	// its first guest login and locked for everyone after.
	DemoPass PassType = "demo"
)

// Session is a meeting guests log in to. It belongs to one workspace and has
// one pass type.
//
// The caller sets everything but FirstLogin and CreatedAt. The zero PassType
// means DayPass; a zero External means the session is internal. Fields holds
// the session's values of the workspace's custom fields, each name at most
// once (nil and empty are the same; the service stores them in the
// workspace's field order); a login may add to them or override them.
type Session struct {
	ID   string
	Org  string
	Name string
	// Owner is the e-mail address of the person who created the session,
	// shown as the session owner in the usage log. The caller gives it
	// (an empty Owner is invalid) and it is stored in its canonical form.
	Owner    string
	External bool // billed as external; false: internal
	PassType PassType
	Fields   []FieldValue

	// Set by the service.
	CreatedAt  time.Time
	FirstLogin time.Time // the session's first allowed guest login; zero until then
}

// FieldDef is one custom field of a workspace's usage log, e.g. "Note" or
// "Reference". A workspace's fields keep the order they were defined in: it is
// the order of the log's columns.
type FieldDef struct {
	Org  string
	Name string
	// Required fields must have a value at every login, from the session or
	// from the login request.
	Required bool
	// Position is the field's place in the workspace's order, from 0; set by
	// the service.
	Position int
}

// FieldValue is the value of one custom field in a usage log row.
type FieldValue struct {
	Name  string
	Value string
}

// Access is a guest's access window to a session: [Start, Until). A login
// before Until is inside the window (a clock that reads before Start, after a
// correction, does not make the guest pay again).
type Access struct {
	Org     string
	Session string
	Guest   string // normalised e-mail
	Start   time.Time
	Until   time.Time
}

// Covers reports whether a login at now is inside the window.
func (a Access) Covers(now time.Time) bool {
	return !a.Until.IsZero() && now.Before(a.Until)
}

// Usage is one row of a workspace's usage log: one allowed login, written in
// the same transaction as the passes it spent.
//
// Logins that spend nothing (inside an access window, or to a demo session)
// are rows too, with Passes 0 and BalanceAfter the balance at that moment:
// they are accesses the administrator wants to see. Refused logins are not
// rows: a refusal changes nothing.
type Usage struct {
	Seq       int64 // the row's place in the log, set by the store; increasing
	Org       string
	RequestID string
	At        time.Time // when the login happened (the spend's PostedAt when it spent)

	Session     string
	SessionName string
	External    bool
	Location    string
	User        string // the guest's normalised e-mail
	Owner       string // the session owner's e-mail
	PassType    PassType

	Passes int64 // passes this login spent: 0, 1 or 2 with the built-in types
	// BalanceAfter is the workspace's balance after this login: the spend's
	// ledger balance, or for a row that spent nothing the balance its
	// transaction read. Spending rows take the balance account's lock, so on
	// every store their BalanceAfter follows Seq; a row that spent nothing
	// takes no lock, so on a store that runs transactions concurrently it may
	// show the balance from just before a spend that committed alongside it.
	BalanceAfter int64
	// Transfer is the ledger transfer that spent the passes; empty when
	// nothing was spent.
	Transfer string

	// Fields are the custom field values, in the workspace's field order.
	Fields []FieldValue

	// The rest of the login's decision, so a retry returns it unchanged.
	InWindow    bool
	AccessFrom  time.Time
	AccessUntil time.Time
	Demo        bool
	LocksAt     time.Time
}

// Decision returns the decision the login of u received.
func (u Usage) Decision() Decision {
	return Decision{
		Allowed:     true,
		PassType:    u.PassType,
		Passes:      u.Passes,
		InWindow:    u.InWindow,
		AccessFrom:  u.AccessFrom,
		AccessUntil: u.AccessUntil,
		Demo:        u.Demo,
		LocksAt:     u.LocksAt,
		Balance:     u.BalanceAfter,
	}
}
