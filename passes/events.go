package passes

import (
	"context"
	"log/slog"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/errcode"
)

// PoolProduct is the product a passes pool's threshold events name: a
// workspace's passes, whose use is the passes spent of those purchased.
const PoolProduct = "pass"

// thresholds returns the threshold events of a pool whose use went from
// (usedBefore of purchasedBefore) to (used of purchased), appended to evs.
func (s *Service) thresholds(evs []events.Event, env events.Event, usedBefore, purchasedBefore, used, purchased int64) []events.Event {
	for th := range events.Crossed(s.thresholdPcts, PoolProduct, usedBefore, purchasedBefore, used, purchased) {
		e := env
		e.Type, e.Payload = events.PoolThreshold, th
		evs = append(evs, e)
	}
	return evs
}

// checkThresholds refuses thresholds outside 1..100.
func checkThresholds(ts []int) error {
	if t, bad := events.BadThreshold(ts); bad {
		return invalid("Thresholds", "%d is not a percent from 1 to 100", t)
	}
	return nil
}

// refused writes the refusal event of a login in a transaction of its own,
// which changes nothing else, and for the first refusal that finds a demo
// session locked the session's PassesDemoLocked event. A failure to write
// them is logged, not returned: the login's answer is the refusal.
func (s *Service) refused(ctx context.Context, r LoginParams, guest string, d Decision, now time.Time) {
	env := events.Event{Org: r.Org, At: now, Actor: guest, RequestID: r.RequestID}
	if guest == "" {
		env.Actor = allot.SystemActor // the guest is not an address: no actor
	}
	e := env
	e.Type = events.PassesLoginRefused
	e.Payload = events.LoginRefused{Session: r.Session, Guest: guest, Reason: string(d.Reason), Balance: d.Balance}
	evs := []events.Event{e}
	if d.Reason == ReasonDemoLocked && !d.LocksAt.IsZero() && !s.demoLockNoticed(ctx, r.Org, r.Session, d.LocksAt) {
		l := env
		l.Type, l.At = events.PassesDemoLocked, d.LocksAt
		l.Payload = events.DemoLocked{Session: r.Session, LockedAt: d.LocksAt}
		evs = append(evs, l)
	}
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.Emit(ctx, evs...) })
	if err != nil {
		s.warn(ctx, "passes: writing a login's refusal event failed", r.Org, r.RequestID, err)
	}
}

// outbox is a store that reads its events: memstore's and pgxstore's
// passes stores are.
type outbox interface {
	ReadEvents(ctx context.Context, q events.Query) ([]events.Stored, error)
}

// demoLockNoticed reports whether the outbox holds the PassesDemoLocked
// event of the session's lock at locksAt. It reads the workspace's
// PassesDemoLocked events, a refusal's path, never an allowed login's. A
// store that cannot read its events notices nothing: every refusal of a
// locked demo then writes the event again.
func (s *Service) demoLockNoticed(ctx context.Context, org, session string, locksAt time.Time) bool {
	ob, ok := s.store.(outbox)
	if !ok {
		return false
	}
	r := events.NewReader(readerOf{ob})
	for e, err := range r.All(ctx, events.Query{Org: org, Types: []events.Type{events.PassesDemoLocked}, Limit: 1000}) {
		if err != nil {
			s.warn(ctx, "passes: reading the outbox for a demo's lock failed", org, "", err)
			return false
		}
		if p, ok := e.Payload.(events.DemoLocked); ok && p.Session == session && p.LockedAt.Equal(locksAt.UTC().Truncate(time.Microsecond)) {
			return true
		}
	}
	return false
}

// readerOf makes an outbox an events.Store for a Reader; it prunes nothing.
type readerOf struct{ outbox }

func (r readerOf) PruneEvents(context.Context, int64) (int64, error) { return 0, nil }

// observe logs the outcome of a call: a refusal at debug, anything
// unexpected (an internal error) at warn.
func (s *Service) observe(ctx context.Context, op, org, requestID string, err error) {
	if s.logger == nil || err == nil {
		return
	}
	switch code := errcode.Of(err); code {
	case errcode.Internal, errcode.Unavailable:
		s.warn(ctx, "passes: "+op+" failed", org, requestID, err)
	default:
		s.logger.LogAttrs(ctx, slog.LevelDebug, "passes: "+op+" refused", slog.String("org", org), slog.String("request_id", requestID),
			slog.String("code", code), slog.String("error", err.Error()))
	}
}

// retried logs a retried request at info.
func (s *Service) retried(ctx context.Context, op, org, requestID string) {
	if s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "passes: "+op+" retried; returning its first result", slog.String("org", org), slog.String("request_id", requestID))
	}
}

func (s *Service) warn(ctx context.Context, msg, org, requestID string, err error) {
	if s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("org", org), slog.String("request_id", requestID), slog.String("error", err.Error()))
	}
}
