package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
)

// licensesTables are the licenses facet's records and indexes, by
// organization.
type licensesTables struct {
	orgs map[string]*licOrg
}

// licOrg is one organization's tables. It exists once any of its records
// does; rec is set once the organization's own record is inserted.
type licOrg struct {
	rec       *licenses.Org
	teams     map[string]*licTeam
	teamOrder []*licTeam // by ID
	members   map[string]*licenses.Member
	memberIx  sortedIndex[string] // e-mails
	// expiries of the members stored as pending with an expiry: what
	// LicenseExpiredCount counts without a scan. Each team has its own.
	expiry expiryIndex
}

type licTeam struct {
	rec    licenses.Team
	expiry expiryIndex
}

func newLicensesTables() licensesTables {
	return licensesTables{orgs: make(map[string]*licOrg)}
}

// org returns the organization's tables, creating them if create is set
// (nil otherwise).
func (lt *licensesTables) org(id string, create bool) *licOrg {
	o := lt.orgs[id]
	if o == nil && create {
		o = &licOrg{teams: make(map[string]*licTeam), members: make(map[string]*licenses.Member)}
		lt.orgs[id] = o
	}
	return o
}

var _ licenses.Tx = (*Tx)(nil)

// Licenses returns the store's licenses facet.
func (s *Store) Licenses() licenses.Store { return licensesStore{s} }

type licensesStore struct{ s *Store }

// InTx implements licenses.Store.
func (l licensesStore) InTx(ctx context.Context, fn func(tx licenses.Tx) error) error {
	return l.s.inTx(ctx, func(t *Tx) error { return fn(t) })
}

// LicenseOrgGet implements licenses.Tx.
func (t *Tx) LicenseOrgGet(ctx context.Context, org string) (licenses.Org, error) {
	if err := t.check(ctx); err != nil {
		return licenses.Org{}, err
	}
	o := t.s.licenses.org(org, false)
	if o == nil || o.rec == nil {
		return licenses.Org{}, &ledger.NotFoundError{Kind: "license organization", ID: org}
	}
	return *o.rec, nil
}

// LicenseOrgLock implements licenses.Tx. The store's single lock already
// excludes every other transaction.
func (t *Tx) LicenseOrgLock(ctx context.Context, org string) (licenses.Org, error) {
	return t.LicenseOrgGet(ctx, org)
}

// LicenseOrgInsert implements licenses.Tx.
func (t *Tx) LicenseOrgInsert(ctx context.Context, o licenses.Org) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lo := t.s.licenses.org(o.ID, true)
	if lo.rec != nil {
		return fmt.Errorf("memstore: license organization %q: %w", o.ID, ledger.ErrAlreadyExists)
	}
	lo.rec = &o
	t.undo = append(t.undo, func() { lo.rec = nil })
	return nil
}

// LicenseOrgUpdate implements licenses.Tx.
func (t *Tx) LicenseOrgUpdate(ctx context.Context, o licenses.Org) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lo := t.s.licenses.org(o.ID, false)
	if lo == nil || lo.rec == nil {
		return &ledger.NotFoundError{Kind: "license organization", ID: o.ID}
	}
	cur := lo.rec
	old := *cur
	*cur = o
	t.undo = append(t.undo, func() { *cur = old })
	return nil
}

// LicenseTeamGet implements licenses.Tx.
func (t *Tx) LicenseTeamGet(ctx context.Context, org, team string) (licenses.Team, error) {
	if err := t.check(ctx); err != nil {
		return licenses.Team{}, err
	}
	if o := t.s.licenses.org(org, false); o != nil {
		if tm := o.teams[team]; tm != nil {
			return tm.rec, nil
		}
	}
	return licenses.Team{}, &ledger.NotFoundError{Kind: "license team", ID: org + "/" + team}
}

// LicenseTeamInsert implements licenses.Tx.
func (t *Tx) LicenseTeamInsert(ctx context.Context, org string, tm licenses.Team) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	o := t.s.licenses.org(org, true)
	if _, ok := o.teams[tm.ID]; ok {
		return fmt.Errorf("memstore: license team %q of %q: %w", tm.ID, org, ledger.ErrAlreadyExists)
	}
	rec := &licTeam{rec: tm}
	o.teams[tm.ID] = rec
	i, _ := slices.BinarySearchFunc(o.teamOrder, tm.ID, func(x *licTeam, id string) int { return cmp.Compare(x.rec.ID, id) })
	o.teamOrder = slices.Insert(o.teamOrder, i, rec)
	t.undo = append(t.undo, func() {
		delete(o.teams, tm.ID)
		o.teamOrder = slices.DeleteFunc(o.teamOrder, func(x *licTeam) bool { return x == rec })
	})
	return nil
}

// LicenseTeamUpdate implements licenses.Tx.
func (t *Tx) LicenseTeamUpdate(ctx context.Context, org string, tm licenses.Team) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	var cur *licTeam
	if o := t.s.licenses.org(org, false); o != nil {
		cur = o.teams[tm.ID]
	}
	if cur == nil {
		return &ledger.NotFoundError{Kind: "license team", ID: org + "/" + tm.ID}
	}
	old := cur.rec
	cur.rec = tm
	t.undo = append(t.undo, func() { cur.rec = old })
	return nil
}

