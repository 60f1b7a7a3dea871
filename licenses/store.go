package licenses

import (
	"context"
	"slices"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
)

// Org is an organization's record: its counters, kept current by every
// operation in the same transaction as the operation's ledger transfers.
//
// The zero value of each counter is zero. Pending counts the members whose
// stored state is pending, including invitations that have expired but that
// no write has touched since; Summary subtracts those at read time.
type Org struct {
	ID         string
	Purchased  int64 // licenses bought, net of reductions
	Active     int64 // members in state active
	Pending    int64 // members stored as pending (expired or not)
	Unassigned int64 // members in state unassigned
	Expired    int64 // members stored as expired: they hold no license
	CreatedAt  time.Time
	// UpdatedAt is when a write last changed the record or emitted events:
	// the instant the events last told the organization's counts.
	UpdatedAt time.Time
}

// Team is a team of an organization with its counters: how many of its
// members are active and how many are pending. A member in several teams
// counts in each team, and once in the organization's totals.
//
// As stored, Pending counts the members stored as pending, including
// invitations that expired since they were last written; in a Summary it
// leaves those out. The record is kept small (its organization is named by
// the Tx methods, and it has no timestamps) because Summary copies every
// team's.
type Team struct {
	ID      string
	Active  int64
	Pending int64
}

// Licenses is the number of licenses the team's members hold.
func (t Team) Licenses() int64 { return t.Active + t.Pending }

// Member is a member (a user) of an organization: the holder of at most one
// license.
//
// State is the state as stored; a pending member whose invitation has
// expired reads as StateExpired through Service methods (see Member.At).
// Teams is sorted and holds no duplicates; nil and empty are the same.
type Member struct {
	Org   string
	Email string // normalised: trimmed, lower case
	State State
	Teams []string

	// Hold is the ledger hold that reserves the member's license while the
	// invitation is pending; it is kept afterwards as a record of it.
	Hold ledger.TransferID
	// ExpiresAt ends the pending invitation; zero means it never expires.
	ExpiresAt  time.Time
	InvitedBy  string
	InvitedAt  time.Time
	AcceptedAt time.Time // zero until accepted
	UpdatedAt  time.Time
}

// At returns m as it reads at now: a pending member whose invitation expired
// at or before now reads as StateExpired.
func (m Member) At(now time.Time) Member {
	if m.State == StatePending && expired(m.ExpiresAt, now) {
		m.State = StateExpired
	}
	return m
}

// InTeam reports whether m is a member of team.
func (m Member) InTeam(team string) bool {
	_, ok := slices.BinarySearch(m.Teams, team)
	return ok
}

// TeamListParams select an organization's teams, ordered by ID.
type TeamListParams struct {
	Org   string
	After string // only IDs greater than this one
	Limit int    // at most this many; zero or negative means no limit
	// PendingAt, if set, makes each team's Pending leave out the members
	// stored as pending whose ExpiresAt is set and at or before it: the
	// invitations that have expired by then. Zero: Pending as stored.
	PendingAt time.Time
}

// MemberListParams select a page of an organization's members, ordered by
// e-mail. The store filters: Limit counts the members that match, so a page
// is short only when no later member matches.
type MemberListParams struct {
	Org   string
	After string // only e-mails greater than this one
	Limit int    // at most this many; zero or negative means no limit

	// State, if set, keeps only the members in that state as they read at
	// At (see Member.At): StatePending keeps those stored as pending whose
	// ExpiresAt is zero or after At; StateExpired keeps those stored as
	// expired and those stored as pending whose ExpiresAt is set and at or
	// before At; StateActive and StateUnassigned keep those stored so.
	State State
	At    time.Time
	// Team, if set, keeps only the members in that team.
	Team string
}

// Match reports whether the stored member m is one p selects by State, At
// and Team (not by Org, After or Limit): the filter every store applies.
func (p MemberListParams) Match(m Member) bool {
	if p.Team != "" && !m.InTeam(p.Team) {
		return false
	}
	return p.State == StateNone || m.At(p.At).State == p.State
}

// LoadParams name what an act reads before it writes (Tx.LicenseLoad): the
// organization, locked, its expired invitations, and a member and teams.
type LoadParams struct {
	Org string
	// At is the instant the expired invitations are counted at.
	At time.Time
	// Email, if set, is the normalised e-mail of the member to read.
	Email string
	// Teams are the IDs of teams to read, besides those of the member.
	Teams []string
}

