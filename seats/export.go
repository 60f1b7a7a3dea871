package seats

import (
	"context"
	"encoding/csv"
	"fmt"
	"github.com/allot-dev/allot/internal/errcode"
	"io"
	"iter"
	"strings"
	"time"
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
// assigned and available. The actor must be an Entitlement manager of org.
func (s *Service) OverviewTable(ctx context.Context, org, actor string) (Table, error) {
	pools, err := s.Overview(ctx, org, actor)
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
// q.Cursor on): when, kind, product, quantity, from, to, event, who,
// request ID, subscription and the ledger transfer ID.
func (s *Service) HistoryTable(ctx context.Context, q HistoryQuery) (Table, error) {
	if err := validID("Org", q.Org); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("history of %q: %w", q.Org, err))
	}
	if _, err := s.authorize(ctx, q.Org, q.Actor); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("history of %q: %w", q.Org, err))
	}
	if q.Limit == 0 {
		q.Limit = 1000
	}
	return Table{
		Name: "transactions",
		Columns: []Column{
			{"when", Time}, {"kind", Text}, {"product", Text}, {"quantity", Integer}, {"from", Text}, {"to", Text},
			{"event", Text}, {"who", Text}, {"request", Text}, {"subscription", Text}, {"transfer", Text},
		},
		Rows: pagedRows(q.Cursor, func(cursor string) ([]Transaction, string, error) {
			q := q
			q.Cursor = cursor
			page, err := s.History(ctx, q)
			return page.Transactions, page.Next, err
		}, func(t Transaction) []string {
			return []string{
				formatTime(t.At), string(t.Kind), string(t.Product), itoa(t.Quantity), t.From, t.To,
				t.Event, t.Actor, t.RequestID, t.Subscription, string(t.ID),
			}
		}),
	}, nil
}

// WorkspacesTable exports every event Workspaces selects (all pages, from
// q.Cursor on): the event, its status, window, participants, seats assigned
// and missing, modules used, assigned and missing (names joined by spaces).
func (s *Service) WorkspacesTable(ctx context.Context, q WorkspaceQuery) (Table, error) {
	if err := validID("Org", q.Org); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("workspaces of %q: %w", q.Org, err))
	}
	if _, err := s.authorize(ctx, q.Org, q.Actor); err != nil {
		return Table{}, errcode.Ensure(fmt.Errorf("workspaces of %q: %w", q.Org, err))
	}
	if q.Limit == 0 {
		q.Limit = 1000
	}
	return Table{
		Name: "workspaces",
		Columns: []Column{
			{"event", Text}, {"name", Text}, {"status", Text}, {"start", Time}, {"end", Time},
			{"participants", Integer}, {"seats assigned", Integer}, {"seats missing", Integer},
			{"modules used", Text}, {"modules assigned", Text}, {"modules missing", Text},
		},
		Rows: pagedRows(q.Cursor, func(cursor string) ([]Workspace, string, error) {
			q := q
			q.Cursor = cursor
			page, err := s.Workspaces(ctx, q)
			return page.Workspaces, page.Next, err
		}, func(w Workspace) []string {
			return []string{
				w.ID, w.Name, string(w.Status), formatTime(w.Start), formatTime(w.End),
				itoa(w.Participants), itoa(w.SeatsAssigned), itoa(w.SeatsMissing),
				strings.Join(w.Modules, " "), strings.Join(w.ModulesAssigned, " "), strings.Join(w.ModulesMissing, " "),
			}
		}),
	}, nil
}

// pagedRows yields a row for every item of every page from start on: page
// returns the items at a cursor and the next cursor (empty on the last
// page), and row formats one item. Each iteration starts again from start,
// so a table can be written more than once.
func pagedRows[T any](start string, page func(cursor string) ([]T, string, error), row func(T) []string) func(yield func([]string, error) bool) {
	return func(yield func([]string, error) bool) {
		cursor := start
		for {
			items, next, err := page(cursor)
			if err != nil {
				yield(nil, errcode.Ensure(err))
				return
			}
			for _, it := range items {
				if !yield(row(it), nil) {
					return
				}
			}
			if next == "" {
				return
			}
			cursor = next
		}
	}
}
