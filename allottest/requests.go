package allottest

import (
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"pgregory.net/rapid"
)

// PassWindows are the durations at which the passes rules change their
// answer: the day pass's window (24 hours), the month pass's (30 days) and
// the time a demo stays open (4 hours).
var PassWindows = []time.Duration{24 * time.Hour, 720 * time.Hour, 4 * time.Hour}

// InvitationExpiry is the lifetime the invitation generators give an
// invitation that expires: a week from when it is drawn, give or take the
// edges TimeAround draws. Elapse(InvitationExpiry) crosses it.
const InvitationExpiry = 7 * 24 * time.Hour

// RequestID draws the ID of a new request: a prefix that needs escaping
// in ledger IDs (or none) and the harness's next number, so no two draws of
// one harness are equal, and a test case drawn again (as rapid does when it
// shrinks) draws the same IDs. A retry is the same request sent again, with
// the ID it was drawn with.
func (h *Harness) RequestID() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		prefix := rapid.SampledFrom([]string{"r", "req/", "50%", "ü-", "日"}).Draw(t, "request prefix")
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests++
		return prefix + itoa(h.requests)
	})
}

// Elapse draws a time to advance a clock by, biased to where the rules
// change: each of edges (PassWindows when none are given) exactly, or a
// microsecond, a second, a minute or an hour either side of it, or any
// time up to the longest edge; never negative.
func Elapse(edges ...time.Duration) *rapid.Generator[time.Duration] {
	if len(edges) == 0 {
		edges = PassWindows
	}
	longest := edges[0]
	for _, e := range edges {
		longest = max(longest, e)
	}
	return rapid.OneOf(
		rapid.Custom(func(t *rapid.T) time.Duration {
			edge := rapid.SampledFrom(edges).Draw(t, "edge")
			step := rapid.SampledFrom([]time.Duration{0, -time.Microsecond, time.Microsecond,
				-time.Second, time.Second, -time.Minute, time.Minute, -time.Hour, time.Hour}).Draw(t, "step")
			return max(edge+step, 0)
		}),
		rapid.Map(rapid.Int64Range(0, int64(longest/time.Second)), func(s int64) time.Duration {
			return time.Duration(s) * time.Second
		}),
	)
}

// CanonicalEmail returns address in the one form every family compares
// and stores e-mail addresses in (trimmed, Unicode simple case folding), so
// a test's model keys guests and members as allot does; "" if address is
// not one.
func CanonicalEmail(address string) string {
	canon, reason := input.Email(address)
	if reason != "" {
		return ""
	}
	return canon
}

// pick draws one of some, or from gen when some is empty.
func pick(t *rapid.T, label string, some []string, gen *rapid.Generator[string]) string {
	if len(some) == 0 {
		return gen.Draw(t, label)
	}
	return rapid.SampledFrom(some).Draw(t, label)
}

// anEmail draws one of emails in any of its spellings (SameEmail), or any
// address when emails is empty.
func anEmail(t *rapid.T, label string, emails []string) string {
	if len(emails) == 0 {
		return Email().Draw(t, label)
	}
	return SameEmail(rapid.SampledFrom(emails).Draw(t, label)).Draw(t, label+" spelling")
}

// anActor draws actor, in another spelling if it is an e-mail address.
func anActor(t *rapid.T, actor string) string {
	if !strings.Contains(actor, "@") {
		return actor
	}
	return SameEmail(actor).Draw(t, "actor")
}

// --- passes ---

// PassType draws one of the built-in pass types.
func PassType() *rapid.Generator[passes.PassType] {
	return rapid.SampledFrom([]passes.PassType{passes.DayPass, passes.MonthPass, passes.DemoPass})
}

// PassesPurchase draws a purchase of 1 to 100 passes for org, recorded by
// Billing under a subscription or none, with a new RequestID.
func (h *Harness) PassesPurchase(org string) *rapid.Generator[passes.PurchaseParams] {
	return rapid.Custom(func(t *rapid.T) passes.PurchaseParams {
		return passes.PurchaseParams{
			Org:          org,
			Actor:        Billing,
			Quantity:     Quantity(100).Draw(t, "quantity"),
			Subscription: rapid.SampledFrom([]string{"", "sub-1", "sub-2"}).Draw(t, "subscription"),
			RequestID:    h.RequestID().Draw(t, "request"),
		}
	})
}

