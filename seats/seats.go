package seats

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/allot-dev/allot/clock"
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
	store      Store
	clock      clock.Clock
	roles      Roles
	checkActor string
}

// Options configure a Service. A nil *Options means all defaults.
type Options struct {
	// Clock tells the time of transfers and decides whether events are
	// upcoming, live or past. Default: clock.Real{}.
	Clock clock.Clock
	// Roles tells who is an Entitlement manager. Default: a StaticRoles
	// that grants nobody, so every transfer and view is refused until the
	// caller provides roles.
	Roles Roles
	// CheckActor is the actor written on the consumption check's automatic
	// transfers, in its canonical form (CanonicalActor). Default:
	// "consumption-check".
	CheckActor string
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, invalid("store", "none given; the service keeps its pools and events in one")
	}
	s := &Service{store: store, clock: clock.Real{}, roles: &StaticRoles{}, checkActor: "consumption-check"}
	if opts != nil {
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
		if opts.Roles != nil {
			s.roles = opts.Roles
		}
		if opts.CheckActor != "" {
			a, reason := input.Actor(opts.CheckActor)
			if reason != "" {
				return nil, invalid("CheckActor", "%q %s", opts.CheckActor, reason)
			}
			s.checkActor = a
		}
	}
	return s, nil
}

// authorize refuses an actor without the Entitlement manager role in org,
// and returns the actor's canonical form, the one Roles was asked about.
func (s *Service) authorize(ctx context.Context, org, actor string) (string, error) {
	a, err := CanonicalActor(actor)
	if err != nil {
		return "", err
	}
	ok, err := s.roles.IsEntitlementManager(ctx, org, a)
	if err != nil {
		return "", fmt.Errorf("check role of %q: %w", a, err)
	}
	if !ok {
		return "", &NotEntitlementManagerError{Org: org, Actor: a}
	}
	return a, nil
}

// PurchaseRequest adds units of a product to an organization's pool.
type PurchaseRequest struct {
	Org          string
	Product      Product // Seats or Module(name)
	Quantity     int64   // positive
	Subscription string  // the subscription the purchase belongs to; required, valid UTF-8 without NUL
	Actor        string  // who records it, e.g. the billing system; required (see CanonicalActor)
	RequestID    string  // makes a retried purchase count once; required, an ID
}

// Purchase fills the organization's pool of a product, creating the pool on
// its first purchase. Purchases come from billing, not from members, so no
// role is checked. Retrying a request ID with the same contents returns the
// original transaction and changes nothing; with other contents it is an
// error matching ErrRequestReused. A purchase that would take the pool's
// Purchased beyond what an int64 holds is refused with ErrInvalid.
func (s *Service) Purchase(ctx context.Context, r PurchaseRequest) (Transaction, error) {
	tr, err := s.purchase(ctx, r)
	if err != nil {
		return Transaction{}, errcode.Ensure(fmt.Errorf("purchase %d %s for %q: %w", r.Quantity, r.Product, r.Org, err))
	}
	return tr, nil
}

func (s *Service) purchase(ctx context.Context, r PurchaseRequest) (Transaction, error) {
	if err := firstErr(validID("Org", r.Org), r.Product.validate(), validRequest(r.RequestID), validQuantity(r.Quantity)); err != nil {
		return Transaction{}, err
	}
	if r.Subscription == "" {
		return Transaction{}, invalid("Subscription", "empty; name the subscription the purchase belongs to")
	}
	if err := validText("Subscription", r.Subscription); err != nil {
		return Transaction{}, err
	}
	actor, err := CanonicalActor(r.Actor)
	if err != nil {
		return Transaction{}, err
	}
	now := s.clock.Now()
	want := ledger.Transfer{
		ID:       requestTransferID(r.Org, r.RequestID),
		Debit:    issuerAccount(r.Org, r.Product),
		Credit:   poolAccount(r.Org, r.Product),
		Amount:   decimal.NewFromInt(r.Quantity),
		Code:     codePurchase,
		Actor:    actor,
		Metadata: map[string]string{metaSubscription: r.Subscription},
	}
	var out ledger.Transfer
	err = s.store.InTx(ctx, func(tx Tx) error {
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
			out = prior
			return err
		}
		purchased, ok := input.Add(pool.Purchased, r.Quantity)
		if !ok {
			return invalid("Quantity", "%s more would take organization %q's %d purchased beyond %d, the most a pool counts", r.Product.count(r.Quantity), r.Org, pool.Purchased, int64(math.MaxInt64))
		}
		if out, err = b.Post(ctx, want); err != nil {
			return mapLedgerErr(err, r.Org, r.Product, r.RequestID)
		}
		pool.Purchased = purchased
		return tx.PoolUpdate(ctx, pool)
	})
	if err != nil {
		return Transaction{}, err
	}
	return transactionOf(out)
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

