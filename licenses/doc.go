// Package licenses keeps an organization's pool of licenses and each
// member's license lifecycle across any number of teams, as Powtoon for
// Enterprise does it.
//
// # Concepts
//
// An organization (Powtoon's word; the tenant is Org in every Go name)
// has licenses added to its pool by the vendor (Purchase; more can be
// added at any time) and creates teams (CreateTeam). A member, the same
// thing as a user, is identified by its e-mail address, compared by the
// library's one e-mail rule (NormalizeEmail: trimmed, a bare address,
// Unicode simple case folding); actors are compared in the library's one
// canonical form (an e-mail address as above, any other actor trimmed and
// case folded). A member
// may be in any number of teams and holds at most one license, counted
// once however many teams it is in.
//
// Every license that moves is a ledger transfer (unit "license", scale 0)
// between the organization's own accounts:
//
//	licenses/<org>/issuer            minus what was purchased
//	licenses/<org>/pool              the pool (non-negative): its available
//	                                 balance is the licenses available
//	licenses/<org>/member/<email>    the member's license, once accepted
//
// Inviting a new person places a ledger hold from the pool to the member's
// account (pending); the invitation's expiry is the hold's. Accepting posts
// the hold (active). Removing a member from its last team leaves the
// license on its account (unassigned). Deleting a member transfers the
// license back to the pool, or voids the hold if it was still pending. A
// member's license history is its account's journal (History).
//
// Every ledger ID is joined from its parts with '%' and '/' escaped in
// each, so no two different organizations, members or requests share one
// whatever characters their IDs hold. Transfer and hold IDs derive from the
// organization and the caller's RequestID alone
// ("licenses/<org>/request/<request>", and ".../request/<request>/invite"
// for the invitation a Reassign makes); an acceptance posts the
// invitation's hold under the hold's ID. An act that moves no license
// (Remove, and Delete or Reassign of a pending or expired invitation)
// leaves a mark under its request's ID: a hold from the issuer to the pool
// voided at once (code CodeRemove or CodeWithdraw), which changes no
// balance and names the act, member and team or invitation. The hold ID is the membership's
// identity (Member.Hold), and the transfer that frees a license names the
// act, the member and that identity. What each act moves tells the acts
// apart (issuer to pool, pool to issuer, a hold, a member's license back to
// the pool), so a retried request moves nothing twice, and a RequestID
// reused for a different request (another act, another member, another
// membership of the same member, another quantity) is refused with
// ErrRequestReused: the ledger never takes it for a retry of an
// equal-looking transfer.
//
// # Lifecycle
//
// Transition is the whole lifecycle as a pure function; the service applies
// nothing else:
//
//	none       + invite     -> pending    reserves a license (a hold)
//	pending    + invite     -> pending    another team; nothing new reserved; the expiry stays
//	pending    + accept     -> active     the hold is posted
//	pending    + leave-last -> none       the invitation is withdrawn, the hold voided
//	pending    + expire     -> expired    at ExpiresAt, with no write needed
//	active     + invite     -> active     another team; nothing new reserved
//	active     + leave-last -> unassigned keeps the license
//	unassigned + invite     -> active     joins a team: active again, no new acceptance
//	expired    + invite     -> pending    a new invitation reserves a new license
//	expired    + leave-last -> none       the lapsed invitation is withdrawn
//	any but none + delete   -> none       the license goes back to the pool, or the hold is voided
//
// Leaving a team that is not the member's last changes only its teams. An
// unassigned member becomes active directly when invited to a team because
// it accepted once and still holds its license; asking again would only let
// a member block its own license. Inviting a member to a team it is already
// in (and not expired) changes nothing, so retries are harmless; so does
// accepting an invitation already accepted (the service answers that retry
// before it consults Transition). Reassign is Delete then Invite in one
// transaction: the new person is pending until it accepts, in the named
// team or in every team of the member it replaces.
//
// # Invariants
//
// purchased = available + pending + active + unassigned, and available is
// the pool account's available balance. The pool is flagged non-negative, so
// the ledger (and the store behind it) refuses a reservation beyond it even
// under concurrent invitations. The Org record's counters and each Team's
// are written in the same transaction as the member and the ledger change;
// Summary reads them without scanning members, and the property tests
// recount every member after every step.
//
// Reduce refuses to take the purchased count below the licenses in use: the
// *InUseError says how many are in use and that members must be deleted
// first. Allowing it would leave members holding licenses the organization
// no longer has.
//
// Audit recomputes all of this from the ledger and the member records
// (purchased from the issuer's journal, the counters from the members, each
// member against its account and hold) and returns every disagreement as a
// ledger.Finding; the property tests run it after every step, on memstore
// and on PostgreSQL.
//
// # Time
//
// An invitation is pending on [InvitedAt, ExpiresAt): from ExpiresAt on it
// reads as StateExpired and its license as available, with no background
// job. The ledger already stops counting an expired hold; for the counters,
// the store indexes pending invitations by expiry, and Summary subtracts
// those expired at now (LicenseExpiredCount: a binary search per index in
// memstore). The next write that touches an expired member marks it expired
// in its record. The service reads the clock once per operation; timestamps
// are UTC with microseconds, and times outside the years 1 to 9999 are
// refused. A replica whose clock is behind may still read as pending an
// invitation whose hold another replica's write has released as expired:
// Delete, Remove and Reassign then treat it as the expired invitation it
// is.
//
// # Roles
//
// Options.Roles (an allot.Roles; allot.StaticRoles is a ready one) says who
// holds which role; nil grants nothing. Every call but Audit canonicalises
// its Actor (a malformed one is an *InvalidError for field Actor) and
// checks it before it changes anything; a refused actor gets an
// *allot.ForbiddenError (matching ErrForbidden, code "forbidden") and
// nothing changes.
//
//	call                       who may
//	Purchase, Reduce           allot.Vendor only (see Purchases)
//	CreateTeam                 OrgAdmin
//	RequestLicenses            OrgAdmin
//	Invite, Remove             OrgAdmin, or TeamAdmin(team) of the team named
//	Accept                     the invitee only (Actor = Email)
//	Delete, Reassign           OrgAdmin
//	Summary, SummaryTable      OrgAdmin
//	TeamsPage, Teams,          OrgAdmin
//	TeamsTable
//	MembersPage, Members,      OrgAdmin; or TeamAdmin(Team) when Team is set
//	MembersTable
//	Member                     OrgAdmin, TeamAdmin of one of the member's teams, or the member
//	HistoryPage, History       OrgAdmin, or the member
//	Audit                      no role: an operator's check, not a product act
//
// # Purchases
//
// Purchases and reductions are the vendor's acts, by one rule in every
// allot family: Purchase and Reduce require allot.Vendor, and an Org Admin
// is refused. In Powtoon an admin's "+ Add licenses" e-mails the vendor,
// who adds them; a service grants allot.Vendor to its billing system's
// actor. That request is RequestLicenses: an Org Admin asks for Quantity
// more licenses, with a note, and the service e-mails the vendor on its
// events.LicensesRequested event. Both return an allot.Purchase (Product "license", Quantity
// negative for a reduction, Purchased and Available right after it) read
// back from the ledger transfer, whose metadata keep the Subscription and
// the available count.
//
// # Retries
//
// Every write is idempotent: a retry returns the first result, never fails
// because the first attempt succeeded, and changes nothing, on every store.
// The same RequestID for another act, member, team, quantity or actor is
// ErrRequestReused and changes nothing.
//
//   - Purchase, Reduce: the same allot.Purchase, from the ledger transfer.
//   - CreateTeam: naturally idempotent; the team as it is stored.
//   - Invite: inviting a member to a team it is in returns the member.
//   - Accept: naturally idempotent; once the member accepted its current
//     invitation (Member.Hold posted, AcceptedAt set) it returns the
//     member as it reads now.
//   - Remove: its mark is found; the member as it reads now (StateNone if
//     it has no record), never ErrNotInTeam.
//   - Delete: its freeing transfer or mark is found; the same Member, in
//     StateDeleted, never ErrUnknownMember, even if the person was invited
//     again since.
//   - Reassign: its deletion's transfer or mark is found; To as it reads
//     now.
//
// # Listing
//
// Every listing has a page call and an iterator with the same Params:
// MembersPage/Members, TeamsPage/Teams, HistoryPage/History. Cursor is the
// previous page's Next ("" for the first page; a malformed cursor, or one
// of another organization, member, state or team, is an *InvalidError for
// field Cursor); Limit is 0 for allot.DefaultLimit, at most allot.MaxLimit.
// Members are ordered by e-mail and can be filtered by State (active,
// pending, unassigned, expired, as they read now: pending means not
// expired at now, expired includes invitations stored as pending whose
// expiry passed) and by Team; the store filters, so a page comes back short
// only at the end. Teams are ordered by ID, history oldest first.
//
// # Errors
//
// Every error has a code (allot.ErrorCode, and allot.HTTPStatus for its
// HTTP status) through errors.As, keeps matching its sentinel through
// errors.Is, and carries its details in a typed error. A refused operation
// changes nothing. Messages name the organization's own IDs (organization,
// team, member e-mail, request ID), never a ledger account or transfer ID.
//
//	code                sentinel (typed error)                   meaning                                     what to do
//	invalid             ErrInvalid (*InvalidError)               an ID, e-mail, actor, quantity or time      fix the field the error names
//	                                                             is malformed, or a count would overflow
//	invalid             ErrInvalid (*InvalidError)               Cursor: not the previous page's Next of     pass Next unchanged, or none
//	                                                             this listing; Limit: below 0 or above
//	                                                             allot.MaxLimit
//	forbidden           ErrForbidden (*allot.ForbiddenError)     the actor lacks the role the call needs     act as the role the Roles table
//	                                                             (see Roles), reads included                 names
//	not_found           ErrUnknownOrg (*NotFoundError)           the organization has no licenses yet        purchase licenses first
//	not_found           ErrUnknownTeam (*NotFoundError)          no such team in the organization            create the team first
//	not_found           ErrUnknownMember (*NotFoundError)        no member with this e-mail                  check the e-mail
//	not_found           ErrNoInvitation                          Accept: no invitation for this e-mail       ask an admin to invite it
//	not_found           ErrNotInTeam                             Remove (not a retry): the member is not     nothing to remove
//	                                                             in the team
//	request_reused      ErrRequestReused (*RequestReusedError)   the request ID names another request        retry exactly, or use a new ID
//	insufficient        ErrNoLicenseAvailable (*NoLicenseError)  every purchased license is in use           purchase more, or delete members
//	in_use              ErrLicensesInUse (*InUseError)           Reduce below the licenses members hold      delete members first
//	illegal_transition  ErrIllegalTransition (*TransitionError)  the member's state does not allow the act   see Lifecycle
//	expired             ErrInvitationExpired                     Accept: the invitation expired              ask an admin to invite again
//	internal            (*InternalError)                         the ledger refused what the records         a bug: run Audit; the ledger's error
//	                                                             allowed                                     is reachable by errors.As
//	internal, canceled, (the store's or the context's error)     the store failed, the context ended         retry with the same request ID
//	timeout, unavailable
//
// Bad input is refused before any transaction opens where it can be. A
// retry of a request must repeat it exactly: a RequestID the organization
// already used for a different request (another act, member, membership,
// quantity or actor) is refused rather than taken for a retry.
//
// # Exports
//
// The license page exports as tables (package table; CSV with
// table.WriteCSV, XLSX with the xlsx module), each checking its view's
// role when it is made and reading a page at a time: SummaryTable
// (Purchased, Active, Pending, Unassigned, Available: one row), TeamsTable
// (the distribution by team: Team, Active, Pending) and MembersTable
// (Email, State, Teams, Invited by, Invited at, Accepted at, Expires at,
// with the members page's filters).
//
// # Events
//
// Every act writes its events (package events) in its own transaction:
// they commit with it and never without it, so a refused or rolled-back
// act emits nothing, and a retry, which changes nothing, emits nothing
// new. The envelope's Org, At (the act's time), Actor (canonical) and
// RequestID are the act's; Accept has no request ID.
//
//	act              event type(s)                         payload
//	Purchase         LicensesPurchased                     allot.Purchase, as returned
//	Reduce           LicensesReduced                       allot.Purchase, as returned
//	Invite           LicensesInvited                       events.Member, Team the team
//	Accept           LicensesAccepted                      events.Member
//	Remove           LicensesRemovedFromTeam, or           events.Member, Team the team; State deleted
//	                 LicensesUnassigned (its last team)    when a pending member's invitation is withdrawn
//	Delete           LicensesDeleted                       events.Member, State deleted
//	Reassign         LicensesReassigned                    events.Reassigned: From deleted, To invited
//	RequestLicenses  LicensesRequested                     events.LicenseRequest
//
// An events.Member carries the member as the act left it and the
// organization's counts right after it, as Summary reads them. An
// invitation expires without a write; the next write that reads the
// member (an invitation, a removal, a deletion…) marks it expired and
// emits LicensesInvitationExpired first, with the expiry's time as its At,
// allot.SystemActor as its Actor and the noticing request's RequestID. It
// is emitted even by a retry that notices it. CreateTeam and the reads
// emit nothing; licenses has no refusal events.
//
// Pool thresholds: the pool's use is (active + pending + unassigned) /
// purchased, as Summary reads them. Every act that changes the use or the
// purchased count emits an events.PoolThreshold (Product "license") for
// each of Options.Thresholds (default 80 and 100 %) it crosses, up or
// down, comparing the use right before the act with the use right after
// it, both at the act's time. An invitation that expires between two
// writes lowers the use without a write: the next write that emits events
// also emits the crossings those expiries caused, from the use the last
// write told to the use right before the act, placed right after the first
// LicensesInvitationExpired it emits (with that event's At and Actor), or
// first if it notices none (at its own time, by allot.SystemActor). So the
// crossings of each threshold alternate, up then down, and after each write
// the last of them tells where the use stood then. A write stamps the
// organization's UpdatedAt with its time; with clocks that disagree, a
// write whose clock is behind the last one's counts the expiries as of its
// own time.
//
// Options.Logger (nil: silent) logs refusals at debug, retried requests at
// info and anything unexpected (internal errors) at warn, with the
// attributes org and request_id.
//
// # Concurrency
//
// A Service is safe for concurrent use. Each operation is one serializable
// transaction of the store; the member's record, the counters and the
// ledger transfers commit together or not at all.
//
// # Example
//
//	roles := &allot.StaticRoles{}
//	roles.Grant("acme", "billing", allot.Vendor)
//	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
//	svc, _ := licenses.New(memstore.New().Licenses(), &licenses.Options{Roles: roles})
//	svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 10, RequestID: "buy-1"})
//	svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Actor: "ada@acme.test", Team: "design"})
//	svc.Invite(ctx, licenses.InviteParams{Org: "acme", Actor: "ada@acme.test", Team: "design", Email: "bo@acme.test", RequestID: "inv-1"})
//	svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Actor: "bo@acme.test", Email: "bo@acme.test"})
//	sum, _ := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "ada@acme.test"}) // purchased 10, active 1, available 9
package licenses
