// Package seatsxlsx writes the seats package's exports as XLSX workbooks.
//
// It is a module of its own so that only services that want spreadsheets
// depend on excelize: the core module's requirements stay as they are. It
// consumes the same neutral tables (seats.Table) that seats.WriteCSV writes
// as CSV.
//
// Each table becomes one sheet, named after the table. Integer columns are
// written as numbers and Time columns as date-times (UTC, shown as
// yyyy-mm-dd hh:mm:ss); every other cell is written as a string value, which
// a spreadsheet shows as text and never runs as a formula, so no cell needs
// the apostrophe the CSV writer adds.
package seatsxlsx

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/seats"
	"github.com/xuri/excelize/v2"
)

// Write writes the tables as one workbook to w, one sheet per table in the
// order given. A sheet is named after its table, or "Sheet<n>" for the n-th
// table if it has no name; sheet names must be unique, ignoring case as a
// spreadsheet does, and be names a spreadsheet accepts (at most 31
// characters, none of : \ / ? * [ ], no ' first or last).
//
// Errors carry a code (allot.ErrorCode) like the seats package's: no tables
// or a bad sheet name is a *seats.InvalidError (invalid) naming the field,
// a table's own error keeps its code, and a failure of the workbook or of w
// is internal.
func Write(w io.Writer, tables ...seats.Table) (err error) {
	defer func() { err = errcode.Ensure(err) }()
	if len(tables) == 0 {
		return &seats.InvalidError{Field: "tables", Reason: "none given; pass at least one table to write"}
	}
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("seatsxlsx: %w", cerr)
		}
	}()
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return fmt.Errorf("seatsxlsx: %w", err)
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("seatsxlsx: %w", err)
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
				return &seats.InvalidError{Field: "Name", Reason: fmt.Sprintf("two tables are named %q and %q, one sheet name to a spreadsheet; give each table its own name", n, name)}
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
				return &seats.InvalidError{Field: "Name", Reason: fmt.Sprintf("%q is not a sheet name: %v", name, err)}
			}
			return fmt.Errorf("seatsxlsx: sheet %q: %w", name, err)
		}
		if err := writeSheet(f, name, t, headStyle, dateStyle); err != nil {
			return fmt.Errorf("seatsxlsx: sheet %q: %w", name, err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("seatsxlsx: %w", err)
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

func writeSheet(f *excelize.File, sheet string, t seats.Table, headStyle, dateStyle int) error {
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
			kind := seats.Text
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
func cellOf(kind seats.ColumnKind, s string, dateStyle int) any {
	switch kind {
	case seats.Integer:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case seats.Time:
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return excelize.Cell{StyleID: dateStyle, Value: t.UTC()}
		}
	}
	return s
}
