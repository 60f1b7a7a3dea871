-- Named locks as rows, for Options.Portable: a transaction that must run
-- after every other one taking the same lock (the writers of a workspace's
-- usage log or custom fields, the numbering of the outbox, Migrate) writes
-- the row named by the lock, and holds it until it ends. Without the switch
-- the store takes PostgreSQL's advisory locks instead and leaves this table
-- empty; it exists either way, so that a store migrated without the switch
-- can be run with it. The portable Migrate creates it before it applies any
-- migration, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS allot_locks (
	name     text PRIMARY KEY,
	taken_at timestamptz NOT NULL
);
