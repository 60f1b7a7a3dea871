// Package input holds the rules every family applies to what callers hand
// in, so that passes, seats, licenses and the ledger accept and refuse the
// same IDs, e-mail addresses, text, quantities and times, and every store
// can keep whatever they accept.
//
// Each check returns an empty reason for acceptable input, or a short
// reason a package wraps in its own error type with the field's name.
package input