// Session draws the creation of a session of workspace by WorkspaceAdmin,
// with one of ids (any ID when ids is empty), a built-in pass type, and an
// owner's e-mail address, or none: the owner is then WorkspaceAdmin.
func (h *Harness) Session(workspace string, ids []string) *rapid.Generator[passes.CreateSessionParams] {
	return rapid.Custom(func(t *rapid.T) passes.CreateSessionParams {
		return passes.CreateSessionParams{
			Actor:    WorkspaceAdmin,
			ID:       pick(t, "session", ids, ID()),
			Org:      workspace,
			Name:     rapid.SampledFrom([]string{"Kick-off", "Weekly", "Démo 日本"}).Draw(t, "name"),
			Owner:    rapid.OneOf(Email(), rapid.Just("")).Draw(t, "owner"),
			External: rapid.Bool().Draw(t, "external"),
			PassType: PassType().Draw(t, "pass type"),
		}
	})
}

// LoginRequest draws a login to workspace: one of sessions (any ID when
// empty) by one of guests (any address when empty), the guest spelt in any
// of its case and Unicode variants with white space around, at a location
// or none, with a new RequestID.
func (h *Harness) LoginRequest(workspace string, sessions, guests []string) *rapid.Generator[passes.LoginParams] {
	return rapid.Custom(func(t *rapid.T) passes.LoginParams {
		return passes.LoginParams{
			Org:       workspace,
			Session:   pick(t, "session", sessions, ID()),
			Guest:     anEmail(t, "guest", guests),
			Location:  rapid.SampledFrom([]string{"", "Zürich", "room 1", "=cmd"}).Draw(t, "location"),
			RequestID: h.RequestID().Draw(t, "request"),
		}
	})
}

// MalformedLoginRequest draws a LoginRequest with one part broken: the
// workspace, the session or the request ID is not an ID, the location is
// not text, or the guest is not an e-mail address. Login refuses it and
// changes nothing: a malformed guest is a refusal matching
// passes.ErrMalformedGuest, anything else an error matching
// passes.ErrInvalid.
func (h *Harness) MalformedLoginRequest(workspace string, sessions, guests []string) *rapid.Generator[passes.LoginParams] {
	return rapid.Custom(func(t *rapid.T) passes.LoginParams {
		r := h.LoginRequest(workspace, sessions, guests).Draw(t, "login")
		switch rapid.SampledFrom([]string{"workspace", "session", "request", "location", "guest"}).Draw(t, "broken") {
		case "workspace":
			r.Org = MalformedID().Draw(t, "workspace")
		case "session":
			r.Session = MalformedID().Draw(t, "session")
		case "request":
			r.RequestID = MalformedID().Draw(t, "request")
		case "location":
			r.Location = rapid.SampledFrom([]string{"nul\x00", "bad\xffutf8"}).Draw(t, "location")
		case "guest":
			r.Guest = MalformedEmail().Draw(t, "guest")
		}
		return r
	})
}

// --- seats ---

// SeatsPurchase draws a purchase of one of products (Seats when none are
// given) for org: 1 to 100 units, recorded by Billing, with a new
// RequestID.
func (h *Harness) SeatsPurchase(org string, products ...seats.Product) *rapid.Generator[seats.PurchaseParams] {
	if len(products) == 0 {
		products = []seats.Product{seats.Seats}
	}
	return rapid.Custom(func(t *rapid.T) seats.PurchaseParams {
		return seats.PurchaseParams{
			Org:          org,
			Product:      rapid.SampledFrom(products).Draw(t, "product"),
			Quantity:     Quantity(100).Draw(t, "quantity"),
			Subscription: rapid.SampledFrom([]string{"sub-1", "sub-2"}).Draw(t, "subscription"),
			Actor:        Billing,
			RequestID:    h.RequestID().Draw(t, "request"),
		}
	})
}

