package seats

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/internal/paging"
	"github.com/allot-dev/allot/ledger"
)

// Kind is what a transaction did.
type Kind string

const (
	KindPurchase Kind = "purchase" // the vendor added units to the pool
	KindTransfer Kind = "transfer" // an Entitlement manager moved units to an event
	KindAuto     Kind = "auto"     // the consumption check moved seats to an event
)

// Transaction is one movement of a product, read from the ledger's journal.
type Transaction struct {
	Seq      int64             // the journal's commit sequence: the history's order
	ID       ledger.TransferID // the ledger transfer
	At       time.Time         // when it was posted (UTC)
	Kind     Kind
	Org      string
	Product  Product
	Quantity int64
	// From and To name the two sides: "subscription:<ref>" (or "vendor",
	// for a purchase under no subscription) and "pool" for a purchase,
	// "pool" and "event:<id>" for a transfer.
	From, To     string
	Event        string // the receiving event; empty for a purchase
	Actor        string // who asked for it
	RequestID    string // the caller's request ID; empty for the consumption check
	Subscription string // the purchase's subscription; empty otherwise
}

// transactionOf reads a seats transfer. The organization, the event and the
// request ID come from the account and transfer IDs, which input.Join made
// (see product.go) and input.Split takes apart. A quantity that does not fit
// in an int64 is refused with ErrInvalid, never wrapped.
func transactionOf(t ledger.Transfer) (Transaction, error) {
	qty, ok := input.Int64(t.Amount)
	if !ok {
		return Transaction{}, invalid("Quantity", "a transfer of %s %s is more than a count holds (%d)", t.Amount, t.Unit, int64(math.MaxInt64))
	}
	tr := Transaction{
		Seq:          t.Seq,
		ID:           t.ID,
		At:           t.PostedAt,
		Product:      Product(t.Unit),
		Quantity:     qty,
		Actor:        t.Actor,
		Subscription: t.Metadata[metaSubscription],
	}
	// seats/<org>/event/<event>/<unit>
	if parts, ok := input.Split(string(t.Credit)); ok && len(parts) == 5 && parts[0] == "seats" && parts[2] == "event" {
		tr.Event = parts[3]
	}
	// seats/<org>/req/<request ID> or seats/<org>/auto/<event>/<reached>
	if parts, ok := input.Split(string(t.ID)); ok && len(parts) >= 3 && parts[0] == "seats" {
		tr.Org = parts[1]
		if parts[2] == "req" && len(parts) == 4 {
			tr.RequestID = parts[3]
		}
	}
	switch t.Code {
	case codePurchase:
		tr.Kind, tr.From, tr.To = KindPurchase, "vendor", "pool"
		if tr.Subscription != "" {
			tr.From = "subscription:" + tr.Subscription
		}
	case codeAuto:
		tr.Kind, tr.From, tr.To = KindAuto, "pool", "event:"+tr.Event
	default:
		tr.Kind, tr.From, tr.To = KindTransfer, "pool", "event:"+tr.Event
	}
	return tr, nil
}

// OverviewParams select an organization's overview.
type OverviewParams struct {
	Org   string
	Actor string // an Entitlement manager of Org
}

// Overview returns the organization's pools, one per product it purchased,
// ordered by product: purchased, assigned and available. A product's
// transactions are History with Product set. The actor must be an
// Entitlement manager of the organization.
func (s *Service) Overview(ctx context.Context, p OverviewParams) ([]Pool, error) {
	var out []Pool
	err := s.read(ctx, p.Org, p.Actor, func(tx Tx) error {
		var err error
		out, err = tx.PoolList(ctx, p.Org)
		return err
	})
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("overview of %q: %w", p.Org, err))
	}
	return out, nil
}

// read checks that the actor is an Entitlement manager of org and runs fn
// in a transaction.
func (s *Service) read(ctx context.Context, org, actor string, fn func(tx Tx) error) error {
	if err := s.allowViews(ctx, org, actor); err != nil {
		return err
	}
	return s.store.InTx(ctx, fn)
}

// allowViews checks that the actor may read the Entitlements tab of org.
func (s *Service) allowViews(ctx context.Context, org, actor string) error {
	if err := validID("Org", org); err != nil {
		return err
	}
	_, err := s.authorize(ctx, org, actor, actEntitlements, EntitlementManager)
	return err
}

