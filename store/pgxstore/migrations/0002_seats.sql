-- The seats facet: each organization's pools (one per product) and its
-- events. The pools' units live in the ledger's accounts; these counters are
-- kept in the transactions that move them. Keys use the "C" collation, as
-- the ledger's IDs do, so listings order them as Go compares strings.

CREATE TABLE allot_seat_pools (
	org        text COLLATE "C" NOT NULL,
	product    text COLLATE "C" NOT NULL, -- "seat" or "module:<name>"
	purchased  bigint NOT NULL DEFAULT 0,
	assigned   bigint NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (org, product),
	CONSTRAINT allot_seat_pools_purchased_not_negative CHECK (purchased >= 0),
	-- A pool never assigns more than was purchased.
	CONSTRAINT allot_seat_pools_assigned_in_range CHECK (assigned >= 0 AND assigned <= purchased)
);

CREATE TABLE allot_seat_events (
	id               text COLLATE "C" PRIMARY KEY,
	org              text COLLATE "C" NOT NULL,
	name             text NOT NULL DEFAULT '',
	start_at         timestamptz NOT NULL,
	end_at           timestamptz NOT NULL,
	participants     bigint NOT NULL DEFAULT 0 CONSTRAINT allot_seat_events_participants_not_negative CHECK (participants >= 0),
	modules          text[] COLLATE "C" NOT NULL DEFAULT '{}', -- sorted, each once
	seats_assigned   bigint NOT NULL DEFAULT 0 CONSTRAINT allot_seat_events_seats_assigned_not_negative CHECK (seats_assigned >= 0),
	modules_assigned text[] COLLATE "C" NOT NULL DEFAULT '{}', -- sorted, each once
	created_at       timestamptz NOT NULL,
	updated_at       timestamptz NOT NULL
);

-- An organization's events by start: listings, pages and the consumption
-- check's live and past events.
CREATE INDEX allot_seat_events_org_start ON allot_seat_events (org, start_at, id);
