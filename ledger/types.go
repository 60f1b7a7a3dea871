package ledger

import (
	"maps"
	"time"

	"github.com/shopspring/decimal"
)

// AccountID identifies an account. The caller chooses it; it is unique in a
// store.
type AccountID string

// TransferID identifies a transfer or a hold. The caller chooses it, which is
// what makes posting idempotent: a retry carries the same ID. Holds and
// transfers share one namespace, because the transfer that posts a hold takes
// the hold's ID.
type TransferID string

// Instant returns t as every store keeps times: in UTC, truncated to whole
// microseconds. The ledger writes every time as an Instant; domain packages
// pass theirs through it so that what they return is what they read back.
func Instant(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Unit is a kind of thing an account counts: "pass", "seat",
// "module:agenda", "license". Every amount of a unit has at most Scale digits
// after the decimal point; a finer amount is rejected, never rounded.
//
// The zero Unit is invalid: Code must be set.
type Unit struct {
	Code  string
	Scale int32
}

// MaxScale is the largest Scale a Unit may have.
const MaxScale = 18

// Flags are an account's rules.
type Flags uint32

const (
	// FlagNonNegative forbids the account's available balance (posted minus
	// live holds) from going below zero. Debits and holds that would do so are
	// refused with an *InsufficientBalanceError.
	FlagNonNegative Flags = 1 << iota
)

// Has reports whether all of want are set in f.
func (f Flags) Has(want Flags) bool { return f&want == want }

// Account is a named place that holds a balance of one unit.
//
// The zero Flags let the balance go negative, as an issuer's or the world's
// account must: the sum of all balances of a unit is always zero, so every
// unit that exists somewhere came out of an account that is now negative.
type Account struct {
	ID       AccountID
	Unit     string
	Owner    string            // the tenant the account belongs to; free text
	Flags    Flags             // zero: no rules
	Metadata map[string]string // nil and empty are the same

	// CreatedAt is set by the ledger when the account is created.
	CreatedAt time.Time
}

// Balance is an account's balance at one instant.
//
// Posted is credits minus debits of every posted transfer. Held is the sum of
// the live holds that debit the account: they will leave it if posted.
// Available is what may still be debited or held.
type Balance struct {
	Account   AccountID
	Unit      string
	Posted    decimal.Decimal
	Held      decimal.Decimal
	Available decimal.Decimal
}

// Transfer moves Amount of one unit from the Debit account to the Credit
// account. It is the ledger's journal entry: once posted it never changes.
//
// The caller sets ID, Debit, Credit, Amount and optionally Code, Actor and
// Metadata; the ledger sets the rest. Two requests are the same transfer when
// every caller-set field is equal (amounts compared by value, so "2" equals
// "2.00").
type Transfer struct {
	ID       TransferID
	Debit    AccountID
	Credit   AccountID
	Amount   decimal.Decimal
	Code     string            // what the movement means to its domain, e.g. "passes.spend"
	Actor    string            // who asked for it; free text
	Metadata map[string]string // nil and empty are the same

	// Set by the ledger.
	Seq           int64           // commit sequence in the journal; per account it follows commit order
	PostedAt      time.Time       // UTC, microseconds; never before an earlier transfer of either account
	Unit          string          // the accounts' unit
	DebitBalance  decimal.Decimal // the debit account's posted balance after this transfer
	CreditBalance decimal.Decimal // the credit account's posted balance after this transfer
	Hold          TransferID      // the hold this transfer posted; empty for a direct transfer
}

// HoldStatus is where a hold is in its life. A hold starts pending and ends
// posted, voided or expired; no other transition exists.
type HoldStatus string

const (
	// HoldPending is a live hold: until it expires it reduces the debit
	// account's available balance, and PostHold or VoidHold may settle it.
	HoldPending HoldStatus = "pending"
	// HoldPosted is a hold PostHold settled: all or part of its amount was
	// transferred and the rest released.
	HoldPosted HoldStatus = "posted"
	// HoldVoided is a hold VoidHold released without moving anything.
	HoldVoided HoldStatus = "voided"
	// HoldExpired is a pending hold whose expiry has passed: it reserves
	// nothing from its expiry on and can no longer be posted. Reads report it
	// from the expiry, with nothing running in the background.
	HoldExpired HoldStatus = "expired"
)

// Hold reserves Amount on the Debit account for the Credit account: the first
// phase of a two-phase transfer. While pending and not expired it reduces the
// debit account's available balance. Posting it moves all or part of the amount
// (the rest is released); voiding it releases everything.
//
// The caller sets ID, Debit, Credit, Amount and optionally Code, Actor,
// Metadata and ExpiresAt; the ledger sets the rest.
type Hold struct {
	ID       TransferID
	Debit    AccountID
	Credit   AccountID
	Amount   decimal.Decimal
	Code     string
	Actor    string
	Metadata map[string]string
	// ExpiresAt ends the hold: from that instant on it no longer counts and can
	// no longer be posted. The zero time means it never expires.
	ExpiresAt time.Time

	// Set by the ledger.
	Unit      string
	Status    HoldStatus
	CreatedAt time.Time
	SettledAt time.Time       // when it was posted or voided, or when it expired; zero while pending
	Posted    decimal.Decimal // the amount posted; zero unless Status is HoldPosted
}

// live reports whether h still counts against its debit account at now.
func (h Hold) live(now time.Time) bool {
	return h.Status == HoldPending && (h.ExpiresAt.IsZero() || now.Before(h.ExpiresAt))
}

// at returns h as it reads at now: a pending hold past its expiry reads as
// expired.
func (h Hold) at(now time.Time) Hold {
	if h.Status == HoldPending && !h.live(now) {
		h.Status = HoldExpired
		h.SettledAt = h.ExpiresAt
	}
	return h
}

// Entry is one line of an account's history: a transfer seen from that account.
type Entry struct {
	Transfer
	Account AccountID       // the account whose history this is
	Change  decimal.Decimal // +Amount if the account was credited, -Amount if debited
	Balance decimal.Decimal // the account's posted balance after the transfer
}

func entryOf(t Transfer, account AccountID) Entry {
	e := Entry{Transfer: t, Account: account}
	if t.Credit == account {
		e.Change, e.Balance = t.Amount, t.CreditBalance
	} else {
		e.Change, e.Balance = t.Amount.Neg(), t.DebitBalance
	}
	return e
}

func cloneMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// DefinitionDiff names the first of unit, owner, flags and metadata in
// which a differs from want, or returns "": the Field of the
// *ConflictError that creating or ensuring want reports while a exists.
// Stores that check an ensured account themselves (Tx.AccountsEnsure) use
// it to name the same field.
func (a Account) DefinitionDiff(want Account) string {
	switch {
	case a.Unit != want.Unit:
		return "unit"
	case a.Owner != want.Owner:
		return "owner"
	case a.Flags != want.Flags:
		return "flags"
	case !maps.Equal(a.Metadata, want.Metadata):
		return "metadata"
	}
	return ""
}