// Loaded is what Tx.LicenseLoad read.
type Loaded struct {
	// Org is the organization's record, locked as by LicenseOrgLock.
	Org Org
	// Expired counts the organization's members stored as pending whose
	// ExpiresAt is set and at or before LoadParams.At, as
	// LicenseExpiredCount does; ExpiredByUpdate counts those whose ExpiresAt
	// is set and at or before Org.UpdatedAt.
	Expired, ExpiredByUpdate int64
	// Teams are the teams named in LoadParams.Teams and those Member is in
	// that exist, each once, ordered by ID; a team named that does not
	// exist is left out.
	Teams []Team
	// Member is the member LoadParams.Email names, if Found.
	Member Member
	Found  bool
}

// Tx is the storage licenses needs inside one transaction: the ledger's,
// the outbox's, and the organization, team and member records. Every value passed in or
// returned is a copy. Get, Update and Delete of a missing record return an
// error matching ledger.ErrNotFound; Insert of a taken key returns one
// matching ledger.ErrAlreadyExists.
type Tx interface {
	ledger.Tx
	// Emit writes the act's events in the transaction (events.Emitter).
	events.Emitter

	// LicenseOrgGet returns the organization's record without locking it.
	LicenseOrgGet(ctx context.Context, org string) (Org, error)
	// LicenseOrgLock returns the organization's record and locks it for the
	// rest of the transaction. Every write of an organization's records
	// (its teams, members and counters) takes this lock first, so writers of
	// one organization run one after the other and none works from a stale
	// read.
	LicenseOrgLock(ctx context.Context, org string) (Org, error)
	// LicenseLoad reads, in this order, what an act needs before it
	// writes: it locks the organization's record as LicenseOrgLock does,
	// then counts its expired invitations and reads the teams and the
	// member p names. The teams are appended to dst, which may be nil, and
	// returned in Loaded.Teams. A missing organization is an error
	// matching ledger.ErrNotFound; a missing member is not an error
	// (Loaded.Found is false), and a missing team is left out.
	LicenseLoad(ctx context.Context, p LoadParams, dst []Team) (Loaded, error)
	// LicenseOrgInsert stores a new organization.
	LicenseOrgInsert(ctx context.Context, o Org) error
	// LicenseOrgUpdate replaces an organization's record.
	LicenseOrgUpdate(ctx context.Context, o Org) error

	// LicenseTeamGet returns one team.
	LicenseTeamGet(ctx context.Context, org, team string) (Team, error)
	// LicenseTeamInsert stores a new team.
	LicenseTeamInsert(ctx context.Context, org string, t Team) error
	// LicenseTeamUpdate replaces a team's record.
	LicenseTeamUpdate(ctx context.Context, org string, t Team) error
	// LicenseTeamList returns the organization's teams ordered by ID.
	LicenseTeamList(ctx context.Context, p TeamListParams) ([]Team, error)

	// LicenseMemberGet returns one member by normalised e-mail.
	LicenseMemberGet(ctx context.Context, org, email string) (Member, error)
	// LicenseMemberInsert stores a new member.
	LicenseMemberInsert(ctx context.Context, m Member) error
	// LicenseMemberUpdate replaces a member's record.
	LicenseMemberUpdate(ctx context.Context, m Member) error
	// LicenseMemberDelete removes a member's record.
	LicenseMemberDelete(ctx context.Context, org, email string) error
	// LicenseMemberList returns members ordered by e-mail.
	LicenseMemberList(ctx context.Context, p MemberListParams) ([]Member, error)
	// LicenseExpiredCount counts the organization's members stored as
	// pending whose ExpiresAt is set and at or before by. Stores keep an
	// index on it (and per team, for TeamListParams.PendingAt) so the count
	// does not scan every member.
	LicenseExpiredCount(ctx context.Context, org string, by time.Time) (int64, error)
}

// Store runs functions in serializable transactions. Implementations must
// pass storetest.Run.
//
// InTx calls fn, once or again after a transient conflict, only before it
// returns, and never twice at once: the service reuses what fn works in.
type Store interface {
	InTx(ctx context.Context, fn func(tx Tx) error) error
}
