package pgxstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// This file is the passes facet: the passes.Tx methods over the tables of
// migrations/0003_passes.sql, keyed by workspace since
// migrations/0005_passes_tenant_keys.sql, with the sessions' demo lock marks
// of migrations/0009_passes_demo_lock.sql.

var _ passes.Tx = (*Tx)(nil)

// Passes returns the passes facet of the store.
func (s *Store) Passes() passes.Store { return passesStore{s} }

type passesStore struct{ s *Store }

// InTx implements passes.Store; see Store.InTx.
func (p passesStore) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return p.s.inTx(ctx, func(t *Tx) error { return fn(t) }, false)
}

// passesQueries is the facet's SQL for one schema.
type passesQueries struct {
	sessionInsert, sessionGet, sessionUpdate string
	sessionLock                              string // sessionGet, locking the row
	sessionList                              string
	fieldInsert, fieldList, fieldsLock       string
	accessPlace, accessLock                  string
	accessInsert, accessUpdate, accessList   string
	usageLock, usageInsert, usageGet         string
	usageAppend, usageTable                  string
	demoLockMark, sessionExists              string
}

const usageCols = `seq, workspace, request_id, at, session_id, session_name, external, location, user_email, owner,
	pass_type, passes, balance_after, coalesce(transfer_id, ''), field_names, field_values, in_window,
	access_from, access_until, demo, locks_at`

var passesSQL sync.Map // queries.cacheKey -> *passesQueries

func (q *queries) passes() *passesQueries {
	if got, ok := passesSQL.Load(q.cacheKey()); ok {
		return got.(*passesQueries)
	}
	r := strings.NewReplacer("{s}", q.prefix)
	sql := func(s string) string { return r.Replace(s) }
	p := &passesQueries{
		sessionInsert: sql(`INSERT INTO {s}allot_pass_sessions
	(id, workspace, name, owner, external, pass_type, field_names, field_values, created_at, first_login)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`),
		sessionGet: sql(`SELECT id, workspace, name, owner, external, pass_type, field_names, field_values, created_at, first_login
	FROM {s}allot_pass_sessions WHERE workspace = $1 AND id = $2`),
		sessionLock: sql(`SELECT id, workspace, name, owner, external, pass_type, field_names, field_values, created_at, first_login
	FROM {s}allot_pass_sessions WHERE workspace = $1 AND id = $2 FOR NO KEY UPDATE`),
		sessionList: sql(`SELECT id, workspace, name, owner, external, pass_type, field_names, field_values, created_at, first_login
	FROM {s}allot_pass_sessions WHERE workspace = $1 AND id > $2 ORDER BY id LIMIT $3`),
		sessionUpdate: sql(`UPDATE {s}allot_pass_sessions SET name = $3, owner = $4, external = $5,
	pass_type = $6, field_names = $7, field_values = $8, created_at = $9, first_login = $10 WHERE workspace = $2 AND id = $1`),
		fieldInsert: sql(`INSERT INTO {s}allot_pass_fields (workspace, name, required, position) VALUES ($1, $2, $3, $4)
	ON CONFLICT DO NOTHING`),
		fieldList:   sql(`SELECT workspace, name, required, position FROM {s}allot_pass_fields WHERE workspace = $1 ORDER BY position`),
		fieldsLock:  q.lockSQL(lockPassFields, true),
		accessPlace: sql(`INSERT INTO {s}allot_pass_access (workspace, session_id, guest) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`),
		accessLock: sql(`SELECT start_at, until_at FROM {s}allot_pass_access WHERE workspace = $1 AND session_id = $2 AND guest = $3
	FOR NO KEY UPDATE`),
		accessInsert: sql(`INSERT INTO {s}allot_pass_access AS a (workspace, session_id, guest, start_at, until_at) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (workspace, session_id, guest) DO UPDATE SET start_at = excluded.start_at, until_at = excluded.until_at
	WHERE a.until_at IS NULL`),
		accessUpdate: sql(`UPDATE {s}allot_pass_access SET start_at = $4, until_at = $5
	WHERE workspace = $1 AND session_id = $2 AND guest = $3 AND until_at IS NOT NULL`),
		accessList: sql(`SELECT session_id, guest, start_at, until_at FROM {s}allot_pass_access
	WHERE workspace = $1 AND until_at IS NOT NULL AND (session_id, guest) > ($2, $3)
	ORDER BY session_id, guest LIMIT $4`),
		usageLock: q.lockSQL(lockPassUsage, true),
		usageInsert: sql(`INSERT INTO {s}allot_pass_usage
	(workspace, request_id, at, session_id, session_name, external, location, user_email, owner, pass_type,
	passes, balance_after, transfer_id, field_names, field_values, in_window, access_from, access_until, demo, locks_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, nullif($13, ''), $14, $15, $16, $17, $18, $19, $20)
	ON CONFLICT (workspace, request_id) DO NOTHING RETURNING seq`),
		usageAppend: sql(`INSERT INTO {s}allot_pass_usage
	(workspace, request_id, at, session_id, session_name, external, location, user_email, owner, pass_type,
	passes, balance_after, transfer_id, field_names, field_values, in_window, access_from, access_until, demo, locks_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, nullif($13, ''), $14, $15, $16, $17, $18, $19, $20)
	ON CONFLICT (workspace, request_id) DO NOTHING`),
		usageGet: sql(`SELECT ` + usageCols + ` FROM {s}allot_pass_usage WHERE workspace = $1 AND request_id = $2`),
		demoLockMark: sql(`UPDATE {s}allot_pass_sessions SET demo_lock_noticed = $3
	WHERE workspace = $1 AND id = $2 AND demo_lock_noticed IS DISTINCT FROM $3`),
		sessionExists: sql(`SELECT EXISTS (SELECT FROM {s}allot_pass_sessions WHERE workspace = $1 AND id = $2)`),
		usageTable:    sql(`{s}allot_pass_usage`),
	}
	got, _ := passesSQL.LoadOrStore(q.cacheKey(), p)
	return got.(*passesQueries)
}

