package seats_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// A purchase that would take the pool's Purchased past MaxInt64 is refused
// and changes nothing: the counter never wraps, and stays equal to the
// ledger.
func TestSeats_PurchaseOverflow(t *testing.T) {
	f := newFixture(t)
	f.buy("acme", seats.Seats, math.MaxInt64, "p1")
	before := f.snapshot()
	_, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "s", Actor: "billing", RequestID: "p2"})
	var ie *seats.InvalidError
	if !errors.As(err, &ie) || ie.Field != "Quantity" {
		t.Fatalf("Purchase past MaxInt64 = %v, want an *InvalidError naming Quantity", err)
	}
	f.unchanged(before)
	if p := f.pool("acme", seats.Seats); p.Purchased != math.MaxInt64 {
		t.Errorf("Purchased = %d, want MaxInt64", p.Purchased)
	}
	// A retry of the first purchase is still a retry.
	f.buy("acme", seats.Seats, math.MaxInt64, "p1")
	f.unchanged(before)
	if fs, err := f.svc.Audit(f.ctx, "acme"); err != nil || len(fs) != 0 {
		t.Errorf("Audit = %v, %v", fs, err)
	}
	// The whole pool transfers and the event's counter holds it.
	f.event("acme", "big", -1, 2, 0)
	f.must(second(f.seats("acme", "ana", "big", math.MaxInt64, "r1")))
	if e := f.getEvent("acme", "big"); e.SeatsAssigned != math.MaxInt64 {
		t.Errorf("SeatsAssigned = %d", e.SeatsAssigned)
	}
	if fs, err := f.svc.Audit(f.ctx, "acme"); err != nil || len(fs) != 0 {
		t.Errorf("Audit = %v, %v", fs, err)
	}
}

// An amount on a seats account that no int64 holds (posted to the ledger
// behind the service's back) is refused by the views that count it, never
// wrapped.
func TestSeats_HistoryRefusesAmountBeyondInt64(t *testing.T) {
	f := newFixture(t)
	f.buy("acme", seats.Seats, 1, "p1")
	f.must(f.ms.Seats().InTx(f.ctx, func(tx seats.Tx) error {
		huge := decimal.NewFromInt(math.MaxInt64).Add(decimal.NewFromInt(2))
		_, err := ledger.NewBook(tx, start).Post(f.ctx, ledger.Transfer{ID: "stray", Debit: "seats/acme/purchases/seat", Credit: "seats/acme/pool/seat", Amount: huge})
		return err
	}))
	_, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana"})
	if !errors.Is(err, seats.ErrInvalid) {
		t.Errorf("History with an amount beyond int64 = %v, want ErrInvalid", err)
	}
	fs, err := f.svc.Audit(f.ctx, "acme")
	f.must(err)
	if len(fs) == 0 || fs[0].Field != "purchased" || fs[0].Derived != "9223372036854775810" {
		t.Errorf("Audit = %v, want the purchased counter reported against the ledger's exact amount", fs)
	}
}

