// Package allottest is the test kit for services that embed allot: what a
// service's own tests need to exercise its licensing flows in a few lines,
// on memory or on PostgreSQL, in plain tests, benchmarks and rapid
// properties.
//
// # Harness
//
// New(t, opts) gives one test its allot: a store (a new memstore, or
// Options.Store, e.g. a pgxstore.Store, so the same test runs on
// PostgreSQL), a clock.Fake at Start (Monday 2 March 2026, 09:00 UTC) that
// Advance and Set move, and the ledger and the passes, seats and licenses
// services wired to both. Roles are granted to named actors in every
// organization and team: OrgAdmin and TeamAdmin (licenses) and
// EntitlementManager (seats) by default, the Options' lists otherwise;
// h.Roles grants more, per organization or team, and Revoke takes them
// away. New, the checks and the assertions take a TB, which *testing.T,
// *testing.B and *rapid.T all satisfy, so a rapid property builds a
// harness per test case from its *rapid.T.
//
// # Invariant checks
//
// h.Check(t) fails the test unless every invariant of every family holds:
// ledger.Verify (every balance against the journal, each unit's total
// zero) and each family's Audit (passes per workspace, seats and licenses
// per organization). The families' stores cannot list their tenants, so
// the tenants come from the ledger: each family opens accounts whose IDs
// name their tenant. A workspace that never bought passes, or an
// organization that never purchased seats, has none; name those in
// Options.Tenants or in the call. The failure lists each disagreement on
// a line: the ledger's (account, what, stored, replayed) and the
// families' (family, tenant, record, field, stored, derived). Audit
// returns the same as a Report; CheckStore runs it on any Store. Call
// Check after every step of a property: it reads the store directly and
// never consumes a planned fault.
//
// # Generators
//
// Package-level generators (*rapid.Generator) draw the pieces: valid and
// malformed IDs, e-mail addresses in their case and Unicode variants
// (SameEmail), quantities, times around an edge (TimeAround), times to
// advance the clock by around the passes windows and the invitation
// expiry (Elapse). The harness's methods draw whole requests of every
// family, valid (LoginRequest, Session, SeatsPurchase, NewEvent,
// SeatTransfer, ModuleTransfer, LicensesPurchase, InviteParams,
// AcceptParams, RemoveParams, DeleteParams) and malformed
// (MalformedLoginRequest, MalformedSeatTransfer, MalformedInviteParams:
// each refused with the error its doc names, changing nothing). Request
// IDs come from the harness's counter (RequestID), so no two requests of
// a test case share one by chance, and a shrunk case draws the same IDs.
// CanonicalEmail keys a test's model by the address allot compares.
//
// # Faults
//
// The services run on h.Faults, a FaultStore: h.Faults.Inject(n, fault)
// fails the nth transaction from now, whichever service runs it, before
// it runs (FailBefore, Transient), at commit (FailCommit), after a commit
// whose answer is lost (FailAfterCommit), by cancelling it midway
// (CancelMidway), or runs it twice (RunTwice), so a service checks that its
// own code around allot retries and recovers.
//
// # Assertions
//
// Assertions read like the domain and fail saying what was expected and
// what was found: AssertBalance and AssertCharged (passes), AssertPool and
// AssertLacks (seats), AssertMemberState, AssertLicensed and AssertSummary
// (licenses), and AssertRefused, which runs a request, wants its error to
// match a sentinel, and wants the store unchanged.
//
// # Example
//
// A property of a service's flow, with rapid:
//
//	rapid.Check(t, func(t *rapid.T) {
//		h := allottest.New(t, nil)
//		h.Passes.Purchase(h.Ctx, passes.PurchaseParams{Org: "ws", Actor: allottest.Billing, Quantity: 1000, RequestID: "order"})
//		h.Passes.CreateSession(h.Ctx, passes.CreateSessionParams{Org: "ws", Actor: allottest.WorkspaceAdmin, ID: "daily", Name: "Daily"})
//		paidUntil, spent := map[string]time.Time{}, int64(0)
//		for h.Now().Before(allottest.Start.AddDate(0, 0, 7)) {
//			h.Advance(allottest.Elapse(24*time.Hour).Draw(t, "wait"))
//			r := h.LoginRequest("ws", []string{"daily"}, guests).Draw(t, "login")
//			d, _ := h.Passes.Login(h.Ctx, r)
//			if guest := allottest.CanonicalEmail(r.Guest); h.Now().Before(paidUntil[guest]) {
//				h.AssertCharged(t, d, 0)
//			} else {
//				h.AssertCharged(t, d, 1)
//				paidUntil[guest], spent = d.AccessUntil, spent+1
//			}
//			h.AssertBalance(t, "ws", 1000-spent)
//			h.Check(t)
//		}
//	})
//
// # Concurrency
//
// A Harness, its FaultStore and its Roles are safe for concurrent use; its
// checks and assertions report through the TB, so call them from the
// goroutine running the test.
//
// The package is for tests: it imports testing (through storetest) and
// rapid, and nothing outside tests should need it.
package allottest