// NewEvent describes an event to create.
type NewEvent struct {
	ID           string    // unique in the organization; required, an ID
	Org          string    // required, an ID
	Name         string    // valid UTF-8 without NUL
	Start, End   time.Time // required, years 1 to 9999; End after Start
	Participants int64     // zero or more
	Modules      []string  // advanced modules in use, each an ID
}

// CreateEvent records an event of an organization. Creating it again with
// the same details returns the stored event; with other details it is an
// error matching ErrEventExists. Events are keyed by organization and ID:
// another organization's event of the same ID is another event, and neither
// organization learns of the other's. The embedding service creates events;
// no role is checked.
func (s *Service) CreateEvent(ctx context.Context, n NewEvent) (Event, error) {
	e, err := s.createEvent(ctx, n)
	if err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("create event %q: %w", n.ID, err))
	}
	return e, nil
}

func (s *Service) createEvent(ctx context.Context, n NewEvent) (Event, error) {
	if err := firstErr(validID("ID", n.ID), validID("Org", n.Org), validText("Name", n.Name), validParticipants(n.Participants),
		validModules(n.Modules), validTime("Start", n.Start), validTime("End", n.End)); err != nil {
		return Event{}, err
	}
	if n.Start.IsZero() {
		return Event{}, invalid("Start", "zero; give the time the event starts")
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
		return Event{}, invalid("End", "%v is not after the start %v at microsecond precision; an event ends after it starts", n.End, n.Start)
	}
	var out Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		prior, err := tx.EventGet(ctx, e.Org, e.ID)
		switch {
		case err == nil:
			if prior.Name != e.Name || !prior.Start.Equal(e.Start) || !prior.End.Equal(e.End) ||
				prior.Participants != e.Participants || !slices.Equal(prior.Modules, e.Modules) {
				return fmt.Errorf("%w: organization %q has an event %q with other details; choose another ID or update it", ErrEventExists, e.Org, e.ID)
			}
			out = prior
			return nil
		case !errors.Is(err, ledger.ErrNotFound):
			return err
		}
		out = e
		return tx.EventInsert(ctx, e)
	})
	return out, err
}

// Event returns the organization's event with the given ID. It is the
// embedding service's read; no role is checked.
func (s *Service) Event(ctx context.Context, org, id string) (Event, error) {
	if err := firstErr(validID("Org", org), validID("Event", id)); err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("get event %q: %w", id, err))
	}
	var e Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		e, err = getEvent(ctx, tx, org, id)
		return err
	})
	if err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("get event %q: %w", id, err))
	}
	return e, nil
}

// SetParticipants records the event's current participant count: the seats
// it needs. The embedding service calls it as people join; no role is
// checked.
func (s *Service) SetParticipants(ctx context.Context, org, event string, participants int64) (Event, error) {
	e, err := s.updateEvent(ctx, org, event, validParticipants(participants), func(e *Event) { e.Participants = participants })
	if err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("set participants of event %q to %d: %w", event, participants, err))
	}
	return e, nil
}

// SetModules records the advanced modules the event uses: each needs that
// module transferred to it. No role is checked.
func (s *Service) SetModules(ctx context.Context, org, event string, modules []string) (Event, error) {
	ms := normalizeModules(modules)
	e, err := s.updateEvent(ctx, org, event, validModules(modules), func(e *Event) { e.Modules = ms })
	if err != nil {
		return Event{}, errcode.Ensure(fmt.Errorf("set modules of event %q: %w", event, err))
	}
	return e, nil
}

