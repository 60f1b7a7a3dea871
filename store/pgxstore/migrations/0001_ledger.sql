-- The ledger: units, accounts with their running totals, the journal of
-- transfers and the holds. IDs use the "C" collation so that ordering and
-- range conditions compare bytes, as Go compares strings.

CREATE TABLE allot_units (
	code  text COLLATE "C" PRIMARY KEY,
	scale integer NOT NULL
);

CREATE TABLE allot_accounts (
	id             text COLLATE "C" PRIMARY KEY,
	unit           text COLLATE "C" NOT NULL,
	owner          text COLLATE "C" NOT NULL DEFAULT '',
	flags          bigint NOT NULL DEFAULT 0,
	metadata       jsonb,
	created_at     timestamptz NOT NULL,
	scale          integer NOT NULL,
	posted         numeric NOT NULL DEFAULT 0,
	held           numeric NOT NULL DEFAULT 0,
	version        bigint NOT NULL DEFAULT 0,
	last_posted_at timestamptz,
	-- Holds never reserve a negative amount.
	CONSTRAINT allot_accounts_held_not_negative CHECK (held >= 0),
	-- An account flagged non-negative (flag 1) never has less posted than held.
	CONSTRAINT allot_accounts_non_negative CHECK (flags & 1 = 0 OR posted - held >= 0)
);

CREATE INDEX allot_accounts_owner ON allot_accounts (owner, id);
CREATE INDEX allot_accounts_unit ON allot_accounts (unit, id);

-- The journal. seq is the commit sequence: per account it follows commit
-- order, because a transfer takes its number while it holds the locks of both
-- its accounts.
CREATE TABLE allot_transfers (
	seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	id             text COLLATE "C" PRIMARY KEY,
	debit          text COLLATE "C" NOT NULL,
	credit         text COLLATE "C" NOT NULL,
	amount         numeric NOT NULL CONSTRAINT allot_transfers_amount_positive CHECK (amount > 0),
	unit           text COLLATE "C" NOT NULL,
	code           text NOT NULL DEFAULT '',
	actor          text NOT NULL DEFAULT '',
	metadata       jsonb,
	posted_at      timestamptz NOT NULL,
	debit_balance  numeric NOT NULL,
	credit_balance numeric NOT NULL,
	hold_id        text COLLATE "C"
);

-- An account's history, in either direction.
CREATE INDEX allot_transfers_debit ON allot_transfers (debit, seq);
CREATE INDEX allot_transfers_credit ON allot_transfers (credit, seq);

CREATE TABLE allot_holds (
	id         text COLLATE "C" PRIMARY KEY,
	debit      text COLLATE "C" NOT NULL,
	credit     text COLLATE "C" NOT NULL,
	amount     numeric NOT NULL CONSTRAINT allot_holds_amount_positive CHECK (amount > 0),
	unit       text COLLATE "C" NOT NULL,
	code       text NOT NULL DEFAULT '',
	actor      text NOT NULL DEFAULT '',
	metadata   jsonb,
	expires_at timestamptz,
	status     text NOT NULL CONSTRAINT allot_holds_status CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
	created_at timestamptz NOT NULL,
	settled_at timestamptz,
	posted     numeric NOT NULL DEFAULT 0
);

-- The pending holds of an account, by expiry: what a write that locks the
-- account sweeps, and what a balance subtracts.
CREATE INDEX allot_holds_pending ON allot_holds (debit, expires_at) WHERE status = 'pending';
