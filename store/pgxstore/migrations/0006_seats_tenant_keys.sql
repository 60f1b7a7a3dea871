-- Tenant keys for the seats facet. Events were keyed by their ID alone, so
-- two organizations could not both have an event "kickoff", and the second
-- learnt that another organization used the ID. They are now keyed by
-- (org, id), as pools are by (org, product); every read names its org.
--
-- The ledger IDs the seats package derives are now made with an escaping
-- join: '%' inside a part is written "%25" and '/' "%2F", so that no two
-- different (org, kind, event, product) or (org, request) tuples give one
-- ID. Before, an organization, event or module name could hold '%' but no
-- '/', and a request ID anything. The rows whose IDs the new rule writes
-- differently are rewritten here, so that balances, history and retries of
-- earlier requests find them; IDs without '%' (and request IDs without
-- '/') read the same under both rules and are left untouched.

ALTER TABLE allot_seat_events DROP CONSTRAINT allot_seat_events_pkey;
ALTER TABLE allot_seat_events ADD CONSTRAINT allot_seat_events_pkey PRIMARY KEY (org, id);

-- Account IDs: seats/<org>/purchases/<unit>, seats/<org>/pool/<unit> and
-- seats/<org>/event/<event>/<unit>. No part held '/', so escaping each part
-- is replacing every '%' of the ID.
UPDATE allot_accounts SET id = replace(id, '%', '%25')
WHERE starts_with(id, 'seats/') AND strpos(id, '%') > 0;
UPDATE allot_transfers SET debit = replace(debit, '%', '%25')
WHERE starts_with(debit, 'seats/') AND strpos(debit, '%') > 0;
UPDATE allot_transfers SET credit = replace(credit, '%', '%25')
WHERE starts_with(credit, 'seats/') AND strpos(credit, '%') > 0;

-- Transfer IDs: seats/<org>/auto/<event>/<seats reached>, whose parts held
-- no '/', and seats/<org>/req/<request ID>, whose request ID (everything
-- after "/req/") may hold '/' and '%'.
UPDATE allot_transfers SET id = CASE
	WHEN split_part(id, '/', 3) = 'req' THEN
		'seats/' || replace(split_part(id, '/', 2), '%', '%25') || '/req/' ||
		replace(replace(substr(id, length('seats/' || split_part(id, '/', 2) || '/req/') + 1), '%', '%25'), '/', '%2F')
	ELSE replace(id, '%', '%25')
END
WHERE starts_with(id, 'seats/') AND (strpos(id, '%') > 0 OR (split_part(id, '/', 3) = 'req' AND array_length(string_to_array(id, '/'), 1) > 4));
