package seats

import (
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
)

// Sentinel errors name the categories of failure. Match them with errors.Is;
// the typed errors below carry the details and match their sentinel. Each
// has a code (allot.ErrorCode), the same for one situation in every family;
// the package doc's Errors section lists them.
var (
	// ErrForbidden: the actor lacks the role the act needs in the
	// organization. It is allot.ErrForbidden, matched by every refused
	// actor's *allot.ForbiddenError in every family.
	ErrForbidden = allot.ErrForbidden
	// ErrUnknownEvent: no event with that ID exists in the organization.
	ErrUnknownEvent error = errcode.New(errcode.NotFound, "seats: unknown event")
	// ErrEventExists: an event with that ID exists with other details.
	ErrEventExists error = errcode.New(errcode.AlreadyExists, "seats: event already exists")
	// ErrNoPool: the organization never purchased the product.
	ErrNoPool error = errcode.New(errcode.Insufficient, "seats: organization has no pool of the product")
	// ErrInsufficient: the pool has fewer units available than requested.
	ErrInsufficient error = errcode.New(errcode.Insufficient, "seats: not enough available in the pool")
	// ErrModuleAlreadyAssigned: the event already holds the module.
	ErrModuleAlreadyAssigned error = errcode.New(errcode.AlreadyExists, "seats: module already assigned to the event")
	// ErrRequestReused: a request ID was used before for a different request.
	ErrRequestReused error = errcode.New(errcode.RequestReused, "seats: request ID reused for a different request")
	// ErrInvalid: the request is malformed (empty or malformed IDs, text
	// that is not valid UTF-8 or holds NUL, a bad quantity, times outside
	// the years 1 to 9999), or a count would not fit in an int64.
	ErrInvalid error = errcode.New(errcode.Invalid, "seats: invalid request")
)

// InvalidError says which field of a request was wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("seats: invalid %s: %s", e.Field, e.Reason)
}

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Code returns "invalid", the code of its sentinel.
func (e *InvalidError) Code() string { return errcode.Invalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// UnknownEventError names the event that was not found in the organization.
type UnknownEventError struct {
	Org   string
	Event string
}

func (e *UnknownEventError) Error() string {
	return fmt.Sprintf("seats: organization %q has no event %q; create it first", e.Org, e.Event)
}

// Is makes an *UnknownEventError match ErrUnknownEvent.
func (e *UnknownEventError) Is(target error) bool { return target == ErrUnknownEvent }

// Code returns "not_found", the code of its sentinel.
func (e *UnknownEventError) Code() string { return errcode.NotFound }

// NoPoolError names the product the organization never purchased.
type NoPoolError struct {
	Org     string
	Product Product
}

func (e *NoPoolError) Error() string {
	return fmt.Sprintf("seats: organization %q has not purchased %s; make a purchase first", e.Org, e.Product.phrase())
}

// Is makes a *NoPoolError match ErrNoPool.
func (e *NoPoolError) Is(target error) bool { return target == ErrNoPool }

// Code returns "insufficient", the code of its sentinel.
func (e *NoPoolError) Code() string { return errcode.Insufficient }

// InsufficientError says how much the pool had available and how much was
// requested.
type InsufficientError struct {
	Org       string
	Product   Product
	Available int64
	Requested int64

	ledgerErr error // the ledger's refusal, when the ledger refused
}

func (e *InsufficientError) Error() string {
	return fmt.Sprintf("seats: organization %q has %s available, %d requested; purchase more or transfer fewer", e.Org, e.Product.count(e.Available), e.Requested)
}

// Is makes an *InsufficientError match ErrInsufficient.
func (e *InsufficientError) Is(target error) bool { return target == ErrInsufficient }

// Code returns "insufficient", the code of its sentinel.
func (e *InsufficientError) Code() string { return errcode.Insufficient }

// Unwrap returns the ledger's refusal, if the ledger refused: it stays
// reachable with errors.Is and errors.As, while the message names the
// organization's product, not the ledger's accounts.
func (e *InsufficientError) Unwrap() error { return e.ledgerErr }

// ModuleAlreadyAssignedError names the event that already holds the module.
type ModuleAlreadyAssignedError struct {
	Event  string
	Module string
}

func (e *ModuleAlreadyAssignedError) Error() string {
	return fmt.Sprintf("seats: event %q already holds module %q; a module is transferred to an event once", e.Event, e.Module)
}

// Is makes a *ModuleAlreadyAssignedError match ErrModuleAlreadyAssigned.
func (e *ModuleAlreadyAssignedError) Is(target error) bool {
	return target == ErrModuleAlreadyAssigned
}

// Code returns "already_exists", the code of its sentinel.
func (e *ModuleAlreadyAssignedError) Code() string { return errcode.AlreadyExists }

// RequestReusedError names the organization's request ID used before with
// other contents.
type RequestReusedError struct {
	Org       string
	RequestID string

	ledgerErr error // the ledger's refusal, when the ledger refused
}

func (e *RequestReusedError) Error() string {
	return fmt.Sprintf("seats: request ID %q of organization %q was already used for a different request; use a new request ID for a new request", e.RequestID, e.Org)
}

// Is makes a *RequestReusedError match ErrRequestReused.
func (e *RequestReusedError) Is(target error) bool { return target == ErrRequestReused }

// Code returns "request_reused", the code of its sentinel.
func (e *RequestReusedError) Code() string { return errcode.RequestReused }

// Unwrap returns the ledger's refusal, if the ledger refused: it stays
// reachable, while the message names the caller's request ID, not the
// ledger's transfer.
func (e *RequestReusedError) Unwrap() error { return e.ledgerErr }
