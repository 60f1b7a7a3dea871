// Package pgxstore keeps allot's ledger and its domain records in
// PostgreSQL, through pgx.
//
// It implements ledger.Store and ledger.Tx, and the seats facet
// (Store.Seats, for seats.New), over real tables that services may query
// with SQL, and passes the storetest conformance suite. It is a Go module of
// its own, so the core module never requires pgx.
//
// # Tables
//
// Migrate creates them in the schema of Options.Schema, or in the first
// schema of the connection's search_path:
//
//   - allot_units (code, scale)
//   - allot_accounts: one row per account with its definition and running
//     totals (posted, held, version, last_posted_at). Two CHECK constraints
//     back the ledger's own checks: held >= 0, and an account flagged
//     non-negative (flags & 1 = 1) never has posted - held below zero.
//   - allot_transfers: the journal. seq is the commit sequence, from an
//     identity column; each row records both accounts' balances after it.
//     Indexed by (debit, seq) and (credit, seq) for account histories.
//   - allot_holds: holds with their status; pending holds are indexed by
//     (debit, expires_at) in a partial index.
//   - allot_seat_pools: one row per organization and product (org, product,
//     purchased, assigned, created_at), the counters the seats service keeps
//     beside the pool's ledger account. CHECK constraints refuse negative
//     counters and assigned above purchased.
//   - allot_seat_events: the organizations' events (id, org, name,
//     start_at, end_at, participants, modules, seats_assigned,
//     modules_assigned, created_at, updated_at), modules as sorted text
//     arrays; indexed by (org, start_at, id) for listings and the
//     consumption check.
//
// The passes facet (migration 0003, keyed by workspace since 0005) adds
// allot_pass_sessions (keyed by workspace and ID), allot_pass_fields
// (unique by name and by position per workspace), allot_pass_access (one row
// per workspace, session and guest; a row with NULL times is the placeholder a
// login locks while the guest has no window) and allot_pass_usage (the usage
// log, unique by workspace and request ID, indexed for its filters).
//
// The licenses facet (migration 0004, Store.Licenses) adds
// allot_license_orgs (an organization's counters: purchased, active,
// pending, unassigned, expired), allot_license_teams (each team's active
// and pending counts) and allot_license_members (one row per organization
// and e-mail: state, teams as a sorted text array, the invitation's hold
// and expiry), with a partial index on pending invitations' expiry for the
// summary's counts. Writers lock the organization's row first.
//
// IDs use the "C" collation, so listings order them as Go compares strings.
// Amounts are numeric, stored exactly as the ledger computed them;
// timestamps are timestamptz in microseconds, and a zero time.Time (a hold
// that never expires, an account never posted to) is NULL. Metadata is
// jsonb.
//
// # Migrations
//
// The SQL files of migrations/ are embedded in the binary and applied by an
// explicit Migrate (or Store.Migrate) call, which is safe at every start:
// the allot_schema_migrations table records the versions applied, and a
// transaction-scoped advisory lock makes replicas that start together apply
// each migration once. Each domain facet (passes, seats, licenses) adds a
// migration file and a Go file of Tx methods.
//
// A migration carries existing rows over when the library changes how it
// keys or names them: 0005 and 0006 key passes' sessions and windows and
// seats' events by their tenant, and 0006 and 0007 rewrite the ledger IDs
// the families derive, which now escape '%' and '/' in each part, so that
// balances, history and retries of earlier requests find them.
//
// # Isolation, locking and retries
//
// Results are serializable. Every write of the ledger is decided after
// Book has locked the accounts it touches, with one SELECT ... ORDER BY id
// FOR NO KEY UPDATE: rows are locked in ID order, the same order in every
// transaction, so concurrent writers queue and never deadlock on them; what
// a write reads after its locks (earlier posts of the same ID, pending
// holds) is current, because a locked row is changed only by its holder.
// Transfers take their sequence numbers while the locks are held, so each
// account's history is in commit order. Holds change only under their debit
// account's lock.
//
// The seats facet works the same way: every write of a pool's units first
// locks the pool's row (PoolLock, SELECT ... FOR UPDATE), so writers of one
// pool queue, and at READ COMMITTED the events a writer reads are locked too
// (FOR NO KEY UPDATE), since a seat transfer and a module transfer to one
// event hold different pools. A transfer reads the pool, an earlier post of
// its request and the event in one round trip (PoolTransferLoad), a
// consumption check the pool and the events that lack something in one
// (PoolCheckLoad), both in that lock order.
//
// Store.InTx begins the transaction lazily with its first statement. If that
// statement locks accounts (every post, group and batch) or a seats pool
// (every purchase, transfer and consumption check), it runs at READ
// COMMITTED, where waiting for a lock is cheap and never fails. Otherwise it
// runs at REPEATABLE READ, so a read made of several statements (Balance,
// Verify, a history page) sees one snapshot; at READ COMMITTED, a write
// committed between two of its statements could show in one and not the
// other. If such a transaction then locks a row that changed since its
// snapshot, PostgreSQL reports a serialization failure (40001).
//
// On a serialization failure or a deadlock (40P01), InTx rolls back and runs
// its function again, at READ COMMITTED, after a short jittered wait, up to
// Options.MaxRetries times. The attempt is retried whatever the function
// made of the error, so a conflict is never reported as a business error
// such as insufficient balance. When the retries run out, the error says so
// and wraps the last *pgconn.PgError.
//
// # Errors
//
// A missing record is a *ledger.NotFoundError (matching ledger.ErrNotFound);
// an ID that is taken matches ledger.ErrAlreadyExists, with the
// *pgconn.PgError of the unique violation reachable through errors.As; the
// non-negative CHECK constraint matches ledger.ErrInsufficientBalance. A
// refused Apply writes nothing and the transaction stays usable: an Apply
// written at once runs on a savepoint, and one sent with the commit is run
// again at once if the database refuses it (see Performance).
//
// # The caller's transaction
//
// Store.WithTx runs the ledger inside a pgx.Tx the caller already holds, so
// a service's own rows and its transfers commit together. InTx then works on
// a savepoint of that transaction and never retries: the caller owns the
// transaction and must run all of it again on a serialization failure.
//
// # Cancellation
//
// A context cancelled during InTx rolls the transaction back before InTx
// returns; if the cancellation interrupted a statement (pgx then closes the
// connection), a cancel request stops the server's side of it, so no lock is
// left behind.
//
// # Concurrency
//
// A Store is safe for concurrent use; each InTx runs on a pooled connection
// of its own. A Tx, like a pgx.Tx, is not, and is valid only while its
// function runs.
//
// # Performance
//
// A Ledger.Post is two round trips in the common case. The first carries
// BEGIN, the account lock, the reads of earlier transfers and holds with the
// same ID (the ledger names them beforehand through
// ledger.TransfersPrefetcher) and, if the transfer is new and its accounts
// can make it, its journal sequence number, taken under the lock. The
// second carries the writes, one statement with scalar parameters that
// updates the accounts' totals and inserts the journal row, and COMMIT:
// there is no savepoint when the store owns the transaction. A replayed or
// refused post is the same two round trips (the second is COMMIT or
// ROLLBACK). The reads and the lock of a post take scalar parameters, so
// PostgreSQL keeps one generic plan for each.
//
// Writes sent with the commit can only fail if the database refuses what
// the locks made certain (an ID a concurrent transaction on other accounts
// took, a constraint added by hand); then InTx rolls back and runs its
// function again with eager writes, on a savepoint, so the refusal reaches
// the ledger where it happened and is reported as it always was. Every
// other Tx method is one pipelined round trip; Apply of anything else
// (holds, groups, batches) writes at once, with one UPDATE of the accounts
// and one INSERT of the journal rows from arrays, so Ledger.PostBatch of
// 1,000 transfers writes them in one round trip. In a caller's transaction
// (WithTx) a post is three round trips and the release of its savepoint.
// BENCHMARKS.md has the figures, and TestRoundTrips_Ledger holds the
// budgets.
//
// The facets' writes of a row the transaction has read (a seats pool or
// event, a license organization, team or member, and the insert of a member
// a locked read did not find) are sent with the next statement or the
// commit, as a post's are; a refusal then runs the function again with
// writes sent at once. TestRoundTrips_Passes, _Seats and _Licenses hold the
// families' current budgets.
//
// With Options.GroupCommit, concurrent posts between the same two accounts
// share one transaction and one COMMIT, each on a savepoint of its own (see
// group.go); TestGroupCommit_SameAsOneByOne checks that each gets what
// posting one by one gives.
package pgxstore
