-- The passes facet: sessions, each workspace's custom fields, guests' access
-- windows and the usage log. Every pass that moves is a ledger transfer in
-- allot_transfers; these tables hold the rest of a login, written in the
-- same transaction.

CREATE TABLE allot_pass_sessions (
	id           text COLLATE "C" PRIMARY KEY,
	workspace    text COLLATE "C" NOT NULL,
	name         text NOT NULL,
	owner        text NOT NULL,
	external     boolean NOT NULL,
	pass_type    text NOT NULL,
	-- The session's custom field values, in the workspace's field order.
	field_names  text[] NOT NULL DEFAULT '{}',
	field_values text[] NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL,
	-- The first allowed guest login; NULL until then.
	first_login  timestamptz,
	CONSTRAINT allot_pass_sessions_fields CHECK (cardinality(field_names) = cardinality(field_values))
);

CREATE INDEX allot_pass_sessions_workspace ON allot_pass_sessions (workspace, id);

CREATE TABLE allot_pass_fields (
	workspace text COLLATE "C" NOT NULL,
	name      text COLLATE "C" NOT NULL,
	required  boolean NOT NULL,
	position  integer NOT NULL CONSTRAINT allot_pass_fields_position CHECK (position >= 0),
	PRIMARY KEY (workspace, name),
	CONSTRAINT allot_pass_fields_workspace_position UNIQUE (workspace, position)
);

-- A guest's access window to a session, [start_at, until_at). A row with
-- NULL times is a placeholder a login inserts to have a row to lock when the
-- guest has no window yet: concurrent logins of one guest to one session
-- queue on it. It reads as no window.
CREATE TABLE allot_pass_access (
	session_id text COLLATE "C" NOT NULL,
	guest      text COLLATE "C" NOT NULL,
	start_at   timestamptz,
	until_at   timestamptz,
	PRIMARY KEY (session_id, guest),
	CONSTRAINT allot_pass_access_window CHECK ((start_at IS NULL) = (until_at IS NULL))
);

-- The usage log: one row per allowed login, in the transaction that spent
-- its passes (transfer_id names the ledger transfer; NULL when nothing was
-- spent).
CREATE TABLE allot_pass_usage (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	workspace     text COLLATE "C" NOT NULL,
	request_id    text COLLATE "C" NOT NULL,
	at            timestamptz NOT NULL,
	session_id    text COLLATE "C" NOT NULL,
	session_name  text NOT NULL,
	external      boolean NOT NULL,
	location      text NOT NULL,
	user_email    text COLLATE "C" NOT NULL,
	owner         text NOT NULL,
	pass_type     text NOT NULL,
	passes        bigint NOT NULL CONSTRAINT allot_pass_usage_passes CHECK (passes >= 0),
	balance_after bigint NOT NULL CONSTRAINT allot_pass_usage_balance CHECK (balance_after >= 0),
	transfer_id   text COLLATE "C",
	field_names   text[] NOT NULL DEFAULT '{}',
	field_values  text[] NOT NULL DEFAULT '{}',
	in_window     boolean NOT NULL,
	access_from   timestamptz,
	access_until  timestamptz,
	demo          boolean NOT NULL,
	locks_at      timestamptz,
	CONSTRAINT allot_pass_usage_request UNIQUE (workspace, request_id),
	CONSTRAINT allot_pass_usage_fields CHECK (cardinality(field_names) = cardinality(field_values))
);

CREATE INDEX allot_pass_usage_workspace ON allot_pass_usage (workspace, seq);
CREATE INDEX allot_pass_usage_session ON allot_pass_usage (workspace, session_id, seq);
CREATE INDEX allot_pass_usage_user ON allot_pass_usage (workspace, user_email, seq);
CREATE INDEX allot_pass_usage_at ON allot_pass_usage (workspace, at);
