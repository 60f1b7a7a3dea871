package ledger

import (
	"fmt"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/shopspring/decimal"
)

// Sentinel errors name the categories of failure. Match them with errors.Is;
// the typed errors below carry the details and match their sentinel. Every
// error the Ledger returns has a Code (see allot.ErrorCode): the sentinels'
// and typed errors' own, and "internal", "canceled" or "timeout" for a
// failure of the store or the context.
var (
	// ErrNotFound: the account, transfer, hold or unit does not exist.
	ErrNotFound error = errcode.New(errcode.NotFound, "ledger: not found")
	// ErrAlreadyExists: a store was asked to insert a record whose ID is taken.
	// The ledger itself turns this into idempotent success or ErrConflict.
	ErrAlreadyExists error = errcode.New(errcode.AlreadyExists, "ledger: already exists")
	// ErrConflict: an ID was reused with different contents.
	ErrConflict error = errcode.New(errcode.RequestReused, "ledger: ID reused with different contents")
	// ErrInvalid: the request is malformed (bad amount, scale, units, IDs).
	ErrInvalid error = errcode.New(errcode.Invalid, "ledger: invalid request")
	// ErrInsufficientBalance: a non-negative account cannot cover a debit or hold.
	ErrInsufficientBalance error = errcode.New(errcode.Insufficient, "ledger: insufficient balance")
	// ErrHoldNotPending: the hold was already posted, voided or has expired.
	ErrHoldNotPending error = errcode.New(errcode.HoldNotPending, "ledger: hold is not pending")
)

// InvalidError says which field of a request was wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("ledger: invalid %s: %s", e.Field, e.Reason)
}

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Code returns "invalid".
func (e *InvalidError) Code() string { return errcode.Invalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NotFoundError names the record that does not exist.
type NotFoundError struct {
	Kind string // "account", "transfer", "hold", "unit"
	ID   string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("ledger: %s %q not found", e.Kind, e.ID)
}

// Is makes a *NotFoundError match ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Code returns "not_found".
func (e *NotFoundError) Code() string { return errcode.NotFound }

// ConflictError names an ID reused with different contents and the first
// field that differs.
type ConflictError struct {
	Kind  string // "account", "transfer", "hold", "unit"
	ID    string
	Field string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("ledger: %s %q already exists with a different %s; use a new ID for a new request", e.Kind, e.ID, e.Field)
}

// Is makes a *ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Code returns "request_reused" for a transfer or hold ID, which is a
// request's, and "already_exists" for an account or unit defined again
// differently.
func (e *ConflictError) Code() string {
	if e.Kind == "account" || e.Kind == "unit" {
		return errcode.AlreadyExists
	}
	return errcode.RequestReused
}

// InsufficientBalanceError says how much a non-negative account had available
// and how much was asked of it.
type InsufficientBalanceError struct {
	Account   AccountID
	Available decimal.Decimal
	Requested decimal.Decimal
}

func (e *InsufficientBalanceError) Error() string {
	return fmt.Sprintf("ledger: account %q has %s available, %s requested", e.Account, e.Available, e.Requested)
}

// Is makes an *InsufficientBalanceError match ErrInsufficientBalance.
func (e *InsufficientBalanceError) Is(target error) bool { return target == ErrInsufficientBalance }

// Code returns "insufficient".
func (e *InsufficientBalanceError) Code() string { return errcode.Insufficient }

// HoldStateError says what became of a hold that can no longer be settled.
type HoldStateError struct {
	Hold   TransferID
	Status HoldStatus
}

func (e *HoldStateError) Error() string {
	return fmt.Sprintf("ledger: hold %q is %s, not pending", e.Hold, e.Status)
}

// Is makes a *HoldStateError match ErrHoldNotPending.
func (e *HoldStateError) Is(target error) bool { return target == ErrHoldNotPending }

// Code returns "hold_not_pending".
func (e *HoldStateError) Code() string { return errcode.HoldNotPending }
