package passes

import (
	"context"
	"time"

	"github.com/allot-dev/allot/ledger"
)

// Tx is the storage passes needs inside one transaction: the ledger's, plus
// sessions, custom field definitions, access windows and the usage log.
//
// Every value passed in or returned is a copy. Times are kept as UTC instants
// in whole microseconds: finer digits are dropped, and times come back in UTC.
// Get and Update methods report a missing record with an error matching
// ledger.ErrNotFound; Insert methods report a taken key with an error matching
// ledger.ErrAlreadyExists.
type Tx interface {
	ledger.Tx

	// SessionInsert stores a new session; its ID is unique in the store.
	SessionInsert(ctx context.Context, s Session) error
	// SessionGet returns the session with the given ID.
	SessionGet(ctx context.Context, id string) (Session, error)
	// SessionUpdate replaces the stored session with the same ID.
	SessionUpdate(ctx context.Context, s Session) error

	// FieldInsert stores a workspace's custom field; (Workspace, Name) and
	// (Workspace, Position) are unique.
	FieldInsert(ctx context.Context, f FieldDef) error
	// FieldList returns a workspace's custom fields ordered by Position.
	FieldList(ctx context.Context, workspace string) ([]FieldDef, error)

	// AccessLock returns the guest's access window to the session and locks
	// it, or the place it would take if the guest has none yet, for the rest
	// of the transaction: concurrent logins of one guest to one session are
	// ordered by this record. A guest without a window is an error matching
	// ledger.ErrNotFound (and AccessInsert may follow).
	AccessLock(ctx context.Context, session, guest string) (Access, error)
	// AccessInsert stores a new access window; (Session, Guest) is unique.
	AccessInsert(ctx context.Context, a Access) error
	// AccessUpdate replaces the stored window of (Session, Guest).
	AccessUpdate(ctx context.Context, a Access) error

	// UsageInsert appends a row to the usage log, assigns it the next Seq
	// (increasing across the store) and returns it. (Workspace, RequestID) is
	// unique. A workspace's rows commit in Seq order (a row inserted while
	// another of its workspace is uncommitted waits for it), so a reader
	// paging the log by Seq never passes a row that commits later.
	UsageInsert(ctx context.Context, u Usage) (int64, error)
	// UsageGetByRequest returns the row of a workspace's login request.
	UsageGetByRequest(ctx context.Context, workspace, requestID string) (Usage, error)
	// UsageList returns a workspace's rows ordered by Seq.
	UsageList(ctx context.Context, p UsageListParams) ([]Usage, error)
}

// UsageListParams filter UsageList. Zero fields other than Workspace do not
// filter.
type UsageListParams struct {
	Workspace string    // required
	Session   string    // rows of this session
	User      string    // rows of this guest (normalised e-mail)
	From      time.Time // At >= From
	To        time.Time // At < To
	AfterSeq  int64     // Seq > AfterSeq
	Limit     int       // at most this many; zero or negative means no limit
}

// Store runs functions in serializable transactions, as ledger.Store does.
// Implementations must pass storetest.Run.
//
// InTx calls fn, once or again after a transient conflict, only before it
// returns, and never twice at once: the service reuses what fn works in.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
