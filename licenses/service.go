package licenses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/access"
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
	// CodeWithdraw marks the deletion of a pending or expired invitation,
	// which moves no license: a hold issuer -> pool voided at once, under
	// the request's ID, whose metadata name the act, member and invitation.
	CodeWithdraw = "licenses.withdraw"
	// CodeRemove marks a removal from a team, which moves no license: a
	// hold issuer -> pool voided at once, under the request's ID, whose
	// metadata name the member and the team.
	CodeRemove = "licenses.remove"
	// CodeRequest marks an admin's request for more licenses, which moves
	// no license: a hold issuer -> pool of the licenses asked for, voided
	// at once, under the request's ID, whose metadata keep the note.
	CodeRequest = "licenses.request"
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
// metadata of freeing transfers and request marks; they are not part of
// ledger IDs.
const (
	actPurchase = "purchase"
	actReduce   = "reduce"
	actInvite   = "invite"
	actRemove   = "remove"
	actDelete   = "delete"
	actReassign = "reassign"
	actRequest  = "request licenses"
)

// requestTransfer derives the ID of a transfer or hold from the
// organization and the caller's request ID, and, for an act that moves more
// than one license, which of them. The act is not part of it: every act's
// first move takes the same ID, and the ledger tells them apart by what they
// move (issuer to pool, pool to issuer, a hold, a member back to the pool
// with metadata naming the act, member and invitation, a voided mark naming
// the act), so a request ID reused for any other act, member or membership
// is refused as a conflict. input.Join keeps it injective whatever
// characters the IDs hold.
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
// checks the actor's role before it touches the store (see the package doc's
// Roles); the iterators (Members, Teams and History) read a page at a time,
// a transaction each.
//
// A Service is safe for concurrent use; the store serializes transactions.
type Service struct {
	store      Store
	roles      allot.Roles
	clock      clock.Clock
	thresholds []int
	logger     *slog.Logger
}

// Options configure a Service. A nil *Options means all defaults.
type Options struct {
	// Clock tells the time written on records and transfers, and decides
	// when invitations expire. Default: clock.Real{}.
	Clock clock.Clock
	// Roles tells who holds OrgAdmin, TeamAdmin(team) and allot.Vendor in
	// an organization. Default: nil, which grants nothing, so every
	// role-checked call is refused (with an *allot.ForbiddenError) until
	// roles are given; allot.StaticRoles is a ready implementation.
	Roles allot.Roles
	// Thresholds are the percents of the organization's purchased licenses
	// in use (held by active, pending and unassigned members) whose
	// crossing, up or down, emits an events.PoolThreshold. Default: nil,
	// which means {80, 100}; an empty slice means none. Each must be from 1
	// to 100.
	Thresholds []int
	// Logger receives refusals at debug, retried requests at info and
	// anything unexpected at warn, with the attributes org and request_id.
	// Default: nil, silent.
	Logger *slog.Logger
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, &InvalidError{Field: "store", Reason: "missing; a service keeps its records in a store"}
	}
	s := &Service{store: store, clock: clock.Real{}, thresholds: events.DefaultThresholds()}
	if opts != nil {
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
		s.roles = opts.Roles
		s.logger = opts.Logger
		if opts.Thresholds != nil {
			if err := checkThresholds(opts.Thresholds); err != nil {
				return nil, err
			}
			s.thresholds = slices.Clone(opts.Thresholds)
		}
	}
	return s, nil
}

// actor returns who acts in canonical form (input.Actor), or an
// *InvalidError for field Actor.
func actor(a string) (string, error) {
	c, reason := input.Actor(a)
	if reason != "" {
		return "", invalid("Actor", "%q %s", a, reason)
	}
	return c, nil
}

