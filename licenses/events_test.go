package licenses_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
)

// withOptions replaces the fixture's service by one with opts (its clock
// and roles added).
func (f *fixture) withOptions(opts licenses.Options) {
	f.t.Helper()
	opts.Clock, opts.Roles = f.clock, f.roles
	svc, err := licenses.New(f.ms.Licenses(), &opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.svc = svc
}

// outbox returns the events of the fixture's store after seq.
func (f *fixture) outbox(after int64) []events.Event {
	f.t.Helper()
	var out []events.Event
	for e, err := range events.NewReader(f.ms).All(f.ctx, events.Query{After: after}) {
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// line writes an event on one line: its envelope, then its payload's
// gist.
func line(e events.Event) string {
	env := fmt.Sprintf("%s %s %s %s", e.Type, e.At.Sub(t0), e.Actor, e.RequestID)
	switch p := e.Payload.(type) {
	case allot.Purchase:
		return fmt.Sprintf("%s | %+d purchased=%d available=%d", env, p.Quantity, p.Purchased, p.Available)
	case events.Member:
		return env + " | " + memberLine(p)
	case events.Reassigned:
		return env + " | " + memberLine(p.From) + " -> " + memberLine(p.To)
	case events.Threshold:
		return fmt.Sprintf("%s | %s %d%% up=%v %d/%d", env, p.Product, p.Percent, p.Up, p.Used, p.Purchased)
	case events.LicenseRequest:
		return fmt.Sprintf("%s | %d %q", env, p.Quantity, p.Note)
	}
	return fmt.Sprintf("%s | %#v", env, e.Payload)
}

func memberLine(m events.Member) string {
	s := fmt.Sprintf("%s %s %v team=%s p/a/pe/u/av=%d/%d/%d/%d/%d", m.Email, m.State, m.Teams, m.Team, m.Purchased, m.Active, m.Pending, m.Unassigned, m.Available)
	if !m.ExpiresAt.IsZero() {
		s += " expires=" + m.ExpiresAt.Sub(t0).String()
	}
	return s
}

// Every act emits its events once, in its transaction, with the pool's
// threshold crossings; retries and refusals emit nothing; an expired
// invitation's event is written by the next write that reads it, at the
// expiry's time.
func TestEvents_EveryActEmitsOnce(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, 0)
	f.withOptions(licenses.Options{Thresholds: []int{50, 100}, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if got := f.outbox(0); len(got) != 0 {
		t.Fatalf("creating teams emitted %v", got)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	buy := licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 2, RequestID: "r1"}
	must(f.svc.Purchase(f.ctx, buy))
	must(f.svc.Purchase(f.ctx, buy)) // a retry
	inv := licenses.InviteParams{Org: org, Actor: admin, Team: "design", Email: "ann@acme.test", RequestID: "r2", ExpiresAt: t0.Add(time.Hour)}
	must(f.svc.Invite(f.ctx, inv))
	must(f.svc.Invite(f.ctx, inv)) // a retry
	must(f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Actor: admin, Team: "sales", Email: "bo@acme.test", RequestID: "r3"}))
	if _, err := f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Actor: admin, Team: "ops", Email: "cy@acme.test", RequestID: "r4"}); !errors.Is(err, licenses.ErrNoLicenseAvailable) {
		t.Fatal(err)
	}
	f.accept("bo@acme.test")
	f.accept("bo@acme.test") // a retry
	must(f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Actor: admin, Team: "design", Email: "bo@acme.test", RequestID: "r5"}))
	must(f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "sales", Email: "bo@acme.test", RequestID: "r6"}))
	rm := licenses.RemoveParams{Org: org, Actor: admin, Team: "design", Email: "bo@acme.test", RequestID: "r7"}
	must(f.svc.Remove(f.ctx, rm))
	must(f.svc.Remove(f.ctx, rm))  // a retry
	f.clock.Advance(2 * time.Hour) // ann's invitation expires
	must(f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Actor: admin, Team: "ops", Email: "ann@acme.test", RequestID: "r8"}))
	re := licenses.ReassignParams{Org: org, Actor: admin, From: "bo@acme.test", To: "dan@acme.test", Team: "ops", RequestID: "r9"}
	must(f.svc.Reassign(f.ctx, re))
	must(f.svc.Reassign(f.ctx, re)) // a retry
	del := licenses.DeleteParams{Org: org, Actor: admin, Email: "ann@acme.test", RequestID: "r10"}
	must(f.svc.Delete(f.ctx, del))
	must(f.svc.Delete(f.ctx, del)) // a retry
	ask := licenses.RequestLicensesParams{Org: org, Actor: admin, Quantity: 5, Note: "for the Zürich office", RequestID: "r11"}
	must(f.svc.RequestLicenses(f.ctx, ask))
	must(f.svc.RequestLicenses(f.ctx, ask)) // a retry
	must(f.svc.Reduce(f.ctx, licenses.ReduceParams{Org: org, Actor: vendor, Quantity: 1, RequestID: "r12"}))
	must(f.svc.Invite(f.ctx, licenses.InviteParams{Org: org, Actor: admin, Team: "sales", Email: "dan@acme.test", RequestID: "r13"}))
	must(f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "ops", Email: "dan@acme.test", RequestID: "r14"}))
	must(f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "sales", Email: "dan@acme.test", RequestID: "r15"}))

	var got []string
	for _, e := range f.outbox(0) {
		if e.Org != org {
			t.Errorf("event %d of org %q", e.Seq, e.Org)
		}
		got = append(got, line(e))
	}
	want := []string{
		"licenses.purchased 0s billing r1 | +2 purchased=2 available=2",
		"licenses.invited 0s ada@acme.test r2 | ann@acme.test pending [design] team=design p/a/pe/u/av=2/0/1/0/1 expires=1h0m0s",
		"pool.threshold_crossed 0s ada@acme.test r2 | license 50% up=true 1/2",
		"licenses.invited 0s ada@acme.test r3 | bo@acme.test pending [sales] team=sales p/a/pe/u/av=2/0/2/0/0",
		"pool.threshold_crossed 0s ada@acme.test r3 | license 100% up=true 2/2",
		"licenses.accepted 0s bo@acme.test  | bo@acme.test active [sales] team= p/a/pe/u/av=2/1/1/0/0",
		"licenses.invited 0s ada@acme.test r5 | bo@acme.test active [design sales] team=design p/a/pe/u/av=2/1/1/0/0",
		"licenses.removed_from_team 0s ada@acme.test r6 | bo@acme.test active [design] team=sales p/a/pe/u/av=2/1/1/0/0",
		"licenses.unassigned 0s ada@acme.test r7 | bo@acme.test unassigned [] team=design p/a/pe/u/av=2/0/1/1/0",
		"licenses.invitation_expired 1h0m0s system r8 | ann@acme.test expired [design] team= p/a/pe/u/av=2/0/0/1/1 expires=1h0m0s",
		"pool.threshold_crossed 1h0m0s system r8 | license 100% up=false 1/2",
		"licenses.invited 2h0m0s ada@acme.test r8 | ann@acme.test pending [design ops] team=ops p/a/pe/u/av=2/0/1/1/0",
		"pool.threshold_crossed 2h0m0s ada@acme.test r8 | license 100% up=true 2/2",
		"licenses.reassigned 2h0m0s ada@acme.test r9 | bo@acme.test deleted [] team= p/a/pe/u/av=2/0/1/0/1 -> dan@acme.test pending [ops] team=ops p/a/pe/u/av=2/0/2/0/0",
		"licenses.deleted 2h0m0s ada@acme.test r10 | ann@acme.test deleted [] team= p/a/pe/u/av=2/0/1/0/1",
		"pool.threshold_crossed 2h0m0s ada@acme.test r10 | license 100% up=false 1/2",
		"licenses.requested 2h0m0s ada@acme.test r11 | 5 \"for the Zürich office\"",
		"licenses.reduced 2h0m0s billing r12 | -1 purchased=1 available=0",
		"pool.threshold_crossed 2h0m0s billing r12 | license 100% up=true 1/1",
		"licenses.invited 2h0m0s ada@acme.test r13 | dan@acme.test pending [ops sales] team=sales p/a/pe/u/av=1/0/1/0/0",
		"licenses.removed_from_team 2h0m0s ada@acme.test r14 | dan@acme.test pending [sales] team=ops p/a/pe/u/av=1/0/1/0/0",
		"licenses.removed_from_team 2h0m0s ada@acme.test r15 | dan@acme.test deleted [] team=sales p/a/pe/u/av=1/0/0/0/1",
		"pool.threshold_crossed 2h0m0s ada@acme.test r15 | license 50% up=false 0/1",
		"pool.threshold_crossed 2h0m0s ada@acme.test r15 | license 100% up=false 0/1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for _, s := range []string{
		`level=INFO msg="licenses: purchase retried; returning its first result" org=acme request_id=r1`,
		`level=INFO msg="licenses: invite retried; returning its first result" org=acme request_id=r2`,
		`level=INFO msg="licenses: accept retried; returning its first result" org=acme request_id=""`,
		`level=INFO msg="licenses: remove retried; returning its first result" org=acme request_id=r7`,
		`level=INFO msg="licenses: reassign retried; returning its first result" org=acme request_id=r9`,
		`level=INFO msg="licenses: delete retried; returning its first result" org=acme request_id=r10`,
		`level=INFO msg="licenses: request licenses retried; returning its first result" org=acme request_id=r11`,
		`level=DEBUG msg="licenses: invite refused" org=acme request_id=r4 code=insufficient`,
	} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("the log lacks %q:\n%s", s, logs.String())
		}
	}
}

