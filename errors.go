package allot

import "github.com/allot-dev/allot/internal/errcode"

// Error codes: every error an allot call returns carries one of these,
// through errors.As, as its Code() method. One situation has one code in
// every package. The packages' Errors sections say which of their sentinels
// and typed errors carries which code.
const (
	CodeInvalid           = errcode.Invalid           // malformed input; the message names the field
	CodeNotFound          = errcode.NotFound          // no such record for this tenant
	CodeForbidden         = errcode.Forbidden         // the actor may not do this
	CodeRequestReused     = errcode.RequestReused     // the request ID was used for another request
	CodeAlreadyExists     = errcode.AlreadyExists     // the ID is taken by a record with other contents
	CodeInsufficient      = errcode.Insufficient      // not enough passes, seats, modules, licenses or balance
	CodeHoldNotPending    = errcode.HoldNotPending    // the hold was already posted, voided or expired
	CodeIllegalTransition = errcode.IllegalTransition // the record's state does not allow the act
	CodeInUse             = errcode.InUse             // what would be taken away is in use
	CodeDemoLocked        = errcode.DemoLocked        // the demo session's open period is over
	CodeExpired           = errcode.Expired           // the invitation expired
	CodeCanceled          = errcode.Canceled          // the caller's context was cancelled
	CodeTimeout           = errcode.Timeout           // the caller's deadline passed
	CodeUnavailable       = errcode.Unavailable       // the store failed transiently; retry with the same request ID
	CodeInternal          = errcode.Internal          // a bug or a broken store
)

// ErrorCode returns the code of an error an allot call returned: the Code
// of the first error in its chain that has one, else CodeCanceled or
// CodeTimeout for the context's errors, else CodeInternal. ErrorCode(nil) is
// "". A service maps every allot error in one place with it:
//
//	http.Error(w, err.Error(), allot.HTTPStatus(err))
func ErrorCode(err error) string { return errcode.Of(err) }

// HTTPStatus returns the HTTP status that fits err's code: 400 invalid, 403
// forbidden, 404 not found, 409 for a conflict with the state (a reused
// request ID, a taken ID, not enough units, an illegal transition, a hold
// already settled, units in use, a locked demo), 410 expired, 499 canceled
// (the client went away), 503 unavailable, 504 timeout, 500 otherwise; 200
// for nil.
func HTTPStatus(err error) int { return errcode.HTTPStatus(errcode.Of(err)) }