func (s *Service) updateEvent(ctx context.Context, org, event string, verr error, change func(*Event)) (Event, error) {
	if err := firstErr(validID("Org", org), validID("Event", event), verr); err != nil {
		return Event{}, err
	}
	now := ledger.Instant(s.clock.Now())
	var out Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		e, err := getEvent(ctx, tx, org, event)
		if err != nil {
			return err
		}
		change(&e)
		e.UpdatedAt = now
		out = e
		return tx.EventUpdate(ctx, e)
	})
	return out, err
}

// SeatTransfer moves seats from the organization's pool to one of its events.
type SeatTransfer struct {
	Org       string
	Actor     string // an Entitlement manager of Org
	Event     string
	Quantity  int64  // positive, at most what the pool has available
	RequestID string // a retry with the same ID transfers once
}

// TransferSeats moves r.Quantity seats from the pool to the event. It is
// final: nothing moves seats back. Retrying a request ID with the same
// contents returns the original transaction and changes nothing; with other
// contents it is an error matching ErrRequestReused.
func (s *Service) TransferSeats(ctx context.Context, r SeatTransfer) (Transaction, error) {
	tr, err := s.transfer(ctx, r.Org, r.Actor, r.Event, Seats, r.Quantity, r.RequestID)
	if err != nil {
		return Transaction{}, errcode.Ensure(fmt.Errorf("transfer %d seats to event %q: %w", r.Quantity, r.Event, err))
	}
	return tr, nil
}

// ModuleTransfer gives one event of the organization an advanced module.
type ModuleTransfer struct {
	Org       string
	Actor     string // an Entitlement manager of Org
	Event     string
	Module    string // the module's name, as in Module(name)
	RequestID string // a retry with the same ID transfers once
}

// TransferModule moves one unit of the module from the pool to the event. An
// event holds a module at most once: a second transfer of it is an error
// matching ErrModuleAlreadyAssigned, unless it is a retry of the same
// request ID. It is final.
func (s *Service) TransferModule(ctx context.Context, r ModuleTransfer) (Transaction, error) {
	if err := validID("Module", r.Module); err != nil {
		return Transaction{}, errcode.Ensure(fmt.Errorf("transfer module %q to event %q: %w", r.Module, r.Event, err))
	}
	tr, err := s.transfer(ctx, r.Org, r.Actor, r.Event, Module(r.Module), 1, r.RequestID)
	if err != nil {
		return Transaction{}, errcode.Ensure(fmt.Errorf("transfer module %q to event %q: %w", r.Module, r.Event, err))
	}
	return tr, nil
}

func (s *Service) transfer(ctx context.Context, org, actor, event string, p Product, qty int64, requestID string) (Transaction, error) {
	if err := firstErr(validID("Org", org), validID("Event", event), validRequest(requestID), validQuantity(qty)); err != nil {
		return Transaction{}, err
	}
	actor, err := s.authorize(ctx, org, actor)
	if err != nil {
		return Transaction{}, err
	}
	now := s.clock.Now()
	want := ledger.Transfer{
		ID:     requestTransferID(org, requestID),
		Debit:  poolAccount(org, p),
		Credit: eventAccount(org, event, p),
		Amount: decimal.NewFromInt(qty),
		Code:   codeTransfer,
		Actor:  actor,
	}
	var out ledger.Transfer
	err = s.store.InTx(ctx, func(tx Tx) error {
		pool, err := tx.PoolLock(ctx, org, p)
		if errors.Is(err, ledger.ErrNotFound) {
			return &NoPoolError{Org: org, Product: p}
		} else if err != nil {
			return err
		}
		if prior, done, err := priorTransfer(ctx, tx, want, org, requestID); done || err != nil {
			out = prior
			return err
		}
		e, err := getEvent(ctx, tx, org, event)
		if err != nil {
			return err
		}
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
		b := ledger.NewBook(tx, now)
		// An event that holds seats has its seat account: seats never leave.
		if p.IsModule() || e.SeatsAssigned == 0 {
			if _, err := b.CreateAccount(ctx, ledger.Account{ID: want.Credit, Unit: string(p), Owner: org}); err != nil {
				return err
			}
		}
		if out, err = b.Post(ctx, want); err != nil {
			return mapLedgerErr(err, org, p, requestID)
		}
		pool.Assigned = assigned
		if err := tx.PoolUpdate(ctx, pool); err != nil {
			return err
		}
		if p.IsModule() {
			e.ModulesAssigned = normalizeModules(append(e.ModulesAssigned, p.ModuleName()))
		} else {
			e.SeatsAssigned = seatsAssigned
		}
		e.UpdatedAt = b.Now()
		return tx.EventUpdate(ctx, e)
	})
	if err != nil {
		return Transaction{}, err
	}
	return transactionOf(out)
}

