package pgxstore

import (
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// queries holds the SQL of the facets with their table names qualified by
// the store's schema.
type queries struct {
	schema string
	prefix string // `"schema".` or empty
	// portable is Options.Portable: the named locks are rows (lockSQL).
	portable bool

	unitInsert, unitGet                          string
	accountInsert, accountGet, accountsLock      string
	transfersGet, holdsGet                       string
	accountsUpdate, transfersInsert, holdsInsert string
	holdsUpdate, accountVersions, holdsExisting  string
	accountCols, transferCols, holdCols          string
	accountsTable, transfersTable, holdsTable    string

	// The reads and the lock of a post: scalar parameters, so PostgreSQL
	// keeps one generic plan for each.
	accountsLockN                 [4]string // of 1 to 4 IDs
	transferGet, holdGet, seqNext string
	// postWrite is a post's write made in its lock's round trip (see
	// AccountsLock); postWriteLean the same write that reads nothing back;
	// postRelease the same write that first releases expired holds;
	// postRun the writes of a run of a group's members (see sendAhead).
	postWrite, postWriteLean, postRelease, postRun string

	// AccountsEnsure: the insert, and the check that follows it deferred
	// or the count that follows it at once.
	accountsEnsure, accountsEnsureCheck, accountsEnsureCount string
	accountsGet, unitsExisting                               string
	// What a write reads around its lock (LockPrefetch): the expired holds
	// of the locked accounts, and a settlement's lock of its hold's
	// accounts, their expired holds and the sequence number of the transfer
	// it posts.
	holdsExpired                                      string
	accountsLockByHold, holdsExpiredByHold, seqSettle string

	mu     sync.Mutex
	totals map[[4]int]string // applyTotals by (accounts, transfers, hold inserts, hold updates)

	seats seatsQueries
}

const (
	accountCols  = `id, unit, owner, flags, metadata::text, created_at, scale, posted::text, held::text, version, last_posted_at`
	transferCols = `seq, id, debit, credit, amount::text, unit, code, actor, metadata::text, posted_at, debit_balance::text, credit_balance::text, coalesce(hold_id, '')`
	holdCols     = `id, debit, credit, amount::text, unit, code, actor, metadata::text, expires_at, status, created_at, settled_at, posted::text`
)

func newQueries(schema string) *queries {
	q := &queries{schema: schema}
	if schema != "" {
		q.prefix = pgx.Identifier{schema}.Sanitize() + "."
	}
	r := strings.NewReplacer("{s}", q.prefix)
	sql := func(s string) string { return r.Replace(s) }

	q.accountCols, q.transferCols, q.holdCols = accountCols, transferCols, holdCols
	q.accountsTable = sql(`{s}allot_accounts`)
	q.transfersTable = sql(`{s}allot_transfers`)
	q.holdsTable = sql(`{s}allot_holds`)

	q.unitInsert = sql(`INSERT INTO {s}allot_units (code, scale) VALUES ($1, $2) ON CONFLICT DO NOTHING`)
	q.unitGet = sql(`SELECT code, scale FROM {s}allot_units WHERE code = $1`)
	q.accountInsert = sql(`INSERT INTO {s}allot_accounts
	(id, unit, owner, flags, metadata, created_at, scale, posted, held, version, last_posted_at)
	VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8::text::numeric, $9::text::numeric, $10, $11)
	ON CONFLICT DO NOTHING`)
	q.accountGet = sql(`SELECT ` + accountCols + ` FROM {s}allot_accounts WHERE id = $1`)
	q.accountsLock = sql(`SELECT ` + accountCols + ` FROM {s}allot_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`)
	q.transfersGet = sql(`SELECT ` + transferCols + ` FROM {s}allot_transfers WHERE id = ANY($1::text[])`)
	q.holdsGet = sql(`SELECT ` + holdCols + ` FROM {s}allot_holds WHERE id = ANY($1::text[])`)

	q.accountsUpdate = sql(`UPDATE {s}allot_accounts AS a SET
	unit = u.unit, owner = u.owner, flags = u.flags, metadata = u.metadata::jsonb, created_at = u.created_at,
	scale = u.scale, posted = u.posted::numeric, held = u.held::numeric, version = u.version,
	last_posted_at = u.last_posted_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[],
	$7::integer[], $8::text[], $9::text[], $10::bigint[], $11::timestamptz[])
	AS u(id, unit, owner, flags, metadata, created_at, scale, posted, held, version, last_posted_at)
WHERE a.id = u.id AND a.version = u.version - 1`)
	q.transfersInsert = sql(`INSERT INTO {s}allot_transfers
	(id, debit, credit, amount, unit, code, actor, metadata, posted_at, debit_balance, credit_balance, hold_id)
SELECT id, debit, credit, amount::numeric, unit, code, actor, metadata::jsonb, posted_at,
	debit_balance::numeric, credit_balance::numeric, nullif(hold_id, '')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY
	AS u(id, debit, credit, amount, unit, code, actor, metadata, posted_at, debit_balance, credit_balance, hold_id, n)
ORDER BY n
RETURNING id, seq`)
	q.holdsInsert = sql(`INSERT INTO {s}allot_holds
	(id, debit, credit, amount, unit, code, actor, metadata, expires_at, status, created_at, settled_at, posted)
SELECT id, debit, credit, amount::numeric, unit, code, actor, metadata::jsonb, expires_at, status,
	created_at, settled_at, posted::numeric
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::timestamptz[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[])
	AS u(id, debit, credit, amount, unit, code, actor, metadata, expires_at, status, created_at, settled_at, posted)`)
	q.holdsUpdate = sql(`UPDATE {s}allot_holds AS h SET
	debit = u.debit, credit = u.credit, amount = u.amount::numeric, unit = u.unit, code = u.code,
	actor = u.actor, metadata = u.metadata::jsonb, expires_at = u.expires_at, status = u.status,
	created_at = u.created_at, settled_at = u.settled_at, posted = u.posted::numeric
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::timestamptz[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[])
	AS u(id, debit, credit, amount, unit, code, actor, metadata, expires_at, status, created_at, settled_at, posted)
WHERE h.id = u.id`)
	for n := range q.accountsLockN {
		ps := make([]string, n+1)
		for i := range ps {
			ps[i] = "$" + strconv.Itoa(i+1)
		}
		q.accountsLockN[n] = sql(`SELECT ` + accountCols + ` FROM {s}allot_accounts WHERE id IN (` + strings.Join(ps, ", ") + `) ORDER BY id FOR NO KEY UPDATE`)
	}
	q.transferGet = sql(`SELECT ` + transferCols + ` FROM {s}allot_transfers WHERE id = $1`)
	q.holdGet = sql(`SELECT ` + holdCols + ` FROM {s}allot_holds WHERE id = $1`)
	// The sequence number of a transfer the ledger will post (see
	// AccountsLock): $1 debit, $2 credit, $3 amount, $4 ID.
	q.seqNext = sql(`SELECT ` + q.journalSeq() + `
FROM {s}allot_accounts AS d, {s}allot_accounts AS c
WHERE d.id = $1 AND c.id = $2 AND d.unit = c.unit
	AND $3::text::numeric = trunc($3::text::numeric, d.scale)
	AND (d.flags & 1 = 0 OR d.posted - d.held >= $3::text::numeric)
	AND NOT EXISTS (SELECT FROM {s}allot_transfers WHERE id = $4)
	AND NOT EXISTS (SELECT FROM {s}allot_holds WHERE id = $4)`)
	// A post's write, made under the lock taken by the statement before
	// it, if the ledger will make it: $1 debit, $2 credit, $3 the
	// transfer's ID, $4 amount, $5 the post's instant, $6 code, $7 actor,
	// $8 metadata. The condition is seqNext's, and no expired pending hold
	// of either account (which the ledger would release first). It reads
	// again, in a snapshot taken after the lock, the transfer and the hold
	// with the ID and those expired holds, for the calls that follow (as
	// JSON arrays of holdCols and transferCols, sent only when found), and
	// returns the sequence number of the transfer written, or of one the
	// ledger will post after releasing expired holds. Totals are stored as
	// the ledger writes them, without trailing zeros.
	seqOf := q.journalSeq()
	// writeOK is a post's write from the row of CTE ok (dp and cp the
	// debit's and the credit's totals, unit, at the post's time) where cond
	// holds: u updates both accounts (set adds to what it sets), i inserts
	// the journal row.
	writeOK := func(cond, set string) string {
		return `u AS (UPDATE {s}allot_accounts AS a SET
	posted = CASE WHEN a.id = $1 THEN trim_scale(ok.dp - $4::text::numeric) ELSE trim_scale(ok.cp + $4::text::numeric) END,
	version = a.version + 1, last_posted_at = ok.at` + set + `
	FROM ok WHERE ` + cond + ` AND a.id IN ($1, $2)
	RETURNING 1),
i AS (INSERT INTO {s}allot_transfers
	(seq, id, debit, credit, amount, unit, code, actor, metadata, posted_at, debit_balance, credit_balance)
	OVERRIDING SYSTEM VALUE
	SELECT ` + seqOf + `, $3, $1, $2, $4::text::numeric, ok.unit, $6, $7, $8::text::jsonb, ok.at,
		trim_scale(ok.dp - $4::text::numeric), trim_scale(ok.cp + $4::text::numeric)
	FROM ok WHERE ` + cond + `
	RETURNING seq)`
	}
	const jTransfer = `json_build_array(seq, id, debit, credit, amount::text, unit, code, actor, metadata, posted_at, debit_balance::text, credit_balance::text, coalesce(hold_id, ''))`
	const jHold = `json_build_array(id, debit, credit, amount::text, unit, code, actor, metadata, expires_at, status, created_at, settled_at, posted::text)`
	// reads are the CTEs postWrite and postRelease start with: the two
	// accounts (d, c), the transfer and the hold with the ID (tr, ho) and
	// the accounts' expired pending holds (x), which readBack returns as
	// JSON.
	const reads = `WITH d AS (SELECT posted, held, flags, unit, scale, last_posted_at FROM {s}allot_accounts WHERE id = $1),
c AS (SELECT posted, held, unit, last_posted_at FROM {s}allot_accounts WHERE id = $2),
tr AS (SELECT ` + jTransfer + ` AS j FROM {s}allot_transfers WHERE id = $3),
ho AS (SELECT ` + jHold + ` AS j FROM {s}allot_holds WHERE id = $3),
x AS (SELECT id, debit, amount, ` + jHold + ` AS j FROM {s}allot_holds
	WHERE debit IN ($1, $2) AND status = 'pending' AND expires_at <= $5),
`
	const readBack = `(SELECT j::text FROM tr), (SELECT j::text FROM ho), (SELECT json_agg(j ORDER BY id)::text FROM x)`
	q.postWrite = sql(reads + `can AS (SELECT d.posted AS dp, c.posted AS cp, d.unit, greatest($5::timestamptz, d.last_posted_at, c.last_posted_at) AS at
	FROM d, c
	WHERE d.unit = c.unit AND $4::text::numeric = trunc($4::text::numeric, d.scale)
		AND (d.flags & 1 = 0 OR d.posted - d.held >= $4::text::numeric)
		AND NOT EXISTS (SELECT FROM tr) AND NOT EXISTS (SELECT FROM ho)),
ok AS (SELECT * FROM can WHERE NOT EXISTS (SELECT FROM x)),
` + writeOK("true", "") + `
SELECT (SELECT seq FROM i), (SELECT count(*) FROM u),
	(SELECT ` + seqOf + ` FROM can WHERE EXISTS (SELECT FROM x)), ` + readBack)
	// The write of a lone post that commits with its lock, on its first
	// attempt: postWrite's write, with the same parameters, and nothing
	// read back but the sequence number and the accounts updated. Building
	// the reads back costs the server as much as the rest of the post, and
	// a new post needs none of them: its write proves that no transfer or
	// hold has its ID and that no expired hold waits. When it writes nothing, the post
	// runs again with postRelease, which explains why (see AccountsLock).
	q.postWriteLean = sql(`WITH ok AS (SELECT d.posted AS dp, c.posted AS cp, d.unit,
		greatest($5::timestamptz, d.last_posted_at, c.last_posted_at) AS at,
		EXISTS (SELECT FROM {s}allot_holds WHERE debit IN ($1, $2) AND status = 'pending' AND expires_at <= $5) AS expired
	FROM {s}allot_accounts AS d, {s}allot_accounts AS c
	WHERE d.id = $1 AND c.id = $2 AND d.unit = c.unit AND $4::text::numeric = trunc($4::text::numeric, d.scale)
		AND (d.flags & 1 = 0 OR d.posted - d.held >= $4::text::numeric)
		AND NOT EXISTS (SELECT FROM {s}allot_transfers WHERE id = $3)
		AND NOT EXISTS (SELECT FROM {s}allot_holds WHERE id = $3)),
` + writeOK("NOT ok.expired", "") + `
SELECT (SELECT seq FROM i), (SELECT count(*) FROM u)`)
	// The write of a lone post that commits with its lock after the lean
	// write wrote nothing: postWrite's parameters, its reads back, and the
	// release, first, of the accounts' expired holds, as the ledger
	// makes it when it posts (each hold expired at its expiry, its amount
	// no longer held by its debit account; the holds read back are those
	// released, as they were). The post's checks see the accounts with
	// those holds released. A replay (rp: the transfer with the ID is the
	// one asked for, as ledger.SameRequest compares them) releases them
	// too, as the ledger does before it finds that the post was made (rp
	// must never be looser than ledger.SameRequest: a release it let
	// through for a request the ledger refuses would stay committed): v
	// takes each released amount off its debit account. It returns
	// postWrite's columns but the third, which is the number of holds
	// released; the second counts the accounts either write updated.
	q.postRelease = sql(reads + `rel AS (SELECT coalesce(sum(amount) FILTER (WHERE debit = $1), 0) AS rd,
	coalesce(sum(amount) FILTER (WHERE debit = $2), 0) AS rc FROM x),
rp AS (SELECT FROM {s}allot_transfers AS t
	WHERE t.id = $3 AND t.debit = $1 AND t.credit = $2 AND t.amount = $4::text::numeric AND t.code = $6 AND t.actor = $7
		AND coalesce(t.metadata, '{}') = coalesce($8::text::jsonb, '{}') AND t.hold_id IS NULL),
ok AS (SELECT d.posted AS dp, c.posted AS cp, d.unit, greatest($5::timestamptz, d.last_posted_at, c.last_posted_at) AS at,
		CASE WHEN rel.rd = 0 THEN d.held ELSE trim_scale(d.held - rel.rd) END AS dh,
		CASE WHEN rel.rc = 0 THEN c.held ELSE trim_scale(c.held - rel.rc) END AS ch
	FROM d, c, rel
	WHERE d.unit = c.unit AND $4::text::numeric = trunc($4::text::numeric, d.scale)
		AND (d.flags & 1 = 0 OR d.posted - (d.held - rel.rd) >= $4::text::numeric)
		AND NOT EXISTS (SELECT FROM tr) AND NOT EXISTS (SELECT FROM ho)),
r AS (UPDATE {s}allot_holds AS h SET status = 'expired', settled_at = h.expires_at
	WHERE h.id IN (SELECT id FROM x) AND (EXISTS (SELECT FROM ok) OR EXISTS (SELECT FROM rp))
	RETURNING 1),
v AS (UPDATE {s}allot_accounts AS a SET
	held = trim_scale(a.held - CASE WHEN a.id = $1 THEN rel.rd ELSE rel.rc END), version = a.version + 1
	FROM rel WHERE a.id IN ($1, $2) AND CASE WHEN a.id = $1 THEN rel.rd ELSE rel.rc END > 0 AND EXISTS (SELECT FROM rp)
	RETURNING 1),
` + writeOK("true", `, held = CASE WHEN a.id = $1 THEN ok.dh ELSE ok.ch END`) + `
SELECT (SELECT seq FROM i), (SELECT count(*) FROM u) + (SELECT count(*) FROM v), (SELECT count(*) FROM r), ` + readBack)
	// The posts of a run of group members between accounts $1 and $2 ($1 <
	// $2), in the order of the arrays: $3 IDs, $4 debits, $5 credits, $6
	// amounts, $7 instants, $8 codes, $9 actors, $10 metadata. It writes
	// the longest first part of the run that postWrite would write one by
	// one, each post seeing the accounts as the posts before it left them
	// (running totals, and the latest instant so far as the time of the
	// post), and returns, for each post written, its place in the run, its
	// sequence number and the number of accounts updated. A post that
	// postWrite would not write (a refusal, a replay, an ID taken earlier
	// in the run, expired holds to release first) ends the part written.
	// The IDs are looked up one by one, through their keys: an EXISTS there
	// may be planned as one scan of the whole journal. The expired holds
	// are not: a post waits for them if the accounts' first pending expiry
	// (e, one account at a time, so that each reads one entry of the
	// pending holds' index) is not after its instant.
	q.postRun = sql(`WITH m AS (SELECT n, id, debit, credit, amount::numeric AS amount, t, code, actor, meta
	FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
		WITH ORDINALITY AS m(id, debit, credit, amount, t, code, actor, meta, n)),
a AS (SELECT posted, held, flags, unit, scale, last_posted_at FROM {s}allot_accounts WHERE id = $1),
b AS (SELECT posted, held, flags, unit, last_posted_at FROM {s}allot_accounts WHERE id = $2),
e AS (SELECT least((SELECT min(expires_at) FROM {s}allot_holds WHERE debit = $1 AND status = 'pending'),
	(SELECT min(expires_at) FROM {s}allot_holds WHERE debit = $2 AND status = 'pending')) AS first),
r AS (SELECT m.*, a.unit, a.scale, a.unit = b.unit AS same, a.posted AS ap, b.posted AS bp,
		sum(CASE WHEN m.debit = $1 THEN -m.amount ELSE m.amount END) OVER w AS da,
		greatest(max(m.t) OVER w, a.last_posted_at, b.last_posted_at) AS at,
		row_number() OVER (PARTITION BY m.id ORDER BY m.n) AS k,
		CASE WHEN m.debit = $1 THEN a.flags & 1 = 0 ELSE b.flags & 1 = 0 END AS neg,
		CASE WHEN m.debit = $1 THEN a.held ELSE b.held END AS held
	FROM m, a, b
	WINDOW w AS (ORDER BY m.n)),
v AS (SELECT r.*, bool_and(r.same AND r.k = 1 AND r.amount = trunc(r.amount, r.scale)
		AND (r.neg OR CASE WHEN r.debit = $1 THEN r.ap + r.da ELSE r.bp - r.da END - r.held >= 0)
		AND (SELECT 1 FROM {s}allot_transfers WHERE id = r.id) IS NULL
		AND (SELECT 1 FROM {s}allot_holds WHERE id = r.id) IS NULL
		AND r.t < coalesce((SELECT first FROM e), 'infinity'))
		OVER (ORDER BY r.n) AS ok
	FROM r),
w AS (SELECT * FROM v WHERE ok),
l AS (SELECT n, da, at FROM w ORDER BY n DESC LIMIT 1),
u AS (UPDATE {s}allot_accounts AS x SET
	posted = trim_scale(CASE WHEN x.id = $1 THEN x.posted + l.da ELSE x.posted - l.da END),
	version = x.version + l.n, last_posted_at = l.at
	FROM l WHERE x.id IN ($1, $2)
	RETURNING 1),
i AS (INSERT INTO {s}allot_transfers
	(seq, id, debit, credit, amount, unit, code, actor, metadata, posted_at, debit_balance, credit_balance)
	OVERRIDING SYSTEM VALUE
	SELECT ` + seqOf + `, o.id, o.debit, o.credit, o.amount, o.unit, o.code, o.actor, o.meta::jsonb, o.at,
		trim_scale(CASE WHEN o.debit = $1 THEN o.ap + o.da ELSE o.bp - o.da END),
		trim_scale(CASE WHEN o.credit = $1 THEN o.ap + o.da ELSE o.bp - o.da END)
	FROM (SELECT * FROM w ORDER BY n) AS o
	RETURNING id, seq)
SELECT w.n, i.seq, (SELECT count(*) FROM u) FROM w JOIN i ON i.id = w.id ORDER BY w.n`)
	q.totals = make(map[[4]int]string)
	q.accountsEnsure = sql(`INSERT INTO {s}allot_accounts (id, unit, owner, flags, metadata, created_at, scale)
SELECT u.id, u.unit, u.owner, u.flags, u.metadata::jsonb, u.created_at, n.scale
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
	AS u(id, unit, owner, flags, metadata, created_at)
JOIN {s}allot_units AS n ON n.code = u.unit
ORDER BY u.id COLLATE "C"
ON CONFLICT (id) DO NOTHING`)
	// It fails, so the transaction does, unless every account exists with
	// the definition asked: $7 is their number.
	q.accountsEnsureCheck = sql(`SELECT CASE count(*) WHEN $7::bigint THEN 0
	ELSE ('pgxstore: ' || $7::bigint - count(*) || ' of ' || $7::bigint || ' accounts to ensure are missing or defined otherwise')::integer END
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
	AS u(id, unit, owner, flags, metadata, created_at)
JOIN {s}allot_accounts AS a ON a.id = u.id
WHERE a.unit = u.unit AND a.owner = u.owner AND a.flags = u.flags AND a.metadata IS NOT DISTINCT FROM u.metadata::jsonb`)
	q.accountsEnsureCount = sql(`SELECT count(*)
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
	AS u(id, unit, owner, flags, metadata, created_at)
JOIN {s}allot_accounts AS a ON a.id = u.id
WHERE a.unit = u.unit AND a.owner = u.owner AND a.flags = u.flags AND a.metadata IS NOT DISTINCT FROM u.metadata::jsonb`)
	q.accountsGet = sql(`SELECT ` + accountCols + ` FROM {s}allot_accounts WHERE id = ANY($1::text[])`)
	q.unitsExisting = sql(`SELECT code FROM {s}allot_units WHERE code = ANY($1::text[])`)
	q.holdsExpired = sql(`SELECT ` + holdCols + ` FROM {s}allot_holds
WHERE debit = ANY($1::text[]) AND status = 'pending' AND expires_at <= $2 ORDER BY id`)
	// The accounts of hold $1: its debit account, and its credit account
	// if $2.
	const ofHold = `(SELECT debit FROM {s}allot_holds WHERE id = $1
	UNION ALL SELECT credit FROM {s}allot_holds WHERE id = $1 AND $2::boolean)`
	q.accountsLockByHold = sql(`SELECT ` + accountCols + ` FROM {s}allot_accounts AS a
WHERE a.id IN ` + ofHold + ` ORDER BY a.id FOR NO KEY UPDATE OF a`)
	q.holdsExpiredByHold = sql(`SELECT ` + holdCols + ` FROM {s}allot_holds
WHERE debit IN ` + ofHold + ` AND status = 'pending' AND expires_at <= $3 ORDER BY id`)
	// The sequence number of the transfer that posts $2 of hold $1 at $3,
	// if the ledger will post it: the hold is pending and not expired, the
	// amount is at most the hold's and fits the scale, and a non-negative
	// debit account has it once the hold is released (expired holds it
	// releases too only add to that).
	q.seqSettle = sql(`SELECT ` + q.journalSeq() + `
FROM {s}allot_holds AS h, {s}allot_accounts AS d, {s}allot_accounts AS c
WHERE h.id = $1 AND d.id = h.debit AND c.id = h.credit AND d.unit = c.unit
	AND h.status = 'pending' AND (h.expires_at IS NULL OR h.expires_at > $3)
	AND $2::text::numeric <= h.amount AND $2::text::numeric = trunc($2::text::numeric, d.scale)
	AND (d.flags & 1 = 0 OR d.posted - d.held + h.amount >= $2::text::numeric)
	AND NOT EXISTS (SELECT FROM {s}allot_transfers WHERE id = $1)`)
	q.accountVersions = sql(`SELECT id, version FROM {s}allot_accounts WHERE id = ANY($1::text[])`)
	q.holdsExisting = sql(`SELECT id FROM {s}allot_holds WHERE id = ANY($1::text[])`)
	q.seats = newSeatsQueries(sql)
	return q
}

// journalSeq is the expression that takes the journal's next sequence
// number (see migrations/0011_ledger_journal_sequence.sql).
func (q *queries) journalSeq() string {
	return `nextval('` + strings.ReplaceAll(q.prefix, "'", "''") + `allot_transfers_seq_seq'::regclass)`
}

// applyTotals returns the statement of a deferred Apply that updates the
// totals of m accounts, inserts n transfers with their sequence numbers,
// inserts holds if hi is set and updates holds if hu is set: 5 parameters
// per account (id, posted, held, version, last_posted_at), 13 per transfer
// (seq, then the journal's columns), then 13 arrays for the holds inserted
// and 13 for the holds updated (the columns of holdArgs) and their number.
// It fails, so the transaction does, unless all m accounts were one version
// behind and every hold to update was found.
func (q *queries) applyTotals(m, n int, hi, hu bool) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := [4]int{m, n, b2i(hi), b2i(hu)}
	if s, ok := q.totals[key]; ok {
		return s
	}
	var b strings.Builder
	p := 0
	param := func(cast string) string {
		p++
		return "$" + strconv.Itoa(p) + cast
	}
	b.WriteString("WITH a AS (UPDATE " + q.prefix + "allot_accounts AS a SET\n" +
		"\tposted = u.posted::numeric, held = u.held::numeric, version = u.version, last_posted_at = u.last_posted_at\n" +
		"FROM (VALUES ")
	for i := range m {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + param("::text") + ", " + param("::text") + ", " + param("::text") + ", " + param("::bigint") + ", " + param("::timestamptz") + ")")
	}
	b.WriteString(") AS u(id, posted, held, version, last_posted_at)\n" +
		"WHERE a.id = u.id AND a.version = u.version - 1\nRETURNING 1)")
	if n > 0 {
		b.WriteString(",\nt AS (INSERT INTO " + q.prefix + "allot_transfers\n" +
			"\t(seq, id, debit, credit, amount, unit, code, actor, metadata, posted_at, debit_balance, credit_balance, hold_id)\n" +
			"OVERRIDING SYSTEM VALUE VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + param("::bigint") + ", " + param("::text") + ", " + param("::text") + ", " + param("::text") + ", " +
				param("::text::numeric") + ", " + param("::text") + ", " + param("::text") + ", " + param("::text") + ", " +
				param("::text::jsonb") + ", " + param("::timestamptz") + ", " + param("::text::numeric") + ", " +
				param("::text::numeric") + ", nullif(" + param("::text") + ", ''))")
		}
		b.WriteString(")")
	}
	holds := func() string {
		return "unnest(" + param("::text[]") + ", " + param("::text[]") + ", " + param("::text[]") + ", " + param("::text[]") + ", " +
			param("::text[]") + ", " + param("::text[]") + ", " + param("::text[]") + ", " + param("::text[]") + ", " +
			param("::timestamptz[]") + ", " + param("::text[]") + ", " + param("::timestamptz[]") + ", " +
			param("::timestamptz[]") + ", " + param("::text[]") + ")\n" +
			"\tAS u(id, debit, credit, amount, unit, code, actor, metadata, expires_at, status, created_at, settled_at, posted)"
	}
	if hi {
		b.WriteString(",\nhi AS (INSERT INTO " + q.prefix + "allot_holds\n" +
			"\t(id, debit, credit, amount, unit, code, actor, metadata, expires_at, status, created_at, settled_at, posted)\n" +
			"SELECT id, debit, credit, amount::numeric, unit, code, actor, metadata::jsonb, expires_at, status,\n" +
			"\tcreated_at, settled_at, posted::numeric\nFROM " + holds() + ")")
	}
	ms := strconv.Itoa(m)
	cond := "(SELECT count(*) FROM a) = " + ms
	msg := "'pgxstore: ' || (SELECT count(*) FROM a) || ' of " + ms + " accounts were one version behind'"
	if hu {
		b.WriteString(",\nhu AS (UPDATE " + q.prefix + "allot_holds AS h SET\n" +
			"\tdebit = u.debit, credit = u.credit, amount = u.amount::numeric, unit = u.unit, code = u.code,\n" +
			"\tactor = u.actor, metadata = u.metadata::jsonb, expires_at = u.expires_at, status = u.status,\n" +
			"\tcreated_at = u.created_at, settled_at = u.settled_at, posted = u.posted::numeric\nFROM " + holds() +
			"\nWHERE h.id = u.id\nRETURNING 1)")
		k := param("::bigint")
		cond += " AND (SELECT count(*) FROM hu) = " + k
		msg += " || ', ' || (SELECT count(*) FROM hu) || ' of ' || " + k + " || ' holds to update were found'"
	}
	b.WriteString("\nSELECT CASE WHEN " + cond + " THEN 0 ELSE (" + msg + ")::integer END")
	s := b.String()
	q.totals[key] = s
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
