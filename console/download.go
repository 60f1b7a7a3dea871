package console

import (
	"io"
	"net/http"
	"strings"

	"github.com/allot-dev/allot/table"
	"github.com/allot-dev/allot/xlsx"
)

// download is a view leaving as a file: every download route serves a
// table.Table, written as CSV by table.WriteCSV or as a workbook by the
// xlsx module, by the route's content type.
type download struct {
	name  string // the file's name, without extension
	table table.Table
}

// Content types of the downloads.
const (
	csvType  = "text/csv; charset=utf-8"
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// tableDownload is a table as a download.
func tableDownload(name string, t table.Table, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return download{name: name, table: t}, nil
}

// withSpreadsheets adds, for every CSV download route, the same download as
// an XLSX workbook, at the same path ending in .xlsx.
func withSpreadsheets(rs []route) []route {
	out := make([]route, 0, len(rs))
	for _, rt := range rs {
		out = append(out, rt)
		if rt.File == csvType && strings.HasSuffix(rt.Path, ".csv") {
			x := rt
			x.Path = strings.TrimSuffix(rt.Path, ".csv") + ".xlsx"
			x.File = xlsxType
			x.Summary = strings.Replace(rt.Summary, "as CSV", "as an XLSX workbook", 1)
			out = append(out, x)
		}
	}
	return out
}

// serveDownload streams f. An error before the first byte is answered as a
// problem document; after it, the answer is cut short (the client sees a
// broken transfer, never a truncated file that looks whole) and logged.
func (c *Console) serveDownload(w http.ResponseWriter, r *http.Request, contentType string, f download) {
	sw := &startWriter{w: w, start: func() {
		w.Header().Set("Content-Type", contentType)
		ext := ".csv"
		if contentType == xlsxType {
			ext = ".xlsx"
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+f.name+ext+`"`)
		w.Header().Set("Cache-Control", "no-store")
	}}
	write := table.WriteCSV
	if contentType == xlsxType {
		write = writeXLSX
	}
	if err := write(sw, f.table); err != nil {
		if !sw.started {
			c.fail(w, r, err)
			return
		}
		c.log.ErrorContext(r.Context(), "console: download broke off", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
	if !sw.started {
		sw.start()
	}
}

// startWriter sets the download's headers at its first byte.
type startWriter struct {
	w       io.Writer
	start   func()
	started bool
}

func (s *startWriter) Write(b []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start()
	}
	return s.w.Write(b)
}

// writeXLSX writes one table as a workbook of one sheet.
func writeXLSX(w io.Writer, t table.Table) error { return xlsx.Write(w, t) }
