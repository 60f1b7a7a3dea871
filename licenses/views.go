package licenses

import (
	"context"
	"encoding/base64"
	"iter"
	"strconv"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/internal/paging"
	"github.com/allot-dev/allot/ledger"
)

// SummaryParams ask for an organization's consumption.
type SummaryParams struct {
	Org   string
	Actor string // must be an Org Admin
}

// Summary returns the organization's consumption now: Powtoon's license
// page, the Org Admin's. It reads the organization's counters, its teams'
// counters and a count of expired invitations from an index: its cost
// does not grow with the number of members.
func (s *Service) Summary(ctx context.Context, p SummaryParams) (Summary, error) {
	sum, err := s.summary(ctx, p)
	if err != nil {
		return Summary{}, wrap(err, p.Org, "summary of %q", p.Org)
	}
	return sum, nil
}

// checkSummary validates p and checks the actor's role.
func (s *Service) checkSummary(ctx context.Context, p SummaryParams) error {
	if err := validID("Org", p.Org); err != nil {
		return err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return err
	}
	return s.require(ctx, p.Org, a, "read the license page", OrgAdmin)
}

func (s *Service) summary(ctx context.Context, p SummaryParams) (Summary, error) {
	if err := s.checkSummary(ctx, p); err != nil {
		return Summary{}, err
	}
	var sum Summary
	err := s.store.InTx(ctx, func(tx Tx) error {
		// Read only: no Book needed, the same instant a Book would use.
		o := op{ctx: ctx, tx: tx, now: ledger.Instant(s.clock.Now())}
		if err := o.readOrg(p.Org); err != nil {
			return err
		}
		var err error
		sum, err = o.summary()
		return err
	})
	return sum, err
}

// MemberParams name a member to read.
type MemberParams struct {
	Org string
	// Actor must be an Org Admin, a Team Admin of one of the member's
	// teams, or the member itself.
	Actor string
	Email string
}

// Member returns a member as it reads now (an expired invitation reads as
// StateExpired). The member's teams decide which Team Admins may read it,
// so the record is read before the role is checked; an actor who may not
// read it is refused with an *allot.ForbiddenError whether or not the
// member exists.
func (s *Service) Member(ctx context.Context, p MemberParams) (Member, error) {
	m, err := s.member(ctx, p)
	if err != nil {
		return Member{}, wrap(err, p.Org, "get member %q of %q", p.Email, p.Org)
	}
	return m, nil
}

func (s *Service) member(ctx context.Context, p MemberParams) (Member, error) {
	if err := validID("Org", p.Org); err != nil {
		return Member{}, err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return Member{}, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return Member{}, err
	}
	var m Member
	err = s.store.InTx(ctx, func(tx Tx) error {
		got, err := tx.LicenseMemberGet(ctx, p.Org, email)
		if err != nil {
			return notFound(err, "member", p.Org, email)
		}
		m = got.At(ledger.Instant(s.clock.Now()))
		return nil
	})
	if a == email {
		return m, err
	}
	need := []allot.Role{OrgAdmin}
	if err == nil {
		for _, t := range m.Teams {
			need = append(need, TeamAdmin(t))
		}
	}
	if rerr := s.require(ctx, p.Org, a, "read member "+strconv.Quote(email), need...); rerr != nil {
		return Member{}, rerr
	}
	return m, err
}

// MembersParams select a page of an organization's members, ordered by
// e-mail.
type MembersParams struct {
	Org string
	// Actor must be an Org Admin, or, when Team is set, a Team Admin of
	// Team.
	Actor string
	// State, if set, keeps the members in that state as they read now:
	// StateActive, StateUnassigned, StatePending (invitations not expired
	// at now) or StateExpired (invitations expired unaccepted, whether a
	// write marked them or not). Empty: every member.
	State State
	// Team, if set, keeps the members of that team.
	Team   string
	Cursor string // Next of the previous page; empty for the first page
	Limit  int    // members per page: 0 means allot.DefaultLimit, at most allot.MaxLimit
}

// MembersPage returns a page of the organization's members that match
// p.State and p.Team, as they read now. The store filters, so a page is
// short only at the end. A Cursor of another listing (another
// organization, state or team) is refused as invalid.
func (s *Service) MembersPage(ctx context.Context, p MembersParams) (allot.Page[Member], error) {
	pg, err := s.membersPage(ctx, p)
	if err != nil {
		return allot.Page[Member]{}, wrap(err, p.Org, "list members of %q", p.Org)
	}
	return pg, nil
}

