// Package clock is the time seam of allot: every rule that depends on the
// current time reads it from a Clock, so tests and examples can run a month of
// licensing in microseconds with a Fake.
//
// Services read the clock once per operation and hand the instant down to the
// pure rules, which take a now time.Time and never a Clock. All instants a
// Clock returns are in UTC.
package clock
