package passes

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strconv"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/internal/paging"
	"github.com/allot-dev/allot/table"
)

// Billing is what ThinkTank's Internal/External column says of a session,
// "used for billing purposes": whether its logins are billed as internal or
// external. The zero Billing selects both.
type Billing string

const (
	// Internal sessions are the workspace's own (Session.External false).
	Internal Billing = "internal"
	// External sessions are billed as external (Session.External true).
	External Billing = "external"
)

// billingOf returns the billing of a session or a row by its External flag.
func billingOf(external bool) Billing {
	if external {
		return External
	}
	return Internal
}

// label returns the billing in ThinkTank's words: "Internal" or "External".
func (b Billing) label() string {
	if b == External {
		return "External"
	}
	return "Internal"
}

// checkBilling refuses a Billing that is neither zero, Internal nor
// External.
func checkBilling(b Billing) error {
	switch b {
	case "", Internal, External:
		return nil
	}
	return invalid("Billing", "%q is not a billing; give passes.Internal, passes.External, or empty for both", string(b))
}

// LogParams select rows of a workspace's usage log.
type LogParams struct {
	Org     string    // required
	Actor   string    // holds WorkspaceAdmin in Org
	From    time.Time // rows at or after From; zero: from the start
	To      time.Time // rows before To; zero: up to now
	Session string    // only this session's rows; empty: every session
	User    string    // only this guest's rows (compared in canonical form, see input.Email); empty: every guest
	Billing Billing   // only rows of Internal or External sessions; zero: both
	Cursor  string    // Next of the previous page; empty for the first page
	Limit   int       // rows per page; zero means allot.DefaultLimit, at most allot.MaxLimit
}

// LogPage returns one page of a workspace's usage log, oldest first. Actor
// must hold WorkspaceAdmin in the workspace. A Cursor this log did not
// return for the workspace is an *InvalidError with Field "Cursor".
func (s *Service) LogPage(ctx context.Context, p LogParams) (allot.Page[Usage], error) {
	page, err := s.logPage(ctx, p)
	if err != nil {
		return allot.Page[Usage]{}, errcode.Ensure(fmt.Errorf("usage log of workspace %q: %w", p.Org, err))
	}
	return page, nil
}

func (s *Service) logPage(ctx context.Context, p LogParams) (allot.Page[Usage], error) {
	lp, limit, err := s.listParams(p)
	if err != nil {
		return allot.Page[Usage]{}, err
	}
	if _, err := s.require(ctx, p.Org, p.Actor, "read the usage log", WorkspaceAdmin); err != nil {
		return allot.Page[Usage]{}, err
	}
	return s.log(ctx, lp, limit)
}

func (s *Service) listParams(p LogParams) (UsageListParams, int, error) {
	if err := checkID("Org", p.Org); err != nil {
		return UsageListParams{}, 0, err
	}
	if p.Session != "" {
		if err := checkID("Session", p.Session); err != nil {
			return UsageListParams{}, 0, err
		}
	}
	if err := checkBilling(p.Billing); err != nil {
		return UsageListParams{}, 0, err
	}
	if r := input.Time(p.From); r != "" {
		return UsageListParams{}, 0, invalid("From", "%s", r)
	}
	if r := input.Time(p.To); r != "" {
		return UsageListParams{}, 0, invalid("To", "%s", r)
	}
	limit, r := paging.Limit(p.Limit)
	if r != "" {
		return UsageListParams{}, 0, invalid("Limit", "%s", r)
	}
	lp := UsageListParams{Org: p.Org, Session: p.Session, From: p.From, To: p.To, Billing: p.Billing, Limit: limit + 1}
	if p.User != "" {
		g, ok := normalizeGuest(p.User)
		if !ok {
			return UsageListParams{}, 0, &InvalidError{Field: "User", Reason: fmt.Sprintf("%q is not an e-mail address like name@example.com", p.User), also: ErrMalformedGuest}
		}
		lp.User = g
	}
	if p.Cursor != "" {
		key, ok := decodeCursor(cursorLog, p.Org, p.Cursor)
		n, err := strconv.ParseInt(key, 10, 64)
		if !ok || err != nil || n < 0 {
			return UsageListParams{}, 0, invalid("Cursor", "%q is not a cursor of the usage log of workspace %q; give the Next of the previous page, or empty for the first", p.Cursor, p.Org)
		}
		lp.AfterSeq = n
	}
	return lp, limit, nil
}

// log reads one page of the rows lp selects: lp.Limit is one more than the
// page's limit, so a page knows whether another follows.
func (s *Service) log(ctx context.Context, lp UsageListParams, limit int) (allot.Page[Usage], error) {
	var rows []Usage
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		rows, err = tx.UsageList(ctx, lp)
		return err
	})
	if err != nil {
		return allot.Page[Usage]{}, err
	}
	var page allot.Page[Usage]
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = encodeCursor(cursorLog, lp.Org, strconv.FormatInt(rows[len(rows)-1].Seq, 10))
	}
	page.Items = rows
	return page, nil
}

// Log yields the rows of a workspace's usage log that p selects, oldest
// first, from p.Cursor on, reading pages of p.Limit rows, each in a
// transaction of its own (and checking the actor's role for each). It stops
// at the first error, which it yields.
func (s *Service) Log(ctx context.Context, p LogParams) iter.Seq2[Usage, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[Usage], error) {
		p.Cursor = cursor
		return s.LogPage(ctx, p)
	})
}

