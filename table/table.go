// Package table is the one export model of every family: each view an
// administrator reads (passes' usage log, seats' overview, history and
// events, licenses' summary, teams and members) is a Table, a header of
// typed columns and rows streamed a page at a time, so an export of a
// million rows holds one page in memory, never the whole log.
//
// WriteCSV writes any Table as CSV; the xlsx module (a module of its own, so
// only its users depend on a spreadsheet library) writes the same tables as
// XLSX workbooks.
package table

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/errcode"
)

// Kind says how a spreadsheet should read a column's cells.
type Kind int

const (
	// Text cells are free text: names, e-mail addresses and values people
	// typed. The CSV writer neutralizes them (see Neutralize).
	Text Kind = iota
	// Integer cells are base-10 integers the library wrote, a minus sign
	// included for negative numbers; they are written as they are.
	Integer
	// Time cells are RFC 3339 instants in UTC the library wrote.
	Time
)

// String returns "text", "integer" or "time".
func (k Kind) String() string {
	switch k {
	case Text:
		return "text"
	case Integer:
		return "integer"
	case Time:
		return "time"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Column is one column of a table: its header, in the product's words, and
// the kind of its cells.
type Column struct {
	Name string
	Kind Kind
}

// Table is an export: a name (a spreadsheet's sheet name), columns, and rows
// of cells, one cell per column, as neutral strings. Rows reads its source a
// page at a time and yields the first error it meets, with a nil row, and
// nothing after it; the caller's permission was checked when the table was
// made. A Table's Rows may be ranged over more than once: each range reads
// the source again.
type Table struct {
	Name    string
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

// Neutralize makes a text cell inert in a spreadsheet: a cell that starts
// with a character a spreadsheet program may take as the start of a formula
// (= + - @, their full-width forms ＝ ＋ － ＠, a tab, a carriage return or a
// line feed) gets a leading apostrophe, which spreadsheets show as text.
// Other cells are returned as they are.
func Neutralize(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + cell
	}
	if cell[0] >= utf8.RuneSelf {
		switch r, _ := utf8.DecodeRuneInString(cell); r {
		case '＝', '＋', '－', '＠':
			return "'" + cell
		}
	}
	return cell
}

// WriteCSV writes the table as CSV by RFC 4180: the header, then each row,
// every record ended by CRLF; a field holding a comma, a double quote, a
// carriage return or a line feed, or starting or ending with a space, is
// quoted, with its quotes doubled, and its bytes are kept as they are. Text
// cells and the header are neutralized (Neutralize); Integer and Time cells,
// which the library wrote, are written as they are. It returns the first
// error of the rows or of w, with a code (allot.ErrorCode): a row's error
// keeps its own, a failure of w is internal.
func WriteCSV(w io.Writer, t Table) error {
	bw := bufio.NewWriter(w)
	rec := make([]string, 0, len(t.Columns))
	for _, c := range t.Columns {
		rec = append(rec, Neutralize(c.Name))
	}
	writeRecord(bw, rec)
	for row, err := range t.Rows {
		if err != nil {
			return errcode.Ensure(err)
		}
		rec = rec[:0]
		for i, c := range row {
			if i >= len(t.Columns) || t.Columns[i].Kind == Text {
				c = Neutralize(c)
			}
			rec = append(rec, c)
		}
		// A failed write sticks in bw: every later write is a no-op, and
		// Flush returns it.
		if writeRecord(bw, rec) != nil {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return errcode.Ensure(fmt.Errorf("writing the %s: %w", name(t), err))
	}
	return nil
}

// writeRecord writes one CSV record and its CRLF. A record of one empty
// field is written as "", so that it is not an empty line, which readers
// skip.
func writeRecord(w *bufio.Writer, rec []string) error {
	if len(rec) == 1 && rec[0] == "" {
		_, err := w.WriteString("\"\"\r\n")
		return err
	}
	for i, f := range rec {
		if i > 0 {
			w.WriteByte(',')
		}
		if !needsQuotes(f) {
			w.WriteString(f)
			continue
		}
		w.WriteByte('"')
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				w.WriteString(f)
				break
			}
			w.WriteString(f[:j+1])
			w.WriteByte('"')
			f = f[j+1:]
		}
		w.WriteByte('"')
	}
	_, err := w.WriteString("\r\n")
	return err
}

func needsQuotes(f string) bool {
	if f == "" {
		return false
	}
	return strings.ContainsAny(f, ",\"\r\n") || f[0] == ' ' || f[len(f)-1] == ' '
}

func name(t Table) string {
	if t.Name == "" {
		return "table"
	}
	return strings.TrimSpace(t.Name) + " table"
}