// HistoryParams select an organization's transactions.
type HistoryParams struct {
	Org     string
	Actor   string    // an Entitlement manager of Org
	Product Product   // only this product's transactions; empty: all products
	Event   string    // only transfers to this event; empty: the whole organization
	From    time.Time // posted at or after From; zero: from the start; years 1 to 9999
	To      time.Time // posted before To; zero: up to now; years 1 to 9999
	Cursor  string    // Next of the previous page; empty for the first page
	Limit   int       // transactions per page; 0 means allot.DefaultLimit, at most allot.MaxLimit
}

// HistoryPage returns a page of the organization's transactions, oldest
// first: purchases and transfers of every product, or of one product, or
// the transfers to one event, in a time range. The actor must be an
// Entitlement manager of the organization.
//
// A page is in Seq order; the cursor keeps each product's place in its own
// journal, in which Seq follows commit order, so a transaction that commits
// while the pages are read is never skipped, though it may come after one
// with a higher Seq. A cursor is the organization's own: another
// organization's, or another listing's, is refused as invalid.
func (s *Service) HistoryPage(ctx context.Context, p HistoryParams) (allot.Page[Transaction], error) {
	limit, err := validHistoryParams(p)
	if err != nil {
		return allot.Page[Transaction]{}, errcode.Ensure(fmt.Errorf("history of %q: %w", p.Org, err))
	}
	var page allot.Page[Transaction]
	err = s.read(ctx, p.Org, p.Actor, func(tx Tx) error {
		var err error
		page, err = history(ctx, tx, p, limit)
		return err
	})
	if err != nil {
		return allot.Page[Transaction]{}, errcode.Ensure(fmt.Errorf("history of %q: %w", p.Org, err))
	}
	return page, nil
}

// History iterates over every transaction HistoryPage selects, page after
// page from p.Cursor on. It yields the first error it meets, and stops.
func (s *Service) History(ctx context.Context, p HistoryParams) iter.Seq2[Transaction, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[Transaction], error) {
		p.Cursor = cursor
		return s.HistoryPage(ctx, p)
	})
}

// validHistoryParams checks what HistoryPage can check before it opens a
// transaction, and returns the page size.
func validHistoryParams(p HistoryParams) (int, error) {
	if err := validID("Org", p.Org); err != nil {
		return 0, err
	}
	if p.Product != "" {
		if err := p.Product.validate(); err != nil {
			return 0, err
		}
	}
	if p.Event != "" {
		if err := validID("Event", p.Event); err != nil {
			return 0, err
		}
	}
	if err := firstErr(validTime("From", p.From), validTime("To", p.To)); err != nil {
		return 0, err
	}
	limit, reason := paging.Limit(p.Limit)
	if reason != "" {
		return 0, invalid("Limit", "%s", reason)
	}
	if _, err := parseHistoryCursor(p.Org, p.Cursor); err != nil {
		return 0, err
	}
	return limit, nil
}

func history(ctx context.Context, tx Tx, q HistoryParams, limit int) (allot.Page[Transaction], error) {
	after, err := parseHistoryCursor(q.Org, q.Cursor)
	if err != nil {
		return allot.Page[Transaction]{}, err
	}
	if q.Event != "" {
		if _, err := getEvent(ctx, tx, q.Org, q.Event); err != nil {
			return allot.Page[Transaction]{}, err
		}
	}
	pools, err := tx.PoolList(ctx, q.Org)
	if err != nil {
		return allot.Page[Transaction]{}, err
	}
	// Every transaction of a product touches its pool account, and every
	// transfer to an event touches the event's account: read those accounts'
	// journals and merge them by sequence. Each account is read from its own
	// position: Seq follows commit order only within one account, so one
	// position for all of them would skip a transaction of one product that
	// took a lower Seq than another product's but committed after the page
	// was read.
	var ts []ledger.Transfer
	for _, p := range pools {
		if q.Product != "" && p.Product != q.Product {
			continue
		}
		account := poolAccount(q.Org, p.Product)
		if q.Event != "" {
			account = eventAccount(q.Org, q.Event, p.Product)
		}
		got, err := tx.TransferList(ctx, ledger.TransferListParams{
			Account: account, From: q.From, To: q.To, AfterSeq: after[p.Product], Limit: limit + 1,
		})
		if err != nil {
			return allot.Page[Transaction]{}, err
		}
		ts = append(ts, got...)
	}
	slices.SortFunc(ts, func(a, b ledger.Transfer) int { return cmp.Compare(a.Seq, b.Seq) })
	var page allot.Page[Transaction]
	if len(ts) > limit {
		ts = ts[:limit]
		if after == nil {
			after = make(map[Product]int64)
		}
		for _, t := range ts {
			after[Product(t.Unit)] = t.Seq // ts is in Seq order
		}
		page.Next = historyCursor(q.Org, after)
	}
	page.Items = make([]Transaction, len(ts))
	for i, t := range ts {
		if page.Items[i], err = transactionOf(t); err != nil {
			return allot.Page[Transaction]{}, err
		}
	}
	return page, nil
}

