package licenses

import (
	"context"
	"log/slog"

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
// pending have expired by now: its store's expiry index, read once per
// run and kept current as the run notices expiries.
func (o *op) unnoticed() (int64, error) {
	if !o.expKnown {
		if o.orgStart.Pending == 0 && o.noticed == 0 {
			o.exp = 0 // nothing pending when the run began: nothing expired
		} else {
			n, err := o.tx.LicenseExpiredCount(o.ctx, o.org.ID, o.now)
			if err != nil {
				return 0, err
			}
			o.exp = n
		}
		o.expKnown, o.expNoticed = true, o.noticed
	}
	return o.exp - (o.noticed - o.expNoticed), nil
}

// payload returns m as an event carries it, team the team the act was
// about, with the organization's counts as they read now.
func (o *op) payload(m Member, team string) (events.Member, error) {
	exp, err := o.unnoticed()
	if err != nil {
		return events.Member{}, err
	}
	p := events.Member{
		Email: m.Email, State: string(m.State), Teams: m.Teams, Team: team,
		Purchased: o.org.Purchased, Active: o.org.Active, Pending: o.org.Pending - exp, Unassigned: o.org.Unassigned,
	}
	if m.State == StatePending {
		p.ExpiresAt = m.ExpiresAt
	}
	p.Available = available(p.Purchased, p.Active, p.Pending, p.Unassigned)
	return p, nil
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
func (o *op) emitMember(typ events.Type, m Member, team string) error {
	p, err := o.payload(m, team)
	if err != nil {
		return err
	}
	o.emit(typ, p)
	return nil
}

// emitExpired adds the event of an invitation a write noticed expired: its
// time is the expiry's, its actor the library's own.
func (o *op) emitExpired(m Member) error {
	p, err := o.payload(m, "")
	if err != nil {
		return err
	}
	p.ExpiresAt = m.ExpiresAt
	o.emit(events.LicensesInvitationExpired, p)
	e := &o.evs[len(o.evs)-1]
	e.At, e.Actor = m.ExpiresAt, allot.SystemActor
	return nil
}

// commitEvents appends the pool's threshold events to the run's events
// and writes them in the run's transaction.
func (o *op) commitEvents() error {
	if len(o.evs) == 0 {
		return nil
	}
	if ts := o.s.thresholds; len(ts) > 0 {
		exp, err := o.unnoticed()
		if err != nil {
			return err
		}
		// Before the run, the expired invitations it noticed were among
		// those not yet noticed.
		b, a := o.orgStart, o.org
		usedBefore := b.Active + b.Pending + b.Unassigned - (exp + o.noticed)
		usedAfter := a.Active + a.Pending + a.Unassigned - exp
		for th := range events.Crossed(ts, PoolProduct, usedBefore, b.Purchased, usedAfter, a.Purchased) {
			o.emit(events.PoolThreshold, th)
		}
	}
	return o.tx.Emit(o.ctx, o.evs...)
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
