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

// licensesTables are the licenses facet's records and indexes.
type licensesTables struct {
	orgs     map[string]*licenses.Org
	teams    map[licKey]*licenses.Team
	teamIx   map[string]*sortedIndex[string] // team IDs by org
	members  map[licKey]*licenses.Member
	memberIx map[string]*sortedIndex[string] // e-mails by org
	// expiries of the members stored as pending with an expiry, by org and
	// by org and team: what LicenseExpiredCount counts without a scan.
	expiry     map[string]*expiryIndex
	teamExpiry map[string]map[string]*expiryIndex
}

// licKey is an organization and a team ID or an e-mail.
type licKey struct{ org, id string }

func newLicensesTables() licensesTables {
	return licensesTables{
		orgs:       make(map[string]*licenses.Org),
		teams:      make(map[licKey]*licenses.Team),
		teamIx:     make(map[string]*sortedIndex[string]),
		members:    make(map[licKey]*licenses.Member),
		memberIx:   make(map[string]*sortedIndex[string]),
		expiry:     make(map[string]*expiryIndex),
		teamExpiry: make(map[string]map[string]*expiryIndex),
	}
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
	o, ok := t.s.licenses.orgs[org]
	if !ok {
		return licenses.Org{}, fmt.Errorf("memstore: license organization %q: %w", org, ledger.ErrNotFound)
	}
	return *o, nil
}

// LicenseOrgInsert implements licenses.Tx.
func (t *Tx) LicenseOrgInsert(ctx context.Context, o licenses.Org) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lt := &t.s.licenses
	if _, ok := lt.orgs[o.ID]; ok {
		return fmt.Errorf("memstore: license organization %q: %w", o.ID, ledger.ErrAlreadyExists)
	}
	lt.orgs[o.ID] = &o
	t.undo = append(t.undo, func() { delete(lt.orgs, o.ID) })
	return nil
}

// LicenseOrgUpdate implements licenses.Tx.
func (t *Tx) LicenseOrgUpdate(ctx context.Context, o licenses.Org) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	cur, ok := t.s.licenses.orgs[o.ID]
	if !ok {
		return fmt.Errorf("memstore: license organization %q: %w", o.ID, ledger.ErrNotFound)
	}
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
	tm, ok := t.s.licenses.teams[licKey{org, team}]
	if !ok {
		return licenses.Team{}, fmt.Errorf("memstore: license team %q of %q: %w", team, org, ledger.ErrNotFound)
	}
	return *tm, nil
}

// LicenseTeamInsert implements licenses.Tx.
func (t *Tx) LicenseTeamInsert(ctx context.Context, tm licenses.Team) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lt := &t.s.licenses
	k := licKey{tm.Org, tm.ID}
	if _, ok := lt.teams[k]; ok {
		return fmt.Errorf("memstore: license team %q of %q: %w", tm.ID, tm.Org, ledger.ErrAlreadyExists)
	}
	lt.teams[k] = &tm
	ix := lt.teamIx[tm.Org]
	if ix == nil {
		ix = &sortedIndex[string]{}
		lt.teamIx[tm.Org] = ix
	}
	ix.add(tm.ID)
	t.undo = append(t.undo, func() {
		delete(lt.teams, k)
		ix.remove(tm.ID)
	})
	return nil
}

// LicenseTeamUpdate implements licenses.Tx.
func (t *Tx) LicenseTeamUpdate(ctx context.Context, tm licenses.Team) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	cur, ok := t.s.licenses.teams[licKey{tm.Org, tm.ID}]
	if !ok {
		return fmt.Errorf("memstore: license team %q of %q: %w", tm.ID, tm.Org, ledger.ErrNotFound)
	}
	old := *cur
	*cur = tm
	t.undo = append(t.undo, func() { *cur = old })
	return nil
}

// LicenseTeamList implements licenses.Tx.
func (t *Tx) LicenseTeamList(ctx context.Context, org string) ([]licenses.Team, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	ix := t.s.licenses.teamIx[org]
	if ix == nil {
		return nil, nil
	}
	ids := ix.after("")
	out := make([]licenses.Team, len(ids))
	for i, id := range ids {
		out[i] = *t.s.licenses.teams[licKey{org, id}]
	}
	return out, nil
}

// LicenseMemberGet implements licenses.Tx.
func (t *Tx) LicenseMemberGet(ctx context.Context, org, email string) (licenses.Member, error) {
	if err := t.check(ctx); err != nil {
		return licenses.Member{}, err
	}
	m, ok := t.s.licenses.members[licKey{org, email}]
	if !ok {
		return licenses.Member{}, fmt.Errorf("memstore: license member %q of %q: %w", email, org, ledger.ErrNotFound)
	}
	return copyMember(*m), nil
}

