package passes

import (
	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/csvsafe"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/internal/paging"

	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"
	"time"
)

// LogParams select rows of a workspace's usage log.
type LogParams struct {
	Org     string    // required
	Actor   string    // holds WorkspaceAdmin in Org
	From    time.Time // rows at or after From; zero: from the start
	To      time.Time // rows before To; zero: up to now
	Session string    // only this session's rows; empty: every session
	User    string    // only this guest's rows (compared in canonical form, see input.Email); empty: every guest
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
	lp := UsageListParams{Org: p.Org, Session: p.Session, From: p.From, To: p.To, Limit: limit + 1}
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

// Columns are the usage log's standard CSV columns; the workspace's custom
// fields follow them, in their order.
var Columns = []string{
	"Timestamp", "Session ID", "Session Name", "Internal/External", "Location",
	"User", "Session Owner", "Passes Used", "Balance After",
}

// ExportCSV writes the rows of a workspace's usage log that p selects to w as
// CSV (RFC 4180, UTF-8, CRLF line ends): a header row of Columns and the
// workspace's custom fields, then one record per row, oldest first.
// Timestamps are RFC 3339 in UTC.
//
// Actor must hold WorkspaceAdmin in the workspace. It writes from p.Cursor
// on, and reads and writes a page at a time (p.Limit rows, zero here meaning
// allot.MaxLimit: an export reads whole pages), so its memory does not grow
// with the log. A cell a spreadsheet would run as a
// formula (one starting with =, +, -, @, a tab or a carriage return) is
// written with a leading single quote. Line breaks inside a cell are written
// as CRLF; a lone carriage return inside a cell is dropped (encoding/csv does
// so in CRLF mode), after the quote was put in front. The custom fields are those defined
// when the export starts; values of fields a row does not have are empty.
func (s *Service) ExportCSV(ctx context.Context, w io.Writer, p LogParams) error {
	if err := s.exportCSV(ctx, w, p); err != nil {
		return errcode.Ensure(fmt.Errorf("export usage log of workspace %q: %w", p.Org, err))
	}
	return nil
}

func (s *Service) exportCSV(ctx context.Context, w io.Writer, p LogParams) error {
	if p.Limit == 0 {
		p.Limit = allot.MaxLimit
	}
	lp, limit, err := s.listParams(p)
	if err != nil {
		return err
	}
	if _, err := s.require(ctx, p.Org, p.Actor, "export the usage log", WorkspaceAdmin); err != nil {
		return err
	}
	defs, err := s.fields(ctx, p.Org)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	rec := make([]string, len(Columns)+len(defs))
	copy(rec, Columns)
	for i, f := range defs {
		rec[len(Columns)+i] = f.Name
	}
	for i := range rec {
		rec[i] = csvsafe.Cell(rec[i])
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	var buf []byte
	for {
		page, err := s.log(ctx, lp, limit)
		if err != nil {
			return err
		}
		for i := range page.Items {
			buf = csvRecord(rec, buf, defs, &page.Items[i])
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if page.Next == "" {
			break
		}
		lp.AfterSeq = page.Items[len(page.Items)-1].Seq
	}
	return bw.Flush()
}

// csvRecord fills rec with u's cells, using buf as scratch space for the
// formatted numbers and time, and returns buf for reuse.
func csvRecord(rec []string, buf []byte, defs []FieldDef, u *Usage) []byte {
	buf = u.At.UTC().AppendFormat(buf[:0], time.RFC3339Nano)
	ts := len(buf)
	buf = strconv.AppendInt(buf, u.Passes, 10)
	passes := len(buf)
	buf = strconv.AppendInt(buf, u.BalanceAfter, 10)
	// One string for the three formatted cells, sliced: one allocation.
	all := string(buf)
	rec[0] = all[:ts]
	rec[1] = csvsafe.Cell(u.Session)
	rec[2] = csvsafe.Cell(u.SessionName)
	if u.External {
		rec[3] = "External"
	} else {
		rec[3] = "Internal"
	}
	rec[4] = csvsafe.Cell(u.Location)
	rec[5] = csvsafe.Cell(u.User)
	rec[6] = csvsafe.Cell(u.Owner)
	rec[7] = all[ts:passes]
	rec[8] = all[passes:]
	for i, f := range defs {
		rec[len(Columns)+i] = csvsafe.Cell(fieldValue(u.Fields, i, f.Name))
	}
	return buf
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
