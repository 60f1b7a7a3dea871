package licenses

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
)

// op is one operation inside one transaction: the ledger Book, the
// organization's record and the teams it touched, whose counters it keeps
// current as members change and writes back in flush, and the member it
// returns. Most operations touch one or two teams, which fit in teamBuf; one
// on a member in more teams (Accept, Delete, Reassign) grows teams past it.
type op struct {
	ctx     context.Context
	tx      Tx
	b       *ledger.Book // &book
	now     time.Time
	org     Org
	orgOld  Org
	teams   []teamRec // the teams read, in teamBuf while they fit
	teamBuf [2]teamRec
	m       Member // the member the operation returns, if any

	// The member LicenseLoad read (if preEmail is set), until findMember
	// takes it; the buffers LicenseLoad reads teams into and names a team
	// from, kept across operations.
	pre      Member
	preFound bool
	preEmail string
	loadBuf  []Team
	teamArg  [1]string

	// The events of the run, written by runTx when fn succeeds, and what
	// they are made of: the request's envelope, the organization's record
	// as the run found it, how many of its invitations stored as pending
	// had expired by now (exp) and by the last write that told the events
	// its counts (told), and how many expired invitations the run noticed.
	env      events.Event
	evs      []events.Event
	orgStart Org
	exp      int64
	told     int64
	noticed  int64
	retry    bool // the request is a retry: it returns its first result

	book ledger.Book    // reused by each run, so an operation allocates none
	run  func(Tx) error // runTx, bound once: kept across operations

	// The operation to run.
	s  *Service
	fn func(o *op) error
}

type teamRec struct {
	t, old Team
}

// ops recycles ops, which every operation needs and which are large (the
// organization's record twice, the teams touched, the member returned, a
// Book): allocating one per operation was a fifth of the bytes an
// invitation and its acceptance allocate.
var ops = sync.Pool{New: func() any {
	o := new(op)
	o.run = o.runTx
	return o
}}

// inOp runs fn in a transaction, reading the clock once, and returns the
// member fn left in o.m. The store may run fn again after a transient
// failure; each run starts from a fresh op. The events fn adds are written
// in the transaction, under the envelope of act's request (org, actor,
// requestID), after the pool's threshold events; a retry (fn sets o.retry)
// is logged.
func (s *Service) inOp(ctx context.Context, act, org, actor, requestID string, fn func(o *op) error) (Member, error) {
	o := ops.Get().(*op)
	o.ctx, o.s, o.fn = ctx, s, fn
	o.env = events.Event{Org: org, Actor: actor, RequestID: requestID}
	err := s.store.InTx(ctx, o.run)
	m, retry := o.m, o.retry
	clear(o.loadBuf)
	*o = op{run: o.run, evs: o.evs[:0], loadBuf: o.loadBuf[:0]} // keep nothing of this operation in the pool
	ops.Put(o)
	if err != nil {
		return Member{}, err
	}
	if retry {
		s.retried(ctx, act, org, requestID)
	}
	return m, nil
}

func (o *op) runTx(tx Tx) error {
	o.clear()
	o.tx = tx
	o.b = &o.book
	o.b.Reset(tx, o.s.clock.Now())
	o.now = o.b.Now()
	if err := o.fn(o); err != nil {
		return err
	}
	return o.commitEvents()
}

// clear forgets what a run read and wrote.
func (o *op) clear() {
	o.tx, o.b, o.now = nil, nil, time.Time{}
	o.org, o.orgOld, o.m = Org{}, Org{}, Member{}
	o.teamBuf = [2]teamRec{}
	o.teams = o.teamBuf[:0]
	o.pre, o.preFound, o.preEmail = Member{}, false, ""
	clear(o.evs)
	o.evs = o.evs[:0]
	o.orgStart, o.exp, o.told, o.noticed, o.retry = Org{}, 0, 0, 0, false
}

// loadOrg reads and locks the organization's record: every write takes
// it first.
func (o *op) loadOrg(org string) error {
	return o.load(org, "", "")
}

// readOrg reads the organization's record without locking it, and counts
// its expired invitations, for a view.
func (o *op) readOrg(org string) error {
	got, err := o.tx.LicenseOrgGet(o.ctx, org)
	if err != nil {
		return notFound(err, "organization", org, org)
	}
	o.org = got
	o.exp, err = o.tx.LicenseExpiredCount(o.ctx, org, o.now)
	return err
}

