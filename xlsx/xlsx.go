// Package xlsx writes the exports of every family (passes' usage log, seats'
// overview, history and events, licenses' summary, teams and members) as
// XLSX workbooks.
//
// It is a module of its own so that only services that want spreadsheets
// depend on excelize: the core module's requirements stay as they are. It
// consumes the same neutral tables (table.Table) that table.WriteCSV writes
// as CSV, row by row through excelize's stream writer, so a sheet of a
// million rows does not sit in memory.
//
// Each table becomes one sheet, named after the table. Integer columns are
// written as numbers and Time columns as date-times (UTC, shown as
// yyyy-mm-dd hh:mm:ss); every other cell is written as a string value, which
// a spreadsheet shows as text and never runs as a formula, so no cell needs
// the apostrophe the CSV writer adds. XML, which a workbook is made of,
// cannot hold control characters other than tab, line feed and carriage
// return: such a character in a cell is written as U+FFFD, and a cell longer
// than a spreadsheet's 32,767 characters is refused (internal), so an
// export that needs them exactly is a CSV export.
package xlsx

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/table"
	"github.com/xuri/excelize/v2"
)

// Write writes the tables as one workbook to w, one sheet per table in the
// order given. A sheet is named after its table, or "Sheet<n>" for the n-th
// table if it has no name; sheet names must be unique, ignoring case as a
// spreadsheet does, and be names a spreadsheet accepts (at most 31
// characters, none of : \ / ? * [ ], no ' first or last).
//
// Errors carry a code (allot.ErrorCode) like every allot package's: no tables
// or a bad sheet name is a *InvalidError (invalid) naming the field,
// a table's own error keeps its code, and a failure of the workbook or of w
// is internal.
func Write(w io.Writer, tables ...table.Table) (err error) {
	defer func() { err = errcode.Ensure(err) }()
	if len(tables) == 0 {
		return &InvalidError{Field: "tables", Reason: "no table given; pass at least one table to write"}
	}
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("xlsx: %w", cerr)
		}
	}()
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	first := f.GetSheetName(0)
	names := make([]string, 0, len(tables))
	for i, t := range tables {
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("Sheet%d", i+1)
		}
		// A spreadsheet compares sheet names ignoring case: a second
		// "Overview" after "overview" would overwrite the first sheet.
		for _, n := range names {
			if strings.EqualFold(n, name) {
				return &InvalidError{Field: "Name", Reason: fmt.Sprintf("two tables are named %q and %q, one sheet name to a spreadsheet; give each table its own name", n, name)}
			}
		}
		names = append(names, name)
		if i == 0 {
			err = f.SetSheetName(first, name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err != nil {
			if badSheetName(err) {
				return &InvalidError{Field: "Name", Reason: fmt.Sprintf("%q is not a sheet name: %v", name, err)}
			}
			return fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
		if err := writeSheet(f, name, t, headStyle, dateStyle); err != nil {
			return fmt.Errorf("xlsx: sheet %q: %w", name, err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// badSheetName reports whether excelize refused a sheet's name.
func badSheetName(err error) bool {
	for _, e := range []error{excelize.ErrSheetNameBlank, excelize.ErrSheetNameInvalid, excelize.ErrSheetNameLength, excelize.ErrSheetNameSingleQuote} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func writeSheet(f *excelize.File, sheet string, t table.Table, headStyle, dateStyle int) error {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	head := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = excelize.Cell{StyleID: headStyle, Value: c.Name}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	n := 1
	for row, err := range t.Rows {
		if err != nil {
			return err
		}
		n++
		cells := make([]any, len(row))
		for i, c := range row {
			kind := table.Text
			if i < len(t.Columns) {
				kind = t.Columns[i].Kind
			}
			cells[i] = cellOf(kind, c, dateStyle)
		}
		addr, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		if err := sw.SetRow(addr, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// cellOf types a cell by its column's kind; a cell that does not parse as its
// kind, an empty one included, is written as text.
func cellOf(kind table.Kind, s string, dateStyle int) any {
	switch kind {
	case table.Integer:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case table.Time:
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return excelize.Cell{StyleID: dateStyle, Value: t.UTC()}
		}
	}
	return s
}

// ErrInvalid matches a request Write refuses: no tables, or a sheet name a
// spreadsheet would not take. The error is an *InvalidError.
var ErrInvalid error = errcode.New(errcode.Invalid, "xlsx: invalid request")

// InvalidError says which field of a request was wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "xlsx: " + e.Reason }

// Code returns "invalid".
func (e *InvalidError) Code() string { return errcode.Invalid }

// Is makes an *InvalidError match ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }
