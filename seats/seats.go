package seats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// Transfer codes: what a seats transfer means, in the ledger's Code field.
const (
	codePurchase = "seats.purchase"
	codeTransfer = "seats.transfer"
	codeAuto     = "seats.auto"
)

// metaSubscription is the metadata key of a purchase's subscription. The
// organization, event and request ID need no metadata: the account and
// transfer IDs carry them (see transactionOf), which keeps a transfer free
// of a map to allocate and copy.
const metaSubscription = "subscription"

// Service keeps organizations' pools and their events' entitlements. It is
// safe for concurrent use: every operation runs in one transaction of the
// store, and the store serializes them.
type Service struct {
	store Store
	clock clock.Clock
	roles allot.Roles

	thresholdPcts []int
	logger        *slog.Logger
}

// Options configure a Service. A nil *Options means all defaults.
type Options struct {
	// Clock tells the time of transfers and decides whether events are
	// upcoming, live or past. Default: clock.Real{}.
	Clock clock.Clock
	// Roles tells who holds which role in an organization: allot.Vendor
	// for purchases, EntitlementManager and EventOrganizer for the rest
	// (see the package doc's Roles section). Default: nil, which grants
	// nothing, so every call that checks a role is refused until the
	// service provides roles (allot.StaticRoles is a ready one).
	Roles allot.Roles
	// Thresholds are the percents of a pool's purchased units in use
	// (assigned to events) whose crossing, up or down, emits an
	// events.PoolThreshold event; each from 1 to 100. Default: nil, which
	// means 80 and 100.
	Thresholds []int
	// Logger logs refusals at debug, retried requests at info and anything
	// unexpected at warn, with attributes org and request_id. Default:
	// nil, which logs nothing.
	Logger *slog.Logger
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, invalid("store", "none given; the service keeps its pools and events in one")
	}
	s := &Service{store: store, clock: clock.Real{}, thresholdPcts: events.DefaultThresholds()}
	if opts != nil {
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
		s.roles = opts.Roles
		s.logger = opts.Logger
		if opts.Thresholds != nil {
			if err := checkThresholds(opts.Thresholds); err != nil {
				return nil, err
			}
			s.thresholdPcts = slices.Clone(opts.Thresholds)
		}
	}
	return s, nil
}

// The actions a refused actor's *allot.ForbiddenError names, in SpotMe's
// words.
const (
	actPurchase     = "purchase seats or modules"
	actTransfer     = "transfer seats or modules to events"
	actCreateEvent  = "create events"
	actUpdateEvent  = "change an event's participants or modules"
	actReadEvent    = "read events"
	actCheck        = "run the consumption check"
	actEntitlements = "read the Entitlements tab"
)

// authorize canonicalises actor (refusing one that is no actor) and checks
// that it holds one of need in org. It returns the canonical form, the one
// Roles was asked about and the ledger records.
func (s *Service) authorize(ctx context.Context, org, actor, action string, need ...allot.Role) (string, error) {
	a, reason := input.Actor(actor)
	if reason != "" {
		return "", invalid("Actor", "%q %s", actor, reason)
	}
	if err := access.Require(ctx, s.roles, org, a, action, need...); err != nil {
		return "", err
	}
	return a, nil
}

// PurchaseParams add units of a product to an organization's pool.
type PurchaseParams struct {
	Org          string
	Actor        string  // the vendor's actor: holds allot.Vendor in Org; required
	Product      Product // Seats or Module(name)
	Quantity     int64   // positive
	Subscription string  // the subscription the purchase belongs to; optional, valid UTF-8 without NUL
	RequestID    string  // makes a retried purchase count once; required, an ID
}

// Purchase fills the organization's pool of a product, creating the pool on
// its first purchase, and returns what it recorded: the organization's
// purchased and available units of the product right after it. Purchases
// are the vendor's acts (SpotMe sells seats and modules under
// subscriptions): the actor must hold allot.Vendor in the organization.
//
// Retrying a request ID with the same contents returns the very same
// allot.Purchase, whatever happened since, and changes nothing; with other
// contents it is an error matching ErrRequestReused. A purchase that would
// take the pool's Purchased beyond what an int64 holds is refused with
// ErrInvalid.
func (s *Service) Purchase(ctx context.Context, p PurchaseParams) (allot.Purchase, error) {
	out, retry, err := s.purchase(ctx, p)
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("purchase %d %s for %q: %w", p.Quantity, p.Product, p.Org, err))
		s.observe(ctx, "purchase", p.Org, p.RequestID, err)
		return allot.Purchase{}, err
	}
	if retry {
		s.retried(ctx, "purchase", p.Org, p.RequestID)
	}
	return out, nil
}

func (s *Service) purchase(ctx context.Context, r PurchaseParams) (allot.Purchase, bool, error) {
	if err := firstErr(validID("Org", r.Org), r.Product.validate(), validRequest(r.RequestID), validQuantity(r.Quantity),
		validText("Subscription", r.Subscription)); err != nil {
		return allot.Purchase{}, false, err
	}
	actor, err := s.authorize(ctx, r.Org, r.Actor, actPurchase, allot.Vendor)
	if err != nil {
		return allot.Purchase{}, false, err
	}
	now := s.clock.Now()
	want := ledger.Transfer{
		ID:     requestTransferID(r.Org, r.RequestID),
		Debit:  issuerAccount(r.Org, r.Product),
		Credit: poolAccount(r.Org, r.Product),
		Amount: decimal.NewFromInt(r.Quantity),
		Code:   codePurchase,
		Actor:  actor,
	}
	if r.Subscription != "" {
		want.Metadata = map[string]string{metaSubscription: r.Subscription}
	}
	var out ledger.Transfer
	var retry bool
	err = s.store.InTx(ctx, func(tx Tx) error {
		retry = false
		b := ledger.NewBook(tx, now)
		pool, err := tx.PoolLock(ctx, r.Org, r.Product)
		switch {
		case errors.Is(err, ledger.ErrNotFound):
			if pool, err = s.openPool(ctx, b, tx, r.Org, r.Product); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if prior, done, err := priorTransfer(ctx, tx, want, r.Org, r.RequestID); done || err != nil {
			out, retry = prior, done
			return err
		}
		purchased, ok := input.Add(pool.Purchased, r.Quantity)
		if !ok {
			return invalid("Quantity", "%s more would take organization %q's %d purchased beyond %d, the most a pool counts", r.Product.count(r.Quantity), r.Org, pool.Purchased, int64(math.MaxInt64))
		}
		if out, err = b.Post(ctx, want); err != nil {
			return mapLedgerErr(err, r.Org, r.Product, r.RequestID)
		}
		before := pool
		pool.Purchased = purchased
		if err := tx.PoolUpdate(ctx, pool); err != nil {
			return err
		}
		rec, err := purchaseOf(out, r.Org, r.Product, r.RequestID)
		if err != nil {
			return err
		}
		env := envelope(r.Org, b.Now(), actor, r.RequestID)
		e := env
		e.Type, e.Payload = events.SeatsPurchased, rec
		return tx.Emit(ctx, s.thresholds([]events.Event{e}, env, before, pool)...)
	})
	if err != nil {
		return allot.Purchase{}, false, err
	}
	rec, err := purchaseOf(out, r.Org, r.Product, r.RequestID)
	return rec, retry, err
}

// purchaseOf reads a purchase's record from its ledger transfer, which
// keeps the balances of both accounts right after it: the issuer's is minus
// what the organization had purchased, the pool's what it had available.
// A retry reads the same transfer, so it returns the same record.
func purchaseOf(t ledger.Transfer, org string, p Product, requestID string) (allot.Purchase, error) {
	qty, ok1 := input.Int64(t.Amount)
	purchased, ok2 := input.Int64(t.DebitBalance.Neg())
	available, ok3 := input.Int64(t.CreditBalance)
	if !ok1 || !ok2 || !ok3 {
		return allot.Purchase{}, invalid("Quantity", "organization %q's purchase %q of %s is more than a count holds (%d)", org, requestID, p.phrase(), int64(math.MaxInt64))
	}
	return allot.Purchase{
		Org:          org,
		Product:      string(p),
		Quantity:     qty,
		Subscription: t.Metadata[metaSubscription],
		Actor:        t.Actor,
		RequestID:    requestID,
		At:           t.PostedAt,
		Purchased:    purchased,
		Available:    available,
	}, nil
}

// openPool creates a product's unit, issuer and pool accounts and its pool
// record.
func (s *Service) openPool(ctx context.Context, b *ledger.Book, tx Tx, org string, p Product) (Pool, error) {
	if _, err := b.DefineUnit(ctx, p.unit()); err != nil {
		return Pool{}, err
	}
	if _, err := b.CreateAccount(ctx, ledger.Account{ID: issuerAccount(org, p), Unit: string(p), Owner: org}); err != nil {
		return Pool{}, err
	}
	if _, err := b.CreateAccount(ctx, ledger.Account{ID: poolAccount(org, p), Unit: string(p), Owner: org, Flags: ledger.FlagNonNegative}); err != nil {
		return Pool{}, err
	}
	pool := Pool{Org: org, Product: p, CreatedAt: b.Now()}
	if err := tx.PoolInsert(ctx, pool); err != nil {
		if errors.Is(err, ledger.ErrAlreadyExists) {
			// A concurrent request opened it first: work on theirs.
			return tx.PoolLock(ctx, org, p)
		}
		return Pool{}, err
	}
	return pool, nil
}

// CreateEventParams describe an event to create.
type CreateEventParams struct {
	Org          string    // required, an ID
	Actor        string    // an Entitlement manager or Event organizer of Org
	ID           string    // unique in the organization; required, an ID
	Name         string    // valid UTF-8 without NUL
	Start, End   time.Time // required, years 1 to 9999; End after Start
	Participants int64     // zero or more
	Modules      []string  // advanced modules in use, each an ID
}

// CreateEvent records an event of an organization. The actor must be an
// Entitlement manager or an Event organizer of the organization.
//
// Creating it again with the same details is a retry: it returns the stored
// event and changes nothing. With other details (including details the
// event has since been given by SetParticipants or SetModules) it is an
// error matching ErrEventExists. Events are keyed by organization and ID:
// another organization's event of the same ID is another event, and neither
// organization learns of the other's.
func (s *Service) CreateEvent(ctx context.Context, p CreateEventParams) (Event, error) {
	e, retry, err := s.createEvent(ctx, p)
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("create event %q: %w", p.ID, err))
		s.observe(ctx, "create event", p.Org, "", err)
		return Event{}, err
	}
	if retry {
		s.retried(ctx, "create event", p.Org, "")
	}
	return e, nil
}