// CreateEventParams draws an event of org, created by actor (in another
// spelling if it is an e-mail address), with one of ids (any ID when
// empty) that starts around the clock's now (within two days, often
// exactly at now or a second either side, so it is live or past at once)
// and lasts 1 hour to 3 days, with 0 to 100 participants and some of
// modules in use.
func (h *Harness) CreateEventParams(org, actor string, ids, modules []string) *rapid.Generator[seats.CreateEventParams] {
	return rapid.Custom(func(t *rapid.T) seats.CreateEventParams {
		start := TimeAround(h.Now(), 48*time.Hour).Draw(t, "start")
		var use []string
		for _, m := range modules {
			if rapid.Bool().Draw(t, "uses "+m) {
				use = append(use, m)
			}
		}
		return seats.CreateEventParams{
			Org:          org,
			Actor:        anActor(t, actor),
			ID:           pick(t, "event", ids, ID()),
			Name:         rapid.SampledFrom([]string{"Summit", "Kick-off", "Zürich 日"}).Draw(t, "name"),
			Start:        start,
			End:          start.Add(rapid.SampledFrom([]time.Duration{time.Hour, 4 * time.Hour, 24 * time.Hour, 72 * time.Hour}).Draw(t, "length")),
			Participants: rapid.Int64Range(0, 100).Draw(t, "participants"),
			Modules:      use,
		}
	})
}

// TransferSeatsParams draws a transfer of 1 to 50 seats to one of events (any ID
// when empty) of org by actor (in another spelling if it is an e-mail
// address), with a new RequestID.
func (h *Harness) TransferSeatsParams(org, actor string, events []string) *rapid.Generator[seats.TransferSeatsParams] {
	return rapid.Custom(func(t *rapid.T) seats.TransferSeatsParams {
		return seats.TransferSeatsParams{
			Org:       org,
			Actor:     anActor(t, actor),
			Event:     pick(t, "event", events, ID()),
			Quantity:  Quantity(50).Draw(t, "quantity"),
			RequestID: h.RequestID().Draw(t, "request"),
		}
	})
}

// TransferModuleParams draws a transfer of one of modules to one of events (any
// ID when either is empty) of org by actor, with a new RequestID.
func (h *Harness) TransferModuleParams(org, actor string, events, modules []string) *rapid.Generator[seats.TransferModuleParams] {
	return rapid.Custom(func(t *rapid.T) seats.TransferModuleParams {
		return seats.TransferModuleParams{
			Org:       org,
			Actor:     anActor(t, actor),
			Event:     pick(t, "event", events, ID()),
			Module:    pick(t, "module", modules, ID()),
			RequestID: h.RequestID().Draw(t, "request"),
		}
	})
}

// MalformedTransferSeatsParams draws a TransferSeatsParams with one part broken: the
// organization, the event or the request ID is not an ID, or the quantity
// is zero or negative. TransferSeats refuses it with an error matching
// seats.ErrInvalid and changes nothing.
func (h *Harness) MalformedTransferSeatsParams(org, actor string, events []string) *rapid.Generator[seats.TransferSeatsParams] {
	return rapid.Custom(func(t *rapid.T) seats.TransferSeatsParams {
		r := h.TransferSeatsParams(org, actor, events).Draw(t, "transfer")
		switch rapid.SampledFrom([]string{"org", "event", "request", "quantity"}).Draw(t, "broken") {
		case "org":
			r.Org = MalformedID().Draw(t, "org")
		case "event":
			r.Event = MalformedID().Draw(t, "event")
		case "request":
			r.RequestID = MalformedID().Draw(t, "request")
		case "quantity":
			r.Quantity = MalformedQuantity().Draw(t, "quantity")
		}
		return r
	})
}

// --- licenses ---

// LicensesPurchase draws a purchase of 1 to 10 licenses for org by actor,
// with a new RequestID.
func (h *Harness) LicensesPurchase(org, actor string) *rapid.Generator[licenses.PurchaseParams] {
	return rapid.Custom(func(t *rapid.T) licenses.PurchaseParams {
		return licenses.PurchaseParams{
			Org:       org,
			Actor:     anActor(t, actor),
			RequestID: h.RequestID().Draw(t, "request"),
			Quantity:  Quantity(10).Draw(t, "quantity"),
		}
	})
}

