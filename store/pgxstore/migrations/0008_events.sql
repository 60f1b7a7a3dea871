-- The outbox: every event a family writes, in the transaction of the change.
--
-- A writer inserts its events with seq NULL, which costs it no lock that
-- other writers wait for. A reader first numbers the committed events that
-- have none (under a transaction-scoped advisory lock, so numberings run one
-- after the other and each gives numbers above every earlier one), then
-- reads by seq. An event that commits late is numbered when a reader first
-- sees it, after every event already read: readers never skip one.
CREATE TABLE allot_events (
	id         bigserial PRIMARY KEY,
	seq        bigint UNIQUE,
	type       text NOT NULL,
	org        text COLLATE "C" NOT NULL,
	at         timestamptz NOT NULL,
	actor      text NOT NULL,
	request_id text NOT NULL,
	payload    text NOT NULL
);

CREATE SEQUENCE allot_events_seq AS bigint;

-- The events still to be numbered, in the order they were written.
CREATE INDEX allot_events_unnumbered ON allot_events (id) WHERE seq IS NULL;

-- One tenant's events in order.
CREATE INDEX allot_events_org_seq ON allot_events (org, seq) WHERE seq IS NOT NULL;