func (s *Service) createEvent(ctx context.Context, n CreateEventParams) (Event, bool, error) {
	if err := firstErr(validID("Org", n.Org), validID("ID", n.ID), validText("Name", n.Name), validParticipants(n.Participants),
		validModules(n.Modules), validTime("Start", n.Start), validTime("End", n.End)); err != nil {
		return Event{}, false, err
	}
	if n.Start.IsZero() {
		return Event{}, false, invalid("Start", "zero; give the time the event starts")
	}
	now := ledger.Instant(s.clock.Now())
	e := Event{
		ID: n.ID, Org: n.Org, Name: n.Name,
		Start:        ledger.Instant(n.Start),
		End:          ledger.Instant(n.End),
		Participants: n.Participants,
		Modules:      normalizeModules(n.Modules),
		CreatedAt:    now, UpdatedAt: now,
	}
	if !e.End.After(e.Start) {
		return Event{}, false, invalid("End", "%v is not after the start %v at microsecond precision; an event ends after it starts", n.End, n.Start)
	}
	actor, err := s.authorize(ctx, n.Org, n.Actor, actCreateEvent, EntitlementManager, EventOrganizer)
	if err != nil {
		return Event{}, false, err
	}
	var out Event
	var retry bool
	err = s.store.InTx(ctx, func(tx Tx) error {
		retry = false
		prior, err := tx.EventGet(ctx, e.Org, e.ID)
		switch {
		case err == nil:
			if prior.Name != e.Name || !prior.Start.Equal(e.Start) || !prior.End.Equal(e.End) ||
				prior.Participants != e.Participants || !slices.Equal(prior.Modules, e.Modules) {
				return fmt.Errorf("%w: organization %q has an event %q with other details; choose another ID or update it", ErrEventExists, e.Org, e.ID)
			}
			out, retry = prior, true
			return nil
		case !errors.Is(err, ledger.ErrNotFound):
			return err
		}
		out = e
		if err := tx.EventInsert(ctx, e); err != nil {
			return err
		}
		return emit(ctx, tx, lacks(nil, envelope(e.Org, now, actor, ""), Event{}, e))
	})
	return out, retry, err
}

// emit writes evs in the transaction, if there are any.
func emit(ctx context.Context, tx Tx, evs []events.Event) error {
	if len(evs) == 0 {
		return nil
	}
	return tx.Emit(ctx, evs...)
}

