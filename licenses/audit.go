package licenses

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// auditPage is how many records Audit reads at a time.
const auditPage = 1000

// Audit recomputes the organization's books from the ledger and its member
// records, in one transaction, and returns every disagreement as a
// ledger.Finding; none means they agree. The error is for failures to read
// (and for an unknown organization), never for a disagreement.
//
// It checks:
//   - Purchased against the issuer's journal (purchases less reductions),
//     and the issuer's balance against it;
//   - the Org's Active, Pending, Unassigned and Expired counters, and each
//     Team's Active and Pending, against a recount of the member records by
//     stored state;
//   - each member against the ledger: an active or unassigned member has
//     exactly one license posted on its account and its invitation's hold
//     posted; a pending one has nothing posted and its invitation's hold
//     live (pending, not expired, one license from the pool to its
//     account); an expired one has nothing posted and no live hold;
//   - that no account of a person without a member record holds a license,
//     and no live hold on the pool belongs to anything but a pending
//     member's invitation;
//   - purchased = available + pending + active + unassigned, available
//     being the pool's available balance now.
//
// Audit reads every member and every license account of the organization:
// its cost grows with them. It takes no actor: the embedding service
// decides who may run it.
func (s *Service) Audit(ctx context.Context, org string) ([]ledger.Finding, error) {
	if err := validID("Org", org); err != nil {
		return nil, wrap(err, org, "audit %q", org)
	}
	var fs []ledger.Finding
	err := s.store.InTx(ctx, func(tx Tx) error {
		a := auditor{ctx: ctx, tx: tx, b: ledger.NewBook(tx, s.clock.Now()), org: org}
		a.now = a.b.Now()
		err := a.run()
		fs = a.fs
		return err
	})
	if err != nil {
		return nil, wrap(err, org, "audit %q", org)
	}
	return fs, nil
}

// auditor is one run of Audit, inside its transaction.
type auditor struct {
	ctx context.Context
	tx  Tx
	b   *ledger.Book
	now time.Time
	org string
	fs  []ledger.Finding
}

func (a *auditor) find(record, field string, stored, derived any) {
	a.fs = append(a.fs, ledger.Finding{Tenant: a.org, Record: record, Field: field, Stored: fmt.Sprint(stored), Derived: fmt.Sprint(derived)})
}

func (a *auditor) run() error {
	o, err := a.tx.LicenseOrgGet(a.ctx, a.org)
	if err != nil {
		return notFound(err, "organization", a.org, a.org)
	}
	issuer, pool := IssuerAccount(a.org), PoolAccount(a.org)

	// Purchased, from the issuer's journal.
	purchased := decimal.Zero
	for after := int64(0); ; {
		ts, err := a.tx.TransferList(a.ctx, ledger.TransferListParams{Account: issuer, AfterSeq: after, Limit: auditPage})
		if err != nil {
			return err
		}
		for _, t := range ts {
			switch {
			case t.Code == CodePurchase && t.Debit == issuer && t.Credit == pool:
				purchased = purchased.Add(t.Amount)
			case t.Code == CodeReduce && t.Debit == pool && t.Credit == issuer:
				purchased = purchased.Sub(t.Amount)
			default:
				a.find("issuer account", "transfer "+t.Code, "a transfer of the issuer", "only purchases and reductions between issuer and pool")
			}
		}
		if len(ts) < auditPage {
			break
		}
		after = ts[len(ts)-1].Seq
	}
	if !purchased.Equal(decimal.NewFromInt(o.Purchased)) {
		a.find("organization", "purchased", o.Purchased, purchased)
	}

	// The organization's license accounts, by ID.
	posted := make(map[ledger.AccountID]decimal.Decimal)
	var issuerPosted decimal.Decimal
	for after := ledger.AccountID(""); ; {
		as, err := a.tx.AccountList(a.ctx, ledger.AccountListParams{Owner: a.org, Unit: Unit.Code, After: after, Limit: auditPage})
		if err != nil {
			return err
		}
		for _, ac := range as {
			switch ac.ID {
			case issuer:
				issuerPosted = ac.Posted
			case pool:
			default:
				posted[ac.ID] = ac.Posted
			}
		}
		if len(as) < auditPage {
			break
		}
		after = as[len(as)-1].ID
	}
	if !issuerPosted.Neg().Equal(purchased) {
		a.find("issuer account", "balance", issuerPosted, purchased.Neg())
	}
	poolBal, err := a.b.Balance(a.ctx, pool)
	if err != nil {
		return err
	}

	// The members, recounted, each against its account and its hold.
	var count Org
	teams := make(map[string]*Team)
	var teamOrder []string
	live := make(map[ledger.TransferID]bool) // the holds of pending members
	var inUse int64
	var ms []Member
	var holdIDs []ledger.TransferID
	var holds []ledger.Hold
	for after := ""; ; {
		ms, err = a.tx.LicenseMemberList(a.ctx, MemberListParams{Org: a.org, After: after, Limit: auditPage})
		if err != nil {
			return err
		}
		holdIDs = holdIDs[:0]
		for _, m := range ms {
			if m.Hold != "" {
				holdIDs = append(holdIDs, m.Hold)
			}
		}
		if holds, err = a.tx.HoldsGet(a.ctx, holdIDs, holds[:0]); err != nil {
			return err
		}
		for _, m := range ms {
			if err := a.member(m, holds, posted, &count, teams, &teamOrder, live, &inUse); err != nil {
				return err
			}
		}
		if len(ms) < auditPage {
			break
		}
		after = ms[len(ms)-1].Email
	}

	// Accounts of people without a record hold nothing.
	for _, id := range slices.Sorted(maps.Keys(posted)) {
		if p := posted[id]; p.Sign() != 0 {
			a.find(accountRecord(a.org, id), "license", "no member", p.String()+" posted on its account")
		}
	}
	// Live holds on the pool are pending members' invitations.
	for after := ledger.TransferID(""); ; {
		hs, err := a.tx.HoldList(a.ctx, ledger.HoldListParams{Debit: pool, Status: ledger.HoldPending, After: after, Limit: auditPage})
		if err != nil {
			return err
		}
		for _, h := range hs {
			if !live[h.ID] && (h.ExpiresAt.IsZero() || a.now.Before(h.ExpiresAt)) {
				a.find(accountRecord(a.org, h.Credit), "hold", "no pending invitation", "a live hold of "+h.Amount.String()+" on the pool")
			}
		}
		if len(hs) < auditPage {
			break
		}
		after = hs[len(hs)-1].ID
	}

	// The counters.
	for _, c := range []struct {
		field           string
		stored, derived int64
	}{
		{"active", o.Active, count.Active},
		{"pending", o.Pending, count.Pending},
		{"unassigned", o.Unassigned, count.Unassigned},
		{"expired", o.Expired, count.Expired},
	} {
		if c.stored != c.derived {
			a.find("organization", c.field, c.stored, c.derived)
		}
	}
	stored, err := a.tx.LicenseTeamList(a.ctx, TeamListParams{Org: a.org})
	if err != nil {
		return err
	}
	for _, t := range stored {
		want := Team{ID: t.ID}
		if c := teams[t.ID]; c != nil {
			want = *c
			delete(teams, t.ID)
		}
		if t.Active != want.Active {
			a.find("team "+t.ID, "active", t.Active, want.Active)
		}
		if t.Pending != want.Pending {
			a.find("team "+t.ID, "pending", t.Pending, want.Pending)
		}
	}
	for _, id := range teamOrder {
		if teams[id] != nil {
			a.find("team "+id, "record", "none", "members in it")
			delete(teams, id)
		}
	}

	// purchased = available + pending + active + unassigned
	if want := purchased.Sub(decimal.NewFromInt(inUse)); !poolBal.Available.Equal(want) {
		a.find("pool account", "available", poolBal.Available, want.String()+" (purchased less the licenses members hold)")
	}
	return nil
}

