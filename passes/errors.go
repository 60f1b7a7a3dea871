package passes

import (
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
)

// Sentinel errors name the categories of failure; match them with errors.Is.
// Every refused login matches ErrRefused and the sentinel of its reason.
// Every error the Service returns has a code (allot.ErrorCode): the code of
// its sentinel or typed error, see the package doc's Errors section.
var (
	// ErrRefused: a login was refused; the error is a *RefusalError, whose
	// code is its reason's.
	ErrRefused error = errcode.New(errcode.Internal, "passes: login refused")
	// ErrInsufficientPasses: the workspace's balance does not cover the login.
	ErrInsufficientPasses error = errcode.New(errcode.Insufficient, "passes: not enough passes")
	// ErrDemoLocked: the demo session's open period is over.
	ErrDemoLocked error = errcode.New(errcode.DemoLocked, "passes: demo session locked")
	// ErrUnknownSession: the workspace has no session with this ID (another
	// workspace's session of that ID is unknown too).
	ErrUnknownSession error = errcode.New(errcode.NotFound, "passes: unknown session")
	// ErrMalformedGuest: the guest is not a plain e-mail address.
	ErrMalformedGuest error = errcode.New(errcode.Invalid, "passes: malformed guest e-mail")
	// ErrUnknownField: a custom field value names a field the workspace does
	// not define.
	ErrUnknownField error = errcode.New(errcode.Invalid, "passes: unknown custom field")
	// ErrMissingField: a required custom field has no value.
	ErrMissingField error = errcode.New(errcode.Invalid, "passes: missing required custom field")

	// ErrInvalid: a request is malformed (an ID input.ID refuses, text
	// input.Text refuses, a time outside the years 1 to 9999, a bad or too
	// large quantity, an unknown pass type, bad options), or a count the
	// ledger holds does not fit in an int64. The error is an *InvalidError
	// naming the field.
	ErrInvalid error = errcode.New(errcode.Invalid, "passes: invalid request")
	// ErrSessionExists: the workspace has a session with this ID with other
	// contents.
	ErrSessionExists error = errcode.New(errcode.AlreadyExists, "passes: session ID taken")
	// ErrFieldConflict: a custom field is defined again with another
	// Required flag.
	ErrFieldConflict error = errcode.New(errcode.AlreadyExists, "passes: custom field defined differently")
	// ErrRequestConflict: a request ID was reused for a different request.
	ErrRequestConflict error = errcode.New(errcode.RequestReused, "passes: request ID reused for a different request")
	// ErrForbidden: the actor lacks the role the act needs (WorkspaceAdmin,
	// or allot.Vendor for a purchase). It is allot.ErrForbidden, the same in
	// every family; the error is a *allot.ForbiddenError.
	ErrForbidden = allot.ErrForbidden
	// ErrPolicy: a policy returned a decision that breaks the Policy contract.
	ErrPolicy error = errcode.New(errcode.Internal, "passes: policy broke its contract")
)

// InvalidError says which field of a request was wrong and why.
type InvalidError struct {
	Field  string
	Reason string

	// also is another sentinel the error matches, e.g. ErrMalformedGuest
	// for a malformed user filter; nil for none.
	also error
}

// Error says which field was wrong and why.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("passes: invalid %s: %s", e.Field, e.Reason)
}

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool {
	return target == ErrInvalid || (e.also != nil && target == e.also)
}

// Code returns errcode.Invalid.
func (e *InvalidError) Code() string { return errcode.Invalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// RefusalError is a refused login: the decision with its reason.
type RefusalError struct {
	Decision Decision
}

// Error says the login was refused, and why.
func (e *RefusalError) Error() string {
	return "passes: login " + e.Decision.String()
}

// Is makes a *RefusalError match ErrRefused and its reason's sentinel.
func (e *RefusalError) Is(target error) bool {
	return target == ErrRefused || (target != nil && target == reasonErr[e.Decision.Reason])
}

// Code returns the code of the refusal's reason: insufficient,
// demo_locked, not_found (unknown session) or invalid (malformed guest,
// unknown or missing custom field). A reason of a service's own policy is
// forbidden: the pass type's rule refuses the guest.
func (e *RefusalError) Code() string {
	if c, ok := reasonErr[e.Decision.Reason].(errcode.Coder); ok {
		return c.Code()
	}
	return errcode.Forbidden
}

var reasonErr = map[Reason]error{
	ReasonInsufficientPasses: ErrInsufficientPasses,
	ReasonDemoLocked:         ErrDemoLocked,
	ReasonUnknownSession:     ErrUnknownSession,
	ReasonMalformedGuest:     ErrMalformedGuest,
	ReasonUnknownField:       ErrUnknownField,
	ReasonMissingField:       ErrMissingField,
}

// FieldError names a custom field value that is not allowed: a field the
// workspace does not define (Unknown), or a required one left empty.
type FieldError struct {
	Name    string
	Unknown bool
}

// Error names the custom field and what was wrong with it.
func (e *FieldError) Error() string { return "passes: " + e.detail() }

func (e *FieldError) detail() string {
	if e.Unknown {
		return fmt.Sprintf("custom field %q is not defined in the workspace; define it first or drop it", e.Name)
	}
	return fmt.Sprintf("custom field %q is required; give it a value in the session or the login", e.Name)
}

// Is makes a *FieldError match ErrUnknownField or ErrMissingField.
func (e *FieldError) Is(target error) bool {
	if e.Unknown {
		return target == ErrUnknownField
	}
	return target == ErrMissingField
}

// Code returns errcode.Invalid: the request names a field it may not, or
// leaves a required one empty.
func (e *FieldError) Code() string { return errcode.Invalid }

func (e *FieldError) reason() Reason {
	if e.Unknown {
		return ReasonUnknownField
	}
	return ReasonMissingField
}

// translated is an error told in the tenant's words (err) whose cause, a
// ledger or store error naming internal ledger IDs, stays reachable for
// errors.Is and errors.As but out of the message.
type translated struct {
	err, cause error
}

// Error returns the message in the tenant's words, without the cause's.
func (e *translated) Error() string { return e.err.Error() }

// Unwrap returns the error in the tenant's words and its cause.
func (e *translated) Unwrap() []error { return []error{e.err, e.cause} }

// translate returns err with cause behind it: err's message, err's code,
// and errors.Is matches both.
func translate(err, cause error) error { return &translated{err: err, cause: cause} }
