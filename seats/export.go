package seats

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
)

// ColumnKind says how a spreadsheet should read a column's cells.
type ColumnKind int

const (
	// Text cells are free text. A CSV writer neutralizes them (see
	// Neutralize), since they may carry names users typed.
	Text ColumnKind = iota
	// Integer cells are base-10 integers the package wrote.
	Integer
	// Time cells are RFC 3339 instants in UTC the package wrote.
	Time
)

// Column is one column of an exported table.
type Column struct {
	Name string
	Kind ColumnKind
}

// Table is an export: a header and rows of cells, one cell per column, as
// neutral strings that WriteCSV and the seatsxlsx module both consume. Rows
// reads the store a page at a time, each page in a transaction of its own,
// and yields the first error it meets; the role was checked when the table
// was made.
type Table struct {
	Name    string // a short name, e.g. the spreadsheet's sheet name
	Columns []Column
	Rows    iter.Seq2[[]string, error]
}

// Header returns the column names.
func (t Table) Header() []string {
	h := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		h[i] = c.Name
	}
	return h
}

// WriteCSV writes the table as CSV: the header, then each row. Text cells
// that a spreadsheet could run as a formula are neutralized.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header()); err != nil {
		return errcode.Ensure(fmt.Errorf("write CSV header: %w", err))
	}
	var out []string
	for row, err := range t.Rows {
		if err != nil {
			return errcode.Ensure(fmt.Errorf("write CSV %s: %w", t.Name, err))
		}
		if cap(out) < len(row) {
			out = make([]string, len(row))
		}
		for i, c := range row {
			if i < len(t.Columns) && t.Columns[i].Kind != Text {
				out[i] = c
			} else {
				out[i] = Neutralize(c)
			}
		}
		if err := cw.Write(out[:len(row)]); err != nil {
			return errcode.Ensure(fmt.Errorf("write CSV %s: %w", t.Name, err))
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return errcode.Ensure(fmt.Errorf("write CSV %s: %w", t.Name, err))
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// OverviewTable exports the overview: one row per product with purchased,
// assigned and available. The actor must be an Entitlement manager of the
// organization.
func (s *Service) OverviewTable(ctx context.Context, p OverviewParams) (Table, error) {
	pools, err := s.Overview(ctx, p)
	if err != nil {
		return Table{}, err
	}
	return Table{
		Name:    "overview",
		Columns: []Column{{"product", Text}, {"purchased", Integer}, {"assigned", Integer}, {"available", Integer}},
		Rows: func(yield func([]string, error) bool) {
			for _, p := range pools {
				if !yield([]string{string(p.Product), itoa(p.Purchased), itoa(p.Assigned), itoa(p.Available())}, nil) {
					return
				}
			}
		},
	}, nil
}

// HistoryTable exports every transaction History selects (all pages, from
// p.Cursor on, read allot.MaxLimit at a time when p.Limit is 0): when,
// kind, product, quantity, from, to, event, who, request ID, subscription
// and the ledger transfer ID. The actor must be an Entitlement manager of
// the organization; the parameters and the role are checked when the table
// is made.
func (s *Service) HistoryTable(ctx context.Context, p HistoryParams) (Table, error) {
	if p.Limit == 0 {
		p.Limit = allot.MaxLimit
	}
	if _, err := validHistoryParams(p); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("history of %q: %w", p.Org, err))
	}
	if err := s.allowViews(ctx, p.Org, p.Actor); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("history of %q: %w", p.Org, err))
	}
	return Table{
		Name: "transactions",
		Columns: []Column{
			{"when", Time}, {"kind", Text}, {"product", Text}, {"quantity", Integer}, {"from", Text}, {"to", Text},
			{"event", Text}, {"who", Text}, {"request", Text}, {"subscription", Text}, {"transfer", Text},
		},
		Rows: rows(s.History(ctx, p), func(t Transaction) []string {
			return []string{
				formatTime(t.At), string(t.Kind), string(t.Product), itoa(t.Quantity), t.From, t.To,
				t.Event, t.Actor, t.RequestID, t.Subscription, string(t.ID),
			}
		}),
	}, nil
}

// EventsTable exports every event Events selects (all pages, from p.Cursor
// on, read allot.MaxLimit at a time when p.Limit is 0): the event, its
// status, window, participants, seats assigned and missing, modules used,
// assigned and missing (names joined by spaces). The actor must be an
// Entitlement manager of the organization; the parameters and the role are
// checked when the table is made.
func (s *Service) EventsTable(ctx context.Context, p EventsParams) (Table, error) {
	if p.Limit == 0 {
		p.Limit = allot.MaxLimit
	}
	if _, err := validEventsParams(p); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("events of %q: %w", p.Org, err))
	}
	if err := s.allowViews(ctx, p.Org, p.Actor); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("events of %q: %w", p.Org, err))
	}
	return Table{
		Name: "events",
		Columns: []Column{
			{"event", Text}, {"name", Text}, {"status", Text}, {"start", Time}, {"end", Time},
			{"participants", Integer}, {"seats assigned", Integer}, {"seats missing", Integer},
			{"modules used", Text}, {"modules assigned", Text}, {"modules missing", Text},
		},
		Rows: rows(s.Events(ctx, p), func(w EventEntitlements) []string {
			return []string{
				w.ID, w.Name, string(w.Status), formatTime(w.Start), formatTime(w.End),
				itoa(w.Participants), itoa(w.SeatsAssigned), itoa(w.SeatsMissing),
				strings.Join(w.Modules, " "), strings.Join(w.ModulesAssigned, " "), strings.Join(w.ModulesMissing, " "),
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
