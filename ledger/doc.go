// Package ledger is allot's double-entry kernel: every unit that moves — a
// pass spent, a seat transferred, a license reserved or freed — is a transfer
// between two accounts, so balances, history, exports and audits all come from
// one journal and always agree.
//
// # Concepts
//
// A Unit is a kind of thing counted ("pass", "seat", "module:agenda",
// "license") with a fixed decimal scale; an amount finer than its unit's scale
// is refused, never rounded. An Account holds a balance of one unit and may be
// flagged FlagNonNegative. A Transfer moves a positive amount from a debit
// account to a credit account of the same unit; it is the journal entry, with
// a commit sequence (Seq) and both accounts' balances after it. A Hold
// reserves an amount now and is posted (all or part) or voided later, or
// expires.
//
// # Invariants
//
//   - Per unit, the sum of all posted balances is zero.
//   - A non-negative account's available balance (posted minus live holds)
//     never goes below zero.
//   - Posting the same transfer ID twice has the effect of posting it once;
//     reusing an ID with other contents is refused with ErrConflict.
//   - A refused operation changes nothing.
//   - Replaying the journal reproduces every balance (Verify checks it).
//
// # Time
//
// A Book acts at one instant, read once from the clock and truncated to
// microseconds in UTC. A hold with ExpiresAt counts while now < ExpiresAt and
// is expired from ExpiresAt on; nothing needs to run for that to happen.
// Transfers of an account never go back in time, even if clocks of several
// replicas disagree: a transfer is stamped no earlier than the latest one of
// its accounts. BalanceAt(t) includes every transfer posted at or before t.
//
// # Errors
//
// Sentinels name categories (ErrInvalid, ErrNotFound, ErrConflict,
// ErrInsufficientBalance, ErrHoldNotPending); typed errors carry the details
// and match their sentinel with errors.Is, e.g.
//
//	var short *ledger.InsufficientBalanceError
//	if errors.As(err, &short) {
//		fmt.Println(short.Available, short.Requested)
//	}
//
// Every error a Ledger returns has a code, read with allot.ErrorCode (and
// allot.HTTPStatus for the status that fits it):
//
//	code              sentinel (typed error)                             meaning; what to do
//	invalid           ErrInvalid (*InvalidError)                         malformed request; fix the named field
//	not_found         ErrNotFound (*NotFoundError)                       no such account, transfer, hold or unit
//	request_reused    ErrConflict (*ConflictError, transfer or hold)     the ID was posted with other contents; a new request needs a new ID
//	already_exists    ErrConflict (*ConflictError, account or unit)      defined before differently; use another ID or the same definition
//	insufficient      ErrInsufficientBalance (*InsufficientBalanceError) a non-negative account cannot cover it; fund it first
//	hold_not_pending  ErrHoldNotPending (*HoldStateError)                the hold was posted, voided or expired; nothing to settle
//	canceled, timeout                                                    the caller's context ended; retry with the same IDs
//	internal                                                             the store failed; retry with the same IDs, or investigate
//
// # Storage and concurrency
//
// A Ledger runs each call in a transaction of its own on a Store, and is safe
// for concurrent use. Stores implement the record-level Tx contract and must
// pass storetest.Run; the rules are all in Book, which domain packages use
// inside their own transactions so their records and their transfers commit
// together. Writers lock the accounts they touch in ID order, so concurrent
// writers never deadlock.
package ledger