// Members yields the members MembersPage lists, from p.Cursor on, reading
// a page at a time, each in a transaction of its own, each as it reads
// when its page is read. It stops at the first error, which it yields.
func (s *Service) Members(ctx context.Context, p MembersParams) iter.Seq2[Member, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[Member], error) {
		p.Cursor = cursor
		return s.MembersPage(ctx, p)
	})
}

// checkMembers validates p and checks the actor's role, and returns the
// listing's cursor scope, the position its cursor holds and its limit.
func (s *Service) checkMembers(ctx context.Context, p MembersParams) (scope []string, after string, limit int, err error) {
	if err := validID("Org", p.Org); err != nil {
		return nil, "", 0, err
	}
	switch p.State {
	case StateNone, StateActive, StatePending, StateUnassigned, StateExpired:
	default:
		return nil, "", 0, invalid("State", "%q is not a member state; give active, pending, unassigned, expired, or none for every member", string(p.State))
	}
	if p.Team != "" {
		if err := validID("Team", p.Team); err != nil {
			return nil, "", 0, err
		}
	}
	limit, reason := paging.Limit(p.Limit)
	if reason != "" {
		return nil, "", 0, invalid("Limit", "%s", reason)
	}
	scope = []string{"members", p.Org, string(p.State), p.Team}
	if after, err = parseCursor(p.Cursor, scope...); err != nil {
		return nil, "", 0, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return nil, "", 0, err
	}
	need := []allot.Role{OrgAdmin}
	action := "list the members"
	if p.Team != "" {
		need = append(need, TeamAdmin(p.Team))
		action = "list the members of team " + strconv.Quote(p.Team)
	}
	if err := s.require(ctx, p.Org, a, action, need...); err != nil {
		return nil, "", 0, err
	}
	return scope, after, limit, nil
}

func (s *Service) membersPage(ctx context.Context, p MembersParams) (allot.Page[Member], error) {
	var pg allot.Page[Member]
	scope, after, limit, err := s.checkMembers(ctx, p)
	if err != nil {
		return pg, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		now := ledger.Instant(s.clock.Now())
		if _, err := tx.LicenseOrgGet(ctx, p.Org); err != nil {
			return notFound(err, "organization", p.Org, p.Org)
		}
		if p.Team != "" {
			if _, err := tx.LicenseTeamGet(ctx, p.Org, p.Team); err != nil {
				return notFound(err, "team", p.Org, p.Team)
			}
		}
		ms, err := tx.LicenseMemberList(ctx, MemberListParams{
			Org: p.Org, After: after, Limit: limit + 1, State: p.State, At: now, Team: p.Team,
		})
		if err != nil {
			return err
		}
		pg = allot.Page[Member]{}
		if len(ms) > limit {
			ms = ms[:limit]
			pg.Next = cursor(append(scope, ms[limit-1].Email)...)
		}
		for i := range ms {
			ms[i] = ms[i].At(now)
		}
		pg.Items = ms
		return nil
	})
	return pg, err
}

// TeamsParams select a page of an organization's teams, ordered by ID.
type TeamsParams struct {
	Org    string
	Actor  string // must be an Org Admin
	Cursor string // Next of the previous page; empty for the first page
	Limit  int    // teams per page: 0 means allot.DefaultLimit, at most allot.MaxLimit
}

// TeamsPage returns a page of the organization's teams with their
// counters as they read now (expired invitations left out of Pending), as
// in Summary.Teams.
func (s *Service) TeamsPage(ctx context.Context, p TeamsParams) (allot.Page[Team], error) {
	pg, err := s.teamsPage(ctx, p)
	if err != nil {
		return allot.Page[Team]{}, wrap(err, p.Org, "list teams of %q", p.Org)
	}
	return pg, nil
}

// Teams yields the teams TeamsPage lists, from p.Cursor on, a page at a
// time, each in a transaction of its own. It stops at the first error,
// which it yields.
func (s *Service) Teams(ctx context.Context, p TeamsParams) iter.Seq2[Team, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[Team], error) {
		p.Cursor = cursor
		return s.TeamsPage(ctx, p)
	})
}

// checkTeams validates p and checks the actor's role, and returns the
// listing's cursor scope, the position its cursor holds and its limit.
func (s *Service) checkTeams(ctx context.Context, p TeamsParams) (scope []string, after string, limit int, err error) {
	if err := validID("Org", p.Org); err != nil {
		return nil, "", 0, err
	}
	limit, reason := paging.Limit(p.Limit)
	if reason != "" {
		return nil, "", 0, invalid("Limit", "%s", reason)
	}
	scope = []string{"teams", p.Org}
	if after, err = parseCursor(p.Cursor, scope...); err != nil {
		return nil, "", 0, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return nil, "", 0, err
	}
	if err := s.require(ctx, p.Org, a, "list the teams", OrgAdmin); err != nil {
		return nil, "", 0, err
	}
	return scope, after, limit, nil
}

