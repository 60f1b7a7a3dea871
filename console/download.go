package console

import (
	"context"
	"io"
	"net/http"

	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/table"
)

// download is a view leaving as a file: the seam every download route goes
// through. passes streams its usage log with passes.ExportCSV; seats gives
// table.Tables that table.WriteCSV writes; a download may become a
// spreadsheet, through the xlsx module, without touching the routes.
type download struct {
	name  string // the file's name, without extension
	write func(ctx context.Context, w io.Writer) error
}

// csvTable is a table as a CSV download.
func csvTable(name string, t table.Table, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return download{name: name, write: func(_ context.Context, w io.Writer) error { return table.WriteCSV(w, t) }}, nil
}

// serveDownload streams f. An error before the first byte is answered as a
// problem document; after it, the answer is cut short (the client sees a
// broken transfer, never a truncated file that looks whole) and logged.
func (c *Console) serveDownload(w http.ResponseWriter, r *http.Request, contentType string, f download) {
	sw := &startWriter{w: w, start: func() {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+f.name+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
	}}
	if err := f.write(r.Context(), sw); err != nil {
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

// passesLogDownload is the usage log as CSV, with the workspace's custom
// fields, read page by page.
func (c *Console) passesLogDownload(p passes.LogParams) download {
	p.Cursor, p.Limit = "", 0
	return download{name: "usage-log", write: func(ctx context.Context, w io.Writer) error {
		return c.opts.Passes.ExportCSV(ctx, w, p)
	}}
}
