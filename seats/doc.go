// Package seats keeps an organization's pools of seats and advanced modules
// and their transfer to its events, as SpotMe Backstage does it.
//
// # Concepts
//
// The tenant is an organization, Org in every Go name (SpotMe's word too).
// A Product is Seats or an advanced module, Module(name); its string is the
// ledger unit it counts ("seat", "module:<name>", scale 0). Purchase fills an
// organization's pool of a product. Each Event (what SpotMe also calls a
// workspace) needs one seat per participant and, for each advanced module it
// uses, that module. An Entitlement manager of the organization moves seats
// to an event with TransferSeats (a quantity) and a module with
// TransferModule (a name, no quantity; an event holds a module at most
// once). CheckConsumption assigns seats automatically to events that lack
// them; modules are never assigned automatically.
//
// # Purchases
//
// Purchases are the vendor's acts, by the one rule of every family: SpotMe
// sells seats and modules under subscriptions, and the organization's
// members do not add them. Purchase requires allot.Vendor (a service grants
// it to its billing system's actor) and nothing else; it accepts the
// subscription the purchase belongs to (optional, kept in the transfer's
// metadata) and returns an allot.Purchase: the organization's purchased and
// available counts of the product right after it, read from the ledger
// transfer, so a retry returns the very same record however much happened
// since.
//
// # Transfers are final
//
// SpotMe calls transfers final, and so does this package: nothing moves
// seats or a module back from an event, and correcting a mistaken transfer
// is out of scope. What a service can do instead: transfer the right amount
// where it was meant to go (buying more if the pool ran short), and keep
// the mistaken transfer in the history, where it stays visible to the
// Entitlement managers and the audit.
//
// Every unit that moves is a ledger transfer inside the organization's own
// accounts:
//
//	seats/<org>/purchases/<unit>         the issuer: minus what was purchased
//	seats/<org>/pool/<unit>              the pool: what is available (non-negative)
//	seats/<org>/event/<event>/<unit>     what the event received
//
// Transfer IDs come from the caller's request ID ("seats/<org>/req/<id>"),
// so a double submit moves units once; the consumption check's transfers
// are "seats/<org>/auto/<event>/<seats reached>". Every such ID is made
// with input.Join, which writes '%' in a part as "%25" and '/' as "%2F":
// no two different (org, kind, event, product, request) tuples give one ID,
// whatever characters the caller's IDs hold. Transfers are final: there is
// no undo, and an event keeps seats beyond its participants.
//
// # Tenants and requests
//
// Every record is keyed by its organization and its own ID: two
// organizations may each have an event "kickoff" and a request "r1", and
// every read names its organization, so another organization's event is
// unknown (ErrUnknownEvent), never taken.
//
// # Retries
//
// Every write may be retried and returns its first result; none fails
// because the first attempt succeeded, on every store. Purchases and
// transfers take a request ID, scoped to the organization: a retry with the
// same contents returns the first allot.Purchase or Transaction and changes
// nothing; the same ID for another request (another act, quantity, event,
// module or subscription) is ErrRequestReused (request_reused), whose
// message names the organization's request ID, and changes nothing.
// CreateEvent is naturally idempotent: the same details again return the
// stored event; other details (including details the event has since been
// given by SetParticipants or SetModules) are ErrEventExists. SetParticipants
// and SetModules to the values the event has return it unchanged, UpdatedAt
// included. A second CheckConsumption with nothing changed moves nothing.
//
// # Inputs
//
// The package checks what it is given before it opens a transaction, by the
// rules of the whole library, so every store accepts and refuses the same
// requests: organization, event, request IDs and module names are IDs (1
// to 200 bytes of valid UTF-8 without white space or control characters;
// '/' and '%' are fine); names and subscriptions are valid UTF-8 without
// NUL; times are within the years 1 to 9999; quantities are positive, and
// a purchase or transfer that would take a count beyond MaxInt64 is
// refused. Each refusal is an *InvalidError naming the field, matching
// ErrInvalid, and changes nothing. Actors have the library's one canonical
// form: an actor holding '@' is an e-mail address identified by its Unicode
// case folding (so "ÄNN@x.test" and "änn@x.test" are one member), any other
// actor (a system such as "billing") is trimmed and case folded; a
// malformed actor is an *InvalidError with Field "Actor". Roles are checked
// and transfers record that form.
//
// # Invariants
//
// Per product, purchased = available + assigned, where available is the pool
// account's balance and assigned the sum of the events' accounts. The pool
// account is flagged non-negative, so the ledger, and the store behind it,
// refuse to oversell. The Pool record's counters and each Event's
// SeatsAssigned and ModulesAssigned change in the transaction that moves the
// units, so the views never scan the journal or every event to count them.
//
// # Audit
//
// Audit recomputes an organization's counters from the ledger in one
// transaction: per product, the pool's Purchased against the issuer
// account's balance negated, Purchased-Assigned against the pool account's
// available balance, Assigned against the sum of the events' accounts, and
// purchased = available + assigned on the ledger itself; per event, its
// SeatsAssigned and ModulesAssigned against its accounts. Every
// disagreement is a ledger.Finding; the property tests run it after every
// action, on memstore and on PostgreSQL.
//
// # Roles
//
// Options.Roles (an allot.Roles; allot.StaticRoles is a ready one) says who
// holds which role in which organization; nil grants nothing. Each call
// below canonicalises its Actor, then checks that the actor holds one of
// the roles listed in the organization:
//
//	call                                         role(s)
//	Purchase                                     allot.Vendor
//	CreateEvent, Event, SetParticipants,         EventOrganizer or EntitlementManager
//	SetModules
//	TransferSeats, TransferModule                EntitlementManager
//	CheckConsumption                             EntitlementManager (by hand), or
//	                                             Actor allot.SystemActor: no role
//	Overview, HistoryPage, History, EventsPage,  EntitlementManager (SpotMe's
//	Events, OverviewTable, HistoryTable,         Entitlements tab)
//	EventsTable
//	Audit                                        none: an operator's check
//
// A refused actor gets an *allot.ForbiddenError (ErrForbidden, code
// forbidden) naming the act and the roles that would allow it, and nothing
// changes. SpotMe's consumption check is periodic: the service's scheduler
// runs it with Actor allot.SystemActor, which needs no grant, and its
// transfers record "system"; an Entitlement manager may run it by hand,
// and its transfers then record the manager. A service must never let a
// person's request act as allot.SystemActor. Audit(ctx, org) is an
// operator's check of the books, not a product act, and checks no role.
//
// # Time
//
// An event's window is [Start, End): it is upcoming before Start, live from
// Start until End, and past from End on. The consumption check covers live
// and past events, whose participants have joined; it skips upcoming ones,
// whose registrations may still fall, since assigned seats never return. An
// Entitlement manager may transfer to an event of any status.
//
// # Consumption check
//
// CheckConsumption takes the live and past events in order of Start, then
// ID, and gives each what it lacks while the pool lasts. When the pool runs
// short, the event at which it runs out gets what is left and later events
// get nothing (PlanConsumption). It runs in one transaction that locks the
// seat pool first, so concurrent replicas take turns and the later ones find
// nothing to do; a second run with nothing changed moves nothing.
//
// # Views and exports
//
// Overview gives purchased, assigned and available per product; HistoryPage
// pages the organization's transactions (oldest first, filtered by
// product, event and time range), each with when, who, from, to, quantity
// and request ID; EventsPage pages the events (ordered by Start, then ID)
// as EventEntitlements: participants, seats and modules assigned, what they
// lack and their status, and with OnlyMissing set is the
// missing-entitlements query. OverviewTable, HistoryTable and EventsTable
// give them as table.Tables, the one export model of every family, with the
// Entitlements tab's headers (Product, Purchased, Assigned, Available; Date,
// Type, Product, Quantity, From, To, Event, By, Request ID, Subscription;
// Event, Name, Start, End, Status, Participants, Seats assigned, Seats
// missing, Modules assigned, Modules missing) and their rows read a page at
// a time: table.WriteCSV writes them as CSV (RFC 4180, CRLF, formula-like
// text made inert) and the xlsx module's Write as a workbook.
//
// # Events
//
// Every act writes its events (package events, the outbox) in the
// transaction of its change, on every store; a retry, a refusal or a
// rolled-back act writes none (seats has no refusal events). Each event's
// Org is the organization, At the act's time, Actor the canonical actor
// (allot.SystemActor's "system" for the periodic check) and RequestID the
// request's (empty for CreateEvent, SetParticipants, SetModules and the
// check):
//
//	act                          events, in this order
//	Purchase                     SeatsPurchased (the allot.Purchase it returns), PoolThreshold
//	TransferSeats,               SeatsTransferred (Transferred: the pool's available and the
//	TransferModule               event's units of the product after it), SeatsEventCovered,
//	                             PoolThreshold
//	CheckConsumption             per assignment SeatsAssigned (Transferred) and SeatsEventCovered,
//	                             then PoolThreshold
//	CreateEvent,                 SeatsEventLacking or SeatsEventCovered, SeatsModuleMissing
//	SetParticipants, SetModules
//
// Lacking is a property of an event's record, whatever its status: it
// lacks when its participants exceed its seats or it uses a module it was
// not given (Shortfall). SeatsEventLacking is written by the act that makes
// a record go from lacking nothing to lacking something (CreateEvent of an
// event that lacks, SetParticipants raising the participants beyond the
// seats, SetModules adding a module it does not hold), with what it lacks
// then; a change to what an event already lacking lacks writes none.
// SeatsEventCovered is written by the act that makes it lack nothing: a
// transfer, the consumption check's assignment (which covers live and past
// events only, so an upcoming event is covered by a transfer or by
// lowering its participants), SetParticipants or SetModules.
// SeatsModuleMissing is written once per module an act makes missing
// (CreateEvent, SetModules). The consumption check writes no lacking event
// for an event still lacking after it: the act that made it lack wrote it.
//
// Pool thresholds: Options.Thresholds (percents from 1 to 100; nil means 80
// and 100) of a product's purchased units assigned to events. Every act
// that changes a pool's assigned or purchased units writes a PoolThreshold
// for each threshold the pool's use crosses, up (a transfer, the check) or
// down (a purchase), with Product the product's string ("seat",
// "module:<name>"). A pool with nothing purchased is 0 % used.
//
// Options.Logger (nil: silent) logs refusals at debug, retried requests at
// info and internal failures at warn, with attributes org and request_id.
//
// # Listing
//
// Every listing has a page call returning an allot.Page (Items, and Next,
// the cursor of the following page, empty on the last) and an iterator
// over every page from the given cursor on: HistoryPage and History,
// EventsPage and Events. Their Params carry Cursor ("" for the first page;
// opaque, and bound to its organization and listing: another's is an
// *InvalidError with Field "Cursor") and Limit (0 reads allot.DefaultLimit
// items; below 0 or above allot.MaxLimit is an *InvalidError with Field
// "Limit"). The tables read every page from Cursor on.
//
// # Errors
//
// Every error an exported call returns (and every error a table's Rows
// yields) carries a code, read with allot.ErrorCode and mapped to an HTTP
// status with allot.HTTPStatus; one situation has one code in every family.
// Match the sentinels with errors.Is; the typed errors carry the details:
//
//	code            sentinel (typed error)                                   meaning                                   what to do
//	invalid         ErrInvalid (*InvalidError)                               a field of the request is malformed       fix the field InvalidError.Field names
//	                                                                         (the Actor, a Cursor of another
//	                                                                         listing, a Limit out of range), or a
//	                                                                         count would pass MaxInt64
//	not_found       ErrUnknownEvent (*UnknownEventError)                     the organization has no such event        create the event first, or fix its ID
//	forbidden       ErrForbidden (*allot.ForbiddenError)                     the actor lacks the role the act needs    have someone with the role act, or grant it
//	already_exists  ErrEventExists                                           the event ID is taken with other details  choose another ID, or update the event
//	already_exists  ErrModuleAlreadyAssigned (*ModuleAlreadyAssignedError)   the event holds the module already        nothing: an event needs a module once
//	insufficient    ErrInsufficient (*InsufficientError)                     the pool has fewer units than requested   purchase more, or transfer fewer
//	insufficient    ErrNoPool (*NoPoolError)                                 the org never purchased the product       purchase the product first
//	request_reused  ErrRequestReused (*RequestReusedError)                   the request ID was used for another       use a new request ID for a new request
//	                                                                         request of the organization
//	canceled        (context.Canceled)                                       the caller's context was cancelled        nothing: the caller went away
//	timeout         (context.DeadlineExceeded)                               the caller's deadline passed              retry with the same request ID
//	internal        (the store's or the Roles' error)                        the store, Roles or the writer failed     retry with the same request ID; report it if it persists
//
// A refused call changes nothing, and a retry with the same request ID is
// safe after any error. Messages name the organization's own IDs (its
// events, modules, request IDs), never the ledger's accounts or transfers;
// a refusal that came from the ledger keeps the ledger's error reachable
// with errors.Is and errors.As.
//
// # Concurrency
//
// A Service is safe for concurrent use. Every write locks the pool it moves
// units from before anything else (Tx.PoolLock, or the loads a transfer and
// a consumption check read everything with: Tx.PoolTransferLoad,
// Tx.PoolCheckLoad), then the event it changes, then the ledger accounts in
// sorted order, so writers of one pool run one after the other and never
// deadlock.
//
// # Example
//
//	roles := &allot.StaticRoles{}
//	roles.Grant("acme", "billing", allot.Vendor)
//	roles.Grant("acme", "ana@acme.test", seats.EntitlementManager)
//	svc, _ := seats.New(memstore.New().Seats(), &seats.Options{Roles: roles})
//	svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Actor: "billing", Product: seats.Seats,
//		Quantity: 100, Subscription: "sub-1", RequestID: "p1"})
//	svc.CreateEvent(ctx, seats.CreateEventParams{Org: "acme", Actor: "ana@acme.test", ID: "kickoff",
//		Start: start, End: end, Participants: 40})
//	svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana@acme.test",
//		Event: "kickoff", Quantity: 40, RequestID: "r1"})
//	res, _ := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor})
//	findings, _ := svc.Audit(ctx, "acme") // empty: the books agree
package seats
