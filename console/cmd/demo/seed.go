package main

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/licenses"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/store/memstore"
)

const org = "acme"

var (
	demoStart = time.Date(2026, 2, 2, 8, 0, 0, 0, time.UTC)
	demoNow   = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
)

type world struct {
	clock    *clock.Fake
	passes   *passes.Service
	seats    *seats.Service
	licenses *licenses.Service
}

// seed builds the services on memstore with a fake clock and plays a
// month of history, ending with the clock at demoNow.
func seed(ctx context.Context) (*world, error) {
	clk := clock.NewFake(demoStart)
	st := memstore.New()
	roles := &allot.StaticRoles{}
	grants := []struct {
		actor string
		roles []allot.Role
	}{
		{"billing", []allot.Role{allot.Vendor}},
		{"ada@acme.test", []allot.Role{passes.WorkspaceAdmin, seats.EntitlementManager, licenses.OrgAdmin}},
		{"ben@acme.test", []allot.Role{licenses.TeamAdmin("sales"), seats.EventOrganizer}},
	}
	for _, g := range grants {
		if err := roles.Grant(org, g.actor, g.roles...); err != nil {
			return nil, err
		}
	}
	w := &world{clock: clk}
	var err error
	if w.passes, err = passes.New(st.Passes(), &passes.Options{Clock: clk, Roles: roles}); err != nil {
		return nil, err
	}
	if w.seats, err = seats.New(st.Seats(), &seats.Options{Clock: clk, Roles: roles}); err != nil {
		return nil, err
	}
	if w.licenses, err = licenses.New(st.Licenses(), &licenses.Options{Clock: clk, Roles: roles}); err != nil {
		return nil, err
	}
	for _, step := range []func(context.Context) error{w.seedLicenses, w.seedSeats, w.seedPasses} {
		clk.Set(demoStart)
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	clk.Set(demoNow)
	return w, nil
}

const admin = "ada@acme.test"

func (w *world) seedPasses(ctx context.Context) error {
	p := w.passes
	if _, err := p.Purchase(ctx, passes.PurchaseParams{Org: org, Actor: "billing", Quantity: 120, Subscription: "order-1041", RequestID: "order-1041"}); err != nil {
		return err
	}
	if _, err := p.DefineFields(ctx, passes.DefineFieldsParams{Org: org, Actor: admin,
		Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Reference"}}}); err != nil {
		return err
	}
	sessions := []passes.CreateSessionParams{
		{ID: "weekly-ideation", Name: "Weekly ideation", PassType: passes.DayPass,
			Fields: []passes.FieldValue{{Name: "Reference", Value: "INT-7"}}},
		{ID: "client-strategy", Name: "Client strategy (Globex)", External: true, PassType: passes.MonthPass,
			Owner: "cara@acme.test", Fields: []passes.FieldValue{{Name: "Reference", Value: "PO-2231"}}},
		{ID: "product-tour", Name: "Product tour", PassType: passes.DemoPass},
	}
	for _, s := range sessions {
		s.Org, s.Actor = org, admin
		if _, err := p.CreateSession(ctx, s); err != nil {
			return err
		}
	}
	guests := []string{"lena@acme.test", "tom@acme.test", "ravi@globex.test", "june@globex.test", "omar@acme.test"}
	places := []string{"Berlin", "Lisbon", "Online", "New York", "Online"}
	n := 0
	for day := range 30 {
		w.clock.Set(demoStart.Add(time.Duration(day)*24*time.Hour + time.Duration(day%5)*time.Hour))
		for i, g := range guests {
			var session, note string
			switch {
			case day%7 == 0 && i < 3:
				session = "weekly-ideation"
			case day%10 == 1 && i >= 2:
				session, note = "client-strategy", "billable"
			case day == 3 && i < 2:
				session = "product-tour"
			default:
				continue
			}
			n++
			lp := passes.LoginParams{Org: org, Session: session, Guest: g, Location: places[i], RequestID: fmt.Sprintf("login-%d", n)}
			if note != "" {
				lp.Fields = map[string]string{"Note": note}
			}
			if _, err := p.Login(ctx, lp); err != nil {
				return fmt.Errorf("login %d: %w", n, err)
			}
			w.clock.Advance(7 * time.Minute)
		}
	}
	return nil
}

func (w *world) seedSeats(ctx context.Context) error {
	s := w.seats
	buys := []seats.PurchaseParams{
		{Product: seats.Seats, Quantity: 600, Subscription: "backstage-2026"},
		{Product: seats.Module("polls"), Quantity: 3, Subscription: "backstage-2026"},
		{Product: seats.Module("breakouts"), Quantity: 2, Subscription: "backstage-2026"},
	}
	for i, b := range buys {
		b.Org, b.Actor, b.RequestID = org, "billing", fmt.Sprintf("sub-line-%d", i)
		if _, err := s.Purchase(ctx, b); err != nil {
			return err
		}
	}
	day := func(d int, h int) time.Time {
		return demoStart.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
	}
	events := []struct {
		p       seats.CreateEventParams
		seats   int64
		modules []string
	}{
		{seats.CreateEventParams{ID: "kickoff-2026", Name: "Kick-off 2026", Start: day(2, 1), End: day(3, 10), Participants: 180, Modules: []string{"polls"}}, 180, []string{"polls"}},
		{seats.CreateEventParams{ID: "partner-webinar", Name: "Partner webinar", Start: day(12, 6), End: day(12, 9), Participants: 60}, 45, nil},
		{seats.CreateEventParams{ID: "sales-summit", Name: "Sales summit", Start: day(29, 0), End: day(33, 0), Participants: 220, Modules: []string{"breakouts", "polls"}}, 150, []string{"polls"}},
		{seats.CreateEventParams{ID: "town-hall", Name: "March town hall", Start: day(30, 0), End: day(31, 0), Participants: 90}, 90, nil},
		{seats.CreateEventParams{ID: "customer-days", Name: "Customer days", Start: day(45, 0), End: day(47, 0), Participants: 120, Modules: []string{"polls"}}, 0, nil},
	}
	for i, e := range events {
		w.clock.Set(day(i*3, 2))
		e.p.Org, e.p.Actor = org, admin
		if _, err := s.CreateEvent(ctx, e.p); err != nil {
			return err
		}
		if e.seats > 0 {
			if _, err := s.TransferSeats(ctx, seats.TransferSeatsParams{Org: org, Actor: admin, Event: e.p.ID, Quantity: e.seats, RequestID: "seats-" + e.p.ID}); err != nil {
				return err
			}
		}
		for _, m := range e.modules {
			if _, err := s.TransferModule(ctx, seats.TransferModuleParams{Org: org, Actor: admin, Event: e.p.ID, Module: m, RequestID: "module-" + e.p.ID + "-" + m}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *world) seedLicenses(ctx context.Context) error {
	l := w.licenses
	if _, err := l.Purchase(ctx, licenses.PurchaseParams{Org: org, Actor: "billing", Quantity: 20, Subscription: "enterprise-2026", RequestID: "lic-1"}); err != nil {
		return err
	}
	for _, t := range []string{"design", "marketing", "sales"} {
		if _, err := l.CreateTeam(ctx, licenses.CreateTeamParams{Org: org, Actor: admin, Team: t}); err != nil {
			return err
		}
	}
	members := []struct {
		email, team string
		accept      bool
	}{
		{"lena@acme.test", "design", true}, {"tom@acme.test", "design", true}, {"mona@acme.test", "marketing", true},
		{"ravi@acme.test", "marketing", true}, {"sven@acme.test", "sales", true}, {"ines@acme.test", "sales", true},
		{"kai@acme.test", "sales", true}, {"lena@acme.test", "marketing", false}, {"ola@acme.test", "design", true},
		{"pia@acme.test", "marketing", false}, {"quinn@acme.test", "sales", false},
	}
	for i, m := range members {
		w.clock.Advance(26 * time.Hour)
		if _, err := l.Invite(ctx, licenses.InviteParams{Org: org, Actor: admin, Team: m.team, Email: m.email, RequestID: fmt.Sprintf("invite-%d", i)}); err != nil {
			return fmt.Errorf("invite %s: %w", m.email, err)
		}
		if m.accept {
			if _, err := l.Accept(ctx, licenses.AcceptParams{Org: org, Actor: m.email, Email: m.email}); err != nil {
				return fmt.Errorf("accept %s: %w", m.email, err)
			}
		}
	}
	// Ola left her only team: unassigned, keeping her license.
	_, err := l.Remove(ctx, licenses.RemoveParams{Org: org, Actor: admin, Team: "design", Email: "ola@acme.test", RequestID: "remove-ola"})
	return err
}