// Two organizations use the same event and request IDs without meeting:
// each has its own event, its own transfers, and neither learns of the
// other's.
func TestSeats_TenantScopedIDs(t *testing.T) {
	f := newFixture(t)
	for _, org := range []string{"acme", "globex"} {
		f.buy(org, seats.Seats, 10, "buy")
		f.event(org, "kickoff", -1, 2, 4)
	}
	a, err := f.seats("acme", "ana", "kickoff", 3, "r1")
	f.must(err)
	g, err := f.seats("globex", "gus", "kickoff", 5, "r1")
	f.must(err)
	if a.ID == g.ID || a.Org != "acme" || g.Org != "globex" || a.RequestID != "r1" || g.RequestID != "r1" {
		t.Errorf("transfers %+v and %+v share a request ID across organizations", a, g)
	}
	if e := f.getEvent("acme", "kickoff"); e.SeatsAssigned != 3 {
		t.Errorf("acme's kickoff holds %d seats, want 3", e.SeatsAssigned)
	}
	if e := f.getEvent("globex", "kickoff"); e.SeatsAssigned != 5 {
		t.Errorf("globex's kickoff holds %d seats, want 5", e.SeatsAssigned)
	}
	// An event only another organization has is unknown, not taken.
	f.event("globex", "gala", -1, 2, 1)
	before := f.snapshot()
	_, err = f.seats("acme", "ana", "gala", 1, "r2")
	var ue *seats.UnknownEventError
	if !errors.As(err, &ue) || ue.Org != "acme" || ue.Event != "gala" || strings.Contains(err.Error(), "globex") {
		t.Errorf("transfer to globex's event from acme = %v, want acme's unknown event", err)
	}
	if _, err := f.svc.Event(f.ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: "gala"}); !errors.Is(err, seats.ErrUnknownEvent) {
		t.Errorf("Event(acme, gala) = %v, want ErrUnknownEvent", err)
	}
	f.unchanged(before)
	for _, org := range []string{"acme", "globex"} {
		if fs, err := f.svc.Audit(f.ctx, org); err != nil || len(fs) != 0 {
			t.Errorf("Audit(%s) = %v, %v", org, fs, err)
		}
	}
}

// IDs holding '/' and '%' that a plain "/"-join would confuse are kept
// apart: organization "a/pool" and organization "a" with event "pool", a
// request "x/y" and an event "x" with request "y".
func TestSeats_AdversarialIDs(t *testing.T) {
	f := newFixture(t)
	orgs := []string{"a", "a/pool", "a%2Fpool", "a/purchases/seat/x", "%"}
	for _, org := range orgs {
		f.roles.Grant(org, "ana", seats.EntitlementManager)
		f.buy(org, seats.Seats, 10, "p/1")
		f.buy(org, seats.Module("x/y"), 2, "p%2F1")
		f.event(org, "pool", -1, 2, 3, "x/y")
		f.event(org, "e/seat", -1, 2, 3)
	}
	for _, org := range orgs {
		f.must(second(f.seats(org, "ana", "pool", 2, "r/1")))
		f.must(second(f.seats(org, "ana", "e/seat", 1, "r%2F1")))
		f.must(second(f.module(org, "ana", "pool", "x/y", "r")))
		f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})))
	}
	for _, org := range orgs {
		page, err := f.svc.HistoryPage(f.ctx, seats.HistoryParams{Org: org, Actor: "ana", Limit: 2})
		f.must(err)
		var got []string
		q := seats.HistoryParams{Org: org, Actor: "ana", Limit: 2}
		for {
			for _, tr := range page.Items {
				if tr.Org != org {
					t.Errorf("%s: transaction %+v names org %q", org, tr, tr.Org)
				}
				got = append(got, string(tr.Kind)+" "+tr.RequestID+" "+tr.Event+" "+string(tr.Product))
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
			page, err = f.svc.HistoryPage(f.ctx, q)
			f.must(err)
		}
		want := []string{
			"purchase p/1  seat", "purchase p%2F1  module:x/y",
			"transfer r/1 pool seat", "transfer r%2F1 e/seat seat", "transfer r pool module:x/y",
			"auto  e/seat seat", "auto  pool seat",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: history (-want +got):\n%s", org, diff)
		}
		if fs, err := f.svc.Audit(f.ctx, org); err != nil || len(fs) != 0 {
			t.Errorf("Audit(%s) = %v, %v", org, fs, err)
		}
	}
	r, err := mustLedger(t, f).Verify(f.ctx)
	f.must(err)
	if !r.OK() {
		t.Errorf("Verify: %v", r.Discrepancies)
	}
}

