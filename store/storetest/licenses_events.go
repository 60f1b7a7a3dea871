package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// replayMember is a member as the events tell it.
type replayMember struct {
	state   string
	teams   []string
	expires time.Time
}

// licReplay is an organization's license page rebuilt from its events
// alone.
type licReplay struct {
	purchased int64
	members   map[string]replayMember
	// over is, by percent, whether the last threshold event said the
	// pool's use is at or above it; n counts the events replayed.
	over map[int]bool
	n    int
}

func (r *licReplay) apply(t *rapid.T, e events.Event) {
	setMember := func(m events.Member) {
		if m.State == "deleted" {
			delete(r.members, m.Email)
			return
		}
		r.members[m.Email] = replayMember{state: m.State, teams: m.Teams, expires: m.ExpiresAt}
	}
	r.n++
	switch p := e.Payload.(type) {
	case allot.Purchase:
		r.purchased = p.Purchased
	case events.Member:
		setMember(p)
	case events.Reassigned:
		setMember(p.From)
		setMember(p.To)
	case events.Threshold:
		if r.over[p.Percent] == p.Up {
			t.Fatalf("event %d: the pool crossed %d%% %s, as the last crossing of it said (up=%v)", e.Seq, p.Percent, map[bool]string{true: "up", false: "down"}[p.Up], p.Up)
		}
		r.over[p.Percent] = p.Up
	case events.LicenseRequest:
	default:
		t.Fatalf("event %d (%s) has a %T payload", e.Seq, e.Type, e.Payload)
	}
}

// used is the pool's use the replay says at an instant: the members
// holding a license then.
func (r *licReplay) used(at time.Time) int64 {
	var n int64
	for _, m := range r.members {
		switch m.state {
		case "active", "unassigned":
			n++
		case "pending":
			if m.expires.IsZero() || at.Before(m.expires) {
				n++
			}
		}
	}
	return n
}

// view is what the replay says the license page shows at now: the counts
// and the distribution by team (teams with a member only), and each
// member's state.
func (r *licReplay) view(now time.Time) string {
	var active, pending, unassigned, expired int64
	teams := map[string][2]int64{}
	var members []string
	for email, m := range r.members {
		st := m.state
		if st == "pending" && !m.expires.IsZero() && !now.Before(m.expires) {
			st = "expired"
		}
		switch st {
		case "active":
			active++
		case "pending":
			pending++
		case "unassigned":
			unassigned++
		case "expired":
			expired++
		}
		for _, tm := range m.teams {
			c := teams[tm]
			switch st {
			case "active":
				c[0]++
			case "pending":
				c[1]++
			}
			teams[tm] = c
		}
		members = append(members, email+" "+st)
	}
	sort.Strings(members)
	return licView(r.purchased, active, pending, unassigned, r.purchased-active-pending-unassigned, expired, teams, members)
}

func licView(purchased, active, pending, unassigned, available, expired int64, teams map[string][2]int64, members []string) string {
	var names []string
	for tm, c := range teams {
		if c != [2]int64{} {
			names = append(names, fmt.Sprintf("%s:%d/%d", tm, c[0], c[1]))
		}
	}
	sort.Strings(names)
	return fmt.Sprintf("purchased=%d active=%d pending=%d unassigned=%d available=%d expired=%d\nteams %v\nmembers %v",
		purchased, active, pending, unassigned, available, expired, names, members)
}

var replayOrgs atomic.Int64

