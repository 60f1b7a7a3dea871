package licenses

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// Unit is the ledger unit licenses count: whole licenses.
var Unit = ledger.Unit{Code: "license", Scale: 0}

// Transfer codes written on the ledger, so a journal reads as a story.
const (
	CodePurchase = "licenses.purchase" // issuer -> pool
	CodeReduce   = "licenses.reduce"   // pool -> issuer
	CodeInvite   = "licenses.invite"   // hold pool -> member; posted on acceptance
	CodeFree     = "licenses.free"     // member -> pool, on deletion
)

// IssuerAccount is the account purchases come from; it goes negative by the
// number of licenses the organization holds, so the unit sums to zero.
// Every account ID is made by input.Join, so no two organizations or
// members share one whatever characters their IDs hold.
func IssuerAccount(org string) ledger.AccountID {
	return ledger.AccountID(input.Join("licenses", org, "issuer"))
}

// PoolAccount is the organization's pool: its available balance is the
// number of licenses available to new members.
func PoolAccount(org string) ledger.AccountID {
	return ledger.AccountID(input.Join("licenses", org, "pool"))
}

// MemberAccount is the account that holds a member's license. email must be
// normalised (see NormalizeEmail).
func MemberAccount(org, email string) ledger.AccountID {
	return ledger.AccountID(input.Join("licenses", org, "member", email))
}

// The acts a request can be. They name requests in errors and in the
// metadata of freeing transfers; they are not part of ledger IDs.
const (
	actPurchase = "purchase"
	actReduce   = "reduce"
	actInvite   = "invite"
	actDelete   = "delete"
	actReassign = "reassign"
)

// requestTransfer derives the ID of a transfer or hold from the
// organization and the caller's request ID, and, for an act that moves more
// than one license, which of them. The act is not part of it: every act's
// first move takes the same ID, and the ledger tells them apart by what they
// move (issuer to pool, pool to issuer, a hold, a member back to the pool
// with metadata naming the act, member and invitation), so a request ID
// reused for any other act, member or membership is refused as a conflict.
// input.Join keeps it injective whatever characters the IDs hold.
func requestTransfer(org, requestID string, part ...string) ledger.TransferID {
	return ledger.TransferID(input.Join(append([]string{"licenses", org, "request", requestID}, part...)...))
}

// reused maps the ledger's refusal of a transfer or hold ID reused with
// other contents to a *RequestReusedError naming the organization's own
// request ID; the ledger's message, with its internal IDs, is dropped.
func reused(err error, org, requestID, act string) error {
	if errors.Is(err, ledger.ErrConflict) {
		return &RequestReusedError{Org: org, RequestID: requestID, Act: act}
	}
	return err
}

var one = decimal.NewFromInt(1)

// Service runs an organization's license pool and its members' lifecycle
// over a Store. Each method runs in one transaction, reads the clock once and
// checks the actor's role before it touches the store; the iterators
// (Members and History) read a page at a time, a transaction each, and the
// read-only views take no actor.
//
// A Service is safe for concurrent use; the store serializes transactions.
type Service struct {
	store Store
	roles Roles
	clock clock.Clock
}

// Options configure a Service. A nil *Options means all defaults.
type Options struct {
	// Clock tells the time written on records and transfers, and decides
	// when invitations expire. Default: clock.Real{}.
	Clock clock.Clock
	// Roles tells who is an Org Admin or a Team Admin. Default: an empty
	// *RoleSet, which grants nothing, so every role-checked operation is
	// refused until roles are given.
	Roles Roles
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, &InvalidError{Field: "store", Reason: "missing; a service keeps its records in a store"}
	}
	s := &Service{store: store, roles: &RoleSet{}, clock: clock.Real{}}
	if opts != nil {
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
		if opts.Roles != nil {
			s.roles = opts.Roles
		}
	}
	return s, nil
}

// Summary is an organization's license consumption at one instant.
//
// Purchased = Available + Pending + Active + Unassigned always holds.
// Expired counts invitations that expired unaccepted: they hold no license.
type Summary struct {
	Org        string
	Purchased  int64
	Active     int64
	Pending    int64
	Unassigned int64
	Available  int64
	Expired    int64
	// Teams is the distribution across teams, ordered by team ID: a member
	// in several teams counts in each of them, and once in the totals.
	Teams []Team
}