func (s *Service) teamsPage(ctx context.Context, p TeamsParams) (allot.Page[Team], error) {
	var pg allot.Page[Team]
	scope, after, limit, err := s.checkTeams(ctx, p)
	if err != nil {
		return pg, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.LicenseOrgGet(ctx, p.Org); err != nil {
			return notFound(err, "organization", p.Org, p.Org)
		}
		ts, err := tx.LicenseTeamList(ctx, TeamListParams{
			Org: p.Org, After: after, Limit: limit + 1, PendingAt: ledger.Instant(s.clock.Now()),
		})
		if err != nil {
			return err
		}
		pg = allot.Page[Team]{}
		if len(ts) > limit {
			ts = ts[:limit]
			pg.Next = cursor(append(scope, ts[limit-1].ID)...)
		}
		pg.Items = ts
		return nil
	})
	return pg, err
}

// HistoryParams select a page of a member's license history.
type HistoryParams struct {
	Org    string
	Actor  string // must be an Org Admin or the member itself
	Email  string
	Cursor string // Next of the previous page; empty for the first page
	Limit  int    // entries per page: 0 means allot.DefaultLimit, at most allot.MaxLimit
}

// HistoryPage returns a page of the ledger entries of a member's license
// account, oldest first: acceptances (pool to member) and deletions (member
// to pool), across every time the person was a member. Pending invitations
// are holds, not entries, until they are accepted. An e-mail never invited
// is ErrUnknownMember.
func (s *Service) HistoryPage(ctx context.Context, p HistoryParams) (allot.Page[ledger.Entry], error) {
	pg, err := s.historyPage(ctx, p)
	if err != nil {
		return allot.Page[ledger.Entry]{}, wrap(err, p.Org, "history of %q in %q", p.Email, p.Org)
	}
	return pg, nil
}

// History yields the entries HistoryPage lists, from p.Cursor on, a page
// at a time, each in a transaction of its own. It stops at the first
// error, which it yields.
func (s *Service) History(ctx context.Context, p HistoryParams) iter.Seq2[ledger.Entry, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[ledger.Entry], error) {
		p.Cursor = cursor
		return s.HistoryPage(ctx, p)
	})
}

func (s *Service) historyPage(ctx context.Context, p HistoryParams) (allot.Page[ledger.Entry], error) {
	var pg allot.Page[ledger.Entry]
	if err := validID("Org", p.Org); err != nil {
		return pg, err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return pg, err
	}
	limit, reason := paging.Limit(p.Limit)
	if reason != "" {
		return pg, invalid("Limit", "%s", reason)
	}
	scope := []string{"history", p.Org, email}
	after, err := parseCursor(p.Cursor, scope...)
	if err != nil {
		return pg, err
	}
	if after != "" {
		if n, err := strconv.ParseInt(after, 10, 64); err != nil || n < 0 {
			return pg, badCursor(p.Cursor)
		}
	}
	a, err := actor(p.Actor)
	if err != nil {
		return pg, err
	}
	if a != email {
		if err := s.require(ctx, p.Org, a, "read the history of "+strconv.Quote(email), OrgAdmin); err != nil {
			return pg, err
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		page, err := ledger.NewBook(tx, s.clock.Now()).History(ctx, ledger.HistoryParams{
			Account: MemberAccount(p.Org, email), Cursor: after, Limit: limit,
		})
		if err != nil {
			// Only the member's account can be missing: nobody with
			// this e-mail was ever invited.
			return notFound(err, "member", p.Org, email)
		}
		pg = allot.Page[ledger.Entry]{Items: page.Entries}
		if page.Next != "" {
			pg.Next = cursor(append(scope, page.Next)...)
		}
		return nil
	})
	return pg, err
}

// cursor writes the cursor of a listing: its scope (the listing and its
// filters) and the position the next page starts after, joined
// injectively and encoded so that it reads as one opaque token.
func cursor(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(input.Join(parts...)))
}

// parseCursor returns the position a cursor of the listing scope holds:
// "" for the empty cursor (the first page), an *InvalidError for a
// malformed cursor or one of another listing.
func parseCursor(c string, scope ...string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", badCursor(c)
	}
	parts, ok := input.Split(string(b))
	if !ok || len(parts) != len(scope)+1 {
		return "", badCursor(c)
	}
	for i, s := range scope {
		if parts[i] != s {
			return "", badCursor(c)
		}
	}
	return parts[len(scope)], nil
}

func badCursor(c string) error {
	return invalid("Cursor", "%q is not a cursor of this listing; pass the previous page's Next unchanged (with the same organization and filters), or none for the first page", c)
}
