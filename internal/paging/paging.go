// Package paging reads listings the same way in every family: one Limit
// rule and one iterator over cursor pages.
package paging

import (
	"context"
	"fmt"
	"iter"

	"github.com/allot-dev/allot"
)

// Limit returns the page size a Params' Limit asks for, or the reason it is
// refused: zero means allot.DefaultLimit, and a limit below zero or above
// allot.MaxLimit is refused.
func Limit(n int) (int, string) {
	switch {
	case n == 0:
		return allot.DefaultLimit, ""
	case n < 0 || n > allot.MaxLimit:
		return 0, fmt.Sprintf("is %d; give 0 for %d, or 1 to %d", n, allot.DefaultLimit, allot.MaxLimit)
	}
	return n, ""
}

// All iterates over every item of the pages page reads, starting at
// cursor and following each page's Next. It stops at the first error,
// which it yields with the zero item, and when the consumer stops. Each
// iteration starts again at cursor.
func All[T any](ctx context.Context, cursor string, page func(ctx context.Context, cursor string) (allot.Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := cursor
		for {
			p, err := page(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			cursor = p.Next
		}
	}
}
