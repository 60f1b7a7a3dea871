package seats

import (
	"context"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
)

// Pool is an organization's stock of one product: what it purchased and how
// much of that it has assigned to events. The pool's ledger account holds
// Purchased-Assigned, the units still available; the service updates the
// counters in the transaction that moves the units, so they never disagree
// with the ledger.
//
// The zero Pool is no pool.
type Pool struct {
	Org       string
	Product   Product
	Purchased int64
	Assigned  int64
	CreatedAt time.Time
}

// Available is what the pool can still transfer.
func (p Pool) Available() int64 { return p.Purchased - p.Assigned }

// Event is an event of an organization (what SpotMe also calls a workspace), with what it uses and
// what it has been assigned.
//
// Its key is (Org, ID): two organizations may each have an event of one ID,
// and neither sees the other's. Start and End are
// fixed when the event is created; Participants and Modules are kept current
// by the embedding service; SeatsAssigned and ModulesAssigned are kept by
// this package, in the transaction of each transfer.
type Event struct {
	ID           string
	Org          string
	Name         string
	Start        time.Time // UTC, microseconds
	End          time.Time // UTC, microseconds; after Start
	Participants int64     // seats the event needs
	Modules      []string  // advanced modules in use, sorted, each once; nil: none

	SeatsAssigned   int64    // seats transferred to the event
	ModulesAssigned []string // modules transferred to the event, sorted; nil: none

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Tx is the storage seats needs inside one transaction.
//
// Every value passed in or returned is a copy. Get and Lock methods report a
// missing record with an error matching ledger.ErrNotFound; Insert methods
// report a taken key with an error matching ledger.ErrAlreadyExists.
type Tx interface {
	ledger.Tx
	// Emit writes the acts' events in the transaction (the outbox): they
	// are read after it commits, and never if it rolls back.
	events.Emitter

	// PoolInsert stores a new pool; its key is (Org, Product).
	PoolInsert(ctx context.Context, p Pool) error
	// PoolLock returns the pool and locks it for the rest of the
	// transaction. Every write to a pool's units takes this lock before any
	// other, so writers of one pool run one after the other.
	PoolLock(ctx context.Context, org string, product Product) (Pool, error)
	// PoolUpdate replaces the counters of a stored pool.
	PoolUpdate(ctx context.Context, p Pool) error
	// PoolList returns the organization's pools ordered by product.
	PoolList(ctx context.Context, org string) ([]Pool, error)

	// EventInsert stores a new event; its key is (Org, ID).
	EventInsert(ctx context.Context, e Event) error
	// EventGet returns the organization's event with the given ID; another
	// organization's event of that ID is not found.
	EventGet(ctx context.Context, org, id string) (Event, error)
	// EventUpdate replaces the Name, Participants, Modules, SeatsAssigned,
	// ModulesAssigned and UpdatedAt of the stored event keyed (e.Org, e.ID).
	// Start and End never change.
	EventUpdate(ctx context.Context, e Event) error
	// EventList returns the organization's events ordered by (Start, ID).
	EventList(ctx context.Context, p EventListParams) ([]Event, error)

	// PoolTransferLoad reads at once what a transfer to an event needs:
	// it locks the pool as PoolLock does, then reads the transfer already
	// posted with the transfer's ID, if any, and the event as EventGet does,
	// in that order. A missing record is reported by the result's Found
	// fields, not by an error, so the caller decides which absence counts.
	PoolTransferLoad(ctx context.Context, p TransferLoadParams) (TransferLoad, error)
	// PoolCheckLoad reads at once what a consumption check needs: it locks
	// the organization's seat pool as PoolLock does, then lists, as
	// EventList does, the organization's events that have started by
	// p.StartedBy and lack something (see CheckLoadParams).
	PoolCheckLoad(ctx context.Context, p CheckLoadParams) (CheckLoad, error)
}

// TransferLoadParams name what PoolTransferLoad reads. All fields are
// required.
type TransferLoadParams struct {
	Org      string
	Product  Product           // the pool's product
	Event    string            // the event's ID in Org
	Transfer ledger.TransferID // the ID of the transfer the request posts
}

// TransferLoad is what PoolTransferLoad read. Each record is found or
// not on its own; one not found is the zero value.
type TransferLoad struct {
	Pool      Pool // locked until the transaction ends
	PoolFound bool
	// Prior is the ledger transfer already posted with the params'
	// Transfer ID: the request ran before, or its ID was used for another.
	Prior      ledger.Transfer
	PriorFound bool
	// Event is the organization's event; another organization's event of
	// that ID is not found.
	Event      Event
	EventFound bool
}

// CheckLoadParams name what PoolCheckLoad reads. Both fields are
// required.
type CheckLoadParams struct {
	Org string
	// StartedBy keeps the events with Start <= StartedBy.
	StartedBy time.Time
}

// CheckLoad is what PoolCheckLoad read.
type CheckLoad struct {
	Pool      Pool // the organization's seat pool, locked until the transaction ends
	PoolFound bool
	// Events are the organization's events started by StartedBy that lack
	// seats (Participants > SeatsAssigned) or modules (one of Modules is
	// not in ModulesAssigned), ordered by (Start, ID). Events that lack
	// nothing are left out: the check neither changes nor reports them.
	Events []Event
}

// EventListParams filter EventList. Zero fields do not filter, except Org,
// which is required.
type EventListParams struct {
	Org string
	// After keeps only the events ordered after this (Start, ID) key.
	AfterStart time.Time
	AfterID    string
	// StartedBy keeps only events with Start <= StartedBy.
	StartedBy time.Time
	Limit     int // at most this many; zero or negative means no limit
}

// Store runs functions in serializable transactions. Implementations must
// pass storetest.Run.
//
// InTx calls fn, once or again after a transient conflict, only before it
// returns, and never twice at once: the service reuses what fn works in.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
