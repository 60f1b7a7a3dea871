package pgxstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// This file is the licenses facet: the licenses.Tx methods over the tables
// of migrations/0004_licenses.sql. Each method is one round trip.
//
// Every write of an organization's records begins with LicenseOrgLock
// (SELECT ... FOR UPDATE), so, as the first statement, it begins the
// transaction at READ COMMITTED and the writers of one organization queue
// behind each other on its row; what they read after the lock is current.
// Summary reads without a lock at REPEATABLE READ, from one snapshot.

var (
	_ licenses.Tx    = (*Tx)(nil)
	_ licenses.Store = licensesStore{}
)

// Licenses returns the store's licenses facet: licenses.New(store.Licenses(),
// opts). Its InTx is the Store's InTx, with the same isolation and retries;
// on a Store made by WithTx it runs in the caller's transaction.
func (s *Store) Licenses() licenses.Store { return licensesStore{s} }

type licensesStore struct{ s *Store }

// InTx implements licenses.Store; see Store.InTx.
func (a licensesStore) InTx(ctx context.Context, fn func(tx licenses.Tx) error) error {
	return a.s.inTx(ctx, func(t *Tx) error { return fn(t) }, false)
}

// licensesQueries is the facet's SQL for one schema.
type licensesQueries struct {
	orgGet, orgLock, orgInsert, orgUpdate        string
	teamGet, teamInsert, teamUpdate, teamList    string
	teamListAt                                   string
	memberGet, memberInsert, memberUpdate        string
	memberDelete, memberList, memberExpiredCount string
	loadExpired, loadTeams                       string
}

const (
	licOrgCols    = `id, purchased, active, pending, unassigned, expired, created_at, updated_at`
	licMemberCols = `org, email, state, teams, hold_id, expires_at, invited_by, invited_at, accepted_at, updated_at`
)

var licensesSQL sync.Map // schema prefix -> *licensesQueries