// load is loadOrg that also reads, in the same call to the store, the
// member email (if set) and the teams it is in, and team (if set).
func (o *op) load(org, email, team string) error {
	var teams []string
	if team != "" {
		o.teamArg[0] = team
		teams = o.teamArg[:]
	}
	l, err := o.tx.LicenseLoad(o.ctx, LoadParams{Org: org, At: o.now, Email: email, Teams: teams}, o.loadBuf[:0])
	if err != nil {
		return notFound(err, "organization", org, org)
	}
	o.loadBuf = l.Teams
	o.org, o.orgOld, o.orgStart = l.Org, l.Org, l.Org
	// A write whose clock was ahead of this one's counts as written now.
	o.exp, o.told = l.Expired, min(l.ExpiredByUpdate, l.Expired)
	for _, t := range l.Teams {
		o.teams = append(o.teams, teamRec{t: t, old: t})
	}
	o.pre, o.preFound, o.preEmail = l.Member, l.Found, email
	return nil
}

// ensureOrg reads the organization's record, creating it and its ledger
// accounts if it does not exist yet.
func (o *op) ensureOrg(org string) error {
	err := o.loadOrg(org)
	if !errors.Is(err, ErrUnknownOrg) {
		return err
	}
	if _, err := o.b.DefineUnit(o.ctx, Unit); err != nil {
		return err
	}
	if err := o.b.EnsureAccounts(o.ctx, []ledger.Account{
		{ID: IssuerAccount(org), Unit: Unit.Code, Owner: org},
		{ID: PoolAccount(org), Unit: Unit.Code, Owner: org, Flags: ledger.FlagNonNegative},
	}); err != nil {
		return err
	}
	rec := Org{ID: org, CreatedAt: o.now, UpdatedAt: o.now}
	if err := o.tx.LicenseOrgInsert(o.ctx, rec); err != nil {
		if errors.Is(err, ledger.ErrAlreadyExists) {
			// A concurrent request created it first: work on theirs.
			return o.loadOrg(org)
		}
		return err
	}
	o.org, o.orgOld, o.orgStart = rec, rec, rec
	return nil
}

// exists reports whether a transfer with this ID was posted before: the
// request is a retry, and its counters were already updated.
func (o *op) exists(id ledger.TransferID) (bool, error) {
	got, err := o.tx.TransfersGet(o.ctx, []ledger.TransferID{id}, nil)
	return len(got) > 0, err
}

// team returns the op's working copy of a team, reading it once. The
// pointer is valid until the next call.
func (o *op) team(id string) (*Team, error) {
	for i := range o.teams {
		if o.teams[i].t.ID == id {
			return &o.teams[i].t, nil
		}
	}
	t, err := o.tx.LicenseTeamGet(o.ctx, o.org.ID, id)
	if err != nil {
		return nil, notFound(err, "team", o.org.ID, id)
	}
	o.teams = append(o.teams, teamRec{t: t, old: t})
	return &o.teams[len(o.teams)-1].t, nil
}

// member reads a member as findMember does; a missing one is an error
// matching ErrUnknownMember.
func (o *op) member(email string) (Member, error) {
	m, found, err := o.findMember(email)
	if err == nil && !found {
		err = &NotFoundError{Kind: "member", Org: o.org.ID, ID: email}
	}
	return m, err
}

// findMember reads a member, if there is one, and marks an expired
// invitation as expired: the lazy write the summary's expiry index stands
// in for until then.
//
// The member load read is taken from it, once: a later read of the same
// member, which the run may have written since, goes to the store.
func (o *op) findMember(email string) (m Member, found bool, err error) {
	if o.preEmail != "" && o.preEmail == email {
		m, found = o.pre, o.preFound
		o.pre, o.preFound, o.preEmail = Member{}, false, ""
		if !found {
			return Member{}, false, nil
		}
	} else {
		m, err = o.tx.LicenseMemberGet(o.ctx, o.org.ID, email)
		switch {
		case errors.Is(err, ledger.ErrNotFound):
			return Member{}, false, nil
		case err != nil:
			return Member{}, false, err
		}
	}
	if at := m.At(o.now); at.State != m.State {
		at.UpdatedAt = o.now
		if err := o.save(m, at); err != nil {
			return Member{}, false, err
		}
		o.noticed++
		o.emitExpired(at)
		m = at
	}
	return m, true, nil
}