// InUse is the number of licenses members hold: active, pending and
// unassigned.
func (s Summary) InUse() int64 { return s.Active + s.Pending + s.Unassigned }

// PurchaseParams buy Quantity licenses into the organization's pool.
type PurchaseParams struct {
	Org       string
	Actor     string // must be an Org Admin
	RequestID string // the purchase's transfer ID derives from it: a retry adds nothing twice
	Quantity  int64  // positive
}

// Purchase adds licenses to the organization's pool, creating the
// organization's records and ledger accounts on its first purchase. Retrying
// with the same RequestID and Quantity adds nothing more.
func (s *Service) Purchase(ctx context.Context, p PurchaseParams) (Summary, error) {
	sum, err := s.purchase(ctx, p)
	if err != nil {
		return Summary{}, wrap(err, p.Org, "purchase %d licenses for %q", p.Quantity, p.Org)
	}
	return sum, nil
}

func (s *Service) purchase(ctx context.Context, p PurchaseParams) (Summary, error) {
	if err := s.checkPoolChange(ctx, p.Org, p.Actor, p.RequestID, p.Quantity, "purchase licenses"); err != nil {
		return Summary{}, err
	}
	var sum Summary
	_, err := s.inOp(ctx, func(o *op) error {
		if err := o.ensureOrg(p.Org); err != nil {
			return err
		}
		id := requestTransfer(p.Org, p.RequestID)
		retry, err := o.exists(id)
		if err != nil {
			return err
		}
		purchased := o.org.Purchased
		if !retry {
			var ok bool
			if purchased, ok = input.Add(purchased, p.Quantity); !ok {
				return invalid("Quantity", "%d more licenses would make %d purchased, more than a count can hold", p.Quantity, o.org.Purchased)
			}
		}
		if _, err := o.b.Post(ctx, ledger.Transfer{
			ID: id, Debit: IssuerAccount(p.Org), Credit: PoolAccount(p.Org),
			Amount: decimal.NewFromInt(p.Quantity), Code: CodePurchase, Actor: p.Actor,
		}); err != nil {
			return reused(err, p.Org, p.RequestID, actPurchase)
		}
		o.org.Purchased = purchased
		if err := o.flush(); err != nil {
			return err
		}
		sum, err = o.summary()
		return err
	})
	return sum, err
}

// checkPoolChange checks a purchase or a reduction before it runs: the
// request is well formed and the actor is an Org Admin.
func (s *Service) checkPoolChange(ctx context.Context, org, actor, requestID string, quantity int64, what string) error {
	if err := validID("Org", org); err != nil {
		return err
	}
	if err := validRequestID(requestID); err != nil {
		return err
	}
	if err := validActor(actor); err != nil {
		return err
	}
	if quantity <= 0 {
		return invalid("Quantity", "%d is not positive", quantity)
	}
	return s.needOrgAdmin(ctx, org, actor, what)
}

// ReduceParams give back Quantity licenses from the organization's pool.
type ReduceParams struct {
	Org       string
	Actor     string // must be an Org Admin
	RequestID string
	Quantity  int64 // positive
}

// Reduce lowers the purchased count. It is refused with an *InUseError
// (matching ErrLicensesInUse) if fewer than Quantity licenses are
// available: the purchased count never drops below the licenses members
// hold, so nobody loses a license behind the admin's back. Delete members
// first.
func (s *Service) Reduce(ctx context.Context, p ReduceParams) (Summary, error) {
	sum, err := s.reduce(ctx, p)
	if err != nil {
		return Summary{}, wrap(err, p.Org, "reduce %q by %d licenses", p.Org, p.Quantity)
	}
	return sum, nil
}