// EventParams name one event of an organization.
type EventParams struct {
	Org   string
	Actor string // an Entitlement manager or Event organizer of Org
	ID    string
}

// Event returns the organization's event with the given ID. The actor must
// be an Entitlement manager or an Event organizer of the organization.
func (s *Service) Event(ctx context.Context, p EventParams) (Event, error) {
	e, err := s.event(ctx, p)
	if err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("get event %q: %w", p.ID, err))
	}
	return e, nil
}

func (s *Service) event(ctx context.Context, p EventParams) (Event, error) {
	if err := firstErr(validID("Org", p.Org), validID("ID", p.ID)); err != nil {
		return Event{}, err
	}
	if _, err := s.authorize(ctx, p.Org, p.Actor, actReadEvent, EntitlementManager, EventOrganizer); err != nil {
		return Event{}, err
	}
	var e Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		e, err = getEvent(ctx, tx, p.Org, p.ID)
		return err
	})
	return e, err
}

// SetParticipantsParams set an event's participant count.
type SetParticipantsParams struct {
	Org          string
	Actor        string // an Entitlement manager or Event organizer of Org
	Event        string
	Participants int64 // zero or more
}

// SetParticipants records the event's current participant count: the seats
// it needs, and returns the event. The service calls it as people join, in
// the name of an Entitlement manager or Event organizer of the
// organization. Setting the count the event already has is a retry: it
// returns the event as stored and changes nothing, UpdatedAt included.
func (s *Service) SetParticipants(ctx context.Context, p SetParticipantsParams) (Event, error) {
	e, err := s.updateEvent(ctx, p.Org, p.Actor, p.Event, validParticipants(p.Participants), func(e *Event) bool {
		if e.Participants == p.Participants {
			return false
		}
		e.Participants = p.Participants
		return true
	})
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("set participants of event %q to %d: %w", p.Event, p.Participants, err))
		s.observe(ctx, "set participants", p.Org, "", err)
		return Event{}, err
	}
	return e, nil
}

// SetModulesParams set the advanced modules an event uses.
type SetModulesParams struct {
	Org     string
	Actor   string // an Entitlement manager or Event organizer of Org
	Event   string
	Modules []string // each an ID; order and repeats do not matter
}

// SetModules records the advanced modules the event uses: each needs that
// module transferred to it. The actor must be an Entitlement manager or an
// Event organizer of the organization. Setting the modules the event
// already has (in any order) is a retry: it returns the event as stored and
// changes nothing, UpdatedAt included.
func (s *Service) SetModules(ctx context.Context, p SetModulesParams) (Event, error) {
	ms := normalizeModules(p.Modules)
	e, err := s.updateEvent(ctx, p.Org, p.Actor, p.Event, validModules(p.Modules), func(e *Event) bool {
		if slices.Equal(e.Modules, ms) {
			return false
		}
		e.Modules = ms
		return true
	})
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("set modules of event %q: %w", p.Event, err))
		s.observe(ctx, "set modules", p.Org, "", err)
		return Event{}, err
	}
	return e, nil
}

// updateEvent applies change to the stored event and stores it, unless
// change reports that it changed nothing.
func (s *Service) updateEvent(ctx context.Context, org, actor, event string, verr error, change func(*Event) bool) (Event, error) {
	if err := firstErr(validID("Org", org), validID("Event", event), verr); err != nil {
		return Event{}, err
	}
	actor, err := s.authorize(ctx, org, actor, actUpdateEvent, EntitlementManager, EventOrganizer)
	if err != nil {
		return Event{}, err
	}
	now := ledger.Instant(s.clock.Now())
	var out Event
	err = s.store.InTx(ctx, func(tx Tx) error {
		e, err := getEvent(ctx, tx, org, event)
		if err != nil {
			return err
		}
		before := e
		if !change(&e) {
			out = e
			return nil
		}
		e.UpdatedAt = now
		out = e
		if err := tx.EventUpdate(ctx, e); err != nil {
			return err
		}
		return emit(ctx, tx, lacks(nil, envelope(org, now, actor, ""), before, e))
	})
	return out, err
}

// TransferSeatsParams move seats from the organization's pool to one of its
// events.
type TransferSeatsParams struct {
	Org       string
	Actor     string // an Entitlement manager of Org
	Event     string
	Quantity  int64  // positive, at most what the pool has available
	RequestID string // a retry with the same ID transfers once
}

