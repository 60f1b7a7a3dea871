package licenses_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/allot-dev/allot"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// model is the plain Go model the property test runs the service against.
type model struct {
	purchased int64
	members   map[string]*modelMember // by lower-case e-mail
}

type modelMember struct {
	state   licenses.State // stored: pending, active or unassigned
	teams   map[string]bool
	expires time.Time
	inv     string // the invitation that reserved its license: the hold's request
}

// modelRequest is what an earlier request left in the ledger under its ID.
type modelRequest struct {
	act   string
	email string // Delete: the member; Invite: the invitee
	// Delete: the transfer that freed the license, or the mark of the
	// withdrawn invitation; Invite: the hold it created. False: the request
	// left nothing.
	moved bool
	inv   string
	n     int64 // Purchase: the quantity
}

func (m *modelMember) at(now time.Time) licenses.State {
	if m.state == licenses.StatePending && !m.expires.IsZero() && !now.Before(m.expires) {
		return licenses.StateExpired
	}
	return m.state
}

func (md *model) clone() *model {
	c := &model{purchased: md.purchased, members: make(map[string]*modelMember, len(md.members))}
	for k, m := range md.members {
		mm := *m
		mm.teams = maps.Clone(m.teams)
		c.members[k] = &mm
	}
	return c
}

func (md *model) state(email string, now time.Time) licenses.State {
	if m, ok := md.members[email]; ok {
		return m.at(now)
	}
	return licenses.StateNone
}

func (md *model) available(now time.Time) int64 {
	n := md.purchased
	for _, m := range md.members {
		if m.at(now).HoldsLicense() {
			n--
		}
	}
	return n
}

// inviteAs applies an invitation by the request inv to the model (a new
// reservation is named inv), or returns the error the service must report.
func (md *model) inviteAs(team, email string, exp, now time.Time, inv string) error {
	st := md.state(email, now)
	m := md.members[email]
	if st != licenses.StateNone && st != licenses.StateExpired && m.teams[team] {
		return nil
	}
	switch st {
	case licenses.StateNone, licenses.StateExpired:
		if md.available(now) <= 0 {
			return licenses.ErrNoLicenseAvailable
		}
		if m == nil {
			m = &modelMember{teams: map[string]bool{}}
			md.members[email] = m
		}
		m.state, m.expires, m.inv = licenses.StatePending, exp, inv
	case licenses.StateUnassigned:
		m.state = licenses.StateActive
	}
	m.teams[team] = true
	return nil
}

func (md *model) drop(email string, now time.Time) error {
	if md.state(email, now) == licenses.StateNone {
		return licenses.ErrUnknownMember
	}
	delete(md.members, email)
	return nil
}

var (
	propTeams  = []string{"design", "sales", "ops"}
	propEmails = []string{"ann@x.test", "ANN@x.test", "bob@x.test", "cat@x.test", " Dan@X.test", "eve@x.test"}
)

type propMachine struct {
	ctx   context.Context
	ms    *memstore.Store
	clock *clock.Fake
	svc   *licenses.Service
	// lagging is a replica whose clock is behind svc's by lag: its writes
	// meet holds that svc's writes already released as expired.
	lagging *licenses.Service
	lag     time.Duration
	model   *model
	req     int
	reqs    map[string]*modelRequest // every request sent, by ID
	reqIDs  []string                 // in the order sent
}

// laggingClock is a clock behind another by a fixed duration.
type laggingClock struct {
	c   *clock.Fake
	lag *time.Duration
}

func (l laggingClock) Now() time.Time { return l.c.Now().Add(-*l.lag) }

