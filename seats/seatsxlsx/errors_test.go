package seatsxlsx_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/seats/seatsxlsx"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

// Every error Write returns has a code: invalid for what the caller gave,
// the table's own code for a table's error, internal for a failure of the
// workbook or the writer.
func TestWrite_ErrorCodes(t *testing.T) {
	rows := func(err error) seats.Table {
		return seats.Table{Name: "t", Columns: []seats.Column{{Name: "x"}}, Rows: func(yield func([]string, error) bool) {
			if err != nil {
				yield(nil, err)
			}
		}}
	}
	named := func(name string) seats.Table { t := rows(nil); t.Name = name; return t }
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		w        func() error
		code     string
		sentinel error
	}{
		{"NoTables", func() error { return seatsxlsx.Write(&bytes.Buffer{}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"SameName", func() error { return seatsxlsx.Write(&bytes.Buffer{}, named("a"), named("a")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"SameNameOtherCase", func() error { return seatsxlsx.Write(&bytes.Buffer{}, named("Overview"), named("overview")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"UnnamedMeetsNamed", func() error { return seatsxlsx.Write(&bytes.Buffer{}, named("sheet2"), named("")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"NameTooLong", func() error { return seatsxlsx.Write(&bytes.Buffer{}, named(strings.Repeat("x", 32))) }, allot.CodeInvalid, seats.ErrInvalid},
		{"NameInvalidCharacter", func() error { return seatsxlsx.Write(&bytes.Buffer{}, named("ok"), named("a/b")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"NameQuoted", func() error { return seatsxlsx.Write(&bytes.Buffer{}, named("'q'")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"TableRefusal", func() error {
			return seatsxlsx.Write(&bytes.Buffer{}, rows(&seats.UnknownEventError{Org: "acme", Event: "x"}))
		}, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"TableFailure", func() error { return seatsxlsx.Write(&bytes.Buffer{}, rows(boom)) }, allot.CodeInternal, boom},
		{"WriterFails", func() error { return seatsxlsx.Write(failingWriter{}, named("a")) }, allot.CodeInternal, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.w()
			if err == nil {
				t.Fatalf("Write succeeded, want an error coded %q", tc.code)
			}
			var c interface{ Code() string }
			if !errors.As(err, &c) {
				t.Errorf("%v: no Code() in its chain", err)
			}
			if got := allot.ErrorCode(err); got != tc.code {
				t.Errorf("ErrorCode(%v) = %q, want %q", err, got, tc.code)
			}
			if tc.code == allot.CodeInvalid && allot.HTTPStatus(err) != http.StatusBadRequest {
				t.Errorf("HTTPStatus(%v) = %d, want 400", err, allot.HTTPStatus(err))
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("%v does not match %v", err, tc.sentinel)
			}
			if ie := (*seats.InvalidError)(nil); tc.code == allot.CodeInvalid && (!errors.As(err, &ie) || ie.Field == "") {
				t.Errorf("%v: want an *InvalidError naming the field", err)
			}
		})
	}
}
