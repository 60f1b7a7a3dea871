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

	mu     sync.Mutex
	totals map[[2]int]string // applyTotals by (accounts, transfers)

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
	q.seqNext = sql(`SELECT nextval(pg_get_serial_sequence('` + strings.ReplaceAll(q.prefix, "'", "''") + `allot_transfers', 'seq'))
FROM {s}allot_accounts AS d, {s}allot_accounts AS c
WHERE d.id = $1 AND c.id = $2 AND d.unit = c.unit AND d.held = 0 AND c.held = 0
	AND $3::text::numeric = trunc($3::text::numeric, d.scale)
	AND (d.flags & 1 = 0 OR d.posted - d.held >= $3::text::numeric)
	AND NOT EXISTS (SELECT FROM {s}allot_transfers WHERE id = $4)
	AND NOT EXISTS (SELECT FROM {s}allot_holds WHERE id = $4)`)
	q.totals = make(map[[2]int]string)
	q.accountVersions = sql(`SELECT id, version FROM {s}allot_accounts WHERE id = ANY($1::text[])`)
	q.holdsExisting = sql(`SELECT id FROM {s}allot_holds WHERE id = ANY($1::text[])`)
	q.seats = newSeatsQueries(sql)
	return q
}

// applyTotals returns the statement of a deferred Apply that updates the
// totals of m accounts and inserts n transfers with their sequence numbers:
// 5 parameters per account (id, posted, held, version, last_posted_at), 13
// per transfer (seq, then the journal's columns). It fails, so the
// transaction does, unless all m accounts were one version behind.
func (q *queries) applyTotals(m, n int) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := [2]int{m, n}
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
	ms := strconv.Itoa(m)
	b.WriteString("\nSELECT CASE count(*) WHEN " + ms + " THEN 0 ELSE ('pgxstore: ' || count(*) || ' of " + ms +
		" accounts were one version behind')::integer END FROM a")
	s := b.String()
	q.totals[key] = s
	return s
}
