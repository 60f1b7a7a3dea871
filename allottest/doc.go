// Package allottest is the test kit for services that embed allot: what a
// service's own tests need to exercise its licensing flows in a few lines.
//
//   - Fault injection: NewFaultStore wraps any Store (memstore, pgxstore)
//     and fails a chosen transaction before it runs, at commit, with a
//     transient error, by cancelling its context midway, or runs it twice,
//     so a service can check that its own code around allot retries and
//     recovers.
//   - Generators (*rapid.Generator) of valid and malformed IDs, e-mail
//     addresses (with their case and Unicode variants), quantities and
//     times around the edges of windows and expiries.
//
// The package is for tests: it imports testing and rapid, and nothing
// outside tests should need it.
package allottest