// LicenseTeamList implements licenses.Tx.
func (t *Tx) LicenseTeamList(ctx context.Context, p licenses.TeamListParams) ([]licenses.Team, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	o := t.s.licenses.org(p.Org, false)
	if o == nil || len(o.teamOrder) == 0 {
		return nil, nil
	}
	at := p.PendingAt.UnixMicro()
	out := make([]licenses.Team, len(o.teamOrder))
	for i, tm := range o.teamOrder {
		out[i] = tm.rec
		if !p.PendingAt.IsZero() {
			out[i].Pending -= tm.expiry.count(at)
		}
	}
	return out, nil
}

// LicenseMemberGet implements licenses.Tx.
func (t *Tx) LicenseMemberGet(ctx context.Context, org, email string) (licenses.Member, error) {
	if err := t.check(ctx); err != nil {
		return licenses.Member{}, err
	}
	if o := t.s.licenses.org(org, false); o != nil {
		if m := o.members[email]; m != nil {
			return copyMember(*m), nil
		}
	}
	return licenses.Member{}, &ledger.NotFoundError{Kind: "license member", ID: org + "/" + email}
}

// LicenseMemberInsert implements licenses.Tx.
func (t *Tx) LicenseMemberInsert(ctx context.Context, m licenses.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	o := t.s.licenses.org(m.Org, true)
	if _, ok := o.members[m.Email]; ok {
		return fmt.Errorf("memstore: license member %q of %q: %w", m.Email, m.Org, ledger.ErrAlreadyExists)
	}
	m = copyMember(m)
	o.members[m.Email] = &m
	o.memberIx.add(m.Email)
	o.indexExpiry(m, true)
	t.undo = append(t.undo, func() {
		delete(o.members, m.Email)
		o.memberIx.remove(m.Email)
		o.indexExpiry(m, false)
	})
	return nil
}

// LicenseMemberUpdate implements licenses.Tx.
func (t *Tx) LicenseMemberUpdate(ctx context.Context, m licenses.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	var cur *licenses.Member
	o := t.s.licenses.org(m.Org, false)
	if o != nil {
		cur = o.members[m.Email]
	}
	if cur == nil {
		return &ledger.NotFoundError{Kind: "license member", ID: m.Org + "/" + m.Email}
	}
	old := *cur
	m = copyMember(m)
	o.indexExpiry(old, false)
	o.indexExpiry(m, true)
	*cur = m
	t.undo = append(t.undo, func() {
		o.indexExpiry(m, false)
		o.indexExpiry(old, true)
		*cur = old
	})
	return nil
}

// LicenseMemberDelete implements licenses.Tx.
func (t *Tx) LicenseMemberDelete(ctx context.Context, org, email string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	var cur *licenses.Member
	o := t.s.licenses.org(org, false)
	if o != nil {
		cur = o.members[email]
	}
	if cur == nil {
		return &ledger.NotFoundError{Kind: "license member", ID: org + "/" + email}
	}
	delete(o.members, email)
	o.memberIx.remove(email)
	o.indexExpiry(*cur, false)
	t.undo = append(t.undo, func() {
		o.members[email] = cur
		o.memberIx.add(email)
		o.indexExpiry(*cur, true)
	})
	return nil
}

// LicenseMemberList implements licenses.Tx.
func (t *Tx) LicenseMemberList(ctx context.Context, p licenses.MemberListParams) ([]licenses.Member, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	o := t.s.licenses.org(p.Org, false)
	if o == nil {
		return nil, nil
	}
	var out []licenses.Member
	for _, email := range o.memberIx.after(p.After) {
		out = append(out, copyMember(*o.members[email]))
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
	}
	return out, nil
}

// LicenseExpiredCount implements licenses.Tx: one binary search in the
// organization's expiry index.
func (t *Tx) LicenseExpiredCount(ctx context.Context, org string, by time.Time) (int64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	o := t.s.licenses.org(org, false)
	if o == nil {
		return 0, nil
	}
	return o.expiry.count(by.UnixMicro()), nil
}

// indexExpiry adds m to (or removes it from) the expiry indexes if it is
// stored as pending with an expiry. A member's teams exist: the service
// checks each team before it adds it.
func (o *licOrg) indexExpiry(m licenses.Member, add bool) {
	if m.State != licenses.StatePending || m.ExpiresAt.IsZero() {
		return
	}
	e := expiryEntry{at: m.ExpiresAt.UnixMicro(), email: m.Email}
	o.expiry.set(e, add)
	for _, team := range m.Teams {
		if tm := o.teams[team]; tm != nil {
			tm.expiry.set(e, add)
		}
	}
}

// expiryIndex is a sorted slice of (expiry, e-mail): counting the entries
// at or before an instant is one binary search.
type expiryIndex struct {
	entries []expiryEntry
}

type expiryEntry struct {
	at    int64 // Unix microseconds
	email string
}

func compareExpiry(a, b expiryEntry) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.email, b.email)
}

func (x *expiryIndex) set(e expiryEntry, add bool) {
	i, found := slices.BinarySearchFunc(x.entries, e, compareExpiry)
	switch {
	case add && !found:
		x.entries = slices.Insert(x.entries, i, e)
	case !add && found:
		x.entries = slices.Delete(x.entries, i, i+1)
	}
}

// count returns how many entries expire at or before at.
func (x *expiryIndex) count(at int64) int64 {
	i, _ := slices.BinarySearchFunc(x.entries, at, func(e expiryEntry, at int64) int {
		if e.at <= at {
			return -1
		}
		return 1
	})
	return int64(i)
}

func copyMember(m licenses.Member) licenses.Member {
	if len(m.Teams) == 0 {
		m.Teams = nil // nil and empty are the same
	} else {
		m.Teams = slices.Clone(m.Teams)
	}
	return m
}
