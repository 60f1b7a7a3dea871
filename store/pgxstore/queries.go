package pgxstore

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// queries holds the SQL of the facets with their table names qualified by
// the store's schema.
type queries struct {
	schema string
	prefix string // `"schema".` or empty

	unitInsert, unitGet                          string
	accountInsert, accountGet, accountsLock      string
	transfersGet, holdsGet                       string
	accountsUpdate, transfersInsert, holdsInsert string
	holdsUpdate, accountVersions, holdsExisting  string
	accountCols, transferCols, holdCols          string
	accountsTable, transfersTable, holdsTable    string

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
	q.accountVersions = sql(`SELECT id, version FROM {s}allot_accounts WHERE id = ANY($1::text[])`)
	q.holdsExisting = sql(`SELECT id FROM {s}allot_holds WHERE id = ANY($1::text[])`)
	q.seats = newSeatsQueries(sql)
	return q
}
