package passes

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/table"
)

// Period is the length of the periods Totals sums over: calendar days or
// calendar months, in UTC.
type Period string

const (
	// Day periods run from 00:00 UTC to the next 00:00 UTC.
	Day Period = "day"
	// Month periods run from the first of a month, 00:00 UTC, to the first
	// of the next.
	Month Period = "month"
)

// start returns the start of the period of p holding t.
func (p Period) start(t time.Time) time.Time {
	t = t.UTC()
	if p == Day {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// TotalsParams select the rows of a workspace's usage log Totals sums.
type TotalsParams struct {
	Org     string    // required
	Actor   string    // holds WorkspaceAdmin in Org
	From    time.Time // rows at or after From; zero: from the start
	To      time.Time // rows before To; zero: up to now
	Period  Period    // Day or Month; zero means Month
	Session string    // only this session's rows; empty: every session
	Billing Billing   // only Internal or only External rows; zero: both
}

// Total is what a workspace's logins of one billing spent in one period.
type Total struct {
	Period  time.Time // the period's start, UTC
	Billing Billing   // Internal or External
	Logins  int64     // the allowed logins, those that spent nothing included
	Passes  int64     // the passes they spent
}

// Totals sums a workspace's usage log by period and by Internal/External
// (ThinkTank's column "used for billing purposes"): for each calendar day or
// month (p.Period, in UTC) and each billing that has rows, the logins and
// the passes they spent. The totals come ordered by period, Internal before
// External in a period; a period or billing without rows has no Total.
// Refused logins are not in the log, so they count for nothing.
//
// Actor must hold WorkspaceAdmin in the workspace. Totals reads the log 1000
// rows at a time, each page in a transaction of its own, and keeps only the
// sums: its memory grows with the periods, not with the rows.
func (s *Service) Totals(ctx context.Context, p TotalsParams) ([]Total, error) {
	out, err := s.totals(ctx, p)
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("totals of the usage log of workspace %q: %w", p.Org, err))
	}
	return out, nil
}

func (s *Service) totals(ctx context.Context, p TotalsParams) ([]Total, error) {
	switch p.Period {
	case "":
		p.Period = Month
	case Day, Month:
	default:
		return nil, invalid("Period", "%q is not a period; give passes.Day or passes.Month", string(p.Period))
	}
	lp, limit, err := s.listParams(LogParams{Org: p.Org, From: p.From, To: p.To, Session: p.Session, Billing: p.Billing, Limit: exportPage})
	if err != nil {
		return nil, err
	}
	if _, err := s.require(ctx, p.Org, p.Actor, "read the usage log", WorkspaceAdmin); err != nil {
		return nil, err
	}
	var out []Total
	// Rows come in Seq order, which follows At but for a clock corrected
	// backwards: find a row's period among the last ones first.
	for u, err := range s.usageRows(ctx, lp, limit) {
		if err != nil {
			return nil, err
		}
		start, b := p.Period.start(u.At), billingOf(u.External)
		// i: the last total at or before (start, b), Internal first.
		i := len(out) - 1
		for i >= 0 && (out[i].Period.After(start) || (out[i].Period.Equal(start) && out[i].Billing == External && b == Internal)) {
			i--
		}
		if i < 0 || !out[i].Period.Equal(start) || out[i].Billing != b {
			i++
			out = append(out, Total{})
			copy(out[i+1:], out[i:])
			out[i] = Total{Period: start, Billing: b}
		}
		out[i].Logins++
		out[i].Passes += u.Passes
	}
	return out, nil
}

// TotalsTable returns Totals(ctx, p) as a table named "Totals" with the
// columns Period (a Time column: the period's start), Internal/External,
// Logins and Passes (Integer columns). It checks what Totals checks, and
// sums the log when it is called: its rows are those sums.
func (s *Service) TotalsTable(ctx context.Context, p TotalsParams) (table.Table, error) {
	ts, err := s.Totals(ctx, p)
	if err != nil {
		return table.Table{}, err
	}
	return table.Table{
		Name: "Totals",
		Columns: []table.Column{
			{Name: "Period", Kind: table.Time},
			{Name: "Internal/External", Kind: table.Text},
			{Name: "Logins", Kind: table.Integer},
			{Name: "Passes", Kind: table.Integer},
		},
		Rows: func(yield func([]string, error) bool) {
			for _, t := range ts {
				if !yield([]string{t.Period.Format(time.RFC3339), t.Billing.label(), strconv.FormatInt(t.Logins, 10), strconv.FormatInt(t.Passes, 10)}, nil) {
					return
				}
			}
		},
	}, nil
}