// exportPage is the number of rows the exports (LogTable, ExportCSV,
// Totals) read in each transaction, whatever LogParams.Limit says.
const exportPage = allot.MaxLimit

// logColumns are the usage log's standard columns, ThinkTank's Session
// Passes headers; the workspace's custom fields follow them.
var logColumns = []table.Column{
	{Name: "Timestamp", Kind: table.Time},
	{Name: "Session ID", Kind: table.Text},
	{Name: "Session Name", Kind: table.Text},
	{Name: "Internal/External", Kind: table.Text},
	{Name: "Location", Kind: table.Text},
	{Name: "User", Kind: table.Text},
	{Name: "Session Owner", Kind: table.Text},
	{Name: "Passes", Kind: table.Integer},
	{Name: "Balance", Kind: table.Integer},
}

// LogTable returns the rows of a workspace's usage log that p selects as a
// table named "Session Passes", with ThinkTank's headers: Timestamp (a Time
// column, RFC 3339 in UTC), Session ID, Session Name, Internal/External,
// Location, User, Session Owner, Passes and Balance (Integer columns: the
// passes the login spent and the workspace's balance after it), then the
// workspace's custom fields in their order, those defined when LogTable is
// called; a row without a field's value has an empty cell.
//
// Actor must hold WorkspaceAdmin in the workspace; the role is checked here,
// once, and p is checked as LogPage checks it. The rows are read oldest
// first, from p.Cursor on, 1000 at a time, each page in a transaction of its
// own (p.Limit is not used): a table of a million rows holds one page in
// memory. Ranging over the rows again reads the log again.
func (s *Service) LogTable(ctx context.Context, p LogParams) (table.Table, error) {
	t, err := s.logTable(ctx, p)
	if err != nil {
		return table.Table{}, errcode.Ensure(fmt.Errorf("usage log of workspace %q: %w", p.Org, err))
	}
	return t, nil
}

func (s *Service) logTable(ctx context.Context, p LogParams) (table.Table, error) {
	p.Limit = exportPage
	lp, limit, err := s.listParams(p)
	if err != nil {
		return table.Table{}, err
	}
	if _, err := s.require(ctx, p.Org, p.Actor, "read the usage log", WorkspaceAdmin); err != nil {
		return table.Table{}, err
	}
	defs, err := s.fields(ctx, p.Org)
	if err != nil {
		return table.Table{}, err
	}
	cols := make([]table.Column, 0, len(logColumns)+len(defs))
	cols = append(cols, logColumns...)
	for _, f := range defs {
		cols = append(cols, table.Column{Name: f.Name, Kind: table.Text})
	}
	rows := func(yield func([]string, error) bool) {
		for u, err := range s.usageRows(ctx, lp, limit) {
			if err != nil {
				yield(nil, errcode.Ensure(fmt.Errorf("usage log of workspace %q: %w", p.Org, err)))
				return
			}
			if !yield(logRow(defs, u), nil) {
				return
			}
		}
	}
	return table.Table{Name: "Session Passes", Columns: cols, Rows: rows}, nil
}

// usageRows yields the rows lp selects, reading pages of limit rows, each
// in a transaction of its own, without checking any role: its callers did.
func (s *Service) usageRows(ctx context.Context, lp UsageListParams, limit int) iter.Seq2[*Usage, error] {
	return func(yield func(*Usage, error) bool) {
		for {
			page, err := s.log(ctx, lp, limit)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Items {
				if !yield(&page.Items[i], nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			lp.AfterSeq = page.Items[len(page.Items)-1].Seq
		}
	}
}

// logRow returns u's cells, the custom fields' in the order of defs.
func logRow(defs []FieldDef, u *Usage) []string {
	var buf [64]byte
	b := u.At.UTC().AppendFormat(buf[:0], time.RFC3339Nano)
	ts := len(b)
	b = strconv.AppendInt(b, u.Passes, 10)
	n := len(b)
	b = strconv.AppendInt(b, u.BalanceAfter, 10)
	// One string for the three formatted cells, sliced: one allocation.
	all := string(b)
	row := make([]string, len(logColumns)+len(defs))
	row[0] = all[:ts]
	row[1] = u.Session
	row[2] = u.SessionName
	row[3] = billingOf(u.External).label()
	row[4] = u.Location
	row[5] = u.User
	row[6] = u.Owner
	row[7] = all[ts:n]
	row[8] = all[n:]
	for i, f := range defs {
		row[len(logColumns)+i] = fieldValue(u.Fields, i, f.Name)
	}
	return row
}

// ExportCSV writes LogTable(ctx, p) to w with table.WriteCSV: RFC 4180,
// UTF-8, CRLF line ends, a cell a spreadsheet would run as a formula
// neutralized with a leading apostrophe (see table.Neutralize). It checks
// what LogTable checks, writes nothing when it refuses, and reads and writes
// a page at a time, so its memory does not grow with the log.
func (s *Service) ExportCSV(ctx context.Context, w io.Writer, p LogParams) error {
	t, err := s.logTable(ctx, p)
	if err == nil {
		err = table.WriteCSV(w, t)
	}
	if err != nil {
		return errcode.Ensure(fmt.Errorf("export usage log of workspace %q: %w", p.Org, err))
	}
	return nil
}

func fieldValue(fs []FieldValue, i int, name string) string {
	if i < len(fs) && fs[i].Name == name {
		return fs[i].Value
	}
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
