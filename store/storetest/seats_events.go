package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/seats"
	"pgregory.net/rapid"
)

// replayModel is an organization's seats as its events tell them, and
// nothing else: pools from the purchases and transfers, events' seats and
// modules from the transfers, what lacks from the lacking and covered
// events, and which thresholds each pool is over.
type replayModel struct {
	purchased, assigned map[string]int64
	seats               map[string]int64
	modules             map[string][]string
	lacking             map[string]bool
	over                map[string]map[int]bool
}

func replay(t *rapid.T, evs []events.Event) replayModel {
	m := replayModel{purchased: map[string]int64{}, assigned: map[string]int64{}, seats: map[string]int64{},
		modules: map[string][]string{}, lacking: map[string]bool{}, over: map[string]map[int]bool{}}
	for _, e := range evs {
		switch p := e.Payload.(type) {
		case allot.Purchase:
			m.purchased[p.Product] += p.Quantity
			if p.Purchased != m.purchased[p.Product] || p.Available != m.purchased[p.Product]-m.assigned[p.Product] {
				t.Fatalf("event %d: purchase %+v, replayed purchased %d assigned %d", e.Seq, p, m.purchased[p.Product], m.assigned[p.Product])
			}
		case events.Transferred:
			m.assigned[p.Product] += p.Quantity
			if p.Available != m.purchased[p.Product]-m.assigned[p.Product] {
				t.Fatalf("event %d: %+v, replayed available %d", e.Seq, p, m.purchased[p.Product]-m.assigned[p.Product])
			}
			if p.Product == string(seats.Seats) {
				m.seats[p.Event] += p.Quantity
				if p.Assigned != m.seats[p.Event] {
					t.Fatalf("event %d: %+v, replayed seats of the event %d", e.Seq, p, m.seats[p.Event])
				}
			} else {
				m.modules[p.Event] = append(m.modules[p.Event], seats.Product(p.Product).ModuleName())
				slices.Sort(m.modules[p.Event])
			}
		case events.EventLacking:
			if m.lacking[p.Event] {
				t.Fatalf("event %d: %s lacking twice", e.Seq, p.Event)
			}
			m.lacking[p.Event] = true
		case events.EventCovered:
			if !m.lacking[p.Event] {
				t.Fatalf("event %d: %s covered but not lacking", e.Seq, p.Event)
			}
			m.lacking[p.Event] = false
		case events.Threshold:
			if m.over[p.Product] == nil {
				m.over[p.Product] = map[int]bool{}
			}
			if m.over[p.Product][p.Percent] == p.Up {
				t.Fatalf("event %d: %+v crosses nothing", e.Seq, p)
			}
			m.over[p.Product][p.Percent] = p.Up
		}
	}
	return m
}