// count adds (sign 1) or removes (sign -1) a member's contribution to the
// organization's and its teams' counters, by its stored state. A counter
// that would not fit in an int64 is refused with ErrInvalid, never wrapped.
func (o *op) count(m Member, sign int64) error {
	var c *int64
	switch m.State {
	case StateNone:
		return nil
	case StateActive:
		c = &o.org.Active
	case StatePending:
		c = &o.org.Pending
	case StateUnassigned:
		c = &o.org.Unassigned
	case StateExpired:
		c = &o.org.Expired
	}
	if err := addCount(c, sign, "organization", o.org.ID); err != nil {
		return err
	}
	if m.State != StateActive && m.State != StatePending {
		return nil
	}
	for _, id := range m.Teams {
		t, err := o.team(id)
		if err != nil {
			return err
		}
		c = &t.Pending
		if m.State == StateActive {
			c = &t.Active
		}
		if err := addCount(c, sign, "team", id); err != nil {
			return err
		}
	}
	return nil
}

// addCount adds d to the counter *c, or refuses a sum an int64 cannot hold.
func addCount(c *int64, d int64, kind, id string) error {
	n, ok := input.Add(*c, d)
	if !ok {
		return invalid("count", "the counter of %s %s would pass what a count can hold", kind, id)
	}
	*c = n
	return nil
}

// save writes a member's new record (inserting it if old is StateNone) and
// moves its contribution to the counters from old to m.
func (o *op) save(old, m Member) error {
	if err := o.count(old, -1); err != nil {
		return err
	}
	if err := o.count(m, 1); err != nil {
		return err
	}
	if old.State == StateNone {
		return o.tx.LicenseMemberInsert(o.ctx, m)
	}
	return o.tx.LicenseMemberUpdate(o.ctx, m)
}

// dropParams say which request drops a member: the ID of the transfer that
// frees a posted license (or of the mark of a withdrawn invitation), and
// what it names so that the ID serves this request only.
type dropParams struct {
	id      ledger.TransferID // empty: a withdrawal by Remove, which marks its own request
	request string            // the caller's RequestID
	act     string            // actDelete or actReassign
	actor   string            // canonical
	to      string            // Reassign: who gets the license
}

// dropMetadata names what a drop's transfer or mark is for: the act, the
// member and the membership (its invitation's hold), and for a Reassign
// who gets the license.
func dropMetadata(email string, invitation ledger.TransferID, dp dropParams) map[string]string {
	md := map[string]string{"act": dp.act, "member": email, "invitation": string(invitation)}
	if dp.to != "" {
		md["to"] = dp.to
	}
	return md
}

// freeTransfer is the transfer that gives m's posted license back to the
// pool for the request dp. Its contents name the act, the member and the
// membership, so the ledger refuses the request ID reused for another
// member, another membership of the same member, or another act: only a
// true retry is the same transfer.
func (o *op) freeTransfer(email string, invitation ledger.TransferID, dp dropParams) ledger.Transfer {
	return ledger.Transfer{
		ID: dp.id, Debit: MemberAccount(o.org.ID, email), Credit: PoolAccount(o.org.ID),
		Amount: one, Code: CodeFree, Actor: dp.actor, Metadata: dropMetadata(email, invitation, dp),
	}
}

// withdrawMark is the mark a drop of a pending or expired invitation
// leaves under the request's ID: it moves no license.
func (o *op) withdrawMark(email string, invitation ledger.TransferID, dp dropParams) ledger.Hold {
	return ledger.Hold{
		ID: dp.id, Debit: IssuerAccount(o.org.ID), Credit: PoolAccount(o.org.ID),
		Amount: one, Code: CodeWithdraw, Actor: dp.actor, Metadata: dropMetadata(email, invitation, dp),
	}
}

// deleted is a member as Delete returns it.
func deleted(org, email string, invitation ledger.TransferID, at time.Time) Member {
	return Member{Org: org, Email: email, State: StateDeleted, Hold: invitation, UpdatedAt: at}
}

// dropped answers whether the request dp already dropped email: if the
// request's freeing transfer or withdrawal mark is on the ledger for this
// member, the request is a retry of one that succeeded, and dropped returns
// the member as that request deleted it; if its ID holds anything else,
// the request ID was reused; otherwise the request is new.
func (o *op) dropped(email string, dp dropParams) (Member, bool, error) {
	t, err := o.b.Transfer(o.ctx, dp.id)
	switch {
	case err == nil:
		inv := ledger.TransferID(t.Metadata["invitation"])
		if ledger.SameRequest(t, o.freeTransfer(email, inv, dp)) {
			return deleted(o.org.ID, email, inv, t.PostedAt), true, nil
		}
		return Member{}, false, &RequestReusedError{Org: o.org.ID, RequestID: dp.request, Act: dp.act}
	case !errors.Is(err, ledger.ErrNotFound):
		return Member{}, false, err
	}
	h, err := o.b.Hold(o.ctx, dp.id)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return Member{}, false, nil
	case err != nil:
		return Member{}, false, err
	}
	inv := ledger.TransferID(h.Metadata["invitation"])
	if h.Status == ledger.HoldVoided && sameHold(h, o.withdrawMark(email, inv, dp)) {
		return deleted(o.org.ID, email, inv, h.SettledAt), true, nil
	}
	return Member{}, false, &RequestReusedError{Org: o.org.ID, RequestID: dp.request, Act: dp.act}
}

