package licenses

import (
	"context"
	"log/slog"
	"slices"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/errcode"
)

// PoolProduct is the product a licenses pool's threshold events name: an
// organization's licenses, whose use is those members hold (active,
// pending and unassigned) of those purchased.
const PoolProduct = "license"

// checkThresholds refuses thresholds outside 1..100.
func checkThresholds(ts []int) error {
	if t, bad := events.BadThreshold(ts); bad {
		return invalid("Thresholds", "%d is not a percent from 1 to 100", t)
	}
	return nil
}

// unnoticed returns how many of the organization's invitations stored as
// pending have expired by now and are not yet marked expired: those
// LicenseLoad counted, less those the run noticed since (findMember marks
// each one it reads; the run writes no other expired invitation).
func (o *op) unnoticed() int64 { return o.exp - o.noticed }

// payload returns m as an event carries it, team the team the act was
// about, with the organization's counts as they read now.
func (o *op) payload(m Member, team string) events.Member {
	p := events.Member{
		Email: m.Email, State: string(m.State), Teams: m.Teams, Team: team,
		Purchased: o.org.Purchased, Active: o.org.Active, Pending: o.org.Pending - o.unnoticed(), Unassigned: o.org.Unassigned,
	}
	if m.State == StatePending {
		p.ExpiresAt = m.ExpiresAt
	}
	p.Available = available(p.Purchased, p.Active, p.Pending, p.Unassigned)
	return p
}

// emit adds an event of the run's request, of type typ, to those the run
// writes when it succeeds.
func (o *op) emit(typ events.Type, payload any) {
	e := o.env
	e.Org, e.At = o.org.ID, o.now
	e.Type, e.Payload = typ, payload
	o.evs = append(o.evs, e)
}

// emitMember adds a member event: m as the act left it.
func (o *op) emitMember(typ events.Type, m Member, team string) {
	o.emit(typ, o.payload(m, team))
}

// emitExpired adds the event of an invitation a write noticed expired: its
// time is the expiry's, its actor the library's own.
func (o *op) emitExpired(m Member) {
	p := o.payload(m, "")
	p.ExpiresAt = m.ExpiresAt
	o.emit(events.LicensesInvitationExpired, p)
	e := &o.evs[len(o.evs)-1]
	e.At, e.Actor = m.ExpiresAt, allot.SystemActor
}

// commitEvents writes the run's events in its transaction, with the pool's
// threshold crossings, and stamps the organization's record with the run's
// time: the instant the events last told the organization's counts.
//
// The crossings come in two steps. The invitations that expired since the
// last write that told the counts (told of them, at its time, as pending)
// lowered the use without a write: their crossings come right after the
// run's first LicensesInvitationExpired (with its time and actor), or
// first if the run noticed none (at the run's time, by allot.SystemActor).
// Then the act's own: from the use right before it to the use right after
// it, both at the run's time.
func (o *op) commitEvents() error {
	if len(o.evs) == 0 {
		return nil
	}
	if o.org.UpdatedAt.Before(o.now) {
		o.org.UpdatedAt = o.now // flush then writes it
		if err := o.flush(); err != nil {
			return err
		}
	}
	if ts := o.s.thresholds; len(ts) > 0 {
		b, a := o.orgStart, o.org
		stored := b.Active + b.Pending + b.Unassigned
		told, before := stored-o.told, stored-o.exp
		after := a.Active + a.Pending + a.Unassigned - o.unnoticed()
		if told != before {
			o.expiryCrossings(ts, told, before, b.Purchased)
		}
		for th := range events.Crossed(ts, PoolProduct, before, b.Purchased, after, a.Purchased) {
			o.emit(events.PoolThreshold, th)
		}
	}
	return o.tx.Emit(o.ctx, o.evs...)
}

// expiryCrossings inserts the crossings of the use's fall from told to
// used, by expiries, among the run's events (see commitEvents).
func (o *op) expiryCrossings(ts []int, told, used, purchased int64) {
	i := slices.IndexFunc(o.evs, func(e events.Event) bool { return e.Type == events.LicensesInvitationExpired })
	env := o.env
	env.Org, env.At, env.Actor = o.org.ID, o.now, allot.SystemActor
	if i >= 0 {
		env = o.evs[i]
	}
	env.Type = events.PoolThreshold
	at := i + 1
	for th := range events.Crossed(ts, PoolProduct, told, purchased, used, purchased) {
		env.Payload = th
		o.evs = slices.Insert(o.evs, at, env)
		at++
	}
}

// observe logs the outcome of a call: a refusal at debug, anything
// unexpected (an internal error) at warn.
func (s *Service) observe(ctx context.Context, act, org, requestID string, err error) {
	if s.logger == nil || err == nil {
		return
	}
	switch code := errcode.Of(err); code {
	case errcode.Internal, errcode.Unavailable:
		s.logger.LogAttrs(ctx, slog.LevelWarn, "licenses: "+act+" failed", slog.String("org", org), slog.String("request_id", requestID),
			slog.String("code", code), slog.String("error", err.Error()))
	default:
		s.logger.LogAttrs(ctx, slog.LevelDebug, "licenses: "+act+" refused", slog.String("org", org), slog.String("request_id", requestID),
			slog.String("code", code), slog.String("error", err.Error()))
	}
}

// retried logs a retried request at info.
func (s *Service) retried(ctx context.Context, act, org, requestID string) {
	if s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "licenses: "+act+" retried; returning its first result", slog.String("org", org), slog.String("request_id", requestID))
	}
}
