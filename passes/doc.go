// Package passes sells pay-per-access session passes, as ThinkTank does: a
// workspace buys passes, and a guest entering a session spends them under the
// session's pass type, with every login in a usage log the workspace's
// administrators read and export as CSV.
//
// The tenant is ThinkTank's workspace; the Go names call it Org, as every
// family of allot does (PurchaseParams.Org, Session.Org, LogParams.Org).
//
// # Concepts
//
// A workspace's balance is the ledger account BalanceAccount(org) (unit
// "pass", scale 0, never negative). Purchase moves passes into it from the
// workspace's IssuerAccount; a login that costs passes moves them to the
// workspace's SpentAccount. So balance = purchased - spent is a ledger fact,
// and the journal, the balance and the usage log always agree. A balance is
// an int64: a purchase that would take it beyond math.MaxInt64 is refused,
// and a ledger amount an int64 cannot show is an error, never wrapped.
//
// # Tenants and IDs
//
// Every record is a workspace's: sessions are keyed by (workspace, ID),
// access windows by (workspace, session, guest), custom fields by
// (workspace, name) and log rows by (workspace, request ID). Two workspaces
// may use the same IDs; a session of another workspace is an unknown session,
// never a taken one. Workspace, session and request IDs are 1 to 200 bytes of
// UTF-8 without white space or control characters ('/' and '%' are allowed);
// derived ledger IDs are built with input.Join, which escapes '%' and '/' in
// each part, so no two (workspace, kind, request) tuples share an ID:
// "passes/<workspace>/balance", "/issuer", "/spent",
// "passes/<workspace>/buy/<request ID>" and
// "passes/<workspace>/login/<request ID>".
//
// Guests and session owners are e-mail addresses, compared and stored in one
// canonical form (trimmed, Unicode simple case folding: "Änn@x.test" and
// "ÄNN@x.test" are one guest). Names, locations and custom field names and
// values are text: valid UTF-8 without NUL. Times, the clock's and a log's
// range, lie within the years 1 to 9999.
//
// A Session belongs to one workspace and has one PassType. A pass type names
// a Policy: a pure function of the time, the session, the guest and the
// guest's current Access window that returns a Decision. The built-ins:
//
//   - DayPass (the default, DayPolicy): a login spends 1 pass and gives the
//     guest 24 hours of access to the session; a login inside the window
//     spends nothing.
//   - MonthPass (MonthPolicy): a login spends 2 passes and gives the guest 30
//     days (720 hours) of unlimited access to the session.
//   - DemoPass (DemoPolicy): logins spend nothing; the session is open for 4
//     hours from its first guest login, then locked for everyone. While it is
//     open, activity titles are marked "Demonstration Use Only"
//     (DecorateTitle).
//
// A service defines its own pass types in Options.Policies: a Window with
// its own cost and duration, a Demo with another open period, or any
// function as a PolicyFunc (see Example_customPolicy).
//
// A workspace defines custom fields (DefineFields), e.g. Note and Reference,
// whose order is the order of the log's columns. A session may carry values;
// a login may add or override them. A value for a field the workspace does
// not define, or a required field without a value, refuses the login.
//
// # Roles
//
// The Session Passes screen is the workspace administrators', and selling
// passes the vendor's. Options.Roles (an allot.Roles) says who holds which
// role in which workspace; each restricted call takes an Actor, brings it
// to the library's one canonical form (input.Actor: an e-mail address
// trimmed and case folded) and checks it:
//
//	call                                     role
//	Purchase                                 allot.Vendor
//	Balance                                  WorkspaceAdmin
//	CreateSession, UpdateSession             WorkspaceAdmin
//	Session, SessionsPage, Sessions          WorkspaceAdmin
//	DefineFields, Fields                     WorkspaceAdmin
//	LogPage, Log, LogTable, ExportCSV        WorkspaceAdmin
//	Totals, TotalsTable                      WorkspaceAdmin
//	Login                                    none: the guest's own act
//	Audit                                    none: an operator's check
//
// A nil Roles grants nothing: every restricted call is refused. A refused
// actor is a *allot.ForbiddenError (ErrForbidden, code forbidden) and
// changes nothing; an Actor that is not one (empty, or holding '@' but no
// e-mail address) is an *InvalidError with Field "Actor". Login takes no
// actor: the guest acts for themselves, and the service that embeds passes
// authenticates the guest (ThinkTank's guests enter a session by its link
// with their e-mail address) before it calls Login; what entering costs is
// the session's pass type's rule. Audit(ctx, org) is an operator's check of
// the books, not a product act, and checks no role.
//
// # Purchases
//
// ThinkTank sells passes: a workspace does not buy for itself, the vendor
// records the sale. Purchase therefore needs allot.Vendor, the role every
// family gives the seller (grant it to the billing system's actor), and a
// workspace administrator is refused. It returns the allot.Purchase it
// recorded: Product "pass", the Quantity, the Subscription or order it was
// sold under (optional, kept on the ledger transfer), the vendor's Actor,
// At, and the workspace's passes Purchased (everything it bought, the
// issuer account's balance negated) and Available (its balance) right
// after it.
//
// # Sessions
//
// CreateSession stores a session. Its Owner is the e-mail address the
// usage log shows as the session owner: by default the Actor who created
// it (ThinkTank: "Session Owner displays the e-mail address of the person
// who created the session"), so an actor without an e-mail address must
// give one. UpdateSession changes a
// session's name, owner, billing, pass type or field values, e.g. makes a
// locked demo session a paid one: later logins decide and spend under the
// new pass type, access windows already granted stay valid until they end,
// and the usage log keeps its rows as they were logged.
//
// # Retries
//
// Every write is safe to retry, and a retry returns what the first call
// returned, whenever it comes (the clock moved on, other acts in between),
// without changing anything:
//
//   - Purchase and Login take a request ID: a retry with the same ID and
//     request returns the first allot.Purchase (the same At, Purchased and
//     Available, read back from the ledger transfer and its balances) or
//     decision; the same ID with another request (another quantity,
//     subscription or actor for a purchase) is an error matching
//     ErrRequestConflict, code request_reused, with nothing changed.
//   - CreateSession, DefineFields and UpdateSession are naturally
//     idempotent: the same contents again return the stored session or
//     fields. A CreateSession retry after UpdateSession changed the session
//     is ErrSessionExists, and DefineFields returns all the workspace's
//     fields, those defined since included.
//
// # Logins and the usage log
//
// Login reads the clock once and, in one transaction, loads at once
// (Tx.LoginLoad) the request ID (a retry returns the first decision and
// spends nothing more), the session, the workspace's fields, the guest's
// access window, locked, and the workspace's balance, decides with the session's policy, posts the spend (transfer ID
// "passes/<workspace>/login/<request ID>"), writes the window and appends a
// Usage row. Every allowed login is a row, including logins inside a window
// and demo logins, which show 0 passes used and the balance at that moment:
// they are accesses an administrator wants to see. A row's BalanceAfter is
// the spend transfer's debit balance, so the column is the running balance.
// Refused logins are not rows.
//
// LogPage reads a page, Log iterates; LogTable is the log as a table.Table
// with ThinkTank's headers (Timestamp, Session ID, Session Name,
// Internal/External, Location, User, Session Owner, Passes, Balance, then
// the custom fields), read 1000 rows a page, which ExportCSV writes with
// table.WriteCSV and the xlsx module as a workbook. All of them filter by
// time range, session, user and Billing: Internal or External, the column
// ThinkTank says is "used for billing purposes".
//
// Totals sums the log per calendar period (Period: Day or Month, in UTC: a
// day runs from 00:00 UTC, a month from the first at 00:00 UTC) and per
// Internal/External: the logins and the passes they spent, for billing.
// TotalsTable is the same as a table.
//
// # Events
//
// Every act writes its events (package events) to the store's outbox in
// the act's own transaction, with the workspace as Org, the act's time as
// At, its canonical actor (the vendor's, or the guest's e-mail address) and
// its request ID; a retried request, and an act that fails or rolls back,
// writes none:
//
//	Purchase                           events.PassesPurchased (the allot.Purchase it returns)
//	Login, allowed                     events.PassesAdmitted (charged, or inside a window or a demo: Passes 0)
//	Login, a demo session's first      events.PassesDemoOpened, after its PassesAdmitted
//	Login, refused                     events.PassesLoginRefused, with the Reason
//	Login, refused by a locked demo    also events.PassesDemoLocked (At: when it locked), once per lock
//
// A refusal's events are written in a transaction of their own that
// changes nothing else; each refused attempt is one event, a retry
// included, since a refusal changes nothing and its retry decides anew. A
// malformed guest's refusal has actor allot.SystemActor and no Guest.
// PassesDemoLocked is written by the first refusal that finds the session
// locked: the refusal's transaction marks the session with the lock's
// instant (Tx.SessionDemoLockMark) and writes the event only if the mark
// is new, so each lock is announced once, however many refusals meet it at
// the same moment. A consumer may take (Org, Session, LockedAt) as its
// identity.
//
// The pool is the workspace's passes (product PoolProduct, "pass"): its
// use is the passes spent of those purchased. A charging login or a
// purchase that moves the use across one of Options.Thresholds (default 80
// and 100 %) emits events.PoolThreshold, Up or down, in its transaction.
// Options.Logger (nil: silent) logs refusals at debug, retried requests at
// info and anything unexpected at warn, with the attributes org and
// request_id.
//
// # Listing
//
// Every listing is read the same way: a page call returning an
// allot.Page (Items and Next) and an iterator (iter.Seq2) over the pages,
// both taking Cursor and Limit in their Params: LogPage and Log (oldest row
// first), SessionsPage and Sessions (by session ID, bytewise). Cursor is
// opaque: empty for the first page, else the Next of the page before; a
// cursor that is malformed, or of another listing or workspace, is an
// *InvalidError with Field "Cursor". Limit 0 means allot.DefaultLimit; below
// zero or above allot.MaxLimit is an *InvalidError with Field "Limit". Each
// page is a transaction of its own, and the iterator checks the actor's
// role for each page.
//
// # Invariants
//
// balance = purchased - spent, and never below zero (the ledger refuses the
// debit, and the store refuses it again); a guest inside an open window is
// never charged; a demo session never spends and grants nothing after it
// locks; a refused login changes nothing; the log's passes add up to what was
// spent; no row logged under the demo pass type spent.
//
// # Audit
//
// Audit recomputes, in one transaction, what passes keeps for a workspace
// from the ledger: the balance against purchased (the issuer's journal)
// minus spent (the spent account's journal); the log's passes against the
// spent account, each spending row against its spend transfer, the balance
// column against the replayed balance; each access window against the latest
// log row of its guest and session; and the demo rule, row by row (a
// session's pass type may have changed since). It returns each
// disagreement as a ledger.Finding; none means the books agree.
//
// # Time
//
// Windows are half-open [start, until) and rolling durations in UTC, so
// daylight saving never shifts them. A login exactly at until is outside the
// window. A clock that reads before a window's start (after a correction)
// still counts as inside it, so a guest never pays twice for one window.
// Timestamps are UTC, truncated to microseconds.
//
// # Errors
//
// Every error a Service returns has a code, through errors.As, as its
// Code() method: allot.ErrorCode reads it and allot.HTTPStatus maps it, so
// a service answers every error in one place. The sentinels match with
// errors.Is; the typed errors carry the details.
//
//	code             sentinel (typed error)              meaning                                  what to do
//	invalid          ErrInvalid (*InvalidError)          a malformed request; Field names it      fix the field and retry
//	invalid          ErrMalformedGuest (*RefusalError)   the guest is not an e-mail address       give a plain address
//	invalid          ErrUnknownField (*RefusalError,     a value for a custom field the           define the field or drop the value
//	                 *FieldError)                        workspace does not define
//	invalid          ErrMissingField (*RefusalError)     a required custom field has no value     give it a value
//	not_found        ErrUnknownSession (*RefusalError)   the workspace has no such session        check the session ID
//	insufficient     ErrInsufficientPasses               the balance does not cover the login     buy passes and retry
//	                 (*RefusalError)
//	demo_locked      ErrDemoLocked (*RefusalError)       the demo's open period is over           make the session a paid one (UpdateSession)
//	invalid          ErrInvalid (*InvalidError)          Field "Actor": no actor, or a malformed  name who acts
//	                                                     one; "Cursor": not a cursor of this      give the page's Next, or empty
//	                                                     listing and workspace; "Limit": below
//	                                                     0 or above allot.MaxLimit                give 0 to allot.MaxLimit
//	forbidden        ErrForbidden = allot.ErrForbidden   the actor lacks the role the call needs  act as one who holds it (Roles)
//	                 (*allot.ForbiddenError)             (WorkspaceAdmin, or allot.Vendor)
//	forbidden        ErrRefused (*RefusalError)          a service's own pass type refused,       see the Decision's Detail
//	                                                     with a reason of its own
//	already_exists   ErrSessionExists                    the session ID is taken, other contents  choose another ID
//	already_exists   ErrFieldConflict                    the field exists as required/optional    define it as it is
//	request_reused   ErrRequestConflict                  the request ID was used for another act  use a new request ID
//	unavailable      -                                   a concurrent login with the same         retry with the same request ID
//	                                                     request ID committed first
//	internal         ErrPolicy                           a policy broke its contract              fix the policy
//	internal         -                                   a store failure, or a ledger refusal     log it; retry later
//	                                                     the service did not expect
//	canceled/timeout -                                   the context was cancelled or expired     nothing, or retry
//
// A refused login returns its Decision (Allowed false, with Reason and
// Detail) and a *RefusalError that matches ErrRefused and its reason's
// sentinel; its code is its reason's. An *InvalidError is returned before
// any transaction opens where it can be; it is also a count the ledger holds
// that an int64 cannot show, and a clock, or a window it would grant,
// outside the years 1 to 9999 (Field "clock"). Messages name the
// workspace's own IDs, never the ledger's account and transfer IDs: a ledger
// error behind one stays reachable with errors.Is and errors.As. A login
// that fails with anything but a refusal returns the zero Decision, which
// grants nothing (retry with its request ID to learn whether it committed).
//
// # Concurrency
//
// A Service is safe for concurrent use. Logins of one guest to one session
// are ordered by the guest's access record, so concurrent logins spend once;
// the balance account is locked by the ledger, so concurrent logins of many
// guests never overspend. Concurrent DefineFields of one workspace are
// ordered by the workspace's field lock (Tx.FieldsLock).
//
// # Example
//
//	roles := &allot.StaticRoles{}
//	roles.Grant("acme", "billing", allot.Vendor)
//	roles.Grant("acme", "olga@acme.example", passes.WorkspaceAdmin)
//	svc, _ := passes.New(memstore.New().Passes(), &passes.Options{Roles: roles})
//	svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 10, RequestID: "order-1"})
//	svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: "olga@acme.example", ID: "kickoff", Name: "Kick-off"})
//	d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "kickoff", Guest: "ann@example.com", RequestID: "r1"})
//	// d: allowed: 1 pass spent, access until ...; balance 9
package passes