// Text the ledger or the records keep must be valid UTF-8 without NUL;
// anything else is refused before any write, whatever the store.
func TestSeats_TextRefused(t *testing.T) {
	f := standard(t)
	ok := seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "sub", Actor: "billing", RequestID: "p9"}
	for name, tc := range map[string]struct {
		change func(*seats.PurchaseParams)
		field  string
	}{
		"SubscriptionNotUTF8": {func(r *seats.PurchaseParams) { r.Subscription = "sub-\xff" }, "Subscription"},
		"SubscriptionNUL":     {func(r *seats.PurchaseParams) { r.Subscription = "sub\x00" }, "Subscription"},
		"ActorNotUTF8":        {func(r *seats.PurchaseParams) { r.Actor = "bill\xc3" }, "Actor"},
		"ActorNUL":            {func(r *seats.PurchaseParams) { r.Actor = "billing\x00" }, "Actor"},
		"ActorBlank":          {func(r *seats.PurchaseParams) { r.Actor = "  " }, "Actor"},
		"RequestNotUTF8":      {func(r *seats.PurchaseParams) { r.RequestID = "p\xff" }, "RequestID"},
		"OrgNUL":              {func(r *seats.PurchaseParams) { r.Org = "acme\x00" }, "Org"},
		"ModuleNotUTF8":       {func(r *seats.PurchaseParams) { r.Product = seats.Module("p\xff") }, "Module"},
	} {
		t.Run(name, func(t *testing.T) {
			r := ok
			tc.change(&r)
			before := f.snapshot()
			_, err := f.svc.Purchase(f.ctx, r)
			var ie *seats.InvalidError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("err = %v, want an *InvalidError naming %s", err, tc.field)
			}
			f.unchanged(before)
		})
	}
	before := f.snapshot()
	for _, n := range []seats.CreateEventParams{
		{ID: "x", Org: "acme", Name: "Kick\xffoff", Start: start, End: start.Add(time.Hour)},
		{ID: "x", Org: "acme", Name: "Kick\x00off", Start: start, End: start.Add(time.Hour)},
		{ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour), Modules: []string{"po\xffls"}},
	} {
		if _, err := f.svc.CreateEvent(f.ctx, n); !errors.Is(err, seats.ErrInvalid) {
			t.Errorf("CreateEvent(%q) = %v, want ErrInvalid", n.Name, err)
		}
	}
	f.unchanged(before)
}

// Actors have one canonical form: an e-mail address its input.Email form,
// so a grant and a transfer match however either is cased; any other actor
// is trimmed and case folded. A malformed actor is invalid before any role
// is asked about.
func TestSeats_ActorCanonicalForm(t *testing.T) {
	f := standard(t)
	f.roles.Grant("acme", " ÄNN@Example.TEST ", seats.EntitlementManager)
	tr, err := f.seats("acme", "änn@example.test", "e1", 1, "r1")
	f.must(err)
	if tr.Actor != "änn@example.test" {
		t.Errorf("Actor = %q, want the canonical form", tr.Actor)
	}
	// A retry written in other case is the same request.
	before := f.snapshot()
	again, err := f.seats("acme", "ÄNN@example.test", "e1", 1, "r1")
	f.must(err)
	if again.Seq != tr.Seq {
		t.Errorf("retry = %+v, want the original %+v", again, tr)
	}
	f.unchanged(before)
	// Revoking in yet another case revokes.
	f.roles.Revoke("änn@EXAMPLE.test")
	var fe *allot.ForbiddenError
	if _, err := f.seats("acme", "änn@example.test", "e1", 1, "r2"); !errors.As(err, &fe) || fe.Actor != "änn@example.test" {
		t.Errorf("after Revoke = %v, want a *allot.ForbiddenError naming the canonical actor", err)
	}
	// Non-e-mail actors keep working, in one form.
	p, err := f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "s", Actor: " Billing ", RequestID: "p9"})
	f.must(err)
	if p.Actor != "billing" {
		t.Errorf("purchase Actor = %q, want billing", p.Actor)
	}
	f.must(second(f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "s", Actor: "BILLING", RequestID: "p9"})))
	// The system actor in any case is the periodic check's.
	f.must(second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: " System "})))
	before = f.snapshot()
	for _, bad := range []string{"", " ", "a@", "@x.test", "Ann <ann@x.test>", "a\x00", "\xff"} {
		var ie *seats.InvalidError
		if _, err := f.seats("acme", bad, "e1", 1, "r3"); !errors.As(err, &ie) || ie.Field != "Actor" {
			t.Errorf("TransferSeats by %q = %v; want an invalid Actor", bad, err)
		}
		if _, err := f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: bad}); !errors.As(err, &ie) || ie.Field != "Actor" {
			t.Errorf("CheckConsumption by %q = %v; want an invalid Actor", bad, err)
		}
	}
	f.unchanged(before)
}

