package ledger

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Store runs functions in serializable transactions. Implementations must pass
// storetest.Run.
//
// InTx commits when fn returns nil and rolls back everything fn did when it
// returns an error or panics; the error is returned as it came. A store that
// meets a transient conflict of its own (a serialization failure, a deadlock)
// may run fn again, a bounded number of times, so fn must not have effects
// outside the transaction. It calls fn only before it returns and never
// twice at once: callers reuse what fn works in. The Tx is valid only until
// fn returns.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// AloneStore is an optional interface of a Store, for stores that pay a
// round trip per statement. Ledger.Post calls InTxAlone instead of InTx: fn
// is one post (announced with LockHint.Alone) and nothing else, so the store
// may send the commit in the same round trip as the post's lock and write,
// before fn returns. InTxAlone otherwise keeps InTx's contract, except that
// a commit made before fn returned stands: an error fn returns after it must
// say so. A Store that wraps another and changes InTx (to add writes or
// failures around fn) must not offer the inner store's InTxAlone: calling
// InTx is always correct.
type AloneStore interface {
	InTxAlone(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is the ledger's storage inside one transaction. Domain packages embed it
// in their own Tx so their records and their transfers commit together.
//
// Tx methods are the store's side of the contract; the ledger's rules live in
// Book, which is what callers use. Every value passed in or returned is a copy:
// changing it never changes what is stored. Not-found records are reported as
// errors matching ErrNotFound only by the Get methods; the batch readers
// (AccountsLock, TransfersGet, HoldsGet) append what they found to the dst
// slice they are given (which may be nil), omit the rest, and return the
// extended slice: the ledger reuses its own space for them on every write.
type Tx interface {
	// UnitInsert stores a new unit, or returns an error matching
	// ErrAlreadyExists if its code is taken.
	UnitInsert(ctx context.Context, u Unit) error
	// UnitGet returns the unit with the given code.
	UnitGet(ctx context.Context, code string) (Unit, error)

	// AccountInsert stores a new account, or returns an error matching
	// ErrAlreadyExists if its ID is taken.
	AccountInsert(ctx context.Context, a AccountState) error
	// AccountsEnsure makes sure each account exists with the given
	// definition: an account whose ID is free is stored as given, with a
	// zero balance and its unit's scale (Scale and the totals of the
	// argument are ignored); an account already stored with the same unit,
	// owner, flags and metadata (nil and empty alike) is left as it is,
	// CreatedAt included. The ledger passes each ID once. If any account is
	// stored with another definition, the error is a *ConflictError (Kind
	// "account", Field the first of "unit", "owner", "flags" and "metadata"
	// that differs); if any account's unit does not exist, it matches
	// ErrNotFound; the first such account in the order given is reported,
	// and nothing is written.
	//
	// A store may defer the writes to the transaction's next statement or
	// its commit. If they then fail, the store must run the function again
	// so that this call reports the failure, as it would have at once; a
	// later call in the same transaction sees the accounts either way.
	AccountsEnsure(ctx context.Context, as []AccountState) error
	// AccountGet returns an account without locking it.
	AccountGet(ctx context.Context, id AccountID) (AccountState, error)
	// AccountsLock locks the accounts with the given IDs for the rest of the
	// transaction and appends them to dst in the order of ids. The ledger
	// passes ids sorted and unique, so stores that lock rows lock them in one
	// fixed order and concurrent transactions never deadlock on them.
	AccountsLock(ctx context.Context, ids []AccountID, dst []AccountState) ([]AccountState, error)
	// AccountList returns accounts ordered by ID.
	AccountList(ctx context.Context, p AccountListParams) ([]AccountState, error)

	// TransfersGet appends the transfers with the given IDs to dst, in the
	// order of ids.
	TransfersGet(ctx context.Context, ids []TransferID, dst []Transfer) ([]Transfer, error)
	// TransferList returns transfers ordered by Seq.
	TransferList(ctx context.Context, p TransferListParams) ([]Transfer, error)

	// HoldsGet appends the holds with the given IDs to dst in the order of
	// ids, as stored: a pending hold past its expiry still reads pending here.
	// The ledger changes a hold only while it holds its debit account's lock,
	// so holds need no locks of their own.
	HoldsGet(ctx context.Context, ids []TransferID, dst []Hold) ([]Hold, error)
	// HoldList returns holds ordered by ID.
	HoldList(ctx context.Context, p HoldListParams) ([]Hold, error)

	// Apply writes the effect of one ledger operation: it updates accounts,
	// inserts transfers and inserts or updates holds. It assigns each
	// inserted transfer the next commit sequence, in order, and stores it in
	// c.Transfers[i].Seq. An account update whose Version is not exactly one
	// more than the stored version, an insert whose ID is taken, or a
	// non-negative account left with Posted-Held below zero is an error and
	// Apply writes nothing: stores enforce these as a second line of defence
	// behind the ledger's own checks.
	Apply(ctx context.Context, c Changes) error
}

// TransfersPrefetcher is an optional interface of a Tx, for stores that
// pay a round trip per statement. Before a post locks its accounts, the
// ledger calls TransfersPrefetch with the transfers it is about to post,
// validated, one per distinct ID in the order of their first occurrence;
// the TransfersGet and HoldsGet that follow the AccountsLock ask for those
// IDs, so a store may read them in the same round trip as the lock and keep
// them for those two calls. It may also number, under the lock, the
// transfers the Apply that follows will insert.
//
// A store that implements it must still answer every call as if it did not:
// the hint changes when a store reads, never what it returns. ts is valid
// only during the call.
type TransfersPrefetcher interface {
	TransfersPrefetch(ts []Transfer)
}

// LockPrefetcher is an optional interface of a Tx, for stores that pay a
// round trip per statement. Before a write (a post, the creation or the
// settlement of a hold) reads and locks, the ledger calls LockPrefetch to
// name what it will read next, so that a store may read it all in one round
// trip, under the lock, and keep it for the calls that ask for it; it may
// also number, under the lock, the transfer a settlement posts.
//
// A store that implements it must still answer every call as if it did not:
// the hint changes when a store reads, never what it returns. The hint is
// valid only during the call; a statement the write did not announce ends
// it.
type LockPrefetcher interface {
	LockPrefetch(h LockHint)
}

// LockHint is what a write reads around its AccountsLock, in this order.
type LockHint struct {
	// Settle, when set, is the ID of the hold the write settles: the ledger
	// first reads the hold with HoldsGet, then locks its debit account (and
	// its credit account when Post is set), then reads the hold again with
	// HoldsGet.
	Settle TransferID
	// Post says the settlement posts Amount of the hold, as a transfer that
	// takes the hold's ID.
	Post   bool
	Amount decimal.Decimal

	// Now is the write's instant: after AccountsLock, the ledger lists the
	// holds that expired by Now of each locked account that holds something,
	// with HoldList and HoldListParams{Debit: id, Status: HoldPending,
	// ExpiresBy: Now}.
	Now time.Time
	// Account, when set, is an account the write then reads with AccountGet
	// (the credit account of a new hold).
	Account AccountID
	// IDs are the transfers and holds the write then reads with HoldsGet and
	// TransfersGet (the ID of a new hold).
	IDs []TransferID

	// Alone says the transaction ends after this write: the function
	// AloneStore.InTxAlone runs does nothing else in it (a Ledger.Post). A
	// store may then send the commit in the lock's round trip; if the write
	// then needs a change the store did not make in that round trip, the
	// store runs the function again without committing early.
	Alone bool
}

// AccountState is an account as a store keeps it: the definition, its unit's
// scale and its running totals.
type AccountState struct {
	Account
	Scale int32 // the unit's scale, copied when the account is created

	Posted decimal.Decimal // credits minus debits of posted transfers
	// Held is the sum of the holds debiting this account whose status is
	// still pending in the store, expired or not: expired holds are released
	// lazily by the next write that locks the account.
	Held decimal.Decimal
	// Version counts the writes to the account; each Apply raises it by one.
	Version int64
	// LastPostedAt is the PostedAt of the account's latest transfer. The
	// ledger never posts a transfer before it, which keeps every account's
	// history ordered in time as well as in sequence.
	LastPostedAt time.Time
}

// Changes is what one ledger operation writes.
type Changes struct {
	Accounts    []AccountState // updated accounts, ordered by ID
	Transfers   []Transfer     // new transfers, in the order they take sequence numbers
	HoldsInsert []Hold         // new holds
	HoldsUpdate []Hold         // settled holds (posted, voided or expired)
}

// AccountListParams filters AccountList. Zero fields do not filter.
type AccountListParams struct {
	Owner string
	Unit  string
	After AccountID // only IDs greater than this one
	Limit int       // at most this many; zero or negative means no limit
}

// TransferListParams filters TransferList. Zero fields do not filter.
//
// Per account, Seq follows commit order, so paging one account's transfers by
// AfterSeq across transactions never skips one. Across accounts it need not:
// a transfer may take a lower Seq than another yet commit after it. Page the
// whole journal inside one transaction (as Verify does).
type TransferListParams struct {
	Account  AccountID // transfers that debit or credit this account
	From     time.Time // PostedAt >= From
	To       time.Time // PostedAt < To
	AfterSeq int64     // Seq > AfterSeq (in descending order: Seq < AfterSeq when set)
	Desc     bool      // newest first
	Limit    int       // at most this many; zero or negative means no limit
}

// HoldListParams filters HoldList. Zero fields do not filter.
type HoldListParams struct {
	Debit  AccountID  // holds that debit this account
	Status HoldStatus // holds with this stored status
	// ExpiresBy keeps holds with a set ExpiresAt at or before it.
	ExpiresBy time.Time
	After     TransferID // only IDs greater than this one
	Limit     int        // at most this many; zero or negative means no limit
}