func (q *queries) licenses() *licensesQueries {
	if got, ok := licensesSQL.Load(q.prefix); ok {
		return got.(*licensesQueries)
	}
	r := strings.NewReplacer("{s}", q.prefix)
	sql := func(s string) string { return r.Replace(s) }
	l := &licensesQueries{
		orgGet:    sql(`SELECT ` + licOrgCols + ` FROM {s}allot_license_orgs WHERE id = $1`),
		orgLock:   sql(`SELECT ` + licOrgCols + ` FROM {s}allot_license_orgs WHERE id = $1 FOR UPDATE`),
		orgInsert: sql(`INSERT INTO {s}allot_license_orgs (` + licOrgCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`),
		orgUpdate: sql(`UPDATE {s}allot_license_orgs SET purchased = $2, active = $3, pending = $4, unassigned = $5,
	expired = $6, created_at = $7, updated_at = $8 WHERE id = $1`),

		teamGet:    sql(`SELECT id, active, pending FROM {s}allot_license_teams WHERE org = $1 AND id = $2`),
		teamInsert: sql(`INSERT INTO {s}allot_license_teams (org, id, active, pending) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`),
		teamUpdate: sql(`UPDATE {s}allot_license_teams SET active = $3, pending = $4 WHERE org = $1 AND id = $2`),
		teamList: sql(`SELECT id, active, pending FROM {s}allot_license_teams WHERE org = $1 AND id > $2
	ORDER BY id LIMIT $3`),
		// The expired invitations per team come from the expiry index: only
		// the members pending with an expiry at or before $2 are read.
		teamListAt: sql(`SELECT t.id, t.active, t.pending - coalesce(e.n, 0)
	FROM {s}allot_license_teams t
	LEFT JOIN (SELECT u.team, count(*) AS n
		FROM {s}allot_license_members m, unnest(m.teams) AS u(team)
		WHERE m.org = $1 AND m.state = 'pending' AND m.expires_at IS NOT NULL AND m.expires_at <= $2
		GROUP BY u.team) e ON e.team = t.id
	WHERE t.org = $1 AND t.id > $3 ORDER BY t.id LIMIT $4`),

		memberGet: sql(`SELECT ` + licMemberCols + ` FROM {s}allot_license_members WHERE org = $1 AND email = $2`),
		memberInsert: sql(`INSERT INTO {s}allot_license_members (` + licMemberCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`),
		memberUpdate: sql(`UPDATE {s}allot_license_members SET state = $3, teams = $4, hold_id = $5, expires_at = $6,
	invited_by = $7, invited_at = $8, accepted_at = $9, updated_at = $10 WHERE org = $1 AND email = $2`),
		memberDelete: sql(`DELETE FROM {s}allot_license_members WHERE org = $1 AND email = $2`),
		// The filters of licenses.MemberListParams.Match: $4 the team (''
		// for any), $5 the state ('' for any), read at $6.
		memberList: sql(`SELECT ` + licMemberCols + ` FROM {s}allot_license_members
	WHERE org = $1 AND email > $2
		AND ($4::text = '' OR $4::text COLLATE "C" = ANY (teams))
		AND CASE $5::text
			WHEN '' THEN true
			WHEN 'pending' THEN state = 'pending' AND (expires_at IS NULL OR expires_at > $6::timestamptz)
			WHEN 'expired' THEN state = 'expired' OR (state = 'pending' AND expires_at <= $6::timestamptz)
			ELSE state = $5::text END
	ORDER BY email LIMIT $3`),
		memberExpiredCount: sql(`SELECT count(*) FROM {s}allot_license_members
	WHERE org = $1 AND state = 'pending' AND expires_at IS NOT NULL AND expires_at <= $2`),
		// LicenseLoad's counts, after the organization's lock: $2 the
		// instant, and the organization's updated_at, read under the lock.
		loadExpired: sql(`SELECT count(*) FILTER (WHERE m.expires_at <= $2),
		count(*) FILTER (WHERE m.expires_at <= o.updated_at)
	FROM {s}allot_license_orgs o
	JOIN {s}allot_license_members m ON m.org = o.id AND m.state = 'pending' AND m.expires_at IS NOT NULL
		AND m.expires_at <= greatest($2, o.updated_at)
	WHERE o.id = $1`),
		// LicenseLoad's teams: those named ($2) and the member's ($3).
		loadTeams: sql(`SELECT id, active, pending FROM {s}allot_license_teams
	WHERE org = $1 AND (id = ANY ($2::text[]) OR id IN (
		SELECT unnest(teams) FROM {s}allot_license_members WHERE org = $1 AND email = $3))
	ORDER BY id`),
	}
	got, _ := licensesSQL.LoadOrStore(q.prefix, l)
	return got.(*licensesQueries)
}

// LicenseOrgGet implements licenses.Tx.
func (t *Tx) LicenseOrgGet(ctx context.Context, org string) (licenses.Org, error) {
	return t.licenseOrg(ctx, org, false)
}

// LicenseOrgLock implements licenses.Tx with SELECT ... FOR UPDATE: the
// row stays locked until the transaction ends. As the first statement it
// begins the transaction at READ COMMITTED, so writers wait for the lock
// instead of failing.
func (t *Tx) LicenseOrgLock(ctx context.Context, org string) (licenses.Org, error) {
	return t.licenseOrg(ctx, org, true)
}

func (t *Tx) licenseOrg(ctx context.Context, org string, lock bool) (licenses.Org, error) {
	sql := t.s.q.licenses().orgGet
	if lock {
		sql = t.s.q.licenses().orgLock
	}
	var b pgx.Batch
	var got []licenses.Org
	b.Queue(sql, org).Query(func(rows pgx.Rows) (err error) {
		got, err = scanOrgs(rows)
		return err
	})
	if err := t.run(ctx, &b, lock); err != nil {
		return licenses.Org{}, storeErr(fmt.Sprintf("get license organization %q", org), err)
	}
	if len(got) == 0 {
		return licenses.Org{}, &ledger.NotFoundError{Kind: "license organization", ID: org}
	}
	t.see("lorg\x00" + org)
	if lock {
		t.see("llock\x00" + org)
	}
	return got[0], nil
}

// LicenseLoad implements licenses.Tx in one round trip: the organization's
// lock, then, each statement seeing what committed before the lock was
// granted, the counts, the teams and the member. As the first statement it
// begins the transaction at READ COMMITTED, as LicenseOrgLock does.
func (t *Tx) LicenseLoad(ctx context.Context, p licenses.LoadParams, dst []licenses.Team) (licenses.Loaded, error) {
	q := t.s.q.licenses()
	var l licenses.Loaded
	var b pgx.Batch
	var orgs []licenses.Org
	start := len(dst)
	b.Queue(q.orgLock, p.Org).Query(func(rows pgx.Rows) (err error) {
		orgs, err = scanOrgs(rows)
		return err
	})
	b.Queue(q.loadExpired, p.Org, timestampNotNull(p.At)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&l.Expired, &l.ExpiredByUpdate)
	})
	b.Queue(q.loadTeams, p.Org, textArray(p.Teams), p.Email).Query(func(rows pgx.Rows) error {
		got, err := scanTeams(rows)
		dst = append(dst, got...)
		return err
	})
	var members []licenses.Member
	if p.Email != "" {
		b.Queue(q.memberGet, p.Org, p.Email).Query(func(rows pgx.Rows) (err error) {
			members, err = scanMembers(rows)
			return err
		})
	}
	if err := t.run(ctx, &b, true); err != nil {
		return licenses.Loaded{}, storeErr(fmt.Sprintf("load license organization %q", p.Org), err)
	}
	if len(orgs) == 0 {
		return licenses.Loaded{}, &ledger.NotFoundError{Kind: "license organization", ID: p.Org}
	}
	l.Org = orgs[0]
	t.see("lorg\x00" + p.Org)
	t.see("llock\x00" + p.Org)
	for _, tm := range dst[start:] {
		t.see("lteam\x00" + p.Org + "\x00" + tm.ID)
	}
	if p.Email != "" {
		if len(members) > 0 {
			l.Member, l.Found = members[0], true
			t.see("lmember\x00" + p.Org + "\x00" + p.Email)
		} else {
			t.see("lnomember\x00" + p.Org + "\x00" + p.Email)
		}
	}
	l.Teams = dst
	return l, nil
}

