package seats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/allot-dev/allot/clock"
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
	// transfers. Default: "consumption-check".
	CheckActor string
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("seats: New needs a store; use memstore.New().Seats() for an in-memory one")
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
			s.checkActor = opts.CheckActor
		}
	}
	return s, nil
}

// authorize refuses an actor without the Entitlement manager role in org.
func (s *Service) authorize(ctx context.Context, org, actor string) error {
	if actor == "" {
		return invalid("Actor", "empty; name the member who acts")
	}
	ok, err := s.roles.IsEntitlementManager(ctx, org, actor)
	if err != nil {
		return fmt.Errorf("check role of %q: %w", actor, err)
	}
	if !ok {
		return &NotEntitlementManagerError{Org: org, Actor: actor}
	}
	return nil
}

// PurchaseRequest adds units of a product to an organization's pool.
type PurchaseRequest struct {
	Org          string
	Product      Product // Seats or Module(name)
	Quantity     int64   // positive
	Subscription string  // the subscription the purchase belongs to; required
	Actor        string  // who records it, e.g. the billing system; free text, required
	RequestID    string  // makes a retried purchase count once; required
}

// Purchase fills the organization's pool of a product, creating the pool on
// its first purchase. Purchases come from billing, not from members, so no
// role is checked. Retrying a request ID with the same contents returns the
// original transaction and changes nothing.
func (s *Service) Purchase(ctx context.Context, r PurchaseRequest) (Transaction, error) {
	tr, err := s.purchase(ctx, r)
	if err != nil {
		return Transaction{}, fmt.Errorf("purchase %d %s for %q: %w", r.Quantity, r.Product, r.Org, err)
	}
	return tr, nil
}

func (s *Service) purchase(ctx context.Context, r PurchaseRequest) (Transaction, error) {
	if err := firstErr(validName("Org", r.Org), r.Product.validate(), validRequest(r.RequestID), validQuantity(r.Quantity)); err != nil {
		return Transaction{}, err
	}
	if r.Subscription == "" {
		return Transaction{}, invalid("Subscription", "empty; name the subscription the purchase belongs to")
	}
	if r.Actor == "" {
		return Transaction{}, invalid("Actor", "empty; name who records the purchase")
	}
	now := s.clock.Now()
	want := ledger.Transfer{
		ID:       requestTransferID(r.Org, r.RequestID),
		Debit:    issuerAccount(r.Org, r.Product),
		Credit:   poolAccount(r.Org, r.Product),
		Amount:   decimal.NewFromInt(r.Quantity),
		Code:     codePurchase,
		Actor:    r.Actor,
		Metadata: map[string]string{metaSubscription: r.Subscription},
	}
	var out ledger.Transfer
	err := s.store.InTx(ctx, func(tx Tx) error {
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
		if prior, done, err := priorTransfer(ctx, tx, want, r.RequestID); done || err != nil {
			out = prior
			return err
		}
		if out, err = b.Post(ctx, want); err != nil {
			return mapLedgerErr(err, r.Org, r.Product, r.RequestID, r.Quantity)
		}
		pool.Purchased += r.Quantity
		return tx.PoolUpdate(ctx, pool)
	})
	if err != nil {
		return Transaction{}, err
	}
	return transactionOf(out), nil
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
	ID           string // unique in the store; required
	Org          string // required
	Name         string
	Start, End   time.Time // required; End after Start
	Participants int64     // zero or more
	Modules      []string  // advanced modules in use
}

// CreateEvent records an event of an organization. Creating it again with
// the same details returns the stored event; with other details, or with an
// ID another organization uses, it is an error matching ErrEventExists. The
// embedding service creates events; no role is checked.
func (s *Service) CreateEvent(ctx context.Context, n NewEvent) (Event, error) {
	e, err := s.createEvent(ctx, n)
	if err != nil {
		return Event{}, fmt.Errorf("create event %q: %w", n.ID, err)
	}
	return e, nil
}