// member checks one member record against the ledger and counts it.
func (a *auditor) member(m Member, holds []ledger.Hold, posted map[ledger.AccountID]decimal.Decimal, count *Org, teams map[string]*Team, teamOrder *[]string, live map[ledger.TransferID]bool, inUse *int64) error {
	rec := "member " + m.Email
	acct := MemberAccount(a.org, m.Email)
	p, hasAccount := posted[acct]
	delete(posted, acct)
	var h *ledger.Hold
	for i := range holds {
		if holds[i].ID == m.Hold {
			h = &holds[i]
			break
		}
	}
	var c *int64
	switch m.State {
	case StateActive:
		c = &count.Active
	case StatePending:
		c = &count.Pending
	case StateUnassigned:
		c = &count.Unassigned
	case StateExpired:
		c = &count.Expired
	default:
		a.find(rec, "state", m.State, "pending, active, unassigned or expired")
		return nil
	}
	if err := addCount(c, 1, "organization", a.org); err != nil {
		return err
	}
	if m.State == StateActive || m.State == StatePending {
		for _, id := range m.Teams {
			t := teams[id]
			if t == nil {
				t = &Team{ID: id}
				teams[id] = t
				*teamOrder = append(*teamOrder, id)
			}
			c = &t.Pending
			if m.State == StateActive {
				c = &t.Active
			}
			if err := addCount(c, 1, "team", id); err != nil {
				return err
			}
		}
	}
	if !hasAccount {
		a.find(rec, "account", "none", "an account for its license")
		return nil
	}
	st := m.At(a.now).State
	wantPosted := int64(0)
	if st == StateActive || st == StateUnassigned {
		wantPosted = 1
	}
	if !p.Equal(decimal.NewFromInt(wantPosted)) {
		a.find(rec, "license", fmt.Sprintf("%s (%d posted)", st, wantPosted), p.String()+" posted on its account")
	}
	if st.HoldsLicense() {
		n, ok := input.Add(*inUse, 1)
		if !ok {
			return invalid("count", "more members than a count can hold")
		}
		*inUse = n
	}
	if h == nil {
		a.find(rec, "invitation", string(m.Hold), "no such hold")
		return nil
	}
	hs := h.Status
	if hs == ledger.HoldPending && !h.ExpiresAt.IsZero() && !a.now.Before(h.ExpiresAt) {
		hs = ledger.HoldExpired
	}
	switch st {
	case StateActive, StateUnassigned:
		if hs != ledger.HoldPosted {
			a.find(rec, "invitation", st, "its hold is "+string(hs)+", not posted")
		}
	case StatePending:
		switch {
		case hs != ledger.HoldPending:
			a.find(rec, "invitation", st, "its hold is "+string(hs)+", not pending")
		case h.Debit != PoolAccount(a.org) || h.Credit != acct || !h.Amount.Equal(one):
			a.find(rec, "invitation", "one license from the pool to the member", "a hold of "+h.Amount.String()+" from "+string(h.Debit)+" to "+string(h.Credit))
		default:
			live[h.ID] = true
		}
	case StateExpired:
		if hs == ledger.HoldPending {
			a.find(rec, "invitation", st, "its hold is live")
		}
	}
	return nil
}

// accountRecord names the person whose license account id is, as a
// Finding's Record.
func accountRecord(org string, id ledger.AccountID) string {
	if parts, ok := input.Split(string(id)); ok && len(parts) == 4 && parts[0] == "licenses" && parts[1] == org && parts[2] == "member" {
		return "member " + parts[3]
	}
	return "account " + strconv.Quote(string(id))
}
