-- The licenses facet: each organization's counters, its teams with theirs,
-- and its members. The licenses themselves live in the ledger (the pool, an
-- invitation's hold, the member's account); these records are written in
-- the transactions that move them, after the organization's row is locked.
-- Keys use the "C" collation, as the ledger's IDs do, so listings order
-- them as Go compares strings.

CREATE TABLE allot_license_orgs (
	id         text COLLATE "C" PRIMARY KEY,
	purchased  bigint NOT NULL DEFAULT 0,
	active     bigint NOT NULL DEFAULT 0,
	pending    bigint NOT NULL DEFAULT 0, -- stored as pending, expired or not
	unassigned bigint NOT NULL DEFAULT 0,
	expired    bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	CONSTRAINT allot_license_orgs_counts_not_negative
		CHECK (active >= 0 AND pending >= 0 AND unassigned >= 0 AND expired >= 0),
	-- Never more licenses held than purchased (expired invitations hold none,
	-- but may still be counted in pending until a write marks them).
	CONSTRAINT allot_license_orgs_purchased_not_negative CHECK (purchased >= 0)
);

CREATE TABLE allot_license_teams (
	org     text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	active  bigint NOT NULL DEFAULT 0,
	pending bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (org, id),
	CONSTRAINT allot_license_teams_counts_not_negative CHECK (active >= 0 AND pending >= 0)
);

CREATE TABLE allot_license_members (
	org         text COLLATE "C" NOT NULL,
	email       text COLLATE "C" NOT NULL, -- normalised: trimmed, lower case
	state       text NOT NULL CONSTRAINT allot_license_members_state
		CHECK (state IN ('pending', 'active', 'unassigned', 'expired')),
	teams       text[] COLLATE "C" NOT NULL DEFAULT '{}', -- sorted, each once
	hold_id     text COLLATE "C" NOT NULL DEFAULT '',
	expires_at  timestamptz,                 -- NULL: the invitation never expires
	invited_by  text NOT NULL DEFAULT '',
	invited_at  timestamptz,
	accepted_at timestamptz,
	updated_at  timestamptz,
	PRIMARY KEY (org, email)
);

-- Pending invitations by expiry: Summary counts those expired at now without
-- scanning the organization's members.
CREATE INDEX allot_license_members_expiry ON allot_license_members (org, expires_at)
	WHERE state = 'pending' AND expires_at IS NOT NULL;