// testLicensesEventReplay is the replay property: after every step of a
// random run of acts (retries, refusals and expiries included), the
// license page rebuilt only from the organization's events read from
// empty is the one the service shows: its counts, its teams and every
// member's state. And the threshold events tell the pool's use: each
// crossing of a threshold goes the other way from the last one, and after
// each write the last crossings say where the use stood then, expiries
// since the write before it included.
func testLicensesEventReplay(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	const admin, vendor = "ada@acme.test", "billing"
	teams := []string{"design", "sales"}
	emails := []string{"ann@x.test", "bo@x.test", "cy@x.test", "di@x.test"}
	rapid.Check(t, func(t *rapid.T) {
		org := fmt.Sprintf("replay%d", replayOrgs.Add(1))
		clk := clock.NewFake(start)
		roles := &allot.StaticRoles{}
		roles.Grant(org, admin, licenses.OrgAdmin)
		roles.Grant(org, vendor, allot.Vendor)
		svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range teams {
			if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: tm}); err != nil {
				t.Fatal(err)
			}
		}
		reader := events.NewReader(s)
		var reqs []string
		req := func() string {
			if len(reqs) > 0 && rapid.IntRange(0, 4).Draw(t, "retry") == 0 {
				return rapid.SampledFrom(reqs).Draw(t, "old request")
			}
			reqs = append(reqs, fmt.Sprint("r", len(reqs)))
			return reqs[len(reqs)-1]
		}
		email := func(label string) string { return rapid.SampledFrom(emails).Draw(t, label) }
		team := func() string { return rapid.SampledFrom(teams).Draw(t, "team") }
		steps := rapid.IntRange(1, 25).Draw(t, "steps")
		var seen int            // events replayed after the last step
		var lastWrite time.Time // when the last step that wrote events ran
		for range steps {
			switch rapid.IntRange(0, 8).Draw(t, "act") {
			case 0:
				svc.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: rapid.Int64Range(1, 3).Draw(t, "n"), RequestID: req()})
			case 1:
				svc.Reduce(ctx, licenses.ReduceParams{Org: org, Actor: vendor, Quantity: 1, RequestID: req()})
			case 2:
				var exp time.Time
				if rapid.Bool().Draw(t, "expires") {
					exp = clk.Now().Add(time.Duration(rapid.IntRange(1, 3).Draw(t, "hours")) * time.Hour)
				}
				svc.Invite(ctx, licenses.InviteParams{Org: org, Actor: admin, Team: team(), Email: email("email"), RequestID: req(), ExpiresAt: exp})
			case 3:
				e := email("email")
				svc.Accept(ctx, licenses.AcceptParams{Org: org, Actor: e, Email: e})
			case 4:
				svc.Remove(ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: team(), Email: email("email"), RequestID: req()})
			case 5:
				svc.Delete(ctx, licenses.DeleteParams{Org: org, Actor: admin, Email: email("email"), RequestID: req()})
			case 6:
				svc.Reassign(ctx, licenses.ReassignParams{Org: org, Actor: admin, From: email("from"), To: email("to"), RequestID: req()})
			case 7:
				svc.RequestLicenses(ctx, licenses.RequestLicensesParams{Org: org, Actor: admin, Quantity: 2, RequestID: req()})
			case 8:
				clk.Advance(time.Duration(rapid.IntRange(1, 90).Draw(t, "minutes")) * time.Minute)
			}
			// The replay, from empty.
			r := &licReplay{members: map[string]replayMember{}, over: map[int]bool{}}
			for e, err := range reader.All(ctx, events.Query{Org: org}) {
				if err != nil {
					t.Fatal(err)
				}
				r.apply(t, e)
			}
			if r.n > seen {
				seen, lastWrite = r.n, clk.Now()
			}
			for _, pc := range events.DefaultThresholds() {
				used := r.used(lastWrite)
				if want := r.purchased > 0 && used*100 >= int64(pc)*r.purchased; r.over[pc] != want {
					t.Fatalf("after the last write the events say the pool is over %d%%: %v; its use then was %d of %d", pc, r.over[pc], used, r.purchased)
				}
			}
			got := r.view(clk.Now())
			if d := cmp.Diff(licPage(t, ctx, svc, org, admin), got); d != "" {
				t.Fatalf("the events replayed (+) differ from the views (-):\n%s", d)
			}
		}
	})
}

// licPage is the license page as the service's views show it.
func licPage(t *rapid.T, ctx context.Context, svc *licenses.Service, org, admin string) string {
	sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: org, Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	teams := map[string][2]int64{}
	for _, tm := range sum.Teams {
		teams[tm.ID] = [2]int64{tm.Active, tm.Pending}
	}
	var members []string
	for m, err := range svc.Members(ctx, licenses.MembersParams{Org: org, Actor: admin}) {
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m.Email+" "+string(m.State))
	}
	return licView(sum.Purchased, sum.Active, sum.Pending, sum.Unassigned, sum.Available, sum.Expired, teams, members)
}

