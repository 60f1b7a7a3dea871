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
// organization, and the undo log of its writes.
type licensesTables struct {
	orgs map[string]*licOrg
	undo licUndoLog
}

// licUndoLog undoes the facet's writes in the running transaction. It is
// kept here so its memory is reused (one transaction runs at a time) and a
// write allocates nothing; the transaction rolls it back or resets it when
// it ends. An entry names the record a write changed; the earlier values of
// updated records sit in stacks by type, so entries stay small.
type licUndoLog struct {
	entries []licUndo
	orgs    []licenses.Org
	teams   []licenses.Team
	members []licenses.Member
}

type licUndo struct {
	kind   licUndoKind
	org    *licOrg
	team   *licTeam         // a team insert or update
	member *licenses.Member // a member write: the stored record
}

type licUndoKind uint8

const (
	licOrgInsert licUndoKind = iota
	licOrgUpdate
	licTeamInsert
	licTeamUpdate
	licMemberInsert
	licMemberUpdate
	licMemberDelete
)

// undoLog returns the facet's undo log.
func (t *Tx) undoLog() *licUndoLog { return &t.s.licenses.undo }

// add logs a write that needs no earlier value to undo it.
func (u *licUndoLog) add(kind licUndoKind, o *licOrg, tm *licTeam, m *licenses.Member) {
	u.entries = append(u.entries, licUndo{kind: kind, org: o, team: tm, member: m})
}

func (u *licUndoLog) orgUpdate(o *licOrg) {
	u.add(licOrgUpdate, o, nil, nil)
	u.orgs = append(u.orgs, *o.rec)
}

func (u *licUndoLog) teamUpdate(o *licOrg, tm *licTeam) {
	u.add(licTeamUpdate, o, tm, nil)
	u.teams = append(u.teams, tm.rec)
}

func (u *licUndoLog) memberUpdate(o *licOrg, m *licenses.Member) {
	u.add(licMemberUpdate, o, nil, m)
	u.members = append(u.members, *m)
}

// rollback undoes the logged writes, newest first. They touch only the
// facet's records, so their order relative to the transaction's other undo
// entries does not matter.
func (u *licUndoLog) rollback() {
	for i := len(u.entries) - 1; i >= 0; i-- {
		e := &u.entries[i]
		o := e.org
		switch e.kind {
		case licOrgInsert:
			o.rec = nil
		case licOrgUpdate:
			*o.rec = pop(&u.orgs)
		case licTeamInsert:
			delete(o.teams, e.team.rec.ID)
			o.teamOrder = slices.DeleteFunc(o.teamOrder, func(x *licTeam) bool { return x == e.team })
		case licTeamUpdate:
			e.team.rec = pop(&u.teams)
		case licMemberInsert:
			o.members.del(e.member.Email)
			o.memberIx.remove(e.member.Email)
			o.indexExpiry(e.member, false)
		case licMemberUpdate:
			o.indexExpiry(e.member, false)
			*e.member = pop(&u.members)
			o.indexExpiry(e.member, true)
		case licMemberDelete:
			o.members.put(e.member)
			o.memberIx.add(e.member.Email)
			o.indexExpiry(e.member, true)
		}
	}
	u.reset()
}

// reset empties the log, dropping its references to records.
func (u *licUndoLog) reset() {
	clear(u.entries)
	clear(u.orgs)
	clear(u.teams)
	clear(u.members)
	u.entries, u.orgs, u.teams, u.members = u.entries[:0], u.orgs[:0], u.teams[:0], u.members[:0]
}

// pop removes and returns the last element of *s.
func pop[T any](s *[]T) T {
	v := (*s)[len(*s)-1]
	*s = (*s)[:len(*s)-1]
	return v
}

// licOrg is one organization's tables. It exists once any of its records
// does; rec is set once the organization's own record is inserted.
type licOrg struct {
	rec       *licenses.Org
	teams     map[string]*licTeam
	teamOrder []*licTeam // by ID
	members   memberSet
	memberIx  sortedIndex[string] // e-mails
	// expiries of the members stored as pending with an expiry: what
	// LicenseExpiredCount counts without a scan. Each team has its own.
	expiry expiryIndex
}

// memberSet finds an organization's members by e-mail: the records in the
// order they were stored, found through an index of hashes and positions,
// which costs less to grow and to search than a map keyed by e-mail. A
// deleted member leaves a hole in the order.
type memberSet struct {
	recs []*licenses.Member
	ix   index
}

func (ms *memberSet) emailAt(pos int) string { return ms.recs[pos].Email }

// get returns the member with this e-mail, or nil.
func (ms *memberSet) get(email string) *licenses.Member {
	pos, ok := ms.ix.find(email, ms.emailAt)
	if !ok {
		return nil
	}
	return ms.recs[pos]
}

// put stores m, whose e-mail must not be taken.
func (ms *memberSet) put(m *licenses.Member) {
	ms.ix.add(m.Email, len(ms.recs))
	ms.recs = appendDoubling(ms.recs, m)
}