func newPropMachine(t *rapid.T) *propMachine {
	p := &propMachine{ctx: context.Background(), ms: memstore.New(), clock: clock.NewFake(t0), model: &model{members: map[string]*modelMember{}}, reqs: map[string]*modelRequest{}}
	roles := &allot.StaticRoles{}
	roles.Grant(org, admin, licenses.OrgAdmin)
	roles.Grant(org, vendor, allot.Vendor)
	var err error
	if p.svc, err = licenses.New(p.ms.Licenses(), &licenses.Options{Clock: p.clock, Roles: roles}); err != nil {
		t.Fatal(err)
	}
	if p.lagging, err = licenses.New(p.ms.Licenses(), &licenses.Options{Clock: laggingClock{p.clock, &p.lag}, Roles: roles}); err != nil {
		t.Fatal(err)
	}
	n := rapid.Int64Range(0, 4).Draw(t, "initial")
	if n > 0 {
		req := p.nextReq()
		if _, err := p.svc.Purchase(p.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: req, Quantity: n}); err != nil {
			t.Fatal(err)
		}
		p.sent(req, &modelRequest{act: "purchase", n: n})
	}
	p.model.purchased = n
	for _, team := range propTeams {
		if _, err := p.svc.CreateTeam(p.ctx, licenses.CreateTeamParams{Org: org, Team: team, Actor: admin}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (p *propMachine) nextReq() string {
	p.req++
	return fmt.Sprintf("q%d", p.req)
}

// sent records what request id left in the ledger.
func (p *propMachine) sent(id string, r *modelRequest) {
	if _, ok := p.reqs[id]; !ok {
		p.reqIDs = append(p.reqIDs, id)
	}
	p.reqs[id] = r
}

// earlier draws the ID of an earlier request of act, if any.
func (p *propMachine) earlier(t *rapid.T, act string) (string, *modelRequest, bool) {
	var ids []string
	for _, id := range p.reqIDs {
		if p.reqs[id].act == act {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", nil, false
	}
	id := rapid.SampledFrom(ids).Draw(t, "earlier")
	return id, p.reqs[id], true
}

func norm(e string) string {
	n, err := licenses.NormalizeEmail(e)
	if err != nil {
		panic(err)
	}
	return n
}

// expect fails the test unless err matches want (nil: no error).
func expect(t *rapid.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil {
		t.Fatalf("%s: unexpected error %v", what, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want one matching %v", what, err, want)
	}
}

func (p *propMachine) drawExpiry(t *rapid.T) time.Time {
	if k := rapid.IntRange(0, 4).Draw(t, "expiresInHalfHours"); k > 0 {
		return p.clock.Now().Add(time.Duration(k) * 30 * time.Minute)
	}
	return time.Time{}
}

func (p *propMachine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"": p.check,
		"Purchase": func(t *rapid.T) {
			n := rapid.Int64Range(1, 3).Draw(t, "n")
			req := p.nextReq()
			_, err := p.svc.Purchase(p.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: req, Quantity: n})
			expect(t, "Purchase", err, nil)
			p.model.purchased += n
			p.sent(req, &modelRequest{act: "purchase", n: n})
		},
		// A purchase sent again: the same quantity is a retry that adds
		// nothing; another is a request ID reused.
		"PurchaseAgain": func(t *rapid.T) {
			req, r, ok := p.earlier(t, "purchase")
			if !ok {
				t.Skip("no purchase yet")
			}
			n := rapid.Int64Range(r.n, r.n+1).Draw(t, "n")
			var want error
			if n != r.n {
				want = licenses.ErrRequestReused
			}
			_, err := p.svc.Purchase(p.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: req, Quantity: n})
			expect(t, "Purchase again", err, want)
		},
		"Reduce": func(t *rapid.T) {
			n := rapid.Int64Range(1, 3).Draw(t, "n")
			var want error
			if n > p.model.available(p.clock.Now()) {
				want = licenses.ErrLicensesInUse
			}
			_, err := p.svc.Reduce(p.ctx, licenses.ReduceParams{Org: org, Actor: vendor, RequestID: p.nextReq(), Quantity: n})
			expect(t, "Reduce", err, want)
			if want == nil {
				p.model.purchased -= n
			}
		},
		"Invite": func(t *rapid.T) {
			team := rapid.SampledFrom(propTeams).Draw(t, "team")
			email := rapid.SampledFrom(propEmails).Draw(t, "email")
			exp := p.drawExpiry(t)
			req := p.nextReq()
			_, err := p.svc.Invite(p.ctx, licenses.InviteParams{Org: org, Team: team, Email: email, Actor: admin, RequestID: req, ExpiresAt: exp})
			p.inviteOutcome(t, req, team, norm(email), exp, err)
		},
		// An invitation's request ID sent again for anyone: a person who
		// needs a license cannot get it under a request whose hold exists.
		"InviteAgain": func(t *rapid.T) {
			req, _, ok := p.earlier(t, "invite")
			if !ok {
				t.Skip("no invitation yet")
			}
			team := rapid.SampledFrom(propTeams).Draw(t, "team")
			email := rapid.SampledFrom(propEmails).Draw(t, "email")
			exp := p.drawExpiry(t)
			_, err := p.svc.Invite(p.ctx, licenses.InviteParams{Org: org, Team: team, Email: email, Actor: admin, RequestID: req, ExpiresAt: exp})
			p.inviteOutcome(t, req, team, norm(email), exp, err)
		},
		"Accept": func(t *rapid.T) {
			email := rapid.SampledFrom(propEmails).Draw(t, "email")
			e := norm(email)
			var want error
			switch p.model.state(e, p.clock.Now()) {
			case licenses.StateNone:
				want = licenses.ErrNoInvitation
			case licenses.StateExpired:
				want = licenses.ErrInvitationExpired
			}
			// Active or unassigned: it accepted its invitation, a retry.
			retry := p.model.state(e, p.clock.Now()) == licenses.StateUnassigned
			_, err := p.svc.Accept(p.ctx, licenses.AcceptParams{Org: org, Email: email, Actor: email})
			expect(t, "Accept", err, want)
			if want == nil && !retry {
				p.model.members[e].state = licenses.StateActive
			}
		},
		"Remove": func(t *rapid.T) {
			p.removeBy(t, p.svc)
		},
		// The lagging replica removes a member, after svc released the
		// expired holds: an invitation pending by its clock may be
		// expired in the ledger already.
		"RemoveLagging": func(t *rapid.T) {
			p.sweep(t)
			p.removeBy(t, p.lagging)
		},
		"Delete": func(t *rapid.T) {
			email := rapid.SampledFrom(propEmails).Draw(t, "email")
			p.deleteBy(t, p.svc, p.nextReq(), norm(email))
		},
		"DeleteLagging": func(t *rapid.T) {
			p.sweep(t)
			email := rapid.SampledFrom(propEmails).Draw(t, "email")
			p.deleteBy(t, p.lagging, p.nextReq(), norm(email))
		},
		// A deletion's request ID sent again, for the same member (a
		// retry, or a member invited again since) or another.
		"DeleteAgain": func(t *rapid.T) {
			req, _, ok := p.earlier(t, "delete")
			if !ok {
				t.Skip("no deletion yet")
			}
			email := rapid.SampledFrom(propEmails).Draw(t, "email")
			p.deleteBy(t, p.svc, req, norm(email))
		},
		"Reassign": func(t *rapid.T) {
			from := rapid.SampledFrom(propEmails).Draw(t, "from")
			to := rapid.SampledFrom(propEmails).Draw(t, "to")
			team := rapid.SampledFrom(append([]string{""}, propTeams...)).Draw(t, "team")
			exp := p.drawExpiry(t)
			now := p.clock.Now()
			f, e := norm(from), norm(to)
			next := p.model.clone()
			req := p.nextReq()
			want := func() error {
				if f == e {
					return licenses.ErrInvalid
				}
				if next.state(f, now) == licenses.StateNone {
					return licenses.ErrUnknownMember
				}
				teams := slices.Sorted(maps.Keys(next.members[f].teams))
				if team != "" {
					teams = []string{team}
				}
				if len(teams) == 0 {
					return licenses.ErrInvalid
				}
				_ = next.drop(f, now)
				for _, tm := range teams {
					if err := next.inviteAs(tm, e, exp.UTC().Truncate(time.Microsecond), now, "reassign/"+req); err != nil {
						return err
					}
				}
				return nil
			}()
			_, err := p.svc.Reassign(p.ctx, licenses.ReassignParams{Org: org, From: from, To: to, Team: team, Actor: admin, RequestID: req, ExpiresAt: exp})
			expect(t, "Reassign", err, want)
			if want == nil {
				p.model = next
			}
		},
		"Advance": func(t *rapid.T) {
			p.clock.Advance(time.Duration(rapid.IntRange(1, 6).Draw(t, "quarters")) * 15 * time.Minute)
		},
	}
}

// check compares the summary with the model and with a full recount of the
// stored members, and the ledger with both.
func (p *propMachine) check(t *rapid.T) {
	now := p.clock.Now()
	s, err := p.svc.Summary(p.ctx, licenses.SummaryParams{Org: org, Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	// purchased = available + pending + active + unassigned
	if s.Purchased != s.Available+s.Pending+s.Active+s.Unassigned {
		t.Fatalf("purchased %d != available %d + pending %d + active %d + unassigned %d", s.Purchased, s.Available, s.Pending, s.Active, s.Unassigned)
	}
	if s.Available < 0 {
		t.Fatalf("available %d < 0", s.Available)
	}

	// The model's view.
	want := licenses.Summary{Org: org, Purchased: p.model.purchased}
	wantTeams := map[string]*licenses.Team{}
	for _, tm := range propTeams {
		wantTeams[tm] = &licenses.Team{ID: tm}
	}
	for _, m := range p.model.members {
		st := m.at(now)
		switch st {
		case licenses.StateActive:
			want.Active++
		case licenses.StatePending:
			want.Pending++
		case licenses.StateUnassigned:
			want.Unassigned++
		}
		for tm := range m.teams {
			switch st {
			case licenses.StateActive:
				wantTeams[tm].Active++
			case licenses.StatePending:
				wantTeams[tm].Pending++
			}
		}
	}
	want.Available = want.Purchased - want.Active - want.Pending - want.Unassigned
	for _, tm := range slices.Sorted(maps.Keys(wantTeams)) {
		want.Teams = append(want.Teams, *wantTeams[tm])
	}
	got := s
	got.Expired = 0 // the model forgets withdrawn members; expired counts are checked below
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Summary() differs from the model (-model +service):\n%s", diff)
	}

	// A full recount of the stored members, each counted once.
	recount := licenses.Summary{Org: org, Purchased: s.Purchased}
	states := map[string]licenses.State{}
	for m, err := range p.svc.Members(p.ctx, licenses.MembersParams{Org: org, Actor: admin}) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := states[m.Email]; dup {
			t.Fatalf("member %s listed twice", m.Email)
		}
		states[m.Email] = m.State
		switch m.State {
		case licenses.StateActive:
			recount.Active++
		case licenses.StatePending:
			recount.Pending++
		case licenses.StateUnassigned:
			recount.Unassigned++
		case licenses.StateExpired:
			recount.Expired++
		}
		if mm := p.model.members[m.Email]; mm == nil || mm.at(now) != m.State {
			t.Fatalf("member %s is %s, the model says %+v", m.Email, m.State, mm)
		}
	}
	if len(states) != len(p.model.members) {
		t.Fatalf("%d members stored, the model has %d", len(states), len(p.model.members))
	}
	if recount.Active != s.Active || recount.Pending != s.Pending || recount.Unassigned != s.Unassigned || recount.Expired != s.Expired {
		t.Fatalf("recount %+v differs from the counters %+v", recount, s)
	}

	// The ledger: each member holds at most one license, on its account
	// (active, unassigned) or as a live hold on the pool (pending).
	l, _ := ledger.New(p.ms, &ledger.Options{Clock: p.clock})
	pool, err := l.Balance(p.ctx, licenses.PoolAccount(org))
	if err != nil {
		t.Fatal(err)
	}
	if !pool.Available.Equal(decimal.NewFromInt(s.Available)) || !pool.Held.Equal(decimal.NewFromInt(s.Pending)) {
		t.Fatalf("pool available %s held %s, summary available %d pending %d", pool.Available, pool.Held, s.Available, s.Pending)
	}
	for _, e := range propEmails {
		e = norm(e)
		b, err := l.Balance(p.ctx, licenses.MemberAccount(org, e))
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		st := states[e]
		wantPosted := int64(0)
		if st == licenses.StateActive || st == licenses.StateUnassigned {
			wantPosted = 1
		}
		if !b.Posted.Equal(decimal.NewFromInt(wantPosted)) {
			t.Fatalf("member %s (%s) has %s posted, want %d", e, st, b.Posted, wantPosted)
		}
	}
	r, err := l.Verify(p.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("Verify: %v", r.Discrepancies)
	}
	fs, err := p.svc.Audit(p.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) > 0 {
		t.Fatalf("Audit: %v", fs)
	}
}

func TestLicenses_Property(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := newPropMachine(t)
		t.Repeat(p.actions())
	})
}

