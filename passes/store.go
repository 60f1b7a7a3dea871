package passes

import (
	"context"
	"time"

	"github.com/allot-dev/allot/events"
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
//
// Every record a workspace owns is keyed by the workspace and its own ID:
// sessions by (Workspace, ID), access windows by (Workspace, Session, Guest),
// custom fields by (Workspace, Name), usage rows by (Workspace, RequestID).
// Two workspaces may use the same IDs without seeing each other's records.
type Tx interface {
	ledger.Tx
	// Emit writes events to the store's outbox in the transaction
	// (events.Emitter).
	events.Emitter

	// SessionInsert stores a new session; (Workspace, ID) is unique.
	SessionInsert(ctx context.Context, s Session) error
	// SessionGet returns the workspace's session with the given ID.
	SessionGet(ctx context.Context, org, id string) (Session, error)
	// SessionUpdate replaces the stored session with the same Workspace and
	// ID.
	SessionUpdate(ctx context.Context, s Session) error
	// SessionList returns a workspace's sessions ordered by ID (bytewise),
	// without locking them.
	SessionList(ctx context.Context, p SessionListParams) ([]Session, error)

	// FieldInsert stores a workspace's custom field; (Workspace, Name) and
	// (Workspace, Position) are unique.
	FieldInsert(ctx context.Context, f FieldDef) error
	// FieldList returns a workspace's custom fields ordered by Position.
	FieldList(ctx context.Context, org string) ([]FieldDef, error)
	// FieldsLock is FieldList, and locks the workspace's custom fields for
	// the rest of the transaction: concurrent definitions of one workspace's
	// fields are ordered by this lock, and each reads every field the one
	// before it committed, so they never race for a position. The service
	// calls it first in its transaction.
	FieldsLock(ctx context.Context, org string) ([]FieldDef, error)

	// AccessLock returns the guest's access window to the workspace's
	// session and locks it, or the place it would take if the guest has none
	// yet, for the rest of the transaction: concurrent logins of one guest to
	// one session are ordered by this record. A guest without a window is an
	// error matching ledger.ErrNotFound (and AccessInsert may follow).
	AccessLock(ctx context.Context, org, session, guest string) (Access, error)
	// AccessInsert stores a new access window; (Workspace, Session, Guest)
	// is unique.
	AccessInsert(ctx context.Context, a Access) error
	// AccessUpdate replaces the stored window of (Workspace, Session, Guest).
	AccessUpdate(ctx context.Context, a Access) error
	// AccessList returns a workspace's access windows ordered by (Session,
	// Guest), without locking them: the audit reads them.
	AccessList(ctx context.Context, p AccessListParams) ([]Access, error)

	// UsageInsert appends a row to the usage log, assigns it the next Seq
	// (increasing across the store) and returns it. (Workspace, RequestID) is
	// unique. A workspace's rows commit in Seq order (a row inserted while
	// another of its workspace is uncommitted waits for it), so a reader
	// paging the log by Seq never passes a row that commits later.
	UsageInsert(ctx context.Context, u Usage) (int64, error)
	// UsageAppend is UsageInsert for a caller that needs no Seq: the store
	// may send the row with the transaction's next statement or its commit
	// when the transaction looked the request up (LoginLoad) and did not
	// find it. A taken (Workspace, RequestID) is then refused when the row is
	// sent, and the store runs the function again writing at once, so that
	// UsageAppend reports it (matching ledger.ErrAlreadyExists) as
	// UsageInsert does.
	UsageAppend(ctx context.Context, u Usage) error
	// UsageGetByRequest returns the row of a workspace's login request.
	UsageGetByRequest(ctx context.Context, org, requestID string) (Usage, error)
	// UsageList returns a workspace's rows ordered by Seq.
	UsageList(ctx context.Context, p UsageListParams) ([]Usage, error)

	// LoginLoad reads everything a login decides on, at once, into st: the
	// usage row of the request (as UsageGetByRequest), the session (as
	// SessionGet), the workspace's custom fields (as FieldList), the guest's
	// access window, locked as AccessLock locks it, and the state of the
	// account p.Balance names, unlocked (as AccountGet). What is missing is
	// reported by st's Found fields, not by an error. st's slices are reused:
	// what they held is overwritten. The service calls it first in a login's
	// transaction.
	LoginLoad(ctx context.Context, p LoginLoadParams, st *LoginState) error

	// SessionDemoLockMark records that the PassesDemoLocked event of the
	// workspace's session locking at lockedAt is written in the
	// transaction, and reports whether this is the first time for that
	// instant: false if the lock was marked before (its event written). A
	// session keeps one mark, the last instant marked. A session the
	// workspace does not have is an error matching ledger.ErrNotFound.
	SessionDemoLockMark(ctx context.Context, org, session string, lockedAt time.Time) (bool, error)
}

// LoginLoadParams name what LoginLoad reads.
type LoginLoadParams struct {
	Org       string // required
	Session   string // the session's ID
	Guest     string // the guest, normalised e-mail
	RequestID string // the login's request ID
	// Balance is the account whose state is read too, without locking it;
	// empty for none.
	Balance ledger.AccountID
}

// LoginState is what LoginLoad read. Each record is valid if its Found
// field is set, and zero otherwise.
type LoginState struct {
	// Prior is the usage row of the request: the login was made before.
	Prior      Usage
	PriorFound bool
	// Session is the session.
	Session      Session
	SessionFound bool
	// Fields are the workspace's custom fields ordered by Position.
	Fields []FieldDef
	// Access is the guest's window to the session, locked for the rest of
	// the transaction; when the guest has none (AccessFound false), the
	// place it would take is locked, as AccessLock locks it.
	Access      Access
	AccessFound bool
	// Balance is the account LoginLoadParams.Balance names.
	Balance      ledger.AccountState
	BalanceFound bool
}

// UsageListParams filter UsageList. Zero fields other than Workspace do not
// filter.
type UsageListParams struct {
	Org      string    // required
	Session  string    // rows of this session
	User     string    // rows of this guest (normalised e-mail)
	From     time.Time // At >= From
	To       time.Time // At < To
	Billing  Billing   // rows of sessions billed so (Usage.External); zero: both
	AfterSeq int64     // Seq > AfterSeq
	Limit    int       // at most this many; zero or negative means no limit
}

// SessionListParams page SessionList.
type SessionListParams struct {
	Org     string // required
	AfterID string // sessions with an ID after AfterID (bytewise); empty for the first page
	Limit   int    // at most this many; zero or negative means no limit
}

// AccessListParams page AccessList.
type AccessListParams struct {
	Org string // required
	// AfterSession and AfterGuest: windows after (AfterSession,
	// AfterGuest) in (Session, Guest) order; both empty for the first page.
	AfterSession, AfterGuest string
	Limit                    int // at most this many; zero or negative means no limit
}

// Store runs functions in serializable transactions, as ledger.Store does.
// Implementations must pass storetest.Run.
//
// InTx calls fn, once or again after a transient conflict, only before it
// returns, and never twice at once: the service reuses what fn works in.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
