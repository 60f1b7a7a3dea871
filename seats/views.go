package seats

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
)

// Kind is what a transaction did.
type Kind string

const (
	KindPurchase Kind = "purchase" // units entered the pool from a subscription
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
	// From and To name the two sides: "subscription:<ref>" and "pool" for
	// a purchase, "pool" and "event:<id>" for a transfer.
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
		tr.Kind, tr.From, tr.To = KindPurchase, "subscription:"+tr.Subscription, "pool"
	case codeAuto:
		tr.Kind, tr.From, tr.To = KindAuto, "pool", "event:"+tr.Event
	default:
		tr.Kind, tr.From, tr.To = KindTransfer, "pool", "event:"+tr.Event
	}
	return tr, nil
}

// Overview returns the organization's pools, one per product it purchased,
// ordered by product: purchased, assigned and available. A product's
// transactions are History with Product set. The actor must be an
// Entitlement manager of org.
func (s *Service) Overview(ctx context.Context, org, actor string) ([]Pool, error) {
	var out []Pool
	err := s.read(ctx, org, actor, func(tx Tx) error {
		var err error
		out, err = tx.PoolList(ctx, org)
		return err
	})
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("overview of %q: %w", org, err))
	}
	return out, nil
}

// read checks the actor's role and runs fn in a transaction.
func (s *Service) read(ctx context.Context, org, actor string, fn func(tx Tx) error) error {
	if err := validID("Org", org); err != nil {
		return err
	}
	if _, err := s.authorize(ctx, org, actor); err != nil {
		return err
	}
	return s.store.InTx(ctx, fn)
}

// HistoryQuery selects a page of an organization's transactions.
type HistoryQuery struct {
	Org     string
	Actor   string    // an Entitlement manager of Org
	Product Product   // only this product's transactions; empty: all products
	Event   string    // only transfers to this event; empty: the whole organization
	From    time.Time // posted at or after From; zero: from the start; years 1 to 9999
	To      time.Time // posted before To; zero: up to now; years 1 to 9999
	Cursor  string    // Next of the previous page; empty for the first page
	Limit   int       // transactions per page; zero means 100, at most 1000
}

// HistoryPage is one page of transactions, oldest first.
type HistoryPage struct {
	Transactions []Transaction
	Next         string // the cursor of the following page; empty on the last page
}

// History returns a page of the organization's transactions, oldest first:
// purchases and transfers of every product, or of one product, or the
// transfers to one event, in a time range. A page is in Seq order; the
// cursor keeps each product's place in its own journal, in which Seq follows
// commit order, so a transaction that commits while the pages are read is
// never skipped, though it may come after one with a higher Seq.
func (s *Service) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	if err := validHistoryQuery(q); err != nil {
		return HistoryPage{}, errcode.Ensure(fmt.Errorf("history of %q: %w", q.Org, err))
	}
	var page HistoryPage
	err := s.read(ctx, q.Org, q.Actor, func(tx Tx) error {
		var err error
		page, err = history(ctx, tx, q)
		return err
	})
	if err != nil {
		return HistoryPage{}, errcode.Ensure(fmt.Errorf("history of %q: %w", q.Org, err))
	}
	return page, nil
}

// validHistoryQuery checks what History can check before it opens a
// transaction.
func validHistoryQuery(q HistoryQuery) error {
	if q.Product != "" {
		if err := q.Product.validate(); err != nil {
			return err
		}
	}
	if q.Event != "" {
		if err := validID("Event", q.Event); err != nil {
			return err
		}
	}
	return firstErr(validTime("From", q.From), validTime("To", q.To))
}

func history(ctx context.Context, tx Tx, q HistoryQuery) (HistoryPage, error) {
	switch {
	case q.Limit < 0 || q.Limit > 1000:
		return HistoryPage{}, invalid("Limit", "%d is outside 0..1000", q.Limit)
	case q.Limit == 0:
		q.Limit = 100
	}
	after, err := parseHistoryCursor(q.Cursor)
	if err != nil {
		return HistoryPage{}, err
	}
	if q.Event != "" {
		if _, err := getEvent(ctx, tx, q.Org, q.Event); err != nil {
			return HistoryPage{}, err
		}
	}
	pools, err := tx.PoolList(ctx, q.Org)
	if err != nil {
		return HistoryPage{}, err
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
			Account: account, From: q.From, To: q.To, AfterSeq: after[p.Product], Limit: q.Limit + 1,
		})
		if err != nil {
			return HistoryPage{}, err
		}
		ts = append(ts, got...)
	}
	slices.SortFunc(ts, func(a, b ledger.Transfer) int { return cmp.Compare(a.Seq, b.Seq) })
	var page HistoryPage
	if len(ts) > q.Limit {
		ts = ts[:q.Limit]
		if after == nil {
			after = make(map[Product]int64)
		}
		for _, t := range ts {
			after[Product(t.Unit)] = t.Seq // ts is in Seq order
		}
		page.Next = historyCursor(after)
	}
	page.Transactions = make([]Transaction, len(ts))
	for i, t := range ts {
		if page.Transactions[i], err = transactionOf(t); err != nil {
			return HistoryPage{}, err
		}
	}
	return page, nil
}

// historyCursor writes, per product, the Seq of the last transaction a page
// gave: "<product>/<seq>/<product>/<seq>...", ordered by product, joined
// with input.Join so that a module name holding '/' reads back whole.
func historyCursor(after map[Product]int64) string {
	parts := make([]string, 0, 2*len(after))
	for _, p := range slices.Sorted(maps.Keys(after)) {
		parts = append(parts, string(p), itoa(after[p]))
	}
	return input.Join(parts...)
}