// del removes the member with this e-mail, which must be stored.
func (ms *memberSet) del(email string) {
	pos, _ := ms.ix.find(email, ms.emailAt)
	ms.ix.remove(email, pos)
	ms.recs[pos] = nil
	if pos == len(ms.recs)-1 {
		ms.recs = ms.recs[:pos]
	}
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
		o = &licOrg{teams: make(map[string]*licTeam), members: memberSet{ix: newIndex()}}
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

// LicenseLoad implements licenses.Tx: the organization's record, two
// binary searches in its expiry index, and the member and teams, as the
// single methods read them.
func (t *Tx) LicenseLoad(ctx context.Context, p licenses.LoadParams, dst []licenses.Team) (licenses.Loaded, error) {
	var l licenses.Loaded
	var err error
	if l.Org, err = t.LicenseOrgLock(ctx, p.Org); err != nil {
		return licenses.Loaded{}, err
	}
	o := t.s.licenses.org(p.Org, false)
	l.Expired = o.expiry.count(p.At.UnixMicro())
	l.ExpiredByUpdate = o.expiry.count(l.Org.UpdatedAt.UnixMicro())
	var teams []string
	if p.Email != "" {
		if m := o.members.get(p.Email); m != nil {
			l.Member, l.Found = copyMember(*m), true
			teams = m.Teams
		}
	}
	start := len(dst)
	add := func(id string) {
		tm := o.teams[id]
		if tm == nil || slices.ContainsFunc(dst[start:], func(x licenses.Team) bool { return x.ID == id }) {
			return
		}
		dst = append(dst, tm.rec)
	}
	for _, id := range p.Teams {
		add(id)
	}
	for _, id := range teams {
		add(id)
	}
	slices.SortFunc(dst[start:], func(a, b licenses.Team) int { return cmp.Compare(a.ID, b.ID) })
	l.Teams = dst
	return l, nil
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
	t.undoLog().add(licOrgInsert, lo, nil, nil)
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
	t.undoLog().orgUpdate(lo)
	*lo.rec = o
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
	t.undoLog().add(licTeamInsert, o, rec, nil)
	return nil
}

// LicenseTeamUpdate implements licenses.Tx.
func (t *Tx) LicenseTeamUpdate(ctx context.Context, org string, tm licenses.Team) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	var cur *licTeam
	o := t.s.licenses.org(org, false)
	if o != nil {
		cur = o.teams[tm.ID]
	}
	if cur == nil {
		return &ledger.NotFoundError{Kind: "license team", ID: org + "/" + tm.ID}
	}
	t.undoLog().teamUpdate(o, cur)
	cur.rec = tm
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
	teams := o.teamOrder
	if p.After != "" {
		i, found := slices.BinarySearchFunc(teams, p.After, func(x *licTeam, id string) int { return cmp.Compare(x.rec.ID, id) })
		if found {
			i++
		}
		teams = teams[i:]
	}
	if p.Limit > 0 && len(teams) > p.Limit {
		teams = teams[:p.Limit]
	}
	if len(teams) == 0 {
		return nil, nil
	}
	out := make([]licenses.Team, len(teams))
	for i, tm := range teams {
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
		if m := o.members.get(email); m != nil {
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
	if o.members.get(m.Email) != nil {
		return fmt.Errorf("memstore: license member %q of %q: %w", m.Email, m.Org, ledger.ErrAlreadyExists)
	}
	rec := new(licenses.Member)
	*rec = storedMember(m, nil)
	o.members.put(rec)
	o.memberIx.add(rec.Email)
	o.indexExpiry(rec, true)
	t.undoLog().add(licMemberInsert, o, nil, rec)
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
		cur = o.members.get(m.Email)
	}
	if cur == nil {
		return &ledger.NotFoundError{Kind: "license member", ID: m.Org + "/" + m.Email}
	}
	t.undoLog().memberUpdate(o, cur)
	o.indexExpiry(cur, false)
	*cur = storedMember(m, cur.Teams)
	o.indexExpiry(cur, true)
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
		cur = o.members.get(email)
	}
	if cur == nil {
		return &ledger.NotFoundError{Kind: "license member", ID: org + "/" + email}
	}
	o.members.del(email)
	o.memberIx.remove(email)
	o.indexExpiry(cur, false)
	t.undoLog().add(licMemberDelete, o, nil, cur)
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
	// The filter is a scan from After on: it reads members until Limit of
	// them match.
	var out []licenses.Member
	for _, email := range o.memberIx.after(p.After) {
		m := o.members.get(email)
		if !p.Match(*m) {
			continue
		}
		out = append(out, copyMember(*m))
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
func (o *licOrg) indexExpiry(m *licenses.Member, add bool) {
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

// storedMember returns m as it is stored over a record whose teams are
// prev: with a copy of its teams, or prev itself if they are equal. A
// stored Teams slice is never written in place (reads hand out copies), so
// the versions of a record and the undo log may share it.
func storedMember(m licenses.Member, prev []string) licenses.Member {
	if len(prev) > 0 && slices.Equal(m.Teams, prev) {
		m.Teams = prev
		return m
	}
	return copyMember(m)
}