// testSeatsReplay: the seats events of an organization, read from the
// outbox from empty after every act, rebuild its pools, what each event
// holds and lacks, and the thresholds its pools are over, as the service's
// own views show them.
func testSeatsReplay(t *testing.T, newStore Factory) {
	store := newStore(t)
	ctx := context.Background()
	var n atomic.Int64
	products := []seats.Product{seats.Seats, seats.Module("polls"), seats.Module("q/a")}
	modules := []string{"polls", "q/a", "agenda"}
	eventIDs := []string{"e0", "e1", "e2"}
	rapid.Check(t, func(rt *rapid.T) {
		org := fmt.Sprintf("replay-%d", n.Add(1))
		roles := &allot.StaticRoles{}
		for who, r := range map[string]allot.Role{"billing": allot.Vendor, "ana": seats.EntitlementManager} {
			if err := roles.Grant(org, who, r); err != nil {
				rt.Fatal(err)
			}
		}
		t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
		clk := clock.NewFake(t0)
		svc, err := seats.New(store.Seats(), &seats.Options{Clock: clk, Roles: roles, Thresholds: []int{50, 100}})
		if err != nil {
			rt.Fatal(err)
		}
		req := 0
		next := func() string { req++; return fmt.Sprint("r", req) }
		var last func() error // the last write, to retry
		do := func(f func() error) {
			if err := f(); err == nil {
				last = f
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"Purchase": func(rt *rapid.T) {
				p := seats.PurchaseParams{Org: org, Actor: "billing", Product: rapid.SampledFrom(products).Draw(rt, "product"),
					Quantity: rapid.Int64Range(1, 8).Draw(rt, "quantity"), RequestID: next()}
				do(func() error { _, err := svc.Purchase(ctx, p); return err })
			},
			"CreateEvent": func(rt *rapid.T) {
				s := t0.Add(time.Duration(rapid.IntRange(-3, 3).Draw(rt, "start")) * time.Hour)
				p := seats.CreateEventParams{Org: org, Actor: "ana", ID: rapid.SampledFrom(eventIDs).Draw(rt, "event"), Start: s, End: s.Add(2 * time.Hour),
					Participants: rapid.Int64Range(0, 6).Draw(rt, "participants"), Modules: rapid.SliceOfN(rapid.SampledFrom(modules), 0, 2).Draw(rt, "modules")}
				do(func() error { _, err := svc.CreateEvent(ctx, p); return err })
			},
			"SetParticipants": func(rt *rapid.T) {
				p := seats.SetParticipantsParams{Org: org, Actor: "ana", Event: rapid.SampledFrom(eventIDs).Draw(rt, "event"), Participants: rapid.Int64Range(0, 9).Draw(rt, "participants")}
				do(func() error { _, err := svc.SetParticipants(ctx, p); return err })
			},
			"SetModules": func(rt *rapid.T) {
				p := seats.SetModulesParams{Org: org, Actor: "ana", Event: rapid.SampledFrom(eventIDs).Draw(rt, "event"), Modules: rapid.SliceOfN(rapid.SampledFrom(modules), 0, 3).Draw(rt, "modules")}
				do(func() error { _, err := svc.SetModules(ctx, p); return err })
			},
			"TransferSeats": func(rt *rapid.T) {
				p := seats.TransferSeatsParams{Org: org, Actor: "ana", Event: rapid.SampledFrom(eventIDs).Draw(rt, "event"), Quantity: rapid.Int64Range(1, 5).Draw(rt, "quantity"), RequestID: next()}
				do(func() error { _, err := svc.TransferSeats(ctx, p); return err })
			},
			"TransferModule": func(rt *rapid.T) {
				p := seats.TransferModuleParams{Org: org, Actor: "ana", Event: rapid.SampledFrom(eventIDs).Draw(rt, "event"), Module: rapid.SampledFrom(modules).Draw(rt, "module"), RequestID: next()}
				do(func() error { _, err := svc.TransferModule(ctx, p); return err })
			},
			"Check": func(rt *rapid.T) {
				do(func() error {
					_, err := svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: org, Actor: allot.SystemActor})
					return err
				})
			},
			"Retry": func(rt *rapid.T) {
				if last != nil {
					if err := last(); err != nil {
						rt.Fatalf("a retry failed: %v", err)
					}
				}
			},
			"Advance": func(rt *rapid.T) { clk.Advance(time.Duration(rapid.IntRange(1, 90).Draw(rt, "minutes")) * time.Minute) },
			"": func(rt *rapid.T) {
				var evs []events.Event
				for e, err := range events.NewReader(store).All(ctx, events.Query{Org: org, Limit: 1000}) {
					if err != nil {
						rt.Fatal(err)
					}
					evs = append(evs, e)
				}
				m := replay(rt, evs)
				pools, err := svc.Overview(ctx, seats.OverviewParams{Org: org, Actor: "ana"})
				if err != nil {
					rt.Fatal(err)
				}
				if len(pools) != len(m.purchased) {
					rt.Fatalf("%d pools, the events tell of %d", len(pools), len(m.purchased))
				}
				for _, p := range pools {
					pr := string(p.Product)
					if p.Purchased != m.purchased[pr] || p.Assigned != m.assigned[pr] {
						rt.Fatalf("pool %s: %d purchased %d assigned; the events tell %d and %d", pr, p.Purchased, p.Assigned, m.purchased[pr], m.assigned[pr])
					}
					for _, pc := range []int{50, 100} {
						if want := p.Assigned*100 >= int64(pc)*p.Purchased && p.Purchased > 0; m.over[pr][pc] != want {
							rt.Fatalf("pool %s at %d of %d: over %d %% is %v, the events tell %v", pr, p.Assigned, p.Purchased, pc, want, m.over[pr][pc])
						}
					}
				}
				for e, err := range svc.Events(ctx, seats.EventsParams{Org: org, Actor: "ana"}) {
					if err != nil {
						rt.Fatal(err)
					}
					if e.SeatsAssigned != m.seats[e.ID] || !slices.Equal(e.ModulesAssigned, m.modules[e.ID]) || e.Lacks() != m.lacking[e.ID] {
						rt.Fatalf("event %s: seats %d modules %v lacks %v; the events tell %d %v %v",
							e.ID, e.SeatsAssigned, e.ModulesAssigned, e.Lacks(), m.seats[e.ID], m.modules[e.ID], m.lacking[e.ID])
					}
				}
			},
		})
	})
}