// Times outside the years 1 to 9999 are refused wherever one is accepted.
func TestSeats_TimesRefused(t *testing.T) {
	f := standard(t)
	before := f.snapshot()
	far := input.MaxTime.Add(time.Microsecond)
	early := input.MinTime.Add(-time.Microsecond)
	for name, n := range map[string]seats.CreateEventParams{
		"EndPastYear9999":    {ID: "x", Org: "acme", Start: start, End: far},
		"StartPastYear9999":  {ID: "x", Org: "acme", Start: far, End: far.Add(time.Hour)},
		"StartBeforeYearOne": {ID: "x", Org: "acme", Start: early, End: start},
	} {
		var ie *seats.InvalidError
		if _, err := f.svc.CreateEvent(f.ctx, n); !errors.As(err, &ie) || (ie.Field != "Start" && ie.Field != "End") {
			t.Errorf("%s: err = %v, want an *InvalidError naming Start or End", name, err)
		}
	}
	for name, q := range map[string]seats.HistoryParams{
		"FromPastYear9999":  {From: far},
		"ToPastYear9999":    {To: far},
		"FromBeforeYearOne": {From: early},
	} {
		q.Org, q.Actor = "acme", "ana"
		if _, err := f.svc.HistoryPage(f.ctx, q); !errors.Is(err, seats.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := f.svc.EventsPage(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", Cursor: "9223372036854775807:e1"}); !errors.Is(err, seats.ErrInvalid) {
		t.Errorf("EventsPage with a cursor past year 9999 = %v, want ErrInvalid", err)
	}
	f.unchanged(before)
}

// A retried request returns the first result; a request ID reused for
// another request is refused with a message that names the organization's
// own request ID and no ledger ID.
func TestSeats_RetryAndReuse(t *testing.T) {
	f := standard(t)
	p := seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 3, Subscription: "sub", Actor: "billing", RequestID: "q1"}
	s := seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 2, RequestID: "q2"}
	m := seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "e1", Module: "polls", RequestID: "q3"}
	ops := []func() (any, error){
		func() (any, error) { return f.svc.Purchase(f.ctx, p) },
		func() (any, error) { return f.svc.TransferSeats(f.ctx, s) },
		func() (any, error) { return f.svc.TransferModule(f.ctx, m) },
	}
	for i, op := range ops {
		first, err := op()
		f.must(err)
		before := f.snapshot()
		again, err := op()
		f.must(err)
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("op %d: retry (-first +again):\n%s", i, diff)
		}
		f.unchanged(before)
	}
	p2, s2, m2 := p, s, m
	p2.Quantity, s2.Quantity, m2.Event = 4, 1, "e0"
	for _, tc := range []struct {
		id string
		do func() error
	}{
		{"q1", func() error { return second(f.svc.Purchase(f.ctx, p2)) }},
		{"q2", func() error { return second(f.svc.TransferSeats(f.ctx, s2)) }},
		{"q3", func() error { return second(f.svc.TransferModule(f.ctx, m2)) }},
		{"q1", func() error { s := s; s.RequestID = "q1"; return second(f.svc.TransferSeats(f.ctx, s)) }},
	} {
		before := f.snapshot()
		err := tc.do()
		var re *seats.RequestReusedError
		if !errors.As(err, &re) || re.Org != "acme" || re.RequestID != tc.id {
			t.Errorf("reuse of %s = %v, want *RequestReusedError for acme's %s", tc.id, err, tc.id)
		} else if msg := err.Error(); !strings.Contains(msg, `"`+tc.id+`"`) || strings.Contains(msg, "seats/") {
			t.Errorf("reuse of %s: message %q must name the request ID and no ledger ID", tc.id, msg)
		}
		f.unchanged(before)
	}
}