// exec runs one statement and returns the rows it affected.
func (t *Tx) exec(ctx context.Context, what, sql string, args ...any) (int64, error) {
	var b pgx.Batch
	var n int64
	b.Queue(sql, args...).Exec(func(ct pgconn.CommandTag) error {
		n = ct.RowsAffected()
		return nil
	})
	if err := t.run(ctx, &b, false); err != nil {
		return 0, storeErr(what, err)
	}
	return n, nil
}

// LicenseOrgInsert implements licenses.Tx.
func (t *Tx) LicenseOrgInsert(ctx context.Context, o licenses.Org) error {
	n, err := t.exec(ctx, fmt.Sprintf("insert license organization %q", o.ID), t.s.q.licenses().orgInsert,
		o.ID, o.Purchased, o.Active, o.Pending, o.Unassigned, o.Expired, timestampNotNull(o.CreatedAt), timestampNotNull(o.UpdatedAt))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgxstore: license organization %q: %w", o.ID, ledger.ErrAlreadyExists)
	}
	return nil
}

// LicenseOrgUpdate implements licenses.Tx. The table's CHECK constraints
// refuse negative counters. It is sent with the next statement or the
// commit (see execLater): writers lock the organization's row first.
func (t *Tx) LicenseOrgUpdate(ctx context.Context, o licenses.Org) error {
	return t.execLater(ctx, "lorg\x00"+o.ID, fmt.Sprintf("update license organization %q", o.ID), false, nil, t.s.q.licenses().orgUpdate,
		[]any{o.ID, o.Purchased, o.Active, o.Pending, o.Unassigned, o.Expired, timestampNotNull(o.CreatedAt), timestampNotNull(o.UpdatedAt)},
		func() error { return &ledger.NotFoundError{Kind: "license organization", ID: o.ID} })
}