// testLicensesExpiryThresholds checks the threshold crossings invitations
// that expire between writes cause: the next write that emits events tells
// them, right after the first expiry it notices (with that event's time and
// actor), or first if it notices none (at its own time, by the library);
// a later write that notices the expiry tells no crossing again.
func testLicensesExpiryThresholds(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	const admin, vendor = "ada@acme.test", "billing"
	for _, c := range []struct {
		org  string
		acts func(svc *licenses.Service) error
		want []string
	}{
		{"noticed", func(svc *licenses.Service) error {
			_, err := svc.Delete(ctx, licenses.DeleteParams{Org: "noticed", Actor: admin, Email: "ann@x.test", RequestID: "r4"})
			return err
		}, []string{
			"licenses.invitation_expired 1h0m0s system r4 | ann@x.test expired 0/2",
			"pool.threshold_crossed 1h0m0s system r4 | 50% up=false 0/2",
			"pool.threshold_crossed 1h0m0s system r4 | 100% up=false 0/2",
			"licenses.deleted 2h0m0s ada@acme.test r4 | ann@x.test deleted 0/2",
		}},
		{"unnoticed", func(svc *licenses.Service) error {
			if _, err := svc.RequestLicenses(ctx, licenses.RequestLicensesParams{Org: "unnoticed", Actor: admin, Quantity: 1, RequestID: "r4"}); err != nil {
				return err
			}
			_, err := svc.Delete(ctx, licenses.DeleteParams{Org: "unnoticed", Actor: admin, Email: "ann@x.test", RequestID: "r5"})
			return err
		}, []string{
			"pool.threshold_crossed 2h0m0s system r4 | 50% up=false 0/2",
			"pool.threshold_crossed 2h0m0s system r4 | 100% up=false 0/2",
			"licenses.requested 2h0m0s ada@acme.test r4 | ",
			"licenses.invitation_expired 1h0m0s system r5 | ann@x.test expired 0/2",
			"licenses.deleted 2h0m0s ada@acme.test r5 | ann@x.test deleted 0/2",
		}},
	} {
		t.Run(c.org, func(t *testing.T) {
			clk := clock.NewFake(start)
			roles := &allot.StaticRoles{}
			roles.Grant(c.org, admin, licenses.OrgAdmin)
			roles.Grant(c.org, vendor, allot.Vendor)
			svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clk, Roles: roles, Thresholds: []int{50, 100}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: c.org, Actor: vendor, Quantity: 2, RequestID: "r1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: c.org, Actor: admin, Team: "design"}); err != nil {
				t.Fatal(err)
			}
			for i, email := range []string{"ann@x.test", "bo@x.test"} {
				p := licenses.InviteParams{Org: c.org, Actor: admin, Team: "design", Email: email, RequestID: fmt.Sprint("r", i+2), ExpiresAt: start.Add(time.Hour)}
				if _, err := svc.Invite(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			after := lastEventSeq(t, s, c.org)
			clk.Advance(2 * time.Hour) // both invitations expire
			if err := c.acts(svc); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, thresholdGists(t, s, c.org, after)); d != "" {
				t.Errorf("events after the expiries (-want +got):\n%s", d)
			}
		})
	}

	// Two services whose clocks disagree: the one behind counts the
	// expiries as of its own time, so it tells no crossing the other
	// already told, or one the other would then tell again; and it leaves
	// the organization stamped with the later time.
	t.Run("ClocksApart", func(t *testing.T) {
		const org = "skew"
		roles := &allot.StaticRoles{}
		roles.Grant(org, admin, licenses.OrgAdmin)
		roles.Grant(org, vendor, allot.Vendor)
		ahead, behind := clock.NewFake(start), clock.NewFake(start.Add(30*time.Minute))
		svcAhead, err := licenses.New(s.Licenses(), &licenses.Options{Clock: ahead, Roles: roles, Thresholds: []int{50, 100}})
		if err != nil {
			t.Fatal(err)
		}
		svcBehind, err := licenses.New(s.Licenses(), &licenses.Options{Clock: behind, Roles: roles, Thresholds: []int{50, 100}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svcAhead.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 2, RequestID: "r1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svcAhead.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: "design"}); err != nil {
			t.Fatal(err)
		}
		for i, email := range []string{"ann@x.test", "bo@x.test"} {
			p := licenses.InviteParams{Org: org, Actor: admin, Team: "design", Email: email, RequestID: fmt.Sprint("r", i+2), ExpiresAt: start.Add(time.Hour)}
			if _, err := svcAhead.Invite(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		after := lastEventSeq(t, s, org)
		request := func(svc *licenses.Service, id string) {
			t.Helper()
			if _, err := svc.RequestLicenses(ctx, licenses.RequestLicensesParams{Org: org, Actor: admin, Quantity: 1, RequestID: id}); err != nil {
				t.Fatal(err)
			}
		}
		ahead.Advance(2 * time.Hour) // both invitations expire, by this clock
		request(svcAhead, "r4")
		request(svcBehind, "r5") // 30 minutes in: by its clock, nothing expired
		ahead.Advance(30 * time.Minute)
		request(svcAhead, "r6")
		want := []string{
			"pool.threshold_crossed 2h0m0s system r4 | 50% up=false 0/2",
			"pool.threshold_crossed 2h0m0s system r4 | 100% up=false 0/2",
			"licenses.requested 2h0m0s ada@acme.test r4 | ",
			"licenses.requested 30m0s ada@acme.test r5 | ",
			"licenses.requested 2h30m0s ada@acme.test r6 | ",
		}
		if d := cmp.Diff(want, thresholdGists(t, s, org, after)); d != "" {
			t.Errorf("events after the expiries (-want +got):\n%s", d)
		}
	})
}

// lastEventSeq returns the Seq of org's last event in s's outbox.
func lastEventSeq(t *testing.T, s Store, org string) int64 {
	t.Helper()
	var last int64
	for e, err := range events.NewReader(s).All(context.Background(), events.Query{Org: org}) {
		if err != nil {
			t.Fatal(err)
		}
		last = e.Seq
	}
	return last
}

// thresholdGists describes org's events after Seq after: type, time since
// start, actor, request, and the member's state or the crossing with the
// pool's use.
func thresholdGists(t *testing.T, s Store, org string, after int64) []string {
	t.Helper()
	var got []string
	for e, err := range events.NewReader(s).All(context.Background(), events.Query{Org: org, After: after}) {
		if err != nil {
			t.Fatal(err)
		}
		gist := ""
		switch p := e.Payload.(type) {
		case events.Member:
			gist = fmt.Sprintf("%s %s %d/%d", p.Email, p.State, p.Purchased-p.Available, p.Purchased)
		case events.Threshold:
			gist = fmt.Sprintf("%d%% up=%v %d/%d", p.Percent, p.Up, p.Used, p.Purchased)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s | %s", e.Type, e.At.Sub(start), e.Actor, e.RequestID, gist))
	}
	return got
}
