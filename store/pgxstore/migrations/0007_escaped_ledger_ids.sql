-- The ledger IDs the passes and licenses packages derive are now made with
-- an escaping join: inside each part '%' is written "%25" and '/' "%2F", so
-- that no two different (tenant, kind, request) tuples give one ID. IDs
-- whose parts hold neither character read the same under both rules and are
-- left untouched; the rows whose IDs the new rule writes differently are
-- rewritten here, so that balances, history and the usage log find them.
-- (The seats package's IDs were rewritten with its tenant keys.)
--
-- Before:
--   passes/<workspace>/balance, .../issuer, .../spent: a workspace could
--     hold '/' and '%';
--   passes/<workspace>/buy/<request> and .../login/<request>: a request ID
--     anything;
--   licenses/<org>/issuer, .../pool, .../member/<email>: an organization or
--     an address could hold '%', never '/'.
-- Transfer and hold IDs of licenses changed shape altogether (they name the
-- organization and the request ID only): earlier ones stay as they are, and
-- members keep the ID of their invitation's hold.

CREATE TEMPORARY TABLE allot_account_ids (old text COLLATE "C" PRIMARY KEY, new text COLLATE "C" NOT NULL) ON COMMIT DROP;

INSERT INTO allot_account_ids (old, new)
SELECT id, 'passes/' || replace(replace(m[1], '%', '%25'), '/', '%2F') || '/' || m[2]
FROM allot_accounts, regexp_match(id, '^passes/(.*)/(balance|issuer|spent)$') AS m
WHERE m IS NOT NULL AND m[1] ~ '[%/]';

INSERT INTO allot_account_ids (old, new)
SELECT id, 'licenses/' || replace(m[1], '%', '%25') || '/' || m[2]
FROM allot_accounts, regexp_match(id, '^licenses/([^/]*)/(issuer|pool)$') AS m
WHERE m IS NOT NULL AND strpos(m[1], '%') > 0;

INSERT INTO allot_account_ids (old, new)
SELECT id, 'licenses/' || replace(m[1], '%', '%25') || '/member/' || replace(m[2], '%', '%25')
FROM allot_accounts, regexp_match(id, '^licenses/([^/]*)/member/([^/]*)$') AS m
WHERE m IS NOT NULL AND strpos(id, '%') > 0;

-- The passes transfers, named from their workspace's balance account (the
-- credit of a purchase, the debit of a spend) before the accounts move.
CREATE TEMPORARY TABLE allot_transfer_ids (old text COLLATE "C" PRIMARY KEY, new text COLLATE "C" NOT NULL) ON COMMIT DROP;

INSERT INTO allot_transfer_ids (old, new)
SELECT t.id, 'passes/' || replace(replace(w.ws, '%', '%25'), '/', '%2F') || '/' || w.kind || '/' ||
	replace(replace(substr(t.id, length('passes/' || w.ws || '/' || w.kind || '/') + 1), '%', '%25'), '/', '%2F')
FROM allot_transfers t,
	LATERAL (SELECT (regexp_match(CASE t.code WHEN 'passes.buy' THEN t.credit ELSE t.debit END, '^passes/(.*)/balance$'))[1] AS ws,
		CASE t.code WHEN 'passes.buy' THEN 'buy' ELSE 'login' END AS kind) AS w
WHERE t.code IN ('passes.buy', 'passes.spend')
	AND w.ws IS NOT NULL
	AND starts_with(t.id, 'passes/' || w.ws || '/' || w.kind || '/')
	AND (w.ws ~ '[%/]' OR substr(t.id, length('passes/' || w.ws || '/' || w.kind || '/') + 1) ~ '[%/]');

UPDATE allot_pass_usage u SET transfer_id = m.new FROM allot_transfer_ids m WHERE u.transfer_id = m.old;
UPDATE allot_transfers t SET id = m.new FROM allot_transfer_ids m WHERE t.id = m.old;

UPDATE allot_accounts a SET id = m.new FROM allot_account_ids m WHERE a.id = m.old;
UPDATE allot_transfers t SET debit = m.new FROM allot_account_ids m WHERE t.debit = m.old;
UPDATE allot_transfers t SET credit = m.new FROM allot_account_ids m WHERE t.credit = m.old;
UPDATE allot_holds h SET debit = m.new FROM allot_account_ids m WHERE h.debit = m.old;
UPDATE allot_holds h SET credit = m.new FROM allot_account_ids m WHERE h.credit = m.old;