// sameHold reports whether got, a hold read back, is the hold want asks
// for: every field a caller sets is equal.
func sameHold(got, want ledger.Hold) bool {
	return got.Debit == want.Debit && got.Credit == want.Credit && got.Amount.Equal(want.Amount) &&
		got.Code == want.Code && got.Actor == want.Actor && maps.Equal(got.Metadata, want.Metadata) &&
		got.ExpiresAt.Equal(want.ExpiresAt)
}

// mark leaves h on the ledger as the record of a request that moves no
// license: a hold from the issuer (which may go negative, so it is never
// refused for want of licenses) to the pool, voided at once. It changes no
// balance, and a retry finds it (see marked). It returns when it was made.
func (o *op) mark(h ledger.Hold, request, act string) (time.Time, error) {
	if _, err := o.b.CreateHold(o.ctx, h); err != nil {
		return time.Time{}, reused(err, o.org.ID, request, act)
	}
	v, err := o.b.VoidHold(o.ctx, h.ID)
	if err != nil {
		return time.Time{}, err
	}
	return v.SettledAt, nil
}

// marked reports whether the mark h is on the ledger already (the request
// is a retry of one that succeeded), or returns a *RequestReusedError if
// its ID holds anything else.
func (o *op) marked(h ledger.Hold, request, act string) (bool, error) {
	got, err := o.b.Hold(o.ctx, h.ID)
	switch {
	case err == nil:
		if got.Status == ledger.HoldVoided && sameHold(got, h) {
			return true, nil
		}
		return false, &RequestReusedError{Org: o.org.ID, RequestID: request, Act: act}
	case !errors.Is(err, ledger.ErrNotFound):
		return false, err
	}
	if taken, err := o.exists(h.ID); err != nil || taken {
		if err == nil {
			err = &RequestReusedError{Org: o.org.ID, RequestID: request, Act: act}
		}
		return false, err
	}
	return false, nil
}

// drop deletes a member's record and frees its license: a pending hold is
// voided, a posted license goes back to the pool by the transfer dp names,
// an expired invitation holds nothing. A drop that moves no license
// (a pending or expired member) is marked under dp's ID, if it has one. It
// returns the member as deleted.
//
// A member stored as pending whose hold the ledger has already released as
// expired (a write whose clock was ahead of this one's, or that read the
// clock after this one and committed first) is the expired invitation it
// is: there is nothing left to void.
func (o *op) drop(old Member, dp dropParams) (Member, error) {
	if _, err := Transition(old.State, EventDelete); err != nil {
		return Member{}, err
	}
	at := o.now
	switch old.State {
	case StatePending, StateExpired:
		if old.State == StatePending {
			if _, err := o.b.VoidHold(o.ctx, old.Hold); err != nil {
				var hs *ledger.HoldStateError
				if !errors.As(err, &hs) || hs.Status != ledger.HoldExpired {
					return Member{}, err
				}
			}
		}
		if dp.id != "" {
			var err error
			if at, err = o.mark(o.withdrawMark(old.Email, old.Hold, dp), dp.request, dp.act); err != nil {
				return Member{}, err
			}
		}
	case StateActive, StateUnassigned:
		if dp.id == "" {
			return Member{}, errors.New("licenses: internal error: a member holding a license dropped without a request")
		}
		t, err := o.b.Post(o.ctx, o.freeTransfer(old.Email, old.Hold, dp))
		if err != nil {
			return Member{}, reused(err, o.org.ID, dp.request, dp.act)
		}
		at = t.PostedAt
	}
	if err := o.count(old, -1); err != nil {
		return Member{}, err
	}
	if err := o.tx.LicenseMemberDelete(o.ctx, o.org.ID, old.Email); err != nil {
		return Member{}, err
	}
	return deleted(o.org.ID, old.Email, old.Hold, at), nil
}