func scanOrgs(rows pgx.Rows) ([]licenses.Org, error) {
	var out []licenses.Org
	for rows.Next() {
		var o licenses.Org
		if err := rows.Scan(&o.ID, &o.Purchased, &o.Active, &o.Pending, &o.Unassigned, &o.Expired, &o.CreatedAt, &o.UpdatedAt); err != nil {
			return nil, err
		}
		o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

func scanTeams(rows pgx.Rows) ([]licenses.Team, error) {
	var out []licenses.Team
	for rows.Next() {
		var tm licenses.Team
		if err := rows.Scan(&tm.ID, &tm.Active, &tm.Pending); err != nil {
			return nil, err
		}
		out = append(out, tm)
	}
	return out, rows.Err()
}

// LicenseTeamGet implements licenses.Tx.
func (t *Tx) LicenseTeamGet(ctx context.Context, org, team string) (licenses.Team, error) {
	var b pgx.Batch
	var got []licenses.Team
	b.Queue(t.s.q.licenses().teamGet, org, team).Query(func(rows pgx.Rows) (err error) {
		got, err = scanTeams(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return licenses.Team{}, storeErr(fmt.Sprintf("get license team %q of %q", team, org), err)
	}
	if len(got) == 0 {
		return licenses.Team{}, &ledger.NotFoundError{Kind: "license team", ID: org + "/" + team}
	}
	t.see("lteam\x00" + org + "\x00" + team)
	return got[0], nil
}

// LicenseTeamInsert implements licenses.Tx.
func (t *Tx) LicenseTeamInsert(ctx context.Context, org string, tm licenses.Team) error {
	n, err := t.exec(ctx, fmt.Sprintf("insert license team %q of %q", tm.ID, org), t.s.q.licenses().teamInsert,
		org, tm.ID, tm.Active, tm.Pending)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgxstore: license team %q of %q: %w", tm.ID, org, ledger.ErrAlreadyExists)
	}
	return nil
}

// LicenseTeamUpdate implements licenses.Tx. It is sent with the next
// statement or the commit (see execLater).
func (t *Tx) LicenseTeamUpdate(ctx context.Context, org string, tm licenses.Team) error {
	return t.execLater(ctx, "lteam\x00"+org+"\x00"+tm.ID, fmt.Sprintf("update license team %q of %q", tm.ID, org), false, nil, t.s.q.licenses().teamUpdate,
		[]any{org, tm.ID, tm.Active, tm.Pending},
		func() error { return &ledger.NotFoundError{Kind: "license team", ID: org + "/" + tm.ID} })
}

// LicenseTeamList implements licenses.Tx.
func (t *Tx) LicenseTeamList(ctx context.Context, p licenses.TeamListParams) ([]licenses.Team, error) {
	var b pgx.Batch
	var got []licenses.Team
	scan := func(rows pgx.Rows) (err error) {
		got, err = scanTeams(rows)
		return err
	}
	var limit *int
	if p.Limit > 0 {
		limit = &p.Limit
	}
	if p.PendingAt.IsZero() {
		b.Queue(t.s.q.licenses().teamList, p.Org, p.After, limit).Query(scan)
	} else {
		b.Queue(t.s.q.licenses().teamListAt, p.Org, timestampNotNull(p.PendingAt), p.After, limit).Query(scan)
	}
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list license teams of %q", p.Org), err)
	}
	return got, nil
}

func memberArgs(m licenses.Member) []any {
	return []any{m.Org, m.Email, string(m.State), textArray(m.Teams), string(m.Hold), timestamp(m.ExpiresAt),
		m.InvitedBy, timestamp(m.InvitedAt), timestamp(m.AcceptedAt), timestamp(m.UpdatedAt)}
}

func scanMembers(rows pgx.Rows) ([]licenses.Member, error) {
	var out []licenses.Member
	for rows.Next() {
		var m licenses.Member
		var state, hold string
		var expires, invited, accepted, updated pgtype.Timestamptz
		if err := rows.Scan(&m.Org, &m.Email, &state, &m.Teams, &hold, &expires, &m.InvitedBy, &invited, &accepted, &updated); err != nil {
			return nil, err
		}
		m.State, m.Hold, m.Teams = licenses.State(state), ledger.TransferID(hold), nilIfEmpty(m.Teams)
		m.ExpiresAt, m.InvitedAt, m.AcceptedAt, m.UpdatedAt = fromTimestamp(expires), fromTimestamp(invited), fromTimestamp(accepted), fromTimestamp(updated)
		out = append(out, m)
	}
	return out, rows.Err()
}

// LicenseMemberGet implements licenses.Tx. Its caller holds the
// organization's lock, so the row cannot change before it is updated.
func (t *Tx) LicenseMemberGet(ctx context.Context, org, email string) (licenses.Member, error) {
	var b pgx.Batch
	var got []licenses.Member
	b.Queue(t.s.q.licenses().memberGet, org, email).Query(func(rows pgx.Rows) (err error) {
		got, err = scanMembers(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return licenses.Member{}, storeErr(fmt.Sprintf("get license member %q of %q", email, org), err)
	}
	if len(got) == 0 {
		if t.seen["llock\x00"+org] {
			t.see("lnomember\x00" + org + "\x00" + email)
		}
		return licenses.Member{}, &ledger.NotFoundError{Kind: "license member", ID: org + "/" + email}
	}
	t.see("lmember\x00" + org + "\x00" + email)
	return got[0], nil
}

// LicenseMemberInsert implements licenses.Tx. It is sent with the next
// statement or the commit (see execLater): writers of an organization's
// members hold its row's lock, so a member the service did not find is not
// inserted by another.
func (t *Tx) LicenseMemberInsert(ctx context.Context, m licenses.Member) error {
	return t.execLater(ctx, "lnomember\x00"+m.Org+"\x00"+m.Email, fmt.Sprintf("insert license member %q of %q", m.Email, m.Org), false, nil, t.s.q.licenses().memberInsert, memberArgs(m),
		func() error {
			return fmt.Errorf("pgxstore: license member %q of %q: %w", m.Email, m.Org, ledger.ErrAlreadyExists)
		})
}

// LicenseMemberUpdate implements licenses.Tx. It is sent with the next
// statement or the commit (see execLater).
func (t *Tx) LicenseMemberUpdate(ctx context.Context, m licenses.Member) error {
	return t.execLater(ctx, "lmember\x00"+m.Org+"\x00"+m.Email, fmt.Sprintf("update license member %q of %q", m.Email, m.Org), false, nil, t.s.q.licenses().memberUpdate, memberArgs(m),
		func() error { return &ledger.NotFoundError{Kind: "license member", ID: m.Org + "/" + m.Email} })
}

// LicenseMemberDelete implements licenses.Tx. It is sent with the next
// statement or the commit (see execLater).
func (t *Tx) LicenseMemberDelete(ctx context.Context, org, email string) error {
	key := "lmember\x00" + org + "\x00" + email
	err := t.execLater(ctx, key, fmt.Sprintf("delete license member %q of %q", email, org), false, nil, t.s.q.licenses().memberDelete, []any{org, email},
		func() error { return &ledger.NotFoundError{Kind: "license member", ID: org + "/" + email} })
	delete(t.seen, key)
	return err
}

// LicenseMemberList implements licenses.Tx.
func (t *Tx) LicenseMemberList(ctx context.Context, p licenses.MemberListParams) ([]licenses.Member, error) {
	var limit *int
	if p.Limit > 0 {
		limit = &p.Limit
	}
	var b pgx.Batch
	var got []licenses.Member
	b.Queue(t.s.q.licenses().memberList, p.Org, p.After, limit, p.Team, string(p.State), timestampNotNull(p.At)).Query(func(rows pgx.Rows) (err error) {
		got, err = scanMembers(rows)
		return err
	})
	if err := t.run(ctx, &b, false); err != nil {
		return nil, storeErr(fmt.Sprintf("list license members of %q", p.Org), err)
	}
	return got, nil
}

// LicenseExpiredCount implements licenses.Tx from the partial index on
// pending invitations' expiry.
func (t *Tx) LicenseExpiredCount(ctx context.Context, org string, by time.Time) (int64, error) {
	var b pgx.Batch
	var n int64
	b.Queue(t.s.q.licenses().memberExpiredCount, org, timestampNotNull(by)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&n)
	})
	if err := t.run(ctx, &b, false); err != nil {
		return 0, storeErr(fmt.Sprintf("count expired invitations of %q", org), err)
	}
	return n, nil
}