func (s *Service) reduce(ctx context.Context, p ReduceParams) (Summary, error) {
	if err := s.checkPoolChange(ctx, p.Org, p.Actor, p.RequestID, p.Quantity, "reduce licenses"); err != nil {
		return Summary{}, err
	}
	var sum Summary
	_, err := s.inOp(ctx, func(o *op) error {
		if err := o.loadOrg(p.Org); err != nil {
			return err
		}
		id := requestTransfer(p.Org, p.RequestID)
		retry, err := o.exists(id)
		if err != nil {
			return err
		}
		// The pool is non-negative and its available balance leaves out
		// the licenses members hold: the ledger refuses a reduction beyond
		// what is available.
		_, err = o.b.Post(ctx, ledger.Transfer{
			ID: id, Debit: PoolAccount(p.Org), Credit: IssuerAccount(p.Org),
			Amount: decimal.NewFromInt(p.Quantity), Code: CodeReduce, Actor: p.Actor,
		})
		if errors.Is(err, ledger.ErrInsufficientBalance) {
			cur, serr := o.summary()
			if serr != nil {
				return serr
			}
			return &InUseError{Org: p.Org, Purchased: cur.Purchased, InUse: cur.InUse(), Reduce: p.Quantity}
		}
		if err != nil {
			return reused(err, p.Org, p.RequestID, actReduce)
		}
		if !retry {
			// The ledger refused more than is available, and available is
			// at most purchased: this does not go below zero.
			o.org.Purchased -= p.Quantity
		}
		if err := o.flush(); err != nil {
			return err
		}
		sum, err = o.summary()
		return err
	})
	return sum, err
}

// TeamParams name a team to create.
type TeamParams struct {
	Org   string
	Team  string
	Actor string // must be an Org Admin
}

// CreateTeam creates a team in the organization (and the organization's
// records if it has none yet). Creating an existing team changes nothing.
func (s *Service) CreateTeam(ctx context.Context, p TeamParams) error {
	if err := s.createTeam(ctx, p); err != nil {
		return wrap(err, p.Org, "create team %q in %q", p.Team, p.Org)
	}
	return nil
}

func (s *Service) createTeam(ctx context.Context, p TeamParams) error {
	if err := validID("Org", p.Org); err != nil {
		return err
	}
	if err := validID("Team", p.Team); err != nil {
		return err
	}
	if err := validActor(p.Actor); err != nil {
		return err
	}
	if err := s.needOrgAdmin(ctx, p.Org, p.Actor, "create teams"); err != nil {
		return err
	}
	_, err := s.inOp(ctx, func(o *op) error {
		if err := o.ensureOrg(p.Org); err != nil {
			return err
		}
		_, err := o.tx.LicenseTeamGet(ctx, p.Org, p.Team)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, ledger.ErrNotFound):
			return err
		}
		if err := o.tx.LicenseTeamInsert(ctx, p.Org, Team{ID: p.Team}); err != nil {
			if errors.Is(err, ledger.ErrAlreadyExists) {
				return nil // a concurrent request created it first
			}
			return err
		}
		return o.flush()
	})
	return err
}

// InviteParams invite a person to a team.
type InviteParams struct {
	Org   string
	Team  string
	Email string // compared case-insensitively
	Actor string // an Org Admin, or a Team Admin of Team
	// RequestID names the invitation's ledger hold: a retry reserves
	// nothing twice. Use a new one for each invitation.
	RequestID string
	// ExpiresAt ends the invitation if it is not accepted before; zero means
	// it never expires. From that instant its license counts as available.
	ExpiresAt time.Time
}

// Invite invites a person to a team.
//
// A new person (or one whose earlier invitation expired) needs a license:
// Invite reserves one from the pool with a ledger hold and the member is
// pending; with none available it is refused with a *NoLicenseError
// (matching ErrNoLicenseAvailable). An existing member joins the team and
// reserves nothing new: a pending member stays pending (its invitation
// keeps its expiry), an active one stays active, and an unassigned one
// becomes active again at once, without a new acceptance, since it
// accepted before and still holds its license. Inviting a member to a team
// it is already in changes nothing and returns it, so a retry is harmless.
func (s *Service) Invite(ctx context.Context, p InviteParams) (Member, error) {
	m, err := s.invite(ctx, p)
	if err != nil {
		return Member{}, wrap(err, p.Org, "invite %q to team %q of %q", p.Email, p.Team, p.Org)
	}
	return m, nil
}

func (s *Service) invite(ctx context.Context, p InviteParams) (Member, error) {
	email, err := s.checkInvite(ctx, p)
	if err != nil {
		return Member{}, err
	}
	holdID := requestTransfer(p.Org, p.RequestID)
	return s.inOp(ctx, func(o *op) (err error) {
		if err := o.loadOrg(p.Org); err != nil {
			return err
		}
		if o.m, err = o.invite(p, email, holdID, actInvite); err != nil {
			return err
		}
		return o.flush()
	})
}