// expiry draws an invitation's expiry: never, or InvitationExpiry from
// now give or take TimeAround's edges, and always after now.
func expiry(t *rapid.T, now time.Time) time.Time {
	if rapid.Bool().Draw(t, "never expires") {
		return time.Time{}
	}
	at := TimeAround(now.Add(InvitationExpiry), InvitationExpiry-time.Second).Draw(t, "expires")
	if !at.After(now) {
		at = now.Add(time.Microsecond)
	}
	return at
}

// InviteParams draws an invitation by actor of one of emails (any address
// when empty; in any spelling) to one of teams (any ID when empty) of org,
// made at the clock's now: it never expires, or expires around
// InvitationExpiry after now. Each has a new RequestID.
func (h *Harness) InviteParams(org, actor string, teams, emails []string) *rapid.Generator[licenses.InviteParams] {
	return rapid.Custom(func(t *rapid.T) licenses.InviteParams {
		return licenses.InviteParams{
			Org:       org,
			Team:      pick(t, "team", teams, ID()),
			Email:     anEmail(t, "email", emails),
			Actor:     anActor(t, actor),
			RequestID: h.RequestID().Draw(t, "request"),
			ExpiresAt: expiry(t, h.Now()),
		}
	})
}

// AcceptParams draws the acceptance of an invitation to org by one of
// emails, the invitee acting, each spelt in any of its variants.
func (h *Harness) AcceptParams(org string, emails []string) *rapid.Generator[licenses.AcceptParams] {
	return rapid.Custom(func(t *rapid.T) licenses.AcceptParams {
		e := pick(t, "email", emails, Email())
		return licenses.AcceptParams{
			Org:   org,
			Email: SameEmail(e).Draw(t, "email spelling"),
			Actor: SameEmail(e).Draw(t, "actor spelling"),
		}
	})
}

// RemoveParams draws the removal by actor of one of emails from one of
// teams of org, with a new RequestID.
func (h *Harness) RemoveParams(org, actor string, teams, emails []string) *rapid.Generator[licenses.RemoveParams] {
	return rapid.Custom(func(t *rapid.T) licenses.RemoveParams {
		return licenses.RemoveParams{
			Org:       org,
			Team:      pick(t, "team", teams, ID()),
			Email:     anEmail(t, "email", emails),
			Actor:     anActor(t, actor),
			RequestID: h.RequestID().Draw(t, "request"),
		}
	})
}

// DeleteParams draws the deletion by actor of one of emails from org, with
// a new RequestID.
func (h *Harness) DeleteParams(org, actor string, emails []string) *rapid.Generator[licenses.DeleteParams] {
	return rapid.Custom(func(t *rapid.T) licenses.DeleteParams {
		return licenses.DeleteParams{
			Org:       org,
			Email:     anEmail(t, "email", emails),
			Actor:     anActor(t, actor),
			RequestID: h.RequestID().Draw(t, "request"),
		}
	})
}

// MalformedInviteParams draws an InviteParams with one part broken: the
// organization, the team or the request ID is not an ID, the e-mail
// address is not one, or the expiry lies outside the years 1 to 9999.
// Invite refuses it with an error matching licenses.ErrInvalid and changes
// nothing.
func (h *Harness) MalformedInviteParams(org, actor string, teams, emails []string) *rapid.Generator[licenses.InviteParams] {
	return rapid.Custom(func(t *rapid.T) licenses.InviteParams {
		p := h.InviteParams(org, actor, teams, emails).Draw(t, "invite")
		switch rapid.SampledFrom([]string{"org", "team", "request", "email", "expires"}).Draw(t, "broken") {
		case "org":
			p.Org = MalformedID().Draw(t, "org")
		case "team":
			p.Team = MalformedID().Draw(t, "team")
		case "request":
			p.RequestID = MalformedID().Draw(t, "request")
		case "email":
			p.Email = MalformedEmail().Draw(t, "email")
		case "expires":
			p.ExpiresAt = MalformedTime().Draw(t, "expires")
		}
		return p
	})
}