// RequestLicenses is the Org Admin's alone; a retry returns the first
// request and emits nothing; its request ID used for another act, or
// another act's ID used for it, is request_reused; bad input is invalid.
func TestRequestLicenses(t *testing.T) {
	f := newFixture(t, 1)
	f.roles.Grant(org, "sal@acme.test", licenses.TeamAdmin("sales"))
	ask := licenses.RequestLicensesParams{Org: org, Actor: admin, Quantity: 3, Note: "=more, please", RequestID: "ask"}
	for _, a := range []string{vendor, "sal@acme.test", "eve@acme.test"} {
		before := f.snapshot()
		p := ask
		p.Actor = a
		_, err := f.svc.RequestLicenses(f.ctx, p)
		f.refused(before, err, allot.ErrForbidden)
	}
	first, err := f.svc.RequestLicenses(f.ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	want := licenses.LicenseRequest{Org: org, Quantity: 3, Note: "=more, please", Actor: admin, RequestID: "ask", At: t0}
	if d := cmp.Diff(want, first); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
	seq := f.outbox(0)
	f.clock.Advance(time.Hour)
	again, err := f.svc.RequestLicenses(f.ctx, ask)
	if err != nil || again != first {
		t.Errorf("retry = %+v, %v; want %+v", again, err, first)
	}
	if got := f.outbox(seq[len(seq)-1].Seq); len(got) != 0 {
		t.Errorf("the retry emitted %v", got)
	}
	if e := seq[len(seq)-1]; e.Type != events.LicensesRequested || e.Payload != (events.LicenseRequest{Quantity: 3, Note: "=more, please"}) || e.Actor != admin || e.RequestID != "ask" {
		t.Errorf("event %+v", e)
	}
	for name, call := range map[string]func() error{
		"OtherQuantity": func() error {
			p := ask
			p.Quantity = 4
			return errOf(f.svc.RequestLicenses(f.ctx, p))
		},
		"ByRemove": func() error {
			return errOf(f.svc.Remove(f.ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "sales", Email: "bo@acme.test", RequestID: "ask"}))
		},
		"ByPurchase": func() error {
			return errOf(f.svc.Purchase(f.ctx, licenses.PurchaseParams{Org: org, Actor: vendor, Quantity: 3, RequestID: "ask"}))
		},
		"OfPurchase": func() error {
			p := ask
			p.RequestID = "r1" // the fixture's purchase
			return errOf(f.svc.RequestLicenses(f.ctx, p))
		},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.snapshot()
			f.refused(before, call(), licenses.ErrRequestReused)
		})
	}
	for field, p := range map[string]licenses.RequestLicensesParams{
		"Quantity":  {Org: org, Actor: admin, RequestID: "x"},
		"Note":      {Org: org, Actor: admin, Quantity: 1, Note: "\xff", RequestID: "x"},
		"RequestID": {Org: org, Actor: admin, Quantity: 1},
		"Actor":     {Org: org, Actor: "a@@b", Quantity: 1, RequestID: "x"},
	} {
		before := f.snapshot()
		_, err := f.svc.RequestLicenses(f.ctx, p)
		f.refused(before, err, licenses.ErrInvalid)
		var ie *licenses.InvalidError
		if !errors.As(err, &ie) || ie.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	long := ask
	long.Note, long.RequestID = strings.Repeat("x", licenses.MaxNoteLen+1), "long"
	if _, err := f.svc.RequestLicenses(f.ctx, long); !errors.Is(err, licenses.ErrInvalid) {
		t.Errorf("a long note: %v", err)
	}
}