// checkInvite validates p, returns its normalised e-mail, and checks the
// actor's role.
func (s *Service) checkInvite(ctx context.Context, p InviteParams) (string, error) {
	if err := validID("Org", p.Org); err != nil {
		return "", err
	}
	if err := validID("Team", p.Team); err != nil {
		return "", err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return "", err
	}
	if err := validRequestID(p.RequestID); err != nil {
		return "", err
	}
	if err := validActor(p.Actor); err != nil {
		return "", err
	}
	if err := validTime("ExpiresAt", p.ExpiresAt); err != nil {
		return "", err
	}
	if err := s.needTeamAdmin(ctx, p.Org, p.Team, p.Actor, "invite to"); err != nil {
		return "", err
	}
	return email, nil
}

// AcceptParams accept a pending invitation.
type AcceptParams struct {
	Org   string
	Email string
	Actor string // the invitee: must be Email
}

// Accept makes a pending member active: the invitation's hold is posted and
// the license moves from the pool to the member's account. Accepting again
// once accepted (a retry) returns the active member and changes nothing. An
// invitation that does not exist is refused with ErrNoInvitation, one that
// expired with ErrInvitationExpired, an unassigned member with
// ErrIllegalTransition.
func (s *Service) Accept(ctx context.Context, p AcceptParams) (Member, error) {
	m, err := s.accept(ctx, p)
	if err != nil {
		return Member{}, wrap(err, p.Org, "accept invitation of %q to %q", p.Email, p.Org)
	}
	return m, nil
}

func (s *Service) accept(ctx context.Context, p AcceptParams) (Member, error) {
	if err := validID("Org", p.Org); err != nil {
		return Member{}, err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return Member{}, err
	}
	if err := validActor(p.Actor); err != nil {
		return Member{}, err
	}
	if normActor(p.Actor) != email {
		return Member{}, &ForbiddenError{Actor: p.Actor, Action: "accept the invitation of " + email, Org: p.Org, Need: "only the invitee accepts its invitation"}
	}
	return s.inOp(ctx, func(o *op) error {
		if err := o.loadOrg(p.Org); err != nil {
			return err
		}
		old, err := o.member(email)
		if errors.Is(err, ErrUnknownMember) {
			return fmt.Errorf("%w: %w", ErrNoInvitation, err)
		}
		if err != nil {
			return err
		}
		if old.State == StateExpired {
			return fmt.Errorf("%w at %s; ask an admin to invite %s again", ErrInvitationExpired, old.ExpiresAt.Format(time.RFC3339), email)
		}
		if old.State == StateActive && !old.AcceptedAt.IsZero() {
			o.m = old // accepted already: a retry
			return nil
		}
		to, err := Transition(old.State, EventAccept)
		if err != nil {
			return err
		}
		if _, err := o.b.PostHold(o.ctx, old.Hold, one); err != nil {
			if errors.Is(err, ledger.ErrHoldNotPending) {
				// Released as expired by a write whose clock was ahead of
				// this one's. The ledger's error names its hold ID: left out.
				return fmt.Errorf("%w; ask an admin to invite %s again", ErrInvitationExpired, email)
			}
			return err
		}
		m := old
		m.State = to
		m.AcceptedAt = o.now
		m.UpdatedAt = o.now
		if err := o.save(old, m); err != nil {
			return err
		}
		o.m = m
		return o.flush()
	})
}

// RemoveParams remove a member from one team.
type RemoveParams struct {
	Org   string
	Team  string
	Email string
	Actor string // an Org Admin, or a Team Admin of Team
}

// Remove takes a member out of a team. An active member removed from its
// last team becomes unassigned and keeps its license. A pending member
// removed from its last team has its invitation withdrawn: the hold is
// voided, the license is available again and the member is gone (the
// returned Member has StateNone). A member not in the team is refused with
// ErrNotInTeam.
func (s *Service) Remove(ctx context.Context, p RemoveParams) (Member, error) {
	m, err := s.remove(ctx, p)
	if err != nil {
		return Member{}, wrap(err, p.Org, "remove %q from team %q of %q", p.Email, p.Team, p.Org)
	}
	return m, nil
}