func splitFields(fs []passes.FieldValue) (names, values []string) {
	names, values = make([]string, len(fs)), make([]string, len(fs))
	for i, f := range fs {
		names[i], values[i] = f.Name, f.Value
	}
	return names, values
}

func joinFields(names, values []string) ([]passes.FieldValue, error) {
	if len(names) != len(values) {
		return nil, fmt.Errorf("pgxstore: %d field names and %d values", len(names), len(values))
	}
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]passes.FieldValue, len(names))
	for i := range names {
		out[i] = passes.FieldValue{Name: names[i], Value: values[i]}
	}
	return out, nil
}

func sessionArgs(s passes.Session) []any {
	names, values := splitFields(s.Fields)
	return []any{s.ID, s.Org, s.Name, s.Owner, s.External, string(s.PassType), names, values,
		timestampNotNull(s.CreatedAt), timestamp(s.FirstLogin)}
}

// SessionInsert implements passes.Tx.
func (t *Tx) SessionInsert(ctx context.Context, s passes.Session) error {
	var b pgx.Batch
	var n int64
	b.Queue(t.s.q.passes().sessionInsert, sessionArgs(s)...).Exec(func(ct pgconn.CommandTag) error {
		n = ct.RowsAffected()
		return nil
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr(fmt.Sprintf("insert session %q", s.ID), err)
	}
	if n == 0 {
		return fmt.Errorf("pgxstore: session %q of workspace %q: %w", s.ID, s.Org, ledger.ErrAlreadyExists)
	}
	return nil
}

// sessionRead is the statement that reads a session. A session is read
// before it is written (a first login sets FirstLogin, UpdateSession its
// settings), and its update writes every column: at REPEATABLE READ a
// concurrent change makes that update fail and the transaction run again,
// but at READ COMMITTED (a run again) and in a caller's transaction the
// read locks the row, so that neither write undoes the other.
//
// A login reads the session unlocked in its load, and again locked only
// when it is the session's first (LoginLoad).
func (t *Tx) sessionRead() string {
	if t.snapshotReads() {
		return t.s.q.passes().sessionGet
	}
	return t.s.q.passes().sessionLock
}

// SessionGet implements passes.Tx.
func (t *Tx) SessionGet(ctx context.Context, org, id string) (passes.Session, error) {
	var b pgx.Batch
	var s passes.Session
	found := false
	b.Queue(t.sessionRead(), org, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			var err error
			if s, err = scanSession(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := t.run(ctx, &b, false); err != nil {
		return passes.Session{}, storeErr(fmt.Sprintf("get session %q of workspace %q", id, org), err)
	}
	if !found {
		return passes.Session{}, &ledger.NotFoundError{Kind: "session", ID: org + " " + id}
	}
	return s, nil
}

// scanSession reads a session from a row of the sessions' columns in the
// order sessionGet and sessionList select them.
func scanSession(rows pgx.Rows) (passes.Session, error) {
	var (
		s             passes.Session
		pt            string
		names, values []string
		first         pgtype.Timestamptz
	)
	if err := rows.Scan(&s.ID, &s.Org, &s.Name, &s.Owner, &s.External, &pt, &names, &values, &s.CreatedAt, &first); err != nil {
		return passes.Session{}, err
	}
	var err error
	if s.Fields, err = joinFields(names, values); err != nil {
		return passes.Session{}, err
	}
	s.PassType, s.CreatedAt, s.FirstLogin = passes.PassType(pt), s.CreatedAt.UTC(), fromTimestamp(first)
	return s, nil
}

// SessionList implements passes.Tx.
func (t *Tx) SessionList(ctx context.Context, p passes.SessionListParams) ([]passes.Session, error) {
	var limit any // NULL: no limit
	if p.Limit > 0 {
		limit = int64(p.Limit)
	}
	var b pgx.Batch
	var out []passes.Session
	b.Queue(t.s.q.passes().sessionList, p.Org, p.AfterID, limit).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			s, err := scanSession(rows)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list the sessions of workspace %q", p.Org), err)
	}
	return out, nil
}

// SessionUpdate implements passes.Tx. After LoginLoad found the session,
// it is sent with the next statement or the commit (see execLater).
func (t *Tx) SessionUpdate(ctx context.Context, s passes.Session) error {
	q := t.s.q.passes()
	return t.execLater(ctx, sessionKey(s.Org, s.ID), fmt.Sprintf("update session %q", s.ID), true, nil,
		q.sessionUpdate, sessionArgs(s), func() error {
			return &ledger.NotFoundError{Kind: "session", ID: s.Org + " " + s.ID}
		})
}

// FieldInsert implements passes.Tx.
func (t *Tx) FieldInsert(ctx context.Context, f passes.FieldDef) error {
	var b pgx.Batch
	var n int64
	b.Queue(t.s.q.passes().fieldInsert, f.Org, f.Name, f.Required, f.Position).Exec(func(ct pgconn.CommandTag) error {
		n = ct.RowsAffected()
		return nil
	})
	if err := t.run(ctx, &b, false); err != nil {
		return storeErr(fmt.Sprintf("insert custom field %q of workspace %q", f.Name, f.Org), err)
	}
	if n == 0 {
		return fmt.Errorf("pgxstore: custom field %q (position %d) of workspace %q: %w", f.Name, f.Position, f.Org, ledger.ErrAlreadyExists)
	}
	return nil
}

// FieldList implements passes.Tx.
func (t *Tx) FieldList(ctx context.Context, org string) ([]passes.FieldDef, error) {
	return t.fieldList(ctx, org, false)
}

// FieldsLock implements passes.Tx. It takes a transaction-scoped advisory
// lock named after the workspace's fields, then reads them. The lock is the
// batch's first statement, so a transaction that starts with it begins at
// READ COMMITTED, and the read, a statement of its own, sees every field
// committed before the lock was granted.
func (t *Tx) FieldsLock(ctx context.Context, org string) ([]passes.FieldDef, error) {
	return t.fieldList(ctx, org, true)
}

func (t *Tx) fieldList(ctx context.Context, org string, lock bool) ([]passes.FieldDef, error) {
	q := t.s.q.passes()
	var b pgx.Batch
	var out []passes.FieldDef
	if lock {
		b.Queue(q.fieldsLock, org)
	}
	b.Queue(q.fieldList, org).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var f passes.FieldDef
			if err := rows.Scan(&f.Org, &f.Name, &f.Required, &f.Position); err != nil {
				return err
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	if err := t.run(ctx, &b, lock); err != nil {
		return nil, storeErr(fmt.Sprintf("list custom fields of workspace %q", org), err)
	}
	return out, nil
}

// AccessLock implements passes.Tx. When the guest has no window yet it
// inserts a placeholder row (NULL times, read as no window) so that there is
// a row to lock: a concurrent login of the same guest to the same session
// waits for this transaction, then sees what it wrote.
func (t *Tx) AccessLock(ctx context.Context, org, session, guest string) (passes.Access, error) {
	q := t.s.q.passes()
	var b pgx.Batch
	var start, until pgtype.Timestamptz
	b.Queue(q.accessPlace, org, session, guest)
	b.Queue(q.accessLock, org, session, guest).QueryRow(func(row pgx.Row) error { return row.Scan(&start, &until) })
	if err := t.run(ctx, &b, true); err != nil {
		return passes.Access{}, storeErr(fmt.Sprintf("lock the access of %q to session %q of workspace %q", guest, session, org), err)
	}
	if !until.Valid {
		return passes.Access{}, &ledger.NotFoundError{Kind: "access window", ID: org + " " + session + " " + guest}
	}
	return passes.Access{Org: org, Session: session, Guest: guest, Start: fromTimestamp(start), Until: fromTimestamp(until)}, nil
}

// AccessList implements passes.Tx. Placeholders AccessLock inserted are not
// windows and are left out.
func (t *Tx) AccessList(ctx context.Context, p passes.AccessListParams) ([]passes.Access, error) {
	var limit any // NULL: no limit
	if p.Limit > 0 {
		limit = int64(p.Limit)
	}
	var b pgx.Batch
	var out []passes.Access
	b.Queue(t.s.q.passes().accessList, p.Org, p.AfterSession, p.AfterGuest, limit).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			a := passes.Access{Org: p.Org}
			var start, until pgtype.Timestamptz
			if err := rows.Scan(&a.Session, &a.Guest, &start, &until); err != nil {
				return err
			}
			a.Start, a.Until = fromTimestamp(start), fromTimestamp(until)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list the access windows of workspace %q", p.Org), err)
	}
	return out, nil
}

// AccessInsert implements passes.Tx; it fills a placeholder AccessLock or
// LoginLoad left. After LoginLoad it is sent with the next statement or the
// commit (see execLater): the load locked the row.
func (t *Tx) AccessInsert(ctx context.Context, a passes.Access) error {
	q := t.s.q.passes()
	return t.execLater(ctx, accessKey(a.Org, a.Session, a.Guest), fmt.Sprintf("insert the access of %q to session %q", a.Guest, a.Session), true, nil,
		q.accessInsert, []any{a.Org, a.Session, a.Guest, timestampNotNull(a.Start), timestampNotNull(a.Until)}, func() error {
			return fmt.Errorf("pgxstore: access of %q to session %q of workspace %q: %w", a.Guest, a.Session, a.Org, ledger.ErrAlreadyExists)
		})
}

// AccessUpdate implements passes.Tx. After LoginLoad it is sent with the
// next statement or the commit (see execLater).
func (t *Tx) AccessUpdate(ctx context.Context, a passes.Access) error {
	q := t.s.q.passes()
	return t.execLater(ctx, accessKey(a.Org, a.Session, a.Guest), fmt.Sprintf("update the access of %q to session %q", a.Guest, a.Session), true, nil,
		q.accessUpdate, []any{a.Org, a.Session, a.Guest, timestampNotNull(a.Start), timestampNotNull(a.Until)}, func() error {
			return &ledger.NotFoundError{Kind: "access window", ID: a.Org + " " + a.Session + " " + a.Guest}
		})
}

// UsageInsert implements passes.Tx. Seq comes from an identity column: it
// increases in the order rows are inserted. The insert first takes a lock
// on the workspace's log that lasts until commit, so a workspace's rows
// commit in Seq order and a reader paging the log by Seq never passes a row
// that commits later; logins that spend already queue on the workspace's
// balance, and inserting the row is a login's last write.
func (t *Tx) UsageInsert(ctx context.Context, u passes.Usage) (int64, error) {
	names, values := splitFields(u.Fields)
	var b pgx.Batch
	var seq int64
	found := false
	b.Queue(t.s.q.passes().usageLock, u.Org)
	b.Queue(t.s.q.passes().usageInsert, u.Org, u.RequestID, timestampNotNull(u.At), u.Session, u.SessionName, u.External,
		u.Location, u.User, u.Owner, string(u.PassType), u.Passes, u.BalanceAfter, u.Transfer, names, values,
		u.InWindow, timestamp(u.AccessFrom), timestamp(u.AccessUntil), u.Demo, timestamp(u.LocksAt),
	).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&seq); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := t.run(ctx, &b, false); err != nil {
		return 0, storeErr(fmt.Sprintf("insert the usage row of request %q", u.RequestID), err)
	}
	if !found {
		return 0, fmt.Errorf("pgxstore: usage row of request %q in workspace %q: %w", u.RequestID, u.Org, ledger.ErrAlreadyExists)
	}
	return seq, nil
}

// UsageAppend implements passes.Tx. It takes the workspace's log lock and
// inserts, as UsageInsert does; after a LoginLoad that did not find the
// request, both are sent with the next statement or the commit (see
// execLater), which also holds the lock for the shortest time.
func (t *Tx) UsageAppend(ctx context.Context, u passes.Usage) error {
	names, values := splitFields(u.Fields)
	q := t.s.q.passes()
	lock := &pgx.QueuedQuery{SQL: q.usageLock, Arguments: []any{u.Org}}
	args := []any{u.Org, u.RequestID, timestampNotNull(u.At), u.Session, u.SessionName, u.External,
		u.Location, u.User, u.Owner, string(u.PassType), u.Passes, u.BalanceAfter, u.Transfer, names, values,
		u.InWindow, timestamp(u.AccessFrom), timestamp(u.AccessUntil), u.Demo, timestamp(u.LocksAt)}
	return t.execLater(ctx, noUsageKey(u.Org, u.RequestID), fmt.Sprintf("insert the usage row of request %q", u.RequestID), false, lock,
		q.usageAppend, args, func() error {
			return fmt.Errorf("pgxstore: usage row of request %q in workspace %q: %w", u.RequestID, u.Org, ledger.ErrAlreadyExists)
		})
}

// UsageGetByRequest implements passes.Tx.
func (t *Tx) UsageGetByRequest(ctx context.Context, org, requestID string) (passes.Usage, error) {
	var b pgx.Batch
	var got []passes.Usage
	b.Queue(t.s.q.passes().usageGet, org, requestID).Query(func(rows pgx.Rows) (err error) {
		got, err = scanUsage(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return passes.Usage{}, storeErr(fmt.Sprintf("get the usage row of request %q", requestID), err)
	}
	if len(got) == 0 {
		return passes.Usage{}, &ledger.NotFoundError{Kind: "login request", ID: org + " " + requestID}
	}
	return got[0], nil
}

// UsageList implements passes.Tx.
func (t *Tx) UsageList(ctx context.Context, p passes.UsageListParams) ([]passes.Usage, error) {
	w := where{}
	w.add("workspace = $%d", p.Org)
	if p.Session != "" {
		w.add("session_id = $%d", p.Session)
	}
	if p.User != "" {
		w.add("user_email = $%d", p.User)
	}
	if p.Billing != "" {
		w.add("external = $%d", p.Billing == passes.External)
	}
	if !p.From.IsZero() {
		w.add("at >= $%d", p.From)
	}
	if !p.To.IsZero() {
		w.add("at < $%d", p.To)
	}
	if p.AfterSeq > 0 {
		w.add("seq > $%d", p.AfterSeq)
	}
	sql := "SELECT " + usageCols + " FROM " + t.s.q.passes().usageTable + w.String() + " ORDER BY seq" + w.limit(p.Limit)
	var b pgx.Batch
	var got []passes.Usage
	b.Queue(sql, w.args...).Query(func(rows pgx.Rows) (err error) {
		got, err = scanUsage(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list the usage log of workspace %q", p.Org), err)
	}
	return got, nil
}

func scanUsage(rows pgx.Rows) ([]passes.Usage, error) {
	var out []passes.Usage
	for rows.Next() {
		var (
			u                  passes.Usage
			pt                 string
			names, values      []string
			from, until, locks pgtype.Timestamptz
		)
		if err := rows.Scan(&u.Seq, &u.Org, &u.RequestID, &u.At, &u.Session, &u.SessionName, &u.External, &u.Location,
			&u.User, &u.Owner, &pt, &u.Passes, &u.BalanceAfter, &u.Transfer, &names, &values, &u.InWindow,
			&from, &until, &u.Demo, &locks); err != nil {
			return nil, err
		}
		var err error
		if u.Fields, err = joinFields(names, values); err != nil {
			return nil, err
		}
		u.PassType, u.At = passes.PassType(pt), u.At.UTC()
		u.AccessFrom, u.AccessUntil, u.LocksAt = fromTimestamp(from), fromTimestamp(until), fromTimestamp(locks)
		out = append(out, u)
	}
	return out, rows.Err()
}

// Keys of the rows a transaction read, for execLater.
func sessionKey(org, id string) string { return "psession\x00" + org + "\x00" + id }
func accessKey(org, session, guest string) string {
	return "paccess\x00" + org + "\x00" + session + "\x00" + guest
}
func noUsageKey(org, requestID string) string { return "pnousage\x00" + org + "\x00" + requestID }

// LoginLoad implements passes.Tx in one round trip: the request's usage
// row, the session, the workspace's custom fields, the placeholder and lock
// of the guest's access window (as AccessLock), and the balance account,
// in that order, in one pipelined batch. A transaction that starts with it
// begins at REPEATABLE READ, as one that starts with UsageGetByRequest did:
// the writes that follow (SessionUpdate, AccessInsert or AccessUpdate,
// UsageAppend) rely on what it read, and a row that changed after the
// snapshot makes them fail with a serialization failure, which InTx retries.
// Those writes are then sent with the next statement or the commit.
func (t *Tx) LoginLoad(ctx context.Context, p passes.LoginLoadParams, st *passes.LoginState) error {
	q := t.s.q.passes()
	fields := st.Fields[:0]
	*st = passes.LoginState{}
	var b pgx.Batch
	b.Queue(q.usageGet, p.Org, p.RequestID).Query(func(rows pgx.Rows) error {
		got, err := scanUsage(rows)
		if len(got) > 0 {
			st.Prior, st.PriorFound = got[0], true
		}
		return err
	})
	b.Queue(q.sessionGet, p.Org, p.Session).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var err error
			if st.Session, err = scanSession(rows); err != nil {
				return err
			}
			st.SessionFound = true
		}
		return rows.Err()
	})
	b.Queue(q.fieldList, p.Org).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var f passes.FieldDef
			if err := rows.Scan(&f.Org, &f.Name, &f.Required, &f.Position); err != nil {
				return err
			}
			fields = append(fields, f)
		}
		return rows.Err()
	})
	b.Queue(q.accessPlace, p.Org, p.Session, p.Guest)
	b.Queue(q.accessLock, p.Org, p.Session, p.Guest).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var start, until pgtype.Timestamptz
			if err := rows.Scan(&start, &until); err != nil {
				return err
			}
			if until.Valid {
				st.Access = passes.Access{Org: p.Org, Session: p.Session, Guest: p.Guest, Start: fromTimestamp(start), Until: fromTimestamp(until)}
				st.AccessFound = true
			}
		}
		return rows.Err()
	})
	if p.Balance != "" {
		b.Queue(t.s.q.accountGet, string(p.Balance)).Query(func(rows pgx.Rows) error {
			got, err := scanAccounts(rows)
			if len(got) > 0 {
				st.Balance, st.BalanceFound = got[0], true
			}
			return err
		})
	}
	if err := t.run(ctx, &b, false); err != nil {
		*st = passes.LoginState{Fields: fields[:0]}
		return storeErr(fmt.Sprintf("load the login of %q to session %q of workspace %q", p.Guest, p.Session, p.Org), err)
	}
	st.Fields = fields
	if !st.PriorFound {
		t.see(noUsageKey(p.Org, p.RequestID))
	}
	if st.SessionFound && st.Session.FirstLogin.IsZero() && !t.snapshotReads() {
		// The login will write the session (its first login), and no
		// snapshot guards the read: read it again, locked (see
		// sessionRead). Only a session's first login, run again at READ
		// COMMITTED or in a caller's transaction, pays this round trip.
		sess, err := t.SessionGet(ctx, p.Org, p.Session)
		switch {
		case errors.Is(err, ledger.ErrNotFound):
			st.Session, st.SessionFound = passes.Session{}, false
		case err != nil:
			*st = passes.LoginState{Fields: fields[:0]}
			return err
		default:
			st.Session = sess
		}
	}
	if st.SessionFound {
		t.see(sessionKey(p.Org, p.Session))
	}
	t.see(accessKey(p.Org, p.Session, p.Guest))
	return nil
}

// SessionDemoLockMark implements passes.Tx: an UPDATE of the session's
// mark where it differs, and a read that tells a missing session from one
// already marked, in one round trip. The UPDATE locks the session's row: of
// two transactions marking one lock, the second waits for the first and
// then, at READ COMMITTED, finds the mark and changes nothing (at REPEATABLE
// READ it meets a serialization failure, and InTx runs it again).
func (t *Tx) SessionDemoLockMark(ctx context.Context, org, session string, lockedAt time.Time) (bool, error) {
	q := t.s.q.passes()
	var b pgx.Batch
	var marked int64
	exists := false
	b.Queue(q.demoLockMark, org, session, timestampNotNull(lockedAt)).Exec(func(ct pgconn.CommandTag) error {
		marked = ct.RowsAffected()
		return nil
	})
	b.Queue(q.sessionExists, org, session).QueryRow(func(row pgx.Row) error { return row.Scan(&exists) })
	if err := t.run(ctx, &b, true); err != nil {
		return false, storeErr(fmt.Sprintf("mark the demo lock of session %q of workspace %q", session, org), err)
	}
	if !exists {
		return false, &ledger.NotFoundError{Kind: "session", ID: org + " " + session}
	}
	return marked == 1, nil
}