// CheckResult is what a consumption check did and found.
type CheckResult struct {
	At       time.Time    // the instant the check ran at
	Assigned []Assignment // seats transferred, in the order of the check
	// Missing are the live and past events that still lack seats or
	// modules after the check, ordered by Start, then ID.
	Missing []Workspace
}

// CheckConsumption assigns seats from the organization's pool to its live
// and past events that have fewer seats than participants, in the order and
// under the rules of PlanConsumption, and reports what is still missing.
// Modules are never assigned. Each assignment is a transfer whose ID is
// derived from the event and the seat count it reaches, so a second run with
// nothing changed moves nothing.
//
// It runs in one transaction that first locks the seat pool, so replicas
// running it at once take turns and the later ones find nothing left to do.
// The check is a system job: no role is checked; its transfers carry
// Options.CheckActor.
func (s *Service) CheckConsumption(ctx context.Context, org string) (CheckResult, error) {
	res, err := s.checkConsumption(ctx, org)
	if err != nil {
		return CheckResult{}, errcode.Ensure(fmt.Errorf("check consumption of %q: %w", org, err))
	}
	return res, nil
}

// checkChunk is how many transfers one PostGroup posts: the ledger's cost
// per transfer grows with the size of a group, so a large check posts in
// chunks, all inside its one transaction.
const checkChunk = 256

func (s *Service) checkConsumption(ctx context.Context, org string) (CheckResult, error) {
	if err := validID("Org", org); err != nil {
		return CheckResult{}, err
	}
	now := s.clock.Now()
	var res CheckResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		res = CheckResult{}
		b := ledger.NewBook(tx, now)
		res.At = b.Now()
		pool, err := tx.PoolLock(ctx, org, Seats)
		hasPool := err == nil
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return err
		}
		events, err := tx.EventList(ctx, EventListParams{Org: org, StartedBy: res.At})
		if err != nil {
			return err
		}
		var plan []Assignment
		if hasPool {
			plan = PlanConsumption(res.At, events, pool.Available())
		}
		if len(plan) > 0 {
			if err := s.assign(ctx, b, tx, org, events, plan); err != nil {
				return err
			}
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
		}
		res.Assigned = plan
		for _, e := range events {
			if w := workspaceOf(e, res.At); Covered(e, res.At) && w.Lacks() {
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

// assign posts the plan's transfers and updates the events (in events, too).
func (s *Service) assign(ctx context.Context, b *ledger.Book, tx Tx, org string, events []Event, plan []Assignment) error {
	byID := make(map[string]int, len(plan))
	for i := range events {
		byID[events[i].ID] = i
	}
	pool := poolAccount(org, Seats)
	ts := make([]ledger.Transfer, 0, min(len(plan), checkChunk))
	for start := 0; start < len(plan); start += checkChunk {
		chunk := plan[start:min(start+checkChunk, len(plan))]
		ts = ts[:0]
		for _, a := range chunk {
			credit := eventAccount(org, a.Event, Seats)
			// An event that holds seats has its account: seats never leave.
			if a.Reached == a.Seats {
				if _, err := b.CreateAccount(ctx, ledger.Account{ID: credit, Unit: string(Seats), Owner: org}); err != nil {
					return err
				}
			}
			ts = append(ts, ledger.Transfer{
				ID:     autoTransferID(org, a.Event, a.Reached),
				Debit:  pool,
				Credit: credit,
				Amount: decimal.NewFromInt(a.Seats),
				Code:   codeAuto,
				Actor:  s.checkActor,
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