func (s *Service) remove(ctx context.Context, p RemoveParams) (Member, error) {
	if err := validID("Org", p.Org); err != nil {
		return Member{}, err
	}
	if err := validID("Team", p.Team); err != nil {
		return Member{}, err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return Member{}, err
	}
	if err := validActor(p.Actor); err != nil {
		return Member{}, err
	}
	if err := s.needTeamAdmin(ctx, p.Org, p.Team, p.Actor, "remove from"); err != nil {
		return Member{}, err
	}
	return s.inOp(ctx, func(o *op) error {
		if err := o.loadOrg(p.Org); err != nil {
			return err
		}
		if _, err := o.team(p.Team); err != nil {
			return err
		}
		old, err := o.member(email)
		if err != nil {
			return err
		}
		if !old.InTeam(p.Team) {
			return fmt.Errorf("%w: %s is not in team %q; %s", ErrNotInTeam, email, p.Team, teamsOf(old))
		}
		ev := EventLeave
		if len(old.Teams) == 1 {
			ev = EventLeaveLast
		}
		to, err := Transition(old.State, ev)
		if err != nil {
			return err
		}
		if to == StateNone {
			if err := o.drop(old, dropParams{}); err != nil {
				return err
			}
			o.m = Member{Org: p.Org, Email: email, State: StateNone}
			return o.flush()
		}
		m := old
		m.State = to
		m.Teams = slices.DeleteFunc(slices.Clone(old.Teams), func(t string) bool { return t == p.Team })
		if len(m.Teams) == 0 {
			m.Teams = nil // no teams reads the same from every store
		}
		m.UpdatedAt = o.now
		if err := o.save(old, m); err != nil {
			return err
		}
		o.m = m
		return o.flush()
	})
}

// DeleteParams delete a member from the organization.
type DeleteParams struct {
	Org       string
	Email     string
	Actor     string // must be an Org Admin
	RequestID string // the freeing transfer's ID derives from it
}

// Delete deletes a member in any state and frees its license back to the
// pool: a pending invitation's hold is voided, an active or unassigned
// member's license is transferred back from its account. The member's
// ledger account stays, with its history.
//
// The freeing transfer names the member and its invitation, so a RequestID
// names one deletion of one membership. A retry of a Delete that freed a
// license succeeds and moves nothing; a retry of one that withdrew a
// pending or expired invitation (which moved no license) finds no member
// (ErrUnknownMember). The RequestID of an earlier Delete used to delete the
// member again, after it was invited anew, is refused with
// ErrRequestReused and changes nothing.
func (s *Service) Delete(ctx context.Context, p DeleteParams) error {
	if err := s.delete(ctx, p); err != nil {
		return wrap(err, p.Org, "delete member %q of %q", p.Email, p.Org)
	}
	return nil
}

func (s *Service) delete(ctx context.Context, p DeleteParams) error {
	if err := validID("Org", p.Org); err != nil {
		return err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return err
	}
	if err := validRequestID(p.RequestID); err != nil {
		return err
	}
	if err := validActor(p.Actor); err != nil {
		return err
	}
	if err := s.needOrgAdmin(ctx, p.Org, p.Actor, "delete members"); err != nil {
		return err
	}
	dp := dropParams{id: requestTransfer(p.Org, p.RequestID), request: p.RequestID, act: actDelete, actor: p.Actor}
	_, err = s.inOp(ctx, func(o *op) error {
		if err := o.loadOrg(p.Org); err != nil {
			return err
		}
		old, found, err := o.findMember(email)
		if err != nil {
			return err
		}
		if !found {
			return o.dropped(email, dp)
		}
		if err := o.drop(old, dp); err != nil {
			return err
		}
		return o.flush()
	})
	return err
}

// ReassignParams move a license from one person to another.
type ReassignParams struct {
	Org  string
	From string // the member deleted
	To   string // the person invited
	// Team is the team To is invited to. Empty: every team From was in
	// (then From must be in at least one).
	Team      string
	Actor     string // must be an Org Admin
	RequestID string
	ExpiresAt time.Time // of To's invitation; zero: never
}

// Reassign deletes From and invites To in one transaction: either both
// happen or neither does. It is exactly Delete then Invite (to each team), so
// To is pending until it accepts, and an existing member To reserves
// nothing new. A retry of a Reassign that freed From's license returns To
// as it is now; a RequestID used for another request is refused with
// ErrRequestReused.
func (s *Service) Reassign(ctx context.Context, p ReassignParams) (Member, error) {
	m, err := s.reassign(ctx, p)
	if err != nil {
		return Member{}, wrap(err, p.Org, "reassign the license of %q to %q in %q", p.From, p.To, p.Org)
	}
	return m, nil
}