// require checks that the canonical actor holds one of need in org.
func (s *Service) require(ctx context.Context, org, actor, action string, need ...allot.Role) error {
	return access.Require(ctx, s.roles, org, actor, action, need...)
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

// PurchaseParams add Quantity licenses to the organization's pool.
type PurchaseParams struct {
	Org      string
	Actor    string // must hold allot.Vendor in Org
	Quantity int64  // positive
	// Subscription is the subscription or order the licenses are sold
	// under; optional (an ID if set), kept in the transfer's metadata.
	Subscription string
	// RequestID names the purchase's transfer: a retry adds nothing twice.
	RequestID string
}

// Purchase adds licenses to the organization's pool, creating the
// organization's records and ledger accounts on its first purchase. It is
// the vendor's act: in Powtoon an admin's "+ Add licenses" e-mails the
// vendor, who adds them, so the Actor must hold allot.Vendor (an Org Admin
// is refused). A retry with the same RequestID and contents returns the
// very same allot.Purchase (its At, Purchased and Available as right after
// the first call), whatever happened since; the RequestID used for anything
// else is ErrRequestReused.
func (s *Service) Purchase(ctx context.Context, p PurchaseParams) (allot.Purchase, error) {
	pu, err := s.poolChange(ctx, p.Org, p.Actor, p.RequestID, p.Subscription, p.Quantity, actPurchase)
	s.observe(ctx, actPurchase, p.Org, p.RequestID, err)
	if err != nil {
		return allot.Purchase{}, wrap(err, p.Org, "purchase %d licenses for %q", p.Quantity, p.Org)
	}
	return pu, nil
}

// ReduceParams take Quantity licenses back from the organization's pool.
type ReduceParams struct {
	Org          string
	Actor        string // must hold allot.Vendor in Org
	Quantity     int64  // positive: how many to take back
	Subscription string // optional, as in PurchaseParams
	RequestID    string
}

// Reduce lowers the purchased count; the allot.Purchase it returns has a
// negative Quantity. Like Purchase it is the vendor's act (allot.Vendor),
// and a retry returns the first result. It is refused with an *InUseError
// (matching ErrLicensesInUse) if fewer than Quantity licenses are
// available: the purchased count never drops below the licenses members
// hold, so nobody loses a license behind the admin's back. Delete members
// first.
func (s *Service) Reduce(ctx context.Context, p ReduceParams) (allot.Purchase, error) {
	pu, err := s.poolChange(ctx, p.Org, p.Actor, p.RequestID, p.Subscription, p.Quantity, actReduce)
	s.observe(ctx, actReduce, p.Org, p.RequestID, err)
	if err != nil {
		return allot.Purchase{}, wrap(err, p.Org, "reduce %q by %d licenses", p.Org, p.Quantity)
	}
	return pu, nil
}

// MaxNoteLen is the longest note, in bytes, a request for licenses may
// carry.
const MaxNoteLen = 2000

// RequestLicensesParams ask the vendor for more licenses.
type RequestLicensesParams struct {
	Org      string
	Actor    string // must be an Org Admin
	Quantity int64  // positive: how many more licenses
	// Note is the admin's message to the vendor; optional, valid UTF-8,
	// at most MaxNoteLen bytes.
	Note string
	// RequestID names the request: a retry asks nothing twice.
	RequestID string
}

// LicenseRequest is an Org Admin's request for more licenses, as
// RequestLicenses recorded it.
type LicenseRequest struct {
	Org       string
	Quantity  int64
	Note      string
	Actor     string
	RequestID string
	At        time.Time // when it was first made
}

// RequestLicenses is Powtoon's "+ Add licenses": an Org Admin asks the
// vendor for Quantity more licenses. It adds none (the vendor does, with
// Purchase); it emits an events.LicensesRequested, which a service turns
// into the e-mail to the vendor, and returns the request. It moves no
// license, so it leaves a mark on the ledger under the RequestID (a hold
// voided at once, code CodeRequest); a retry finds it, returns the first
// result and emits nothing; the RequestID used for anything else is
// ErrRequestReused.
func (s *Service) RequestLicenses(ctx context.Context, p RequestLicensesParams) (LicenseRequest, error) {
	r, err := s.requestLicenses(ctx, p)
	s.observe(ctx, actRequest, p.Org, p.RequestID, err)
	if err != nil {
		return LicenseRequest{}, wrap(err, p.Org, "request %d more licenses for %q", p.Quantity, p.Org)
	}
	return r, nil
}

func (s *Service) requestLicenses(ctx context.Context, p RequestLicensesParams) (LicenseRequest, error) {
	if err := validID("Org", p.Org); err != nil {
		return LicenseRequest{}, err
	}
	if err := validRequestID(p.RequestID); err != nil {
		return LicenseRequest{}, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return LicenseRequest{}, err
	}
	if p.Quantity <= 0 {
		return LicenseRequest{}, invalid("Quantity", "%d is not positive", p.Quantity)
	}
	if r := input.Text(p.Note); r != "" {
		return LicenseRequest{}, invalid("Note", "%s", r)
	}
	if len(p.Note) > MaxNoteLen {
		return LicenseRequest{}, invalid("Note", "has %d bytes, more than %d", len(p.Note), MaxNoteLen)
	}
	if err := s.require(ctx, p.Org, a, "request licenses", OrgAdmin); err != nil {
		return LicenseRequest{}, err
	}
	mark := ledger.Hold{
		ID: requestTransfer(p.Org, p.RequestID), Debit: IssuerAccount(p.Org), Credit: PoolAccount(p.Org),
		Amount: decimal.NewFromInt(p.Quantity), Code: CodeRequest, Actor: a,
		Metadata: map[string]string{"act": actRequest, "note": p.Note},
	}
	r := LicenseRequest{Org: p.Org, Quantity: p.Quantity, Note: p.Note, Actor: a, RequestID: p.RequestID}
	_, err = s.inOp(ctx, actRequest, p.Org, a, p.RequestID, func(o *op) error {
		if err := o.ensureOrg(p.Org); err != nil {
			return err
		}
		done, err := o.marked(mark, p.RequestID, actRequest)
		if err != nil {
			return err
		}
		if done {
			h, err := o.b.Hold(o.ctx, mark.ID)
			if err != nil {
				return err
			}
			r.At, o.retry = h.SettledAt, true
			return o.flush()
		}
		if r.At, err = o.mark(mark, p.RequestID, actRequest); err != nil {
			return err
		}
		o.emit(events.LicensesRequested, events.LicenseRequest{Quantity: p.Quantity, Note: p.Note})
		return o.flush()
	})
	if err != nil {
		return LicenseRequest{}, err
	}
	return r, nil
}

// poolChange is Purchase (act actPurchase) or Reduce (actReduce).
//
// The transfer's metadata keep the pool's available count right after it
// ("available"), which its balances alone do not tell (live holds count
// against the pool); a retry is compared with the posted transfer
// leaving that one field aside.
func (s *Service) poolChange(ctx context.Context, org, act, requestID, subscription string, quantity int64, kind string) (allot.Purchase, error) {
	if err := validID("Org", org); err != nil {
		return allot.Purchase{}, err
	}
	if err := validRequestID(requestID); err != nil {
		return allot.Purchase{}, err
	}
	if subscription != "" {
		if err := validID("Subscription", subscription); err != nil {
			return allot.Purchase{}, err
		}
	}
	a, err := actor(act)
	if err != nil {
		return allot.Purchase{}, err
	}
	if quantity <= 0 {
		return allot.Purchase{}, invalid("Quantity", "%d is not positive", quantity)
	}
	action := "add licenses"
	if kind == actReduce {
		action = "take licenses back"
	}
	if err := s.require(ctx, org, a, action, allot.Vendor); err != nil {
		return allot.Purchase{}, err
	}
	want := ledger.Transfer{
		ID: requestTransfer(org, requestID), Debit: IssuerAccount(org), Credit: PoolAccount(org),
		Amount: decimal.NewFromInt(quantity), Code: CodePurchase, Actor: a,
	}
	if kind == actReduce {
		want.Debit, want.Credit, want.Code = want.Credit, want.Debit, CodeReduce
	}
	md := map[string]string{}
	if subscription != "" {
		md["subscription"] = subscription
	}
	var t ledger.Transfer
	_, err = s.inOp(ctx, kind, org, a, requestID, func(o *op) error {
		var err error
		if kind == actPurchase {
			err = o.ensureOrg(org)
		} else {
			err = o.loadOrg(org)
		}
		if err != nil {
			return err
		}
		prior, err := o.b.Transfer(o.ctx, want.ID)
		switch {
		case err == nil:
			w := want
			w.Metadata = withMeta(md, "available", prior.Metadata["available"])
			if !ledger.SameRequest(prior, w) {
				return &RequestReusedError{Org: org, RequestID: requestID, Act: kind}
			}
			t = prior
			o.retry = true
			return nil
		case !errors.Is(err, ledger.ErrNotFound):
			return err
		}
		bal, err := o.b.Balance(o.ctx, PoolAccount(org))
		if err != nil {
			return err
		}
		avail := bal.Available.IntPart()
		purchased := o.org.Purchased
		var ok bool
		if kind == actPurchase {
			if purchased, ok = input.Add(purchased, quantity); !ok {
				return invalid("Quantity", "%d more licenses would make %d purchased, more than a count can hold", quantity, o.org.Purchased)
			}
			avail += quantity // at most purchased
		} else {
			if quantity > avail {
				cur, err := o.summary()
				if err != nil {
					return err
				}
				return &InUseError{Org: org, Purchased: cur.Purchased, InUse: cur.InUse(), Reduce: quantity}
			}
			// At most what is available, which is at most purchased: this
			// does not go below zero.
			purchased -= quantity
			avail -= quantity
		}
		w := want
		w.Metadata = withMeta(md, "available", strconv.FormatInt(avail, 10))
		if t, err = o.b.Post(o.ctx, w); err != nil {
			return reused(err, org, requestID, kind)
		}
		o.org.Purchased = purchased
		typ := events.LicensesPurchased
		if kind == actReduce {
			typ = events.LicensesReduced
		}
		o.emit(typ, purchaseOf(org, requestID, subscription, t))
		return o.flush()
	})
	if err != nil {
		return allot.Purchase{}, err
	}
	return purchaseOf(org, requestID, subscription, t), nil
}

// withMeta returns a copy of m with k set to v.
func withMeta(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

// purchaseOf reads a purchase or reduction back from its transfer: the
// issuer's balance after it is minus the purchased count.
func purchaseOf(org, requestID, subscription string, t ledger.Transfer) allot.Purchase {
	p := allot.Purchase{
		Org: org, Product: Unit.Code, Subscription: subscription,
		Actor: t.Actor, RequestID: requestID, At: t.PostedAt,
	}
	q := t.Amount.IntPart()
	if t.Code == CodeReduce {
		p.Quantity, p.Purchased = -q, t.CreditBalance.Neg().IntPart()
	} else {
		p.Quantity, p.Purchased = q, t.DebitBalance.Neg().IntPart()
	}
	p.Available, _ = strconv.ParseInt(t.Metadata["available"], 10, 64)
	return p
}

// CreateTeamParams name a team to create.
type CreateTeamParams struct {
	Org   string
	Actor string // must be an Org Admin
	Team  string
}

// CreateTeam creates a team in the organization (and the organization's
// records if it has none yet) and returns it. It is naturally idempotent:
// creating a team that exists changes nothing and returns the team as it
// is stored (its counters may have moved since it was created).
func (s *Service) CreateTeam(ctx context.Context, p CreateTeamParams) (Team, error) {
	t, err := s.createTeam(ctx, p)
	if err != nil {
		return Team{}, wrap(err, p.Org, "create team %q in %q", p.Team, p.Org)
	}
	return t, nil
}

func (s *Service) createTeam(ctx context.Context, p CreateTeamParams) (Team, error) {
	if err := validID("Org", p.Org); err != nil {
		return Team{}, err
	}
	if err := validID("Team", p.Team); err != nil {
		return Team{}, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return Team{}, err
	}
	if err := s.require(ctx, p.Org, a, "create teams", OrgAdmin); err != nil {
		return Team{}, err
	}
	var t Team
	_, err = s.inOp(ctx, "create team", p.Org, a, "", func(o *op) error {
		if err := o.ensureOrg(p.Org); err != nil {
			return err
		}
		got, err := o.tx.LicenseTeamGet(ctx, p.Org, p.Team)
		switch {
		case err == nil:
			t = got
			return nil
		case !errors.Is(err, ledger.ErrNotFound):
			return err
		}
		t = Team{ID: p.Team}
		if err := o.tx.LicenseTeamInsert(ctx, p.Org, t); err != nil {
			return err
		}
		return o.flush()
	})
	return t, err
}

// InviteParams invite a person to a team.
type InviteParams struct {
	Org   string
	Actor string // an Org Admin, or a Team Admin of Team
	Team  string
	Email string // compared by the library's e-mail rule (NormalizeEmail)
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
	s.observe(ctx, actInvite, p.Org, p.RequestID, err)
	if err != nil {
		return Member{}, wrap(err, p.Org, "invite %q to team %q of %q", p.Email, p.Team, p.Org)
	}
	return m, nil
}

func (s *Service) invite(ctx context.Context, p InviteParams) (Member, error) {
	email, err := s.checkInvite(ctx, &p)
	if err != nil {
		return Member{}, err
	}
	holdID := requestTransfer(p.Org, p.RequestID)
	return s.inOp(ctx, actInvite, p.Org, p.Actor, p.RequestID, func(o *op) (err error) {
		if err := o.load(p.Org, email, p.Team); err != nil {
			return err
		}
		var changed bool
		if o.m, changed, err = o.invite(p, email, holdID, actInvite); err != nil {
			return err
		}
		if !changed {
			o.retry = true
			return o.flush()
		}
		if err := o.flush(); err != nil {
			return err
		}
		o.emitMember(events.LicensesInvited, o.m, p.Team)
		return nil
	})
}

// checkInvite validates p, returns its normalised e-mail, puts its actor in
// canonical form, and checks the actor's role.
func (s *Service) checkInvite(ctx context.Context, p *InviteParams) (string, error) {
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
	if p.Actor, err = actor(p.Actor); err != nil {
		return "", err
	}
	if err := validTime("ExpiresAt", p.ExpiresAt); err != nil {
		return "", err
	}
	if err := s.require(ctx, p.Org, p.Actor, "invite to team "+strconv.Quote(p.Team), OrgAdmin, TeamAdmin(p.Team)); err != nil {
		return "", err
	}
	return email, nil
}

// AcceptParams accept a pending invitation.
type AcceptParams struct {
	Org   string
	Actor string // the invitee: must be Email
	Email string
}

// Accept makes a pending member active: the invitation's hold is posted and
// the license moves from the pool to the member's account. Only the invitee
// accepts (Actor must be Email); anyone else gets an *allot.ForbiddenError.
//
// Accept is naturally idempotent. A member names one invitation at a time
// (Member.Hold), so a retry is recognised by the member's record: once the
// member accepted its current invitation (the hold was posted and
// AcceptedAt set: it is active, or unassigned if removed from its teams
// since), Accept returns the member as it reads now and changes nothing.
// An e-mail with no member is refused with ErrNoInvitation (a member
// deleted since its acceptance too), an invitation that expired with
// ErrInvitationExpired.
func (s *Service) Accept(ctx context.Context, p AcceptParams) (Member, error) {
	m, err := s.accept(ctx, p)
	s.observe(ctx, "accept", p.Org, "", err)
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
	a, err := actor(p.Actor)
	if err != nil {
		return Member{}, err
	}
	if a != email {
		return Member{}, &allot.ForbiddenError{Org: p.Org, Actor: a, Action: "accept the invitation of " + strconv.Quote(email) + " (only the invitee accepts its own)"}
	}
	return s.inOp(ctx, "accept", p.Org, a, "", func(o *op) error {
		if err := o.load(p.Org, email, ""); err != nil {
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
		if !old.AcceptedAt.IsZero() && (old.State == StateActive || old.State == StateUnassigned) {
			o.m, o.retry = old, true // accepted already: a retry
			return o.flush()
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
		if err := o.flush(); err != nil {
			return err
		}
		o.emitMember(events.LicensesAccepted, m, "")
		return nil
	})
}

// RemoveParams remove a member from one team.
type RemoveParams struct {
	Org   string
	Actor string // an Org Admin, or a Team Admin of Team
	Team  string
	Email string
	// RequestID names the removal: a retry returns the member and changes
	// nothing, even though the member is no longer in the team.
	RequestID string
}

// Remove takes a member out of a team and returns it. An active member
// removed from its last team becomes unassigned and keeps its license. A
// pending member removed from its last team has its invitation withdrawn:
// the hold is voided, the license is available again and the member is
// gone (the returned Member has StateNone). A member not in the team is
// refused with ErrNotInTeam.
//
// A removal moves no license, so it leaves a mark of its own on the ledger
// under the RequestID (a hold voided at once, code CodeRemove, naming the
// member and the team). A retry finds it and returns the member as it
// reads now (StateNone if it has no record any more), never ErrNotInTeam;
// the RequestID used for another act, member or team is ErrRequestReused.
func (s *Service) Remove(ctx context.Context, p RemoveParams) (Member, error) {
	m, err := s.remove(ctx, p)
	s.observe(ctx, actRemove, p.Org, p.RequestID, err)
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
	if err := validRequestID(p.RequestID); err != nil {
		return Member{}, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return Member{}, err
	}
	if err := s.require(ctx, p.Org, a, "remove from team "+strconv.Quote(p.Team), OrgAdmin, TeamAdmin(p.Team)); err != nil {
		return Member{}, err
	}
	mark := ledger.Hold{
		ID: requestTransfer(p.Org, p.RequestID), Debit: IssuerAccount(p.Org), Credit: PoolAccount(p.Org),
		Amount: one, Code: CodeRemove, Actor: a,
		Metadata: map[string]string{"act": actRemove, "member": email, "team": p.Team},
	}
	return s.inOp(ctx, actRemove, p.Org, a, p.RequestID, func(o *op) error {
		if err := o.load(p.Org, email, p.Team); err != nil {
			return err
		}
		if done, err := o.marked(mark, p.RequestID, actRemove); err != nil || done {
			if err != nil {
				return err
			}
			o.retry = true
			m, found, err := o.findMember(email)
			if err != nil {
				return err
			}
			if !found {
				m = Member{Org: p.Org, Email: email, State: StateNone}
			}
			o.m = m
			return o.flush()
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
		if _, err := o.mark(mark, p.RequestID, actRemove); err != nil {
			return err
		}
		if to == StateNone {
			if _, err := o.drop(old, dropParams{}); err != nil {
				return err
			}
			o.m = Member{Org: p.Org, Email: email, State: StateNone}
			if err := o.flush(); err != nil {
				return err
			}
			// The invitation is withdrawn: the member is gone.
			o.emitMember(events.LicensesRemovedFromTeam, Member{Email: email, State: StateDeleted}, p.Team)
			return nil
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
		if err := o.flush(); err != nil {
			return err
		}
		typ := events.LicensesRemovedFromTeam
		if m.State == StateUnassigned {
			typ = events.LicensesUnassigned
		}
		o.emitMember(typ, m, p.Team)
		return nil
	})
}

// DeleteParams delete a member from the organization.
type DeleteParams struct {
	Org       string
	Actor     string // must be an Org Admin
	Email     string
	RequestID string // the freeing transfer's (or the withdrawal's) ID derives from it
}

// Delete deletes a member in any state, frees its license back to the
// pool, and returns the member as deleted: its Org, Email and Hold (the
// invitation it was a member by), State StateDeleted and UpdatedAt (when
// it was deleted); its other fields are zero. An active or unassigned
// member's license is transferred back from its account (code CodeFree). A
// pending member's invitation is withdrawn: its hold is voided, and since
// that moves no license the withdrawal is marked on the ledger under the
// RequestID (a hold voided at once, code CodeWithdraw); an expired
// invitation is marked the same way. The member's ledger account stays,
// with its history.
//
// The freeing transfer or the mark names the act, the member and its
// invitation, so a RequestID names one deletion of one membership. A retry
// finds it and returns the same Member, whatever happened since (the
// person invited again, even): never ErrUnknownMember. The RequestID used
// for another act or member is ErrRequestReused and changes nothing.
func (s *Service) Delete(ctx context.Context, p DeleteParams) (Member, error) {
	m, err := s.delete(ctx, p)
	s.observe(ctx, actDelete, p.Org, p.RequestID, err)
	if err != nil {
		return Member{}, wrap(err, p.Org, "delete member %q of %q", p.Email, p.Org)
	}
	return m, nil
}

func (s *Service) delete(ctx context.Context, p DeleteParams) (Member, error) {
	if err := validID("Org", p.Org); err != nil {
		return Member{}, err
	}
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return Member{}, err
	}
	if err := validRequestID(p.RequestID); err != nil {
		return Member{}, err
	}
	a, err := actor(p.Actor)
	if err != nil {
		return Member{}, err
	}
	if err := s.require(ctx, p.Org, a, "delete members", OrgAdmin); err != nil {
		return Member{}, err
	}
	dp := dropParams{id: requestTransfer(p.Org, p.RequestID), request: p.RequestID, act: actDelete, actor: a}
	return s.inOp(ctx, actDelete, p.Org, a, p.RequestID, func(o *op) error {
		if err := o.load(p.Org, email, ""); err != nil {
			return err
		}
		if m, done, err := o.dropped(email, dp); err != nil || done {
			o.m, o.retry = m, done
			return err
		}
		old, err := o.member(email)
		if err != nil {
			return err
		}
		if o.m, err = o.drop(old, dp); err != nil {
			return err
		}
		if err := o.flush(); err != nil {
			return err
		}
		o.emitMember(events.LicensesDeleted, o.m, "")
		return nil
	})
}

// ReassignParams move a license from one person to another.
type ReassignParams struct {
	Org   string
	Actor string // must be an Org Admin
	From  string // the member deleted
	To    string // the person invited
	// Team is the team To is invited to. Empty: every team From was in
	// (then From must be in at least one).
	Team      string
	RequestID string
	ExpiresAt time.Time // of To's invitation; zero: never
}

// Reassign deletes From and invites To in one transaction: either both
// happen or neither does. It is exactly Delete then Invite (to each team), so
// To is pending until it accepts, and an existing member To reserves
// nothing new; it returns To. Its deletion part is Delete's, marked on the
// ledger the same way (a pending From's invitation is withdrawn), so a
// retry finds it and returns To as it reads now (StateNone if To has no
// record any more); the RequestID used for another request is
// ErrRequestReused.
func (s *Service) Reassign(ctx context.Context, p ReassignParams) (Member, error) {
	m, err := s.reassign(ctx, p)
	s.observe(ctx, actReassign, p.Org, p.RequestID, err)
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
	a, err := actor(p.Actor)
	if err != nil {
		return Member{}, err
	}
	if err := validTime("ExpiresAt", p.ExpiresAt); err != nil {
		return Member{}, err
	}
	if err := s.require(ctx, p.Org, a, "reassign licenses", OrgAdmin); err != nil {
		return Member{}, err
	}
	p.Actor = a
	dp := dropParams{id: requestTransfer(p.Org, p.RequestID), request: p.RequestID, act: actReassign, actor: a, to: to}
	return s.inOp(ctx, actReassign, p.Org, a, p.RequestID, func(o *op) (err error) {
		if err := o.load(p.Org, from, p.Team); err != nil {
			return err
		}
		if _, done, err := o.dropped(from, dp); err != nil || done {
			if err != nil {
				return err
			}
			o.retry = true
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
		old, err := o.member(from)
		if err != nil {
			return err
		}
		teams := old.Teams
		if p.Team != "" {
			teams = []string{p.Team}
		}
		if len(teams) == 0 {
			return invalid("Team", "empty, and %s is in no team; name the team to invite %s to", from, to)
		}
		gone, err := o.drop(old, dp)
		if err != nil {
			return err
		}
		fromP := o.payload(gone, "")
		// The first team reserves the license (if To needs one); the others
		// reserve nothing, so one hold ID serves them all.
		holdID := requestTransfer(p.Org, p.RequestID, "invite")
		for _, team := range teams {
			ip := InviteParams{Org: p.Org, Team: team, Email: to, Actor: p.Actor, RequestID: p.RequestID, ExpiresAt: p.ExpiresAt}
			if o.m, _, err = o.invite(ip, to, holdID, actReassign); err != nil {
				return err
			}
		}
		if err := o.flush(); err != nil {
			return err
		}
		toP := o.payload(o.m, p.Team)
		o.emit(events.LicensesReassigned, events.Reassigned{From: fromP, To: toP})
		return nil
	})
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
