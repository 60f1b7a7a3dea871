// Package pgxstore keeps allot's ledger and its domain records in
// PostgreSQL, through pgx.
//
// It implements ledger.Store and ledger.Tx, the families' facets
// (Store.Passes, Store.Seats and Store.Licenses, for passes.New, seats.New
// and licenses.New) and the events outbox, over real tables that services
// may query with SQL, and passes the storetest conformance suite. It is a Go module of
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
// allot_locks (migration 0010: name, taken_at) holds the named locks of
// Options.Portable, one row per lock; without the switch it stays empty.
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
// transaction-scoped advisory lock (with Options.Portable, Store.Migrate
// locks a row of allot_locks instead) makes replicas that start together
// apply each migration once. Each domain facet (passes, seats, licenses) adds a
// migration file and a Go file of Tx methods.
//
// A migration carries existing rows over when the library changes how it
// keys or names them: 0005 and 0006 key passes' sessions and windows and
// seats' events by their tenant, and 0006 and 0007 rewrite the ledger IDs
// the families derive, which now escape '%' and '/' in each part, so that
// balances, history and retries of earlier requests find them.
//
// # Other engines
//
// Only PostgreSQL is tested, with Options.Portable off and on (the suite
// runs with it on every store when ALLOT_TEST_PORTABLE=1 is set, and
// TestPortable_* run it in every run). The table says what the official
// documentation of CockroachDB (v26.2, its stable release) and of
// YugabyteDB (stable) states about each feature pgxstore uses, and what
// pgxstore does there with the switch off and on; "not checked" means the
// documentation read does not say. The sources are listed below it.
//
//	feature                 PostgreSQL  CockroachDB                         YugabyteDB (YSQL)
//	READ COMMITTED          yes         yes; SERIALIZABLE is the default,   only with the tserver flag
//	(lock-first writes)                 RC on unless sql.txn.read_          yb_enable_read_committed_isolation
//	                                    committed_isolation.enabled is      (off by default; on for new
//	                                    false, then RC runs as SERIALIZABLE universes of v2025.2+ deployed
//	                                    [C4][C6]                            by yugabyted/YBA/Aeon); else RC
//	                                                                        runs as Snapshot [Y1]
//	REPEATABLE READ         yes         only with sql.txn.repeatable_read_  yes, as Snapshot isolation [Y1]
//	(reads)                             isolation.enabled (default false);
//	                                    the documented levels are
//	                                    SERIALIZABLE and RC [C5][C6]
//	SELECT FOR UPDATE /     yes         yes; NO KEY UPDATE is an alias of   yes, all four strengths [Y2]
//	FOR NO KEY UPDATE                   UPDATE; under SERIALIZABLE the
//	                                    locks are best-effort (dropped on a
//	                                    lease transfer) unless enable_
//	                                    durable_locking_for_serializable;
//	                                    RC locks are not [C7]
//	pg_advisory_xact_lock   yes         no ("Advisory Lock Functions"       from 2.25.1.0, with the advisory
//	                                    unsupported; some defined as        lock flags (ysql_yb_enable_
//	                                    no-ops) [C1]                        advisory_locks, default true in
//	                                                                        the current reference) [Y2][Y3]
//	COLLATE "C" columns     yes         no: columns take Unicode locale     yes; a database's collation must
//	                                    collations; "C" is accepted in      be "C" [Y5]
//	                                    expressions only (v23.1) [C2][C3]
//	transactional DDL       yes         no: no schema changes in explicit   only with ysql_yb_ddl_transaction_
//	(Migrate: one tx)                   transactions with full atomicity;   block_enabled (off by default,
//	                                    one change per transaction [C8]     early access) [Y4]
//	temporary tables ON     yes         off by default; ON COMMIT DROP      not checked
//	COMMIT DROP (0007)                  unsupported [C12]
//	pipelining, extended    yes         wire protocol 3.0 [C1]; pipelining  not checked
//	protocol (pgx.Batch)                not checked
//	numeric                 exact       DECIMAL exact, NUMERIC an alias     not checked (YSQL reuses a fork
//	                                    [C13]                               of PostgreSQL's query layer [Y8])
//	nextval order across    yes         sequences uncached by default       values come from a per-session
//	connections (journal,               (CACHE 1); increments are not       cache of at least
//	events, usage seq)                  rolled back [C9]; SERIAL is         ysql_sequence_cache_minval (100)
//	                                    unique_rowid(), not ordered [C11]   by default [Y3][Y6]
//	identity with           yes         no OVERRIDING SYSTEM VALUE [C10]    not checked
//	OVERRIDING SYSTEM VALUE
//	partial indexes         yes         yes [C14]                           yes [Y8]; ON CONFLICT DO UPDATE
//	                                                                        on a table with one could break
//	                                                                        it before 2024.2.7.3, 2025.1.3.1,
//	                                                                        2025.2.1 [Y7]
//	INSERT ON CONFLICT      yes         yes; CHECK constraints are checked  yes [Y7]
//	                                    on the result rows only [C15][C1]
//	unnest ... WITH         yes         WITH ORDINALITY yes [C16];          not checked
//	ORDINALITY                          multi-array unnest not checked
//	SET LOCAL search_path   yes         SET LOCAL yes [C17]                 not checked
//	trim_scale (a post's    13 and      not checked                         not checked
//	one statement)          later
//	DO blocks (migration    yes         not checked                         not checked
//	0011)
//
// What pgxstore does, by engine:
//
//   - PostgreSQL: everything above; tested. Options.Portable off takes
//     advisory locks; on, it writes rows of allot_locks and costs one row
//     write per lock. Both are tested.
//   - CockroachDB: does not run, switch off or on. The migrations create
//     COLLATE "C" columns, apply many schema changes in one transaction and
//     use a temporary table ON COMMIT DROP (0007), and a post's deferred
//     write inserts the journal's seq with OVERRIDING SYSTEM VALUE; none of
//     these is supported. Migrations are recorded by version and never
//     rewritten, so a CockroachDB schema would need migrations of its own.
//     With the switch off the advisory locks fail too; with it on they are
//     row writes, which CockroachDB supports.
//   - YugabyteDB: not tested. With the switch off, it needs its advisory
//     lock flags on; with it on, it does not. In either case Migrate relies on
//     transactional DDL (ysql_yb_ddl_transaction_block_enabled) to apply
//     its migrations all or none, as on PostgreSQL; writes
//     that lock first need yb_enable_read_committed_isolation to run at
//     READ COMMITTED as InTx expects (otherwise they run at Snapshot and
//     meet more serialization failures, which InTx retries), and the
//     journal's, the outbox's and the usage log's order relies on nextval
//     increasing across connections, which the per-session sequence cache
//     breaks unless ysql_sequence_cache_minval is 0 (the sequences are
//     created with CACHE 1).
//
// Sources (titles and addresses of the pages read):
//
//	[C1]  CockroachDB, "PostgreSQL Compatibility" (Unsupported Features; CHECK with INSERT ON CONFLICT),
//	      https://www.cockroachlabs.com/docs/v26.2/postgresql-compatibility
//	[C2]  CockroachDB, "COLLATE" (Supported collations), https://www.cockroachlabs.com/docs/v26.2/collate
//	[C3]  CockroachDB, release notes v23.1.0-alpha.3 ("Creating a column with the "C" or "POSIX"
//	      collations is still not supported"), https://www.cockroachlabs.com/docs/releases/v23.1
//	[C4]  CockroachDB, "Read Committed Transactions", https://www.cockroachlabs.com/docs/v26.2/read-committed
//	[C5]  CockroachDB, "Cluster Settings" (sql.txn.repeatable_read_isolation.enabled),
//	      https://www.cockroachlabs.com/docs/v26.2/cluster-settings
//	[C6]  CockroachDB, "Transactions" (Isolation levels), https://www.cockroachlabs.com/docs/v26.2/transactions
//	[C7]  CockroachDB, "FOR UPDATE and FOR SHARE" (Aliases; Lock behavior under SERIALIZABLE isolation),
//	      https://www.cockroachlabs.com/docs/v26.2/select-for-update
//	[C8]  CockroachDB, "Online Schema Changes", https://www.cockroachlabs.com/docs/v26.2/online-schema-changes
//	[C9]  CockroachDB, "CREATE SEQUENCE", https://www.cockroachlabs.com/docs/v26.2/create-sequence
//	[C10] CockroachDB, "CREATE TABLE" (Identity columns), https://www.cockroachlabs.com/docs/v26.2/create-table
//	[C11] CockroachDB, "SERIAL", https://www.cockroachlabs.com/docs/v26.2/serial
//	[C12] CockroachDB, "Temporary Tables", https://www.cockroachlabs.com/docs/v26.2/temporary-tables
//	[C13] CockroachDB, "DECIMAL", https://www.cockroachlabs.com/docs/v26.2/decimal
//	[C14] CockroachDB, "Index a Subset of Rows with Partial Indexes",
//	      https://www.cockroachlabs.com/docs/v26.2/partial-indexes
//	[C15] CockroachDB, "INSERT" (ON CONFLICT clause), https://www.cockroachlabs.com/docs/v26.2/insert
//	[C16] CockroachDB, "Table Expressions" (Ordinality annotation),
//	      https://www.cockroachlabs.com/docs/v26.2/table-expressions
//	[C17] CockroachDB, "SET {session variable}" (SET LOCAL), https://www.cockroachlabs.com/docs/v26.2/set-vars
//	[Y1]  YugabyteDB, "Isolation levels", https://docs.yugabyte.com/stable/explore/transactions/isolation-levels/
//	[Y2]  YugabyteDB, "Explicit locking" (Row-level locks; Advisory locks),
//	      https://docs.yugabyte.com/stable/explore/transactions/explicit-locking/
//	[Y3]  YugabyteDB, "yb-master configuration reference" (Advisory lock flags;
//	      --ysql_sequence_cache_minval), https://docs.yugabyte.com/stable/reference/configuration/yb-master/
//	[Y4]  YugabyteDB, "Transactional DDL", https://docs.yugabyte.com/stable/explore/transactions/transactional-ddl/
//	[Y5]  YugabyteDB, "Collations" (YSQL collation limitations),
//	      https://docs.yugabyte.com/stable/explore/ysql-language-features/advanced-features/collations/
//	[Y6]  YugabyteDB, "nextval()", https://docs.yugabyte.com/stable/api/ysql/exprs/sequence_functions/func_nextval/
//	[Y7]  YugabyteDB, "Index inconsistency with Insert On Conflict with partial or expression index"
//	      (TA-30104), https://docs.yugabyte.com/stable/releases/techadvisories/ta-30104/
//	[Y8]  YugabyteDB, "SQL features" and "Indexes and constraints",
//	      https://docs.yugabyte.com/stable/explore/ysql-language-features/
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
// A post in a transaction of the store's own is two round trips. The first
// carries BEGIN, the account lock and, when the ledger names the transfer
// beforehand (ledger.TransfersPrefetcher, ledger.LockPrefetcher), one
// statement that re-reads the transfer's ID and the accounts' expired holds
// after the lock and, if the ledger will post, updates the accounts' totals
// and inserts the journal row; the Apply that follows checks that the
// ledger's changes are that write and sends nothing. The second is COMMIT.
// A Ledger.Post, whose transaction is that post alone (InTxAlone), sends
// COMMIT with the first, and its statement reads nothing back: one round
// trip for a new post. A replayed, conflicting or refused one, or one
// whose accounts have expired holds to release first, wrote nothing there
// and runs again, committing with its lock again, with the statement that
// reads back why and releases those holds first, as the ledger does before
// it posts (a replay releases them too, as the ledger does before it finds
// the post was made): two round trips. Reading
// back costs the server about as much as the rest of the post, so only
// the posts that need it pay for it. The statements need PostgreSQL 13 or
// later (trim_scale).
//
// Writes sent with the commit can only fail if the database refuses what
// the locks made certain (an ID a concurrent transaction on other accounts
// took, a constraint added by hand); such a write fails on the server, so
// the COMMIT it travels with rolls back, and InTx runs its function again
// with writes sent at once, on a savepoint, so the refusal reaches the
// ledger where it happened. Holds are created and settled like posts (the
// lock, the reads by ID and the expired-holds sweep in one batch, the
// writes with the commit), and Ledger.EnsureAccount(s) costs no round trip
// of its own: its insert and check go with the next statement. In a
// caller's transaction (WithTx) writes are sent at once, on a savepoint.
//
// Each family act reads what it needs in one batch (passes.Tx.LoginLoad,
// seats.Tx.PoolTransferLoad and PoolCheckLoad, licenses.Tx.LicenseLoad),
// and its writes of rows it read go with the commit: a charging login is
// three round trips, a login inside a window two, a seat or module
// transfer three, an invitation or an acceptance three, a consumption
// check four whatever the number of events. TestRoundTrips_Ledger,
// _Passes, _Seats and _Licenses fail above these budgets; BENCHMARKS.md
// has the figures.
//
// With Options.GroupCommit, concurrent posts between the same two accounts
// share one transaction and one COMMIT, taking turns in the order they
// joined; a member whose turn comes sends, with its lock, its own write and
// those of the members that joined after it as one statement on its
// savepoint, which writes them with running totals up to the first the
// ledger would not post. A group's leader first waits, for at most half a
// millisecond, for as many posts as the last group of its accounts had, so
// under steady load a group of 16 is two round trips: the leader's, with
// every write, and COMMIT (see group.go). TestGroupCommit_SameAsOneByOne
// checks that each gets what posting one by one gives.
package pgxstore
