package errcode

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestOf(t *testing.T) {
	notFound := New(NotFound, "x: not found")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{notFound, NotFound},
		{fmt.Errorf("get y: %w", notFound), NotFound},
		{context.Canceled, Canceled},
		{fmt.Errorf("post: %w", context.DeadlineExceeded), Timeout},
		{errors.New("disk on fire"), Internal},
		{Ensure(errors.New("disk on fire")), Internal},
		{Ensure(fmt.Errorf("x: %w", context.Canceled)), Canceled},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	wrapped := Ensure(errors.New("boom"))
	var c Coder
	if !errors.As(wrapped, &c) || wrapped.Error() != "boom" {
		t.Errorf("Ensure lost the message or the code: %v", wrapped)
	}
	if Ensure(notFound) != notFound || Ensure(nil) != nil {
		t.Error("Ensure wrapped what needed no wrapping")
	}
	if !errors.Is(fmt.Errorf("a: %w", notFound), notFound) {
		t.Error("a sentinel does not match itself through wrapping")
	}
}

func TestHTTPStatus(t *testing.T) {
	for code, want := range map[string]int{
		"": http.StatusOK, Invalid: 400, NotFound: 404, Forbidden: 403, RequestReused: 409, AlreadyExists: 409,
		Insufficient: 409, HoldNotPending: 409, IllegalTransition: 409, InUse: 409, DemoLocked: 409,
		Expired: 410, Canceled: 499, Timeout: 504, Unavailable: 503, Internal: 500, "unknown": 500,
	} {
		if got := HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", code, got, want)
		}
	}
}