func (s *Service) reassign(ctx context.Context, p ReassignParams) (Member, error) {
	if err := validID("Org", p.Org); err != nil {
		return Member{}, err
	}
	from, err := NormalizeEmail(p.From)
	if err != nil {
		return Member{}, err
	}
	to, err := NormalizeEmail(p.To)
	if err != nil {
		return Member{}, err
	}
	if from == to {
		return Member{}, invalid("To", "%q is also the member the license is taken from", to)
	}
	if p.Team != "" {
		if err := validID("Team", p.Team); err != nil {
			return Member{}, err
		}
	}
	if err := validRequestID(p.RequestID); err != nil {
		return Member{}, err
	}
	if err := validActor(p.Actor); err != nil {
		return Member{}, err
	}
	if err := validTime("ExpiresAt", p.ExpiresAt); err != nil {
		return Member{}, err
	}
	if err := s.needOrgAdmin(ctx, p.Org, p.Actor, "reassign licenses"); err != nil {
		return Member{}, err
	}
	dp := dropParams{id: requestTransfer(p.Org, p.RequestID), request: p.RequestID, act: actReassign, actor: p.Actor, to: to}
	return s.inOp(ctx, func(o *op) (err error) {
		if err := o.loadOrg(p.Org); err != nil {
			return err
		}
		old, found, err := o.findMember(from)
		if err != nil {
			return err
		}
		if !found {
			if err := o.dropped(from, dp); err != nil {
				return err
			}
			// A retry: From's license went to To; return To as it is now.
			m, found, err := o.findMember(to)
			if err != nil {
				return err
			}
			if !found {
				m = Member{Org: p.Org, Email: to, State: StateNone}
			}
			o.m = m
			return o.flush()
		}
		teams := old.Teams
		if p.Team != "" {
			teams = []string{p.Team}
		}
		if len(teams) == 0 {
			return invalid("Team", "empty, and %s is in no team; name the team to invite %s to", from, to)
		}
		if err := o.drop(old, dp); err != nil {
			return err
		}
		// The first team reserves the license (if To needs one); the others
		// reserve nothing, so one hold ID serves them all.
		holdID := requestTransfer(p.Org, p.RequestID, "invite")
		for _, team := range teams {
			ip := InviteParams{Org: p.Org, Team: team, Email: to, Actor: p.Actor, RequestID: p.RequestID, ExpiresAt: p.ExpiresAt}
			if o.m, err = o.invite(ip, to, holdID, actReassign); err != nil {
				return err
			}
		}
		return o.flush()
	})
}

// Member returns a member as it reads now (an expired invitation reads as
// StateExpired).
func (s *Service) Member(ctx context.Context, org, email string) (Member, error) {
	if err := validID("Org", org); err != nil {
		return Member{}, wrap(err, org, "get member %q of %q", email, org)
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return Member{}, wrap(err, org, "get member %q of %q", email, org)
	}
	m, err := s.inOp(ctx, func(o *op) error {
		got, err := o.tx.LicenseMemberGet(ctx, org, e)
		if err != nil {
			return notFound(err, "member", org, e)
		}
		o.m = got.At(o.now)
		return nil
	})
	if err != nil {
		return Member{}, wrap(err, org, "get member %q of %q", email, org)
	}
	return m, nil
}

// Members yields the organization's members ordered by e-mail, as they read
// at the time each page is read. It reads a page at a time, each page in a
// transaction of its own, and stops at the first error, which it yields.
func (s *Service) Members(ctx context.Context, org string) iter.Seq2[Member, error] {
	return func(yield func(Member, error) bool) {
		if err := validID("Org", org); err != nil {
			yield(Member{}, wrap(err, org, "list members of %q", org))
			return
		}
		const page = 500
		after := ""
		for {
			var ms []Member
			var now time.Time
			err := s.store.InTx(ctx, func(tx Tx) error {
				now = s.clock.Now()
				var err error
				ms, err = tx.LicenseMemberList(ctx, MemberListParams{Org: org, After: after, Limit: page})
				return err
			})
			if err != nil {
				yield(Member{}, wrap(err, org, "list members of %q", org))
				return
			}
			for _, m := range ms {
				if !yield(m.At(now), nil) {
					return
				}
			}
			if len(ms) < page {
				return
			}
			after = ms[len(ms)-1].Email
		}
	}
}