// parseHistoryCursor reads a cursor historyCursor wrote; "" is the start.
func parseHistoryCursor(c string) (map[Product]int64, error) {
	if c == "" {
		return nil, nil
	}
	bad := invalid("Cursor", "%q is not the cursor of a history page; pass the previous page's next cursor, or none for the first page", c)
	parts, ok := input.Split(c)
	if !ok || len(parts)%2 != 0 {
		return nil, bad
	}
	after := make(map[Product]int64, len(parts)/2)
	for i := 0; i < len(parts); i += 2 {
		p := Product(parts[i])
		n, err := strconv.ParseInt(parts[i+1], 10, 64)
		if err != nil || n < 0 || p.validate() != nil {
			return nil, bad
		}
		after[p] = n
	}
	return after, nil
}

// Workspace is one event as the workspaces view shows it: its usage, what it
// was assigned and what it lacks.
type Workspace struct {
	Event
	Status         Status
	SeatsMissing   int64    // participants beyond the seats assigned
	ModulesMissing []string // modules in use but not assigned, sorted
}

// Lacks reports whether the event misses seats or modules.
func (w Workspace) Lacks() bool { return w.SeatsMissing > 0 || len(w.ModulesMissing) > 0 }

func workspaceOf(e Event, now time.Time) Workspace {
	seats, modules := Shortfall(e)
	return Workspace{Event: e, Status: StatusAt(e, now), SeatsMissing: seats, ModulesMissing: modules}
}

// WorkspaceQuery selects a page of an organization's events.
type WorkspaceQuery struct {
	Org   string
	Actor string // an Entitlement manager of Org
	// Statuses keeps the events with one of these statuses now, e.g.
	// {StatusLive, StatusPast}; empty: all.
	Statuses []Status
	// OnlyMissing keeps the events that lack seats or modules: the
	// missing-entitlements query.
	OnlyMissing bool
	Cursor      string // Next of the previous page; empty for the first page
	Limit       int    // events per page; zero means 100, at most 1000
}

// WorkspacePage is one page of the workspaces view, ordered by Start, then
// ID.
type WorkspacePage struct {
	Workspaces []Workspace
	Next       string    // the cursor of the following page; empty on the last page
	At         time.Time // the instant the statuses are of (UTC, microseconds)
}

// Workspaces returns a page of the workspaces view: per event its
// participants, the seats assigned, the modules used and assigned, and what
// it lacks, with the event's status now. With OnlyMissing set it is the
// missing-entitlements query.
func (s *Service) Workspaces(ctx context.Context, q WorkspaceQuery) (WorkspacePage, error) {
	now := ledger.Instant(s.clock.Now())
	var page WorkspacePage
	err := s.read(ctx, q.Org, q.Actor, func(tx Tx) error {
		var err error
		page, err = workspaces(ctx, tx, q, now)
		return err
	})
	if err != nil {
		return WorkspacePage{}, errcode.Ensure(fmt.Errorf("workspaces of %q: %w", q.Org, err))
	}
	return page, nil
}

func workspaces(ctx context.Context, tx Tx, q WorkspaceQuery, now time.Time) (WorkspacePage, error) {
	switch {
	case q.Limit < 0 || q.Limit > 1000:
		return WorkspacePage{}, invalid("Limit", "%d is outside 0..1000", q.Limit)
	case q.Limit == 0:
		q.Limit = 100
	}
	for _, st := range q.Statuses {
		if st != StatusUpcoming && st != StatusLive && st != StatusPast {
			return WorkspacePage{}, invalid("Statuses", "%q is not upcoming, live or past", st)
		}
	}
	p := EventListParams{Org: q.Org, Limit: max(q.Limit+1, 100)}
	if q.Cursor != "" {
		var err error
		if p.AfterStart, p.AfterID, err = parseEventCursor(q.Cursor); err != nil {
			return WorkspacePage{}, err
		}
	}
	if !slices.Contains(q.Statuses, StatusUpcoming) && len(q.Statuses) > 0 {
		p.StartedBy = now // the listing is ordered by Start: stop at the upcoming ones
	}
	page := WorkspacePage{At: now}
	for {
		events, err := tx.EventList(ctx, p)
		if err != nil {
			return WorkspacePage{}, err
		}
		for _, e := range events {
			w := workspaceOf(e, now)
			if (len(q.Statuses) == 0 || slices.Contains(q.Statuses, w.Status)) && (!q.OnlyMissing || w.Lacks()) {
				page.Workspaces = append(page.Workspaces, w)
			}
		}
		if len(page.Workspaces) > q.Limit {
			page.Workspaces = page.Workspaces[:q.Limit]
			last := page.Workspaces[q.Limit-1]
			page.Next = eventCursor(last.Start, last.ID)
			return page, nil
		}
		if len(events) < p.Limit {
			return page, nil
		}
		last := events[len(events)-1]
		p.AfterStart, p.AfterID = last.Start, last.ID
	}
}

func eventCursor(start time.Time, id string) string {
	return strconv.FormatInt(start.UnixMicro(), 10) + ":" + id
}

func parseEventCursor(c string) (time.Time, string, error) {
	us, id, ok := strings.Cut(c, ":")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || input.ID(id) != "" || input.Time(time.UnixMicro(n)) != "" {
		return time.Time{}, "", invalid("Cursor", "%q is not the cursor of a workspaces page; pass the previous page's next cursor, or none for the first page", c)
	}
	return time.UnixMicro(n).UTC(), id, nil
}
