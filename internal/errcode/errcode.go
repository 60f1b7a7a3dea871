// Package errcode gives every error the library returns a stable code, so a
// service maps any of them to an answer in one place. The codes and what
// they mean are the same in every family; the root package exports them
// with the functions that read them.
package errcode

import (
	"context"
	"errors"
	"net/http"
)

// The codes. Each names a situation, not a package: a reused request ID is
// RequestReused in the ledger, passes, seats and licenses alike.
const (
	Invalid           = "invalid"            // malformed input; the message names the field
	NotFound          = "not_found"          // the record does not exist for this tenant
	Forbidden         = "forbidden"          // the actor may not do this
	RequestReused     = "request_reused"     // the request ID was used for another request
	AlreadyExists     = "already_exists"     // an ID taken by a record with other contents
	Insufficient      = "insufficient"       // not enough passes, seats, modules, licenses or balance
	HoldNotPending    = "hold_not_pending"   // the hold was posted, voided or expired
	IllegalTransition = "illegal_transition" // the record's state does not allow the act
	InUse             = "in_use"             // what would be removed is in use
	DemoLocked        = "demo_locked"        // the demo session's open period is over
	Expired           = "expired"            // the invitation (or other offer) expired
	Canceled          = "canceled"           // the caller's context was cancelled
	Timeout           = "timeout"            // the caller's deadline passed
	Unavailable       = "unavailable"        // the store failed transiently; retry with the same request ID
	Internal          = "internal"           // anything else: a bug or a broken store
)

// Coder is implemented by every error the library returns, directly or
// through the chain errors.As walks.
type Coder interface {
	error
	Code() string
}

// Of returns err's code: the Code of the first Coder in its chain, else
// Canceled or Timeout for the context's errors, else Internal. Of(nil) is
// "".
func Of(err error) string {
	if err == nil {
		return ""
	}
	var c Coder
	if errors.As(err, &c) {
		return c.Code()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	return Internal
}

// HTTPStatus returns the HTTP status that fits code.
func HTTPStatus(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Forbidden:
		return http.StatusForbidden
	case RequestReused, AlreadyExists, Insufficient, HoldNotPending, IllegalTransition, InUse, DemoLocked:
		return http.StatusConflict
	case Expired:
		return http.StatusGone
	case Canceled:
		return 499 // client closed request
	case Timeout:
		return http.StatusGatewayTimeout
	case Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Sentinel is a category of failure with a code: what a package's Err...
// variables are, so that errors.Is matches them and errors.As finds their
// code through any wrapping.
type Sentinel struct {
	code, msg string
}

// New returns a sentinel with the given code and message.
func New(code, msg string) *Sentinel { return &Sentinel{code: code, msg: msg} }

func (s *Sentinel) Error() string { return s.msg }

// Code returns the sentinel's code.
func (s *Sentinel) Code() string { return s.code }

// Ensure returns err if it carries a code, or err wrapped with the code Of
// gives it, so that every error an exported call returns has one. The
// message is err's.
func Ensure(err error) error {
	if err == nil {
		return nil
	}
	var c Coder
	if errors.As(err, &c) {
		return err
	}
	return &coded{err: err, code: Of(err)}
}

type coded struct {
	err  error
	code string
}

func (e *coded) Error() string { return e.err.Error() }
func (e *coded) Unwrap() error { return e.err }
func (e *coded) Code() string  { return e.code }