// TransferSeats moves p.Quantity seats from the pool to the event. The
// actor must be an Entitlement manager of the organization. It is final:
// nothing moves seats back. Retrying a request ID with the same contents
// returns the original transaction and changes nothing; with other contents
// it is an error matching ErrRequestReused.
func (s *Service) TransferSeats(ctx context.Context, p TransferSeatsParams) (Transaction, error) {
	tr, retry, err := s.transfer(ctx, p.Org, p.Actor, p.Event, Seats, p.Quantity, p.RequestID)
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("transfer %d seats to event %q: %w", p.Quantity, p.Event, err))
		s.observe(ctx, "transfer", p.Org, p.RequestID, err)
		return Transaction{}, err
	}
	if retry {
		s.retried(ctx, "transfer", p.Org, p.RequestID)
	}
	return tr, nil
}

// TransferModuleParams give one event of the organization an advanced
// module.
type TransferModuleParams struct {
	Org       string
	Actor     string // an Entitlement manager of Org
	Event     string
	Module    string // the module's name, as in Module(name)
	RequestID string // a retry with the same ID transfers once
}

// TransferModule moves one unit of the module from the pool to the event.
// The actor must be an Entitlement manager of the organization. An event
// holds a module at most once: a second transfer of it is an error matching
// ErrModuleAlreadyAssigned, unless it is a retry of the same request ID,
// which returns the original transaction. It is final.
func (s *Service) TransferModule(ctx context.Context, p TransferModuleParams) (Transaction, error) {
	err := validID("Module", p.Module)
	var tr Transaction
	var retry bool
	if err == nil {
		tr, retry, err = s.transfer(ctx, p.Org, p.Actor, p.Event, Module(p.Module), 1, p.RequestID)
	}
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("transfer module %q to event %q: %w", p.Module, p.Event, err))
		s.observe(ctx, "transfer", p.Org, p.RequestID, err)
		return Transaction{}, err
	}
	if retry {
		s.retried(ctx, "transfer", p.Org, p.RequestID)
	}
	return tr, nil
}

func (s *Service) transfer(ctx context.Context, org, actor, event string, p Product, qty int64, requestID string) (Transaction, bool, error) {
	if err := firstErr(validID("Org", org), validID("Event", event), validRequest(requestID), validQuantity(qty)); err != nil {
		return Transaction{}, false, err
	}
	actor, err := s.authorize(ctx, org, actor, actTransfer, EntitlementManager)
	if err != nil {
		return Transaction{}, false, err
	}
	c := transferCalls.Get().(*transferCall)
	c.s, c.ctx, c.now = s, ctx, s.clock.Now()
	c.org, c.actor, c.event, c.requestID, c.p, c.qty = org, actor, event, requestID, p, qty
	c.want = ledger.Transfer{
		ID:     requestTransferID(org, requestID),
		Debit:  poolAccount(org, p),
		Credit: eventAccount(org, event, p),
		Amount: decimal.NewFromInt(qty),
		Code:   codeTransfer,
		Actor:  actor,
	}
	err = s.store.InTx(ctx, c.run)
	out, retry := c.out, c.retry
	*c = transferCall{run: c.run} // keep nothing of this transfer in the pool
	transferCalls.Put(c)
	if err != nil {
		return Transaction{}, false, err
	}
	tr, err := transactionOf(out)
	return tr, retry, err
}

// transferCall is what a transfer's transaction works in: the request, the
// result and the Book, with the function InTx runs bound once. Allocating
// them for each transfer (the closure, the variables it writes, and the
// Book's kilobyte of working space) was over a third of the bytes a
// transfer allocates; transfers take them from a pool instead. This relies
// on InTx calling fn only before it returns (see Store).
type transferCall struct {
	s                            *Service
	ctx                          context.Context
	now                          time.Time
	org, actor, event, requestID string
	p                            Product
	qty                          int64
	want                         ledger.Transfer
	out                          ledger.Transfer
	retry                        bool // out is the request's first result
	book                         ledger.Book
	run                          func(Tx) error // c.do
}

var transferCalls = sync.Pool{New: func() any {
	c := new(transferCall)
	c.run = c.do
	return c
}}