// History yields the ledger entries of a member's license account, oldest
// first: acceptances (pool to member) and deletions (member to pool), across
// every time the person was a member. Pending invitations are holds, not
// entries, until they are accepted.
func (s *Service) History(ctx context.Context, org, email string) iter.Seq2[ledger.Entry, error] {
	return func(yield func(ledger.Entry, error) bool) {
		e, err := NormalizeEmail(email)
		if err == nil {
			err = validID("Org", org)
		}
		if err != nil {
			yield(ledger.Entry{}, wrap(err, org, "history of %q in %q", email, org))
			return
		}
		hp := ledger.HistoryParams{Account: MemberAccount(org, e), Limit: 1000}
		for {
			var page ledger.HistoryPage
			err := s.store.InTx(ctx, func(tx Tx) error {
				var err error
				page, err = ledger.NewBook(tx, s.clock.Now()).History(ctx, hp)
				// Only the member's account can be missing: nobody with
				// this e-mail was ever invited.
				return notFound(err, "member", org, e)
			})
			if err != nil {
				yield(ledger.Entry{}, wrap(err, org, "history of %q in %q", email, org))
				return
			}
			for _, en := range page.Entries {
				if !yield(en, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			hp.Cursor = page.Next
		}
	}
}

// Summary returns the organization's consumption now. It reads the
// organization's counters, its teams' counters and a count of expired
// invitations from an index: its cost does not grow with the number of
// members.
func (s *Service) Summary(ctx context.Context, org string) (Summary, error) {
	if err := validID("Org", org); err != nil {
		return Summary{}, wrap(err, org, "summary of %q", org)
	}
	var sum Summary
	err := s.store.InTx(ctx, func(tx Tx) error {
		// Read only: no Book needed, the same instant a Book would use.
		o := op{ctx: ctx, tx: tx, now: ledger.Instant(s.clock.Now())}
		got, err := tx.LicenseOrgGet(ctx, org)
		if err != nil {
			return notFound(err, "organization", org, org)
		}
		o.org = got
		sum, err = o.summary()
		return err
	})
	if err != nil {
		return Summary{}, wrap(err, org, "summary of %q", org)
	}
	return sum, nil
}

func (s *Service) needOrgAdmin(ctx context.Context, org, actor, action string) error {
	ok, err := s.roles.IsOrgAdmin(ctx, org, actor)
	if err != nil {
		return fmt.Errorf("check roles: %w", err)
	}
	if !ok {
		return &ForbiddenError{Actor: actor, Action: action, Org: org, Need: "only an Org Admin may"}
	}
	return nil
}

// needTeamAdmin checks that actor may verb ("invite to", "remove from")
// team: an Org Admin or a Team Admin of team may.
func (s *Service) needTeamAdmin(ctx context.Context, org, team, actor, verb string) error {
	ok, err := s.roles.IsOrgAdmin(ctx, org, actor)
	if err != nil {
		return fmt.Errorf("check roles: %w", err)
	}
	if ok {
		return nil
	}
	if ok, err = s.roles.IsTeamAdmin(ctx, org, team, actor); err != nil {
		return fmt.Errorf("check roles: %w", err)
	}
	if !ok {
		return &ForbiddenError{Actor: actor, Action: verb + " team " + team, Org: org, Need: "only an Org Admin or a Team Admin of " + team + " may"}
	}
	return nil
}

// teamsOf says which teams m is in, for a message.
func teamsOf(m Member) string {
	if len(m.Teams) == 0 {
		return "it is in no team"
	}
	q := make([]string, len(m.Teams))
	for i, t := range m.Teams {
		q[i] = strconv.Quote(t)
	}
	return "it is in " + strings.Join(q, ", ")
}

// notFound maps a store's ErrNotFound to the domain's *NotFoundError.
func notFound(err error, kind, org, id string) error {
	if errors.Is(err, ledger.ErrNotFound) {
		return &NotFoundError{Kind: kind, Org: org, ID: id}
	}
	return err
}