// Concurrent invitations of distinct people never exceed the pool.
func TestLicenses_PropertyConcurrentInvites(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pool := rapid.Int64Range(0, 6).Draw(t, "pool")
		people := rapid.IntRange(1, 12).Draw(t, "people")
		teams := rapid.SliceOfN(rapid.SampledFrom(propTeams), people, people).Draw(t, "teams")
		p := newPropMachineWith(t, pool)
		var wg sync.WaitGroup
		errs := make([]error, people)
		for i := range people {
			wg.Go(func() {
				_, errs[i] = p.svc.Invite(p.ctx, licenses.InviteParams{Org: org, Team: teams[i], Email: fmt.Sprintf("p%d@x.test", i), Actor: admin, RequestID: fmt.Sprint("c", i)})
			})
		}
		wg.Wait()
		ok := int64(0)
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, licenses.ErrNoLicenseAvailable):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if want := min(pool, int64(people)); ok != want {
			t.Fatalf("%d invitations succeeded, want %d", ok, want)
		}
		s, err := p.svc.Summary(p.ctx, licenses.SummaryParams{Org: org, Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		if s.Pending != ok || s.Available != pool-ok {
			t.Fatalf("summary %+v after %d invitations", s, ok)
		}
	})
}

func newPropMachineWith(t *rapid.T, pool int64) *propMachine {
	p := &propMachine{ctx: context.Background(), ms: memstore.New(), clock: clock.NewFake(t0)}
	roles := &allot.StaticRoles{}
	roles.Grant(org, admin, licenses.OrgAdmin)
	roles.Grant(org, vendor, allot.Vendor)
	p.svc, _ = licenses.New(p.ms.Licenses(), &licenses.Options{Clock: p.clock, Roles: roles})
	if pool > 0 {
		if _, err := p.svc.Purchase(p.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: "buy", Quantity: pool}); err != nil {
			t.Fatal(err)
		}
	}
	for _, team := range propTeams {
		if _, err := p.svc.CreateTeam(p.ctx, licenses.CreateTeamParams{Org: org, Team: team, Actor: admin}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// removeBy removes a member from a team through svc.
func (p *propMachine) removeBy(t *rapid.T, svc *licenses.Service) {
	team := rapid.SampledFrom(propTeams).Draw(t, "team")
	email := rapid.SampledFrom(propEmails).Draw(t, "email")
	e := norm(email)
	now := p.clock.Now()
	st := p.model.state(e, now)
	m := p.model.members[e]
	var want error
	switch {
	case st == licenses.StateNone:
		want = licenses.ErrUnknownMember
	case !m.teams[team]:
		want = licenses.ErrNotInTeam
	}
	_, err := svc.Remove(p.ctx, licenses.RemoveParams{Org: org, Team: team, Email: email, Actor: admin, RequestID: p.nextReq()})
	expect(t, "Remove", err, want)
	if want != nil {
		return
	}
	delete(m.teams, team)
	if len(m.teams) == 0 {
		if st == licenses.StateActive {
			m.state = licenses.StateUnassigned
		} else {
			delete(p.model.members, e) // a pending or expired invitation is withdrawn
		}
	}
}

// sweep has svc release the invitations expired by its clock, as any of
// its writes that locks the pool does: it buys one more license.
func (p *propMachine) sweep(t *rapid.T) {
	p.lag = time.Duration(rapid.IntRange(1, 4).Draw(t, "lagQuarters")) * 15 * time.Minute
	req := p.nextReq()
	_, err := p.svc.Purchase(p.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, RequestID: req, Quantity: 1})
	expect(t, "Purchase", err, nil)
	p.model.purchased++
	p.sent(req, &modelRequest{act: "purchase", n: 1})
}

// deleteBy deletes member e through svc under request req, new or sent
// before, and checks the outcome against what req left in the ledger.
func (p *propMachine) deleteBy(t *rapid.T, svc *licenses.Service, req, e string) {
	now := p.clock.Now()
	r := p.reqs[req]
	st := p.model.state(e, now)
	var want error
	switch {
	case r != nil && r.moved && r.act == "delete" && r.email == e:
		// a retry of the deletion of e, whatever happened since
	case r != nil && r.moved:
		want = licenses.ErrRequestReused
	case st == licenses.StateNone:
		want = licenses.ErrUnknownMember
	}
	m, err := svc.Delete(p.ctx, licenses.DeleteParams{Org: org, Email: e, Actor: admin, RequestID: req})
	expect(t, "Delete", err, want)
	if err == nil && (m.State != licenses.StateDeleted || m.Email != e) {
		t.Fatalf("Delete returned %+v, want %s deleted", m, e)
	}
	if err != nil || (r != nil && r.moved) {
		if r == nil {
			p.sent(req, &modelRequest{act: "delete", email: e})
		}
		return
	}
	// Every deletion leaves its ID on the ledger: a freeing transfer, or
	// the mark of a withdrawn invitation.
	p.sent(req, &modelRequest{act: "delete", email: e, moved: true, inv: p.model.members[e].inv})
	delete(p.model.members, e)
}

// inviteOutcome checks the outcome of an invitation of e to team under
// request req, new or sent before, and applies it to the model.
func (p *propMachine) inviteOutcome(t *rapid.T, req, team, e string, exp time.Time, err error) {
	now := p.clock.Now()
	r := p.reqs[req]
	if st := p.model.state(e, now); r != nil && r.moved && !st.HoldsLicense() {
		// e needs a license, and req already named a hold.
		expect(t, "Invite", err, licenses.ErrRequestReused)
		return
	}
	want := p.model.inviteAs(team, e, exp.UTC().Truncate(time.Microsecond), now, "invite/"+req)
	expect(t, "Invite", err, want)
	if want == nil && (r == nil || !r.moved) && p.model.members[e].inv == "invite/"+req {
		p.sent(req, &modelRequest{act: "invite", email: e, moved: true})
	} else if r == nil {
		p.sent(req, &modelRequest{act: "invite", email: e})
	}
}