// historyCursor writes, per product, the Seq of the last transaction a page
// gave: "history/<org>/<product>/<seq>/<product>/<seq>...", ordered by
// product, joined with input.Join so that an organization or module name
// holding '/' reads back whole.
func historyCursor(org string, after map[Product]int64) string {
	parts := make([]string, 0, 2+2*len(after))
	parts = append(parts, "history", org)
	for _, p := range slices.Sorted(maps.Keys(after)) {
		parts = append(parts, string(p), itoa(after[p]))
	}
	return input.Join(parts...)
}

// parseHistoryCursor reads a cursor historyCursor wrote for org; "" is the
// start.
func parseHistoryCursor(org, c string) (map[Product]int64, error) {
	if c == "" {
		return nil, nil
	}
	bad := invalid("Cursor", "%q is not the cursor of a history page of organization %q; pass the previous page's next cursor, or none for the first page", c, org)
	parts, ok := input.Split(c)
	if !ok || len(parts) < 4 || len(parts)%2 != 0 || parts[0] != "history" || parts[1] != org {
		return nil, bad
	}
	after := make(map[Product]int64, len(parts)/2-1)
	for i := 2; i < len(parts); i += 2 {
		p := Product(parts[i])
		n, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err != nil || n < 0 || p.validate() != nil {
			return nil, bad
		}
		after[p] = n
	}
	return after, nil
}

// EventEntitlements is one event as the Entitlements tab shows it: its
// usage, what it was assigned and what it lacks, and its status at the
// instant the page was read.
type EventEntitlements struct {
	Event
	Status         Status
	SeatsMissing   int64    // participants beyond the seats assigned
	ModulesMissing []string // modules in use but not assigned, sorted
}

// Lacks reports whether the event misses seats or modules.
func (w EventEntitlements) Lacks() bool { return w.SeatsMissing > 0 || len(w.ModulesMissing) > 0 }

func entitlementsOf(e Event, now time.Time) EventEntitlements {
	seats, modules := Shortfall(e)
	return EventEntitlements{Event: e, Status: StatusAt(e, now), SeatsMissing: seats, ModulesMissing: modules}
}

// EventsParams select an organization's events.
type EventsParams struct {
	Org   string
	Actor string // an Entitlement manager of Org
	// Statuses keeps the events with one of these statuses now, e.g.
	// {StatusLive, StatusPast}; empty: all.
	Statuses []Status
	// OnlyMissing keeps the events that lack seats or modules: the
	// missing-entitlements query.
	OnlyMissing bool
	Cursor      string // Next of the previous page; empty for the first page
	Limit       int    // events per page; 0 means allot.DefaultLimit, at most allot.MaxLimit
}