// Options.Thresholds must be percents; an empty list emits no threshold
// events.
func TestEvents_Thresholds(t *testing.T) {
	f := newFixture(t, 0)
	for _, ts := range [][]int{{0}, {101}, {80, -1}} {
		_, err := licenses.New(f.ms.Licenses(), &licenses.Options{Thresholds: ts})
		var ie *licenses.InvalidError
		if !errors.As(err, &ie) || ie.Field != "Thresholds" {
			t.Errorf("Thresholds %v: %v", ts, err)
		}
	}
	f.withOptions(licenses.Options{Thresholds: []int{}})
	f.purchase(1)
	f.invite("design", "ann@acme.test", time.Time{})
	for _, e := range f.outbox(0) {
		if e.Type == events.PoolThreshold {
			t.Errorf("threshold event with no thresholds: %v", line(e))
		}
	}
	// The defaults are 80 and 100.
	f.withOptions(licenses.Options{})
	f.purchase(4) // 1 of 5: down from 100 and 80
	var got []string
	for _, e := range f.outbox(0) {
		if e.Type == events.PoolThreshold {
			got = append(got, line(e))
		}
	}
	want := []string{
		"pool.threshold_crossed 0s billing r3 | license 80% up=false 1/5",
		"pool.threshold_crossed 0s billing r3 | license 100% up=false 1/5",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("thresholds (-want +got):\n%s", d)
	}
}

// A write that fails after its first changes (here the store's commit)
// emits nothing: its events roll back with it.
func TestEvents_RolledBackEmitsNothing(t *testing.T) {
	f := newFixture(t, 1)
	n := len(f.outbox(0))
	f.withOptions(licenses.Options{})
	// Reassigning to a team that does not exist fails after the deletion.
	if _, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, Actor: admin, From: "ann@acme.test", To: "bo@acme.test", Team: "design", RequestID: "x"}); err == nil {
		t.Fatal("reassigning an unknown member succeeded")
	}
	f.invite("design", "ann@acme.test", time.Time{})
	before := len(f.outbox(0))
	if _, err := f.svc.Reassign(f.ctx, licenses.ReassignParams{Org: org, Actor: admin, From: "ann@acme.test", To: "bo@acme.test", Team: "nope", RequestID: "y"}); !errors.Is(err, licenses.ErrUnknownTeam) {
		t.Fatalf("reassign to an unknown team: %v", err)
	}
	if got := f.outbox(0); len(got) != before || before != n+3 {
		t.Errorf("%d events after a rolled-back reassignment, want %d (%d before the invitation)", len(got), before, n)
	}
}