func (c *transferCall) do(tx Tx) error {
	c.out, c.retry = ledger.Transfer{}, false
	ctx, org, event, p, qty := c.ctx, c.org, c.event, c.p, c.qty
	// One read for the pool (locked first, as every writer of its units
	// does), an earlier post of the request, and the event.
	got, err := tx.PoolTransferLoad(ctx, TransferLoadParams{Org: org, Product: p, Event: event, Transfer: c.want.ID})
	if err != nil {
		return err
	}
	if !got.PoolFound {
		return &NoPoolError{Org: org, Product: p}
	}
	if got.PriorFound {
		// The request ran before: its first result, whatever happened
		// since, and no other check.
		if !ledger.SameRequest(got.Prior, c.want) {
			return &RequestReusedError{Org: org, RequestID: c.requestID}
		}
		c.out, c.retry = got.Prior, true
		return nil
	}
	if !got.EventFound {
		return &UnknownEventError{Org: org, Event: event}
	}
	pool, e := got.Pool, got.Event
	if p.IsModule() && slices.Contains(e.ModulesAssigned, p.ModuleName()) {
		return &ModuleAlreadyAssignedError{Event: event, Module: p.ModuleName()}
	}
	if pool.Available() < qty {
		return &InsufficientError{Org: org, Product: p, Available: pool.Available(), Requested: qty}
	}
	assigned, ok1 := input.Add(pool.Assigned, qty)
	seatsAssigned, ok2 := input.Add(e.SeatsAssigned, qty)
	if !ok1 || !ok2 {
		return invalid("Quantity", "%s more would take a count beyond %d", p.count(qty), int64(math.MaxInt64))
	}
	b := &c.book
	b.Reset(tx, c.now)
	// An event that holds seats has its seat account: seats never leave.
	if p.IsModule() || e.SeatsAssigned == 0 {
		if err := b.EnsureAccount(ctx, ledger.Account{ID: c.want.Credit, Unit: string(p), Owner: org}); err != nil {
			return err
		}
	}
	if c.out, err = b.Post(ctx, c.want); err != nil {
		return mapLedgerErr(err, org, p, c.requestID)
	}
	poolBefore, eventBefore := pool, e
	pool.Assigned = assigned
	if err := tx.PoolUpdate(ctx, pool); err != nil {
		return err
	}
	units := int64(1) // an event holds a module once
	if p.IsModule() {
		e.ModulesAssigned = normalizeModules(append(e.ModulesAssigned, p.ModuleName()))
	} else {
		e.SeatsAssigned = seatsAssigned
		units = seatsAssigned
	}
	e.UpdatedAt = b.Now()
	if err := tx.EventUpdate(ctx, e); err != nil {
		return err
	}
	env := envelope(org, b.Now(), c.actor, c.requestID)
	moved := env
	moved.Type = events.SeatsTransferred
	moved.Payload = events.Transferred{Event: event, Product: string(p), Quantity: qty, Available: pool.Available(), Assigned: units}
	// Most transfers emit one event: no slice to allocate for more.
	evs := lacks(nil, env, eventBefore, e)
	evs = c.s.thresholds(evs, env, poolBefore, pool)
	if len(evs) == 0 {
		return tx.Emit(ctx, moved)
	}
	return tx.Emit(ctx, append([]events.Event{moved}, evs...)...)
}

// CheckResult is what a consumption check did and found.
type CheckResult struct {
	At       time.Time    // the instant the check ran at
	Assigned []Assignment // seats transferred, in the order of the check
	// Missing are the live and past events that still lack seats or
	// modules after the check, ordered by Start, then ID.
	Missing []EventEntitlements
}

// CheckConsumptionParams name the organization to check and who runs the
// check.
type CheckConsumptionParams struct {
	Org string
	// Actor runs the check: allot.SystemActor for SpotMe's periodic run,
	// which needs no role, or an Entitlement manager of Org running it by
	// hand. The check's transfers record it.
	Actor string
}

// CheckConsumption assigns seats from the organization's pool to its live
// and past events that have fewer seats than participants, in the order and
// under the rules of PlanConsumption, and reports what is still missing.
// Modules are never assigned.
//
// SpotMe runs the check periodically: the service's scheduler calls it with
// Actor allot.SystemActor, which needs no grant. Anyone else running it (by
// hand, from the Entitlements tab) must be an Entitlement manager of the
// organization. A service must never let a person's request act as
// allot.SystemActor.
//
// Each assignment is a transfer whose ID is derived from the event and the
// seat count it reaches, so a second run with nothing changed (a retry, or
// a replica running it at once) moves nothing. It runs in one transaction
// that first locks the seat pool, so replicas running it at once take turns
// and the later ones find nothing left to do.
func (s *Service) CheckConsumption(ctx context.Context, p CheckConsumptionParams) (CheckResult, error) {
	res, err := s.checkConsumption(ctx, p)
	if err != nil {
		err = errcode.Ensure(fmt.Errorf("check consumption of %q: %w", p.Org, err))
		s.observe(ctx, "consumption check", p.Org, "", err)
		return CheckResult{}, err
	}
	return res, nil
}