// EventsPage returns a page of the organization's events, ordered by Start,
// then ID: per event its participants, the seats assigned, the modules used
// and assigned, and what it lacks, with the event's status now. With
// OnlyMissing set it is the missing-entitlements query. The actor must be
// an Entitlement manager of the organization. A cursor is the
// organization's own: another organization's, or another listing's, is
// refused as invalid.
func (s *Service) EventsPage(ctx context.Context, p EventsParams) (allot.Page[EventEntitlements], error) {
	limit, err := validEventsParams(p)
	if err != nil {
		return allot.Page[EventEntitlements]{}, errcode.Ensure(fmt.Errorf("events of %q: %w", p.Org, err))
	}
	now := ledger.Instant(s.clock.Now())
	var page allot.Page[EventEntitlements]
	err = s.read(ctx, p.Org, p.Actor, func(tx Tx) error {
		var err error
		page, err = listEvents(ctx, tx, p, limit, now)
		return err
	})
	if err != nil {
		return allot.Page[EventEntitlements]{}, errcode.Ensure(fmt.Errorf("events of %q: %w", p.Org, err))
	}
	return page, nil
}

// Events iterates over every event EventsPage selects, page after page from
// p.Cursor on; each page's statuses are of the instant it was read. It
// yields the first error it meets, and stops.
func (s *Service) Events(ctx context.Context, p EventsParams) iter.Seq2[EventEntitlements, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[EventEntitlements], error) {
		p.Cursor = cursor
		return s.EventsPage(ctx, p)
	})
}

// validEventsParams checks what EventsPage can check before it opens a
// transaction, and returns the page size.
func validEventsParams(p EventsParams) (int, error) {
	if err := validID("Org", p.Org); err != nil {
		return 0, err
	}
	for _, st := range p.Statuses {
		if st != StatusUpcoming && st != StatusLive && st != StatusPast {
			return 0, invalid("Statuses", "%q is not upcoming, live or past", st)
		}
	}
	limit, reason := paging.Limit(p.Limit)
	if reason != "" {
		return 0, invalid("Limit", "%s", reason)
	}
	if p.Cursor != "" {
		if _, _, err := parseEventCursor(p.Org, p.Cursor); err != nil {
			return 0, err
		}
	}
	return limit, nil
}

func listEvents(ctx context.Context, tx Tx, q EventsParams, limit int, now time.Time) (allot.Page[EventEntitlements], error) {
	p := EventListParams{Org: q.Org, Limit: max(limit+1, 100)}
	if q.Cursor != "" {
		var err error
		if p.AfterStart, p.AfterID, err = parseEventCursor(q.Org, q.Cursor); err != nil {
			return allot.Page[EventEntitlements]{}, err
		}
	}
	if !slices.Contains(q.Statuses, StatusUpcoming) && len(q.Statuses) > 0 {
		p.StartedBy = now // the listing is ordered by Start: stop at the upcoming ones
	}
	var page allot.Page[EventEntitlements]
	for {
		events, err := tx.EventList(ctx, p)
		if err != nil {
			return allot.Page[EventEntitlements]{}, err
		}
		for _, e := range events {
			w := entitlementsOf(e, now)
			if (len(q.Statuses) == 0 || slices.Contains(q.Statuses, w.Status)) && (!q.OnlyMissing || w.Lacks()) {
				page.Items = append(page.Items, w)
			}
		}
		if len(page.Items) > limit {
			page.Items = page.Items[:limit]
			last := page.Items[limit-1]
			page.Next = eventCursor(q.Org, last.Start, last.ID)
			return page, nil
		}
		if len(events) < p.Limit {
			return page, nil
		}
		last := events[len(events)-1]
		p.AfterStart, p.AfterID = last.Start, last.ID
	}
}

// eventCursor writes the (Start, ID) key of the last event a page gave, for
// org: "events/<org>/<start in µs>/<event>", joined with input.Join.
func eventCursor(org string, start time.Time, id string) string {
	return input.Join("events", org, strconv.FormatInt(start.UnixMicro(), 10), id)
}

// parseEventCursor reads a cursor eventCursor wrote for org.
func parseEventCursor(org, c string) (time.Time, string, error) {
	parts, ok := input.Split(c)
	if ok && len(parts) == 4 && parts[0] == "events" && parts[1] == org {
		n, err := strconv.ParseInt(parts[2], 10, 64)
		if err == nil && input.ID(parts[3]) == "" && input.Time(time.UnixMicro(n)) == "" {
			return time.UnixMicro(n).UTC(), parts[3], nil
		}
	}
	return time.Time{}, "", invalid("Cursor", "%q is not the cursor of an events page of organization %q; pass the previous page's next cursor, or none for the first page", c, org)
}