func (s *Service) createEvent(ctx context.Context, n NewEvent) (Event, error) {
	if err := firstErr(validName("ID", n.ID), validName("Org", n.Org), validParticipants(n.Participants), validModules(n.Modules)); err != nil {
		return Event{}, err
	}
	if n.Start.IsZero() {
		return Event{}, invalid("Start", "zero; an event runs in [Start, End)")
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
		return Event{}, invalid("End", "%v is not after Start %v at microsecond precision; an event runs in [Start, End)", n.End, n.Start)
	}
	var out Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		prior, err := tx.EventGet(ctx, e.ID)
		switch {
		case err == nil:
			if prior.Org != e.Org || prior.Name != e.Name || !prior.Start.Equal(e.Start) || !prior.End.Equal(e.End) ||
				prior.Participants != e.Participants || !slices.Equal(prior.Modules, e.Modules) {
				return fmt.Errorf("%w: event %q exists with other details; choose another ID or update it", ErrEventExists, e.ID)
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
	var e Event
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		e, err = getEvent(ctx, tx, org, id)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("get event %q: %w", id, err)
	}
	return e, nil
}

// SetParticipants records the event's current participant count: the seats
// it needs. The embedding service calls it as people join; no role is
// checked.
func (s *Service) SetParticipants(ctx context.Context, org, event string, participants int64) (Event, error) {
	e, err := s.updateEvent(ctx, org, event, validParticipants(participants), func(e *Event) { e.Participants = participants })
	if err != nil {
		return Event{}, fmt.Errorf("set participants of event %q to %d: %w", event, participants, err)
	}
	return e, nil
}

// SetModules records the advanced modules the event uses: each needs that
// module transferred to it. No role is checked.
func (s *Service) SetModules(ctx context.Context, org, event string, modules []string) (Event, error) {
	ms := normalizeModules(modules)
	e, err := s.updateEvent(ctx, org, event, validModules(modules), func(e *Event) { e.Modules = ms })
	if err != nil {
		return Event{}, fmt.Errorf("set modules of event %q: %w", event, err)
	}
	return e, nil
}

func (s *Service) updateEvent(ctx context.Context, org, event string, verr error, change func(*Event)) (Event, error) {
	if verr != nil {
		return Event{}, verr
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
		return Transaction{}, fmt.Errorf("transfer %d seats to event %q: %w", r.Quantity, r.Event, err)
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
	if err := validName("Module", r.Module); err != nil {
		return Transaction{}, fmt.Errorf("transfer module %q to event %q: %w", r.Module, r.Event, err)
	}
	tr, err := s.transfer(ctx, r.Org, r.Actor, r.Event, Module(r.Module), 1, r.RequestID)
	if err != nil {
		return Transaction{}, fmt.Errorf("transfer module %q to event %q: %w", r.Module, r.Event, err)
	}
	return tr, nil
}

func (s *Service) transfer(ctx context.Context, org, actor, event string, p Product, qty int64, requestID string) (Transaction, error) {
	if err := firstErr(validName("Org", org), validName("Event", event), validRequest(requestID), validQuantity(qty)); err != nil {
		return Transaction{}, err
	}
	if err := s.authorize(ctx, org, actor); err != nil {
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
	err := s.store.InTx(ctx, func(tx Tx) error {
		pool, err := tx.PoolLock(ctx, org, p)
		if errors.Is(err, ledger.ErrNotFound) {
			return &NoPoolError{Org: org, Product: p}
		} else if err != nil {
			return err
		}
		if prior, done, err := priorTransfer(ctx, tx, want, requestID); done || err != nil {
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
		b := ledger.NewBook(tx, now)
		// An event that holds seats has its seat account: seats never leave.
		if p.IsModule() || e.SeatsAssigned == 0 {
			if _, err := b.CreateAccount(ctx, ledger.Account{ID: want.Credit, Unit: string(p), Owner: org}); err != nil {
				return err
			}
		}
		if out, err = b.Post(ctx, want); err != nil {
			return mapLedgerErr(err, org, p, requestID, qty)
		}
		pool.Assigned += qty
		if err := tx.PoolUpdate(ctx, pool); err != nil {
			return err
		}
		if p.IsModule() {
			e.ModulesAssigned = normalizeModules(append(e.ModulesAssigned, p.ModuleName()))
		} else {
			e.SeatsAssigned += qty
		}
		e.UpdatedAt = b.Now()
		return tx.EventUpdate(ctx, e)
	})
	if err != nil {
		return Transaction{}, err
	}
	return transactionOf(out), nil
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
		return CheckResult{}, fmt.Errorf("check consumption of %q: %w", org, err)
	}
	return res, nil
}

// checkChunk is how many transfers one PostGroup posts: the ledger's cost
// per transfer grows with the size of a group, so a large check posts in
// chunks, all inside its one transaction.
const checkChunk = 256

func (s *Service) checkConsumption(ctx context.Context, org string) (CheckResult, error) {
	if err := validName("Org", org); err != nil {
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
			var total int64
			for _, a := range plan {
				total += a.Seats
			}
			pool.Assigned += total
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
			return mapLedgerErr(err, org, Seats, "", 0)
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
func priorTransfer(ctx context.Context, tx Tx, want ledger.Transfer, requestID string) (ledger.Transfer, bool, error) {
	got, err := tx.TransfersGet(ctx, []ledger.TransferID{want.ID}, nil)
	if err != nil || len(got) == 0 {
		return ledger.Transfer{}, false, err
	}
	if !ledger.SameRequest(got[0], want) {
		return ledger.Transfer{}, false, &RequestReusedError{RequestID: requestID}
	}
	return got[0], true, nil
}

// mapLedgerErr turns the ledger's refusals into this package's errors,
// keeping the ledger's error reachable.
func mapLedgerErr(err error, org string, p Product, requestID string, qty int64) error {
	var ib *ledger.InsufficientBalanceError
	switch {
	case errors.As(err, &ib):
		return fmt.Errorf("%w (%w)", &InsufficientError{Org: org, Product: p, Available: ib.Available.IntPart(), Requested: ib.Requested.IntPart()}, err)
	case errors.Is(err, ledger.ErrConflict) && requestID != "":
		return fmt.Errorf("%w (%w)", &RequestReusedError{RequestID: requestID}, err)
	}
	return err
}

func getEvent(ctx context.Context, tx Tx, org, id string) (Event, error) {
	e, err := tx.EventGet(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) || (err == nil && e.Org != org) {
		return Event{}, &UnknownEventError{Org: org, Event: id}
	}
	return e, err
}

func validRequest(id string) error {
	if id == "" {
		return invalid("RequestID", "empty; give every request an ID so a retry changes nothing")
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
		if err := validName("Modules", m); err != nil {
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