// checkChunk is how many transfers one PostGroup posts: the ledger's cost
// per transfer grows with the size of a group, so a large check posts in
// chunks, all inside its one transaction.
const checkChunk = 256

func (s *Service) checkConsumption(ctx context.Context, p CheckConsumptionParams) (CheckResult, error) {
	org := p.Org
	if err := validID("Org", org); err != nil {
		return CheckResult{}, err
	}
	actor, reason := input.Actor(p.Actor)
	if reason != "" {
		return CheckResult{}, invalid("Actor", "%q %s", p.Actor, reason)
	}
	if actor != allot.SystemActor {
		if _, err := s.authorize(ctx, org, actor, actCheck, EntitlementManager); err != nil {
			return CheckResult{}, err
		}
	}
	now := s.clock.Now()
	var res CheckResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		res = CheckResult{}
		b := ledger.NewBook(tx, now)
		res.At = b.Now()
		// One read for the seat pool (locked first) and the started
		// events that lack something: the others are neither changed nor
		// reported.
		got, err := tx.PoolCheckLoad(ctx, CheckLoadParams{Org: org, StartedBy: res.At})
		if err != nil {
			return err
		}
		pool, events := got.Pool, got.Events
		var plan []Assignment
		if got.PoolFound {
			plan = PlanConsumption(res.At, events, pool.Available())
		}
		if len(plan) > 0 {
			if err := assign(ctx, b, tx, org, actor, events, plan); err != nil {
				return err
			}
			before := pool
			assigned := pool.Assigned
			for _, a := range plan {
				var ok bool
				if assigned, ok = input.Add(assigned, a.Seats); !ok {
					return invalid("Quantity", "assigning %d more seats would take organization %q's assigned seats beyond %d", a.Seats, org, int64(math.MaxInt64))
				}
			}
			pool.Assigned = assigned
			if err := tx.PoolUpdate(ctx, pool); err != nil {
				return err
			}
			if err := s.emitAssigned(ctx, tx, envelope(org, res.At, actor, ""), events, plan, before, pool); err != nil {
				return err
			}
		}
		res.Assigned = plan
		for _, e := range events {
			if w := entitlementsOf(e, res.At); Covered(e, res.At) && w.Lacks() {
				res.Missing = append(res.Missing, w)
			}
		}
		return nil
	})
	if err != nil {
		return CheckResult{}, err
	}
	return res, nil
}

// emitAssigned writes the events of a consumption check that assigned plan
// (events are the events after it): a SeatsAssigned per assignment, with
// the pool's available seats right after it, a SeatsEventCovered for each
// event it left lacking nothing, and the seat pool's thresholds crossed
// from before to after.
func (s *Service) emitAssigned(ctx context.Context, tx Tx, env events.Event, evts []Event, plan []Assignment, before, after Pool) error {
	byID := make(map[string]int, len(plan))
	for i := range evts {
		byID[evts[i].ID] = i
	}
	// Per assignment a SeatsAssigned and at most one more: an assignment
	// only adds seats, so the event can only come to lack nothing.
	evs := make([]events.Event, 0, 2*len(plan)+len(s.thresholdPcts))
	available := before.Available()
	for _, a := range plan {
		available -= a.Seats
		e := env
		e.Type = events.SeatsAssigned
		e.Payload = events.Transferred{Event: a.Event, Product: string(Seats), Quantity: a.Seats, Available: available, Assigned: a.Reached}
		evs = append(evs, e)
		now := evts[byID[a.Event]]
		was := now
		was.SeatsAssigned = a.Reached - a.Seats
		evs = lacks(evs, env, was, now)
	}
	return tx.Emit(ctx, s.thresholds(evs, env, before, after)...)
}

