package passes

import (
	"errors"
	"fmt"
)

// Sentinel errors name the categories of failure; match them with errors.Is.
// Every refused login matches ErrRefused and the sentinel of its reason.
var (
	// ErrRefused: a login was refused; the error is a *RefusalError.
	ErrRefused = errors.New("passes: login refused")
	// ErrInsufficientPasses: the workspace's balance does not cover the login.
	ErrInsufficientPasses = errors.New("passes: not enough passes")
	// ErrDemoLocked: the demo session's open period is over.
	ErrDemoLocked = errors.New("passes: demo session locked")
	// ErrUnknownSession: the workspace has no session with this ID (another
	// workspace's session of that ID is unknown too).
	ErrUnknownSession = errors.New("passes: unknown session")
	// ErrMalformedGuest: the guest is not a plain e-mail address.
	ErrMalformedGuest = errors.New("passes: malformed guest e-mail")
	// ErrUnknownField: a custom field value names a field the workspace does
	// not define.
	ErrUnknownField = errors.New("passes: unknown custom field")
	// ErrMissingField: a required custom field has no value.
	ErrMissingField = errors.New("passes: missing required custom field")

	// ErrInvalid: a request is malformed (an ID input.ID refuses, text
	// input.Text refuses, a time outside the years 1 to 9999, a bad or too
	// large quantity, an unknown pass type, bad options), or a count the
	// ledger holds does not fit in an int64.
	ErrInvalid = errors.New("passes: invalid request")
	// ErrSessionExists: the workspace has a session with this ID with other
	// contents.
	ErrSessionExists = errors.New("passes: session ID taken")
	// ErrFieldConflict: a custom field is defined again with another
	// Required flag.
	ErrFieldConflict = errors.New("passes: custom field defined differently")
	// ErrRequestConflict: a request ID was reused for a different request.
	ErrRequestConflict = errors.New("passes: request ID reused for a different request")
	// ErrPolicy: a policy returned a decision that breaks the Policy contract.
	ErrPolicy = errors.New("passes: policy broke its contract")
)

// RefusalError is a refused login: the decision with its reason.
type RefusalError struct {
	Decision Decision
}

func (e *RefusalError) Error() string {
	return "passes: login " + e.Decision.String()
}

// Is makes a *RefusalError match ErrRefused and its reason's sentinel.
func (e *RefusalError) Is(target error) bool {
	return target == ErrRefused || (target != nil && target == reasonErr[e.Decision.Reason])
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

func (e *FieldError) reason() Reason {
	if e.Unknown {
		return ReasonUnknownField
	}
	return ReasonMissingField
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
