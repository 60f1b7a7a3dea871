package seats

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/errcode"
)

// checkThresholds refuses thresholds outside 1..100.
func checkThresholds(ts []int) error {
	if t, bad := events.BadThreshold(ts); bad {
		return invalid("Thresholds", "%d is not a percent from 1 to 100", t)
	}
	return nil
}

// thresholds appends to evs the PoolThreshold events of a pool whose use
// (assigned of purchased) went from before to after.
func (s *Service) thresholds(evs []events.Event, env events.Event, before, after Pool) []events.Event {
	for th := range events.Crossed(s.thresholdPcts, string(after.Product), before.Assigned, before.Purchased, after.Assigned, after.Purchased) {
		e := env
		e.Type, e.Payload = events.PoolThreshold, th
		evs = append(evs, e)
	}
	return evs
}

// lacks appends to evs the events of an event whose record went from
// before to after: SeatsEventLacking when it starts lacking seats or
// modules, SeatsEventCovered when it stops, and SeatsModuleMissing for each
// module it uses that starts missing. A created event's before is the zero
// Event, which lacks nothing.
func lacks(evs []events.Event, env events.Event, before, after Event) []events.Event {
	seatsBefore, modsBefore := Shortfall(before)
	seatsAfter, modsAfter := Shortfall(after)
	lackedBefore := seatsBefore > 0 || len(modsBefore) > 0
	lacksAfter := seatsAfter > 0 || len(modsAfter) > 0
	switch {
	case lacksAfter && !lackedBefore:
		e := env
		e.Type = events.SeatsEventLacking
		e.Payload = events.EventLacking{Event: after.ID, Seats: seatsAfter, Modules: slices.Clone(modsAfter)}
		evs = append(evs, e)
	case lackedBefore && !lacksAfter:
		e := env
		e.Type = events.SeatsEventCovered
		e.Payload = events.EventCovered{Event: after.ID}
		evs = append(evs, e)
	}
	for _, m := range modsAfter {
		if !slices.Contains(modsBefore, m) {
			e := env
			e.Type = events.SeatsModuleMissing
			e.Payload = events.ModuleMissing{Event: after.ID, Module: m}
			evs = append(evs, e)
		}
	}
	return evs
}

// envelope is the envelope of an act's events.
func envelope(org string, at time.Time, actor, requestID string) events.Event {
	return events.Event{Org: org, At: at, Actor: actor, RequestID: requestID}
}

// observe logs the outcome of a call: a refusal at debug, anything
// unexpected (an internal error) at warn.
func (s *Service) observe(ctx context.Context, op, org, requestID string, err error) {
	if s.logger == nil || err == nil {
		return
	}
	switch code := errcode.Of(err); code {
	case errcode.Internal, errcode.Unavailable:
		s.logger.LogAttrs(ctx, slog.LevelWarn, "seats: "+op+" failed", slog.String("org", org), slog.String("request_id", requestID),
			slog.String("code", code), slog.String("error", err.Error()))
	default:
		s.logger.LogAttrs(ctx, slog.LevelDebug, "seats: "+op+" refused", slog.String("org", org), slog.String("request_id", requestID),
			slog.String("code", code), slog.String("error", err.Error()))
	}
}

// retried logs a retried request at info.
func (s *Service) retried(ctx context.Context, op, org, requestID string) {
	if s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "seats: "+op+" retried; returning its first result", slog.String("org", org), slog.String("request_id", requestID))
	}
}