// LicenseMemberInsert implements licenses.Tx.
func (t *Tx) LicenseMemberInsert(ctx context.Context, m licenses.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lt := &t.s.licenses
	k := licKey{m.Org, m.Email}
	if _, ok := lt.members[k]; ok {
		return fmt.Errorf("memstore: license member %q of %q: %w", m.Email, m.Org, ledger.ErrAlreadyExists)
	}
	m = copyMember(m)
	lt.members[k] = &m
	ix := lt.memberIx[m.Org]
	if ix == nil {
		ix = &sortedIndex[string]{}
		lt.memberIx[m.Org] = ix
	}
	ix.add(m.Email)
	lt.indexExpiry(m, true)
	t.undo = append(t.undo, func() {
		delete(lt.members, k)
		ix.remove(m.Email)
		lt.indexExpiry(m, false)
	})
	return nil
}

// LicenseMemberUpdate implements licenses.Tx.
func (t *Tx) LicenseMemberUpdate(ctx context.Context, m licenses.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lt := &t.s.licenses
	cur, ok := lt.members[licKey{m.Org, m.Email}]
	if !ok {
		return fmt.Errorf("memstore: license member %q of %q: %w", m.Email, m.Org, ledger.ErrNotFound)
	}
	old := *cur
	m = copyMember(m)
	lt.indexExpiry(old, false)
	lt.indexExpiry(m, true)
	*cur = m
	t.undo = append(t.undo, func() {
		lt.indexExpiry(m, false)
		lt.indexExpiry(old, true)
		*cur = old
	})
	return nil
}

// LicenseMemberDelete implements licenses.Tx.
func (t *Tx) LicenseMemberDelete(ctx context.Context, org, email string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	lt := &t.s.licenses
	k := licKey{org, email}
	cur, ok := lt.members[k]
	if !ok {
		return fmt.Errorf("memstore: license member %q of %q: %w", email, org, ledger.ErrNotFound)
	}
	ix := lt.memberIx[org]
	delete(lt.members, k)
	ix.remove(email)
	lt.indexExpiry(*cur, false)
	t.undo = append(t.undo, func() {
		lt.members[k] = cur
		ix.add(email)
		lt.indexExpiry(*cur, true)
	})
	return nil
}

// LicenseMemberList implements licenses.Tx.
func (t *Tx) LicenseMemberList(ctx context.Context, p licenses.MemberListParams) ([]licenses.Member, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	ix := t.s.licenses.memberIx[p.Org]
	if ix == nil {
		return nil, nil
	}
	var out []licenses.Member
	for _, email := range ix.after(p.After) {
		out = append(out, copyMember(*t.s.licenses.members[licKey{p.Org, email}]))
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
	}
	return out, nil
}

// LicenseExpiredCount implements licenses.Tx: binary searches in the
// organization's expiry index and in each of its teams' that has entries.
func (t *Tx) LicenseExpiredCount(ctx context.Context, org string, by time.Time) (licenses.ExpiredCounts, error) {
	if err := t.check(ctx); err != nil {
		return licenses.ExpiredCounts{}, err
	}
	lt := &t.s.licenses
	var c licenses.ExpiredCounts
	ix := lt.expiry[org]
	if ix == nil {
		return c, nil
	}
	at := by.UnixMicro()
	if c.Total = ix.count(at); c.Total == 0 {
		return c, nil
	}
	for team, tix := range lt.teamExpiry[org] {
		if n := tix.count(at); n > 0 {
			if c.ByTeam == nil {
				c.ByTeam = make(map[string]int64)
			}
			c.ByTeam[team] = n
		}
	}
	return c, nil
}

// indexExpiry adds m to (or removes it from) the expiry indexes if it is
// stored as pending with an expiry.
func (lt *licensesTables) indexExpiry(m licenses.Member, add bool) {
	if m.State != licenses.StatePending || m.ExpiresAt.IsZero() {
		return
	}
	e := expiryEntry{at: m.ExpiresAt.UnixMicro(), email: m.Email}
	ix := lt.expiry[m.Org]
	if ix == nil {
		ix = &expiryIndex{}
		lt.expiry[m.Org] = ix
	}
	ix.set(e, add)
	byTeam := lt.teamExpiry[m.Org]
	if byTeam == nil {
		byTeam = make(map[string]*expiryIndex)
		lt.teamExpiry[m.Org] = byTeam
	}
	for _, team := range m.Teams {
		tix := byTeam[team]
		if tix == nil {
			tix = &expiryIndex{}
			byTeam[team] = tix
		}
		tix.set(e, add)
		if len(tix.entries) == 0 {
			delete(byTeam, team)
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
	m.Teams = slices.Clone(m.Teams)
	return m
}