// invite is Invite inside the transaction; see Service.Invite. A new
// reservation takes the hold ID holdID, which becomes the membership's
// identity (Member.Hold); act is the request's act, for its errors.
//
// It reports whether it changed anything: inviting a member to a team it
// is in changes nothing.
func (o *op) invite(p InviteParams, email string, holdID ledger.TransferID, act string) (Member, bool, error) {
	if !p.ExpiresAt.IsZero() {
		p.ExpiresAt = ledger.Instant(p.ExpiresAt)
		if !p.ExpiresAt.After(o.now) {
			return Member{}, false, invalid("ExpiresAt", "%s is not after now (%s)", p.ExpiresAt.Format(time.RFC3339Nano), o.now.Format(time.RFC3339Nano))
		}
	}
	if _, err := o.team(p.Team); err != nil {
		return Member{}, false, err
	}
	old, found, err := o.findMember(email)
	if err != nil {
		return Member{}, false, err
	}
	if !found {
		old = Member{Org: o.org.ID, Email: email, State: StateNone}
	}
	if old.State != StateExpired && old.InTeam(p.Team) {
		return old, false, nil // already invited to this team
	}
	to, err := Transition(old.State, EventInvite)
	if err != nil {
		return Member{}, false, err
	}
	m := old
	if !old.State.HoldsLicense() {
		acct := MemberAccount(o.org.ID, email)
		if err := o.b.EnsureAccount(o.ctx, ledger.Account{ID: acct, Unit: Unit.Code, Owner: o.org.ID, Flags: ledger.FlagNonNegative}); err != nil {
			return Member{}, false, err
		}
		h, err := o.b.CreateHold(o.ctx, ledger.Hold{
			ID: holdID, Debit: PoolAccount(o.org.ID), Credit: acct,
			Amount: one, Code: CodeInvite, Actor: p.Actor, ExpiresAt: p.ExpiresAt,
		})
		if errors.Is(err, ledger.ErrInsufficientBalance) {
			sum, serr := o.summary()
			if serr != nil {
				return Member{}, false, serr
			}
			return Member{}, false, &NoLicenseError{Org: o.org.ID, Purchased: sum.Purchased, InUse: sum.InUse()}
		}
		if err != nil {
			return Member{}, false, reused(err, o.org.ID, p.RequestID, act)
		}
		if h.Status != ledger.HoldPending {
			// The request's invitation was posted, voided or expired: this
			// is another invitation under its ID.
			return Member{}, false, &RequestReusedError{Org: o.org.ID, RequestID: p.RequestID, Act: act}
		}
		m.Hold = h.ID
		m.ExpiresAt = p.ExpiresAt
		m.InvitedAt = o.now
		m.InvitedBy = p.Actor
		m.AcceptedAt = time.Time{}
	}
	m.State = to
	if i, ok := slices.BinarySearch(m.Teams, p.Team); !ok {
		m.Teams = slices.Insert(slices.Clone(m.Teams), i, p.Team)
	}
	m.UpdatedAt = o.now
	if err := o.save(old, m); err != nil {
		return Member{}, false, err
	}
	return m, true, nil
}

// flush writes the organization's and the touched teams' counters back if
// they changed.
func (o *op) flush() error {
	if o.org != o.orgOld {
		o.org.UpdatedAt = o.now
		if err := o.tx.LicenseOrgUpdate(o.ctx, o.org); err != nil {
			return err
		}
		o.orgOld = o.org
	}
	for i := range o.teams {
		r := &o.teams[i]
		if r.t != r.old {
			if err := o.tx.LicenseTeamUpdate(o.ctx, o.org.ID, r.t); err != nil {
				return err
			}
			r.old = r.t
		}
	}
	return nil
}

// summary computes the consumption from the stored counters (flush first)
// and the count of invitations that expired since they were last written.
func (o *op) summary() (Summary, error) {
	s := o.totals()
	var err error
	if s.Teams, err = o.tx.LicenseTeamList(o.ctx, TeamListParams{Org: o.org.ID, PendingAt: o.now}); err != nil {
		return Summary{}, err
	}
	return s, nil
}

// totals is summary without the teams.
func (o *op) totals() Summary {
	exp := o.unnoticed()
	s := Summary{
		Org:        o.org.ID,
		Purchased:  o.org.Purchased,
		Active:     o.org.Active,
		Pending:    o.org.Pending - exp,
		Unassigned: o.org.Unassigned,
		Expired:    o.org.Expired + exp,
	}
	s.Available = available(s.Purchased, s.Active, s.Pending, s.Unassigned)
	return s
}