// assign posts the plan's transfers, by actor, and updates the events (in
// events, too).
func assign(ctx context.Context, b *ledger.Book, tx Tx, org, actor string, events []Event, plan []Assignment) error {
	byID := make(map[string]int, len(plan))
	for i := range events {
		byID[events[i].ID] = i
	}
	// An event that holds seats has its account (seats never leave): the
	// others' are opened first, all in one call.
	var open []ledger.Account
	for _, a := range plan {
		if a.Reached == a.Seats {
			open = append(open, ledger.Account{ID: eventAccount(org, a.Event, Seats), Unit: string(Seats), Owner: org})
		}
	}
	if err := b.EnsureAccounts(ctx, open); err != nil {
		return err
	}
	pool := poolAccount(org, Seats)
	ts := make([]ledger.Transfer, 0, min(len(plan), checkChunk))
	for start := 0; start < len(plan); start += checkChunk {
		chunk := plan[start:min(start+checkChunk, len(plan))]
		ts = ts[:0]
		for _, a := range chunk {
			ts = append(ts, ledger.Transfer{
				ID:     autoTransferID(org, a.Event, a.Reached),
				Debit:  pool,
				Credit: eventAccount(org, a.Event, Seats),
				Amount: decimal.NewFromInt(a.Seats),
				Code:   codeAuto,
				Actor:  actor,
			})
		}
		if _, err := b.PostGroup(ctx, ts); err != nil {
			return mapLedgerErr(err, org, Seats, "")
		}
		for _, a := range chunk {
			e := &events[byID[a.Event]]
			e.SeatsAssigned = a.Reached
			e.UpdatedAt = b.Now()
			if err := tx.EventUpdate(ctx, *e); err != nil {
				return err
			}
		}
	}
	return nil
}

// priorTransfer looks for an earlier transfer with want's ID. done reports
// that one exists with the same contents: the request is a retry.
func priorTransfer(ctx context.Context, tx Tx, want ledger.Transfer, org, requestID string) (ledger.Transfer, bool, error) {
	got, err := tx.TransfersGet(ctx, []ledger.TransferID{want.ID}, nil)
	if err != nil || len(got) == 0 {
		return ledger.Transfer{}, false, err
	}
	if !ledger.SameRequest(got[0], want) {
		return ledger.Transfer{}, false, &RequestReusedError{Org: org, RequestID: requestID}
	}
	return got[0], true, nil
}

// mapLedgerErr turns the ledger's refusals into this package's errors. The
// ledger's error stays reachable through them (errors.Is, errors.As) but
// out of their messages, which name the organization's own IDs, not the
// ledger's.
func mapLedgerErr(err error, org string, p Product, requestID string) error {
	var ib *ledger.InsufficientBalanceError
	switch {
	case errors.As(err, &ib):
		avail, ok1 := input.Int64(ib.Available)
		requested, ok2 := input.Int64(ib.Requested)
		if !ok1 || !ok2 {
			return invalid("Quantity", "organization %q's pool of %s has %s available, %s requested: more than a count holds (%d)", org, p.phrase(), ib.Available, ib.Requested, int64(math.MaxInt64))
		}
		return &InsufficientError{Org: org, Product: p, Available: avail, Requested: requested, ledgerErr: err}
	case errors.Is(err, ledger.ErrConflict) && requestID != "":
		return &RequestReusedError{Org: org, RequestID: requestID, ledgerErr: err}
	}
	return err
}

// getEvent reads the organization's event: an event of another
// organization is not found, as one that does not exist.
func getEvent(ctx context.Context, tx Tx, org, id string) (Event, error) {
	e, err := tx.EventGet(ctx, org, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return Event{}, &UnknownEventError{Org: org, Event: id}
	}
	return e, err
}

func validRequest(id string) error {
	if id == "" {
		return invalid("RequestID", "empty; give every request an ID so a retry changes nothing")
	}
	return validID("RequestID", id)
}

// validTime refuses a time no store keeps (see input.Time).
func validTime(field string, t time.Time) error {
	if r := input.Time(t); r != "" {
		return invalid(field, "%s", r)
	}
	return nil
}

func validQuantity(n int64) error {
	if n <= 0 {
		return invalid("Quantity", "%d is not positive", n)
	}
	return nil
}

func validParticipants(n int64) error {
	if n < 0 {
		return invalid("Participants", "%d is negative", n)
	}
	return nil
}

func validModules(ms []string) error {
	for _, m := range ms {
		if err := validID("Modules", m); err != nil {
			return err
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
