package seats

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/table"
)

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// OverviewTable is the overview as a table.Table, sheet "Overview", with the
// columns of SpotMe's Entitlements tab: Product, Purchased, Assigned and
// Available, one row per product the organization purchased, ordered by
// product. The actor must be an Entitlement manager of the organization:
// the role is checked when the table is made and again each time its rows
// are read, which read the pools then.
func (s *Service) OverviewTable(ctx context.Context, p OverviewParams) (table.Table, error) {
	if err := s.allowViews(ctx, p.Org, p.Actor); err != nil {
		return table.Table{}, errcode.Ensure(fmt.Errorf("overview of %q: %w", p.Org, err))
	}
	return table.Table{
		Name: "Overview",
		Columns: []table.Column{
			{Name: "Product", Kind: table.Text}, {Name: "Purchased", Kind: table.Integer},
			{Name: "Assigned", Kind: table.Integer}, {Name: "Available", Kind: table.Integer},
		},
		Rows: func(yield func([]string, error) bool) {
			pools, err := s.Overview(ctx, p)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, p := range pools {
				if !yield([]string{string(p.Product), itoa(p.Purchased), itoa(p.Assigned), itoa(p.Available())}, nil) {
					return
				}
			}
		},
	}, nil
}

// HistoryTable is every transaction History selects as a table.Table,
// sheet "Transactions", read page by page (all pages from p.Cursor on,
// allot.MaxLimit at a time when p.Limit is 0), with the columns of SpotMe's
// transaction history: Date, Type (Purchase, Transfer or Automatic
// transfer, the consumption check's), Product, Quantity, From, To, Event,
// By, Request ID and Subscription. The actor must be an Entitlement manager
// of the organization; the parameters and the role are checked when the
// table is made.
func (s *Service) HistoryTable(ctx context.Context, p HistoryParams) (table.Table, error) {
	if p.Limit == 0 {
		p.Limit = allot.MaxLimit
	}
	if _, err := validHistoryParams(p); err != nil {
		return table.Table{}, errcode.Ensure(fmt.Errorf("history of %q: %w", p.Org, err))
	}
	if err := s.allowViews(ctx, p.Org, p.Actor); err != nil {
		return table.Table{}, errcode.Ensure(fmt.Errorf("history of %q: %w", p.Org, err))
	}
	return table.Table{
		Name: "Transactions",
		Columns: []table.Column{
			{Name: "Date", Kind: table.Time}, {Name: "Type", Kind: table.Text}, {Name: "Product", Kind: table.Text},
			{Name: "Quantity", Kind: table.Integer}, {Name: "From", Kind: table.Text}, {Name: "To", Kind: table.Text},
			{Name: "Event", Kind: table.Text}, {Name: "By", Kind: table.Text}, {Name: "Request ID", Kind: table.Text},
			{Name: "Subscription", Kind: table.Text},
		},
		Rows: rows(s.History(ctx, p), func(t Transaction) []string {
			return []string{
				formatTime(t.At), kindWords[t.Kind], string(t.Product), itoa(t.Quantity), t.From, t.To,
				t.Event, t.Actor, t.RequestID, t.Subscription,
			}
		}),
	}, nil
}

// kindWords are the transaction types as the history shows them.
var kindWords = map[Kind]string{KindPurchase: "Purchase", KindTransfer: "Transfer", KindAuto: "Automatic transfer"}

// statusWords are the statuses as the Entitlements tab shows them.
var statusWords = map[Status]string{StatusLive: "Live", StatusPast: "Past", StatusUpcoming: "Upcoming"}

// EventsTable is every event Events selects as a table.Table, sheet
// "Events", read page by page (all pages from p.Cursor on, allot.MaxLimit
// at a time when p.Limit is 0), with the columns of SpotMe's Entitlements
// tab: Event, Name, Start, End, Status (Live, Past or Upcoming when the
// page was read), Participants, Seats assigned, Seats missing, Modules
// assigned and Modules missing (module names joined by ", "). The actor
// must be an Entitlement manager of the organization; the parameters and
// the role are checked when the table is made.
func (s *Service) EventsTable(ctx context.Context, p EventsParams) (table.Table, error) {
	if p.Limit == 0 {
		p.Limit = allot.MaxLimit
	}
	if _, err := validEventsParams(p); err != nil {
		return table.Table{}, errcode.Ensure(fmt.Errorf("events of %q: %w", p.Org, err))
	}
	if err := s.allowViews(ctx, p.Org, p.Actor); err != nil {
		return table.Table{}, errcode.Ensure(fmt.Errorf("events of %q: %w", p.Org, err))
	}
	return table.Table{
		Name: "Events",
		Columns: []table.Column{
			{Name: "Event", Kind: table.Text}, {Name: "Name", Kind: table.Text},
			{Name: "Start", Kind: table.Time}, {Name: "End", Kind: table.Time}, {Name: "Status", Kind: table.Text},
			{Name: "Participants", Kind: table.Integer}, {Name: "Seats assigned", Kind: table.Integer},
			{Name: "Seats missing", Kind: table.Integer}, {Name: "Modules assigned", Kind: table.Text},
			{Name: "Modules missing", Kind: table.Text},
		},
		Rows: rows(s.Events(ctx, p), func(w EventEntitlements) []string {
			return []string{
				w.ID, w.Name, formatTime(w.Start), formatTime(w.End), statusWords[w.Status],
				itoa(w.Participants), itoa(w.SeatsAssigned), itoa(w.SeatsMissing),
				strings.Join(w.ModulesAssigned, ", "), strings.Join(w.ModulesMissing, ", "),
			}
		}),
	}, nil
}

// rows yields a row for every item items yields, formatted by row. Each
// iteration reads the listing again from its start, so a table can be
// written more than once.
func rows[T any](items iter.Seq2[T, error], row func(T) []string) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for it, err := range items {
			if err != nil {
				yield(nil, errcode.Ensure(err))
				return
			}
			if !yield(row(it), nil) {
				return
			}
		}
	}
}
