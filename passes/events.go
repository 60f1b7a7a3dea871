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
// session locked the session's PassesDemoLocked event: the transaction marks
// the session's lock (SessionDemoLockMark) and writes the event only if it
// is the first to. A failure to write them is logged, not returned: the
// login's answer is the refusal.
func (s *Service) refused(ctx context.Context, r LoginParams, guest string, d Decision, now time.Time) {
	env := events.Event{Org: r.Org, At: now, Actor: guest, RequestID: r.RequestID}
	if guest == "" {
		env.Actor = allot.SystemActor // the guest is not an address: no actor
	}
	e := env
	e.Type = events.PassesLoginRefused
	e.Payload = events.LoginRefused{Session: r.Session, Guest: guest, Reason: string(d.Reason), Balance: d.Balance}
	evs := []events.Event{e, {}}
	locked := d.Reason == ReasonDemoLocked && !d.LocksAt.IsZero()
	if locked {
		l := env
		l.Type, l.At = events.PassesDemoLocked, d.LocksAt
		l.Payload = events.DemoLocked{Session: r.Session, LockedAt: d.LocksAt}
		evs[1] = l
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		n := 1
		if locked {
			first, err := tx.SessionDemoLockMark(ctx, r.Org, r.Session, d.LocksAt)
			if err != nil {
				return err
			}
			if first {
				n = 2
			}
		}
		return tx.Emit(ctx, evs[:n]...)
	})
	if err != nil {
		s.warn(ctx, "passes: writing a login's refusal event failed", r.Org, r.RequestID, err)
	}
}

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
