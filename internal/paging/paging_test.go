package paging_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/paging"
)

func TestLimit(t *testing.T) {
	for n, want := range map[int]int{0: allot.DefaultLimit, 1: 1, allot.MaxLimit: allot.MaxLimit} {
		if got, reason := paging.Limit(n); got != want || reason != "" {
			t.Errorf("Limit(%d) = %d, %q; want %d", n, got, reason, want)
		}
	}
	for _, n := range []int{-1, allot.MaxLimit + 1} {
		if _, reason := paging.Limit(n); reason == "" {
			t.Errorf("Limit(%d) accepted", n)
		}
	}
}

// pages serves the items 0..n-1, two per page, the cursor being the next index.
func pages(n int, fail int) func(context.Context, string) (allot.Page[int], error) {
	return func(_ context.Context, cursor string) (allot.Page[int], error) {
		i := 0
		if cursor != "" {
			i, _ = strconv.Atoi(cursor)
		}
		if i == fail {
			return allot.Page[int]{}, errors.New("store down")
		}
		var p allot.Page[int]
		for ; i < n && len(p.Items) < 2; i++ {
			p.Items = append(p.Items, i)
		}
		if i < n {
			p.Next = strconv.Itoa(i)
		}
		return p, nil
	}
}

func TestAll(t *testing.T) {
	var got []int
	for v, err := range paging.All(context.Background(), "1", pages(5, -1)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 4 || got[0] != 1 || got[3] != 4 {
		t.Errorf("from cursor 1: %v", got)
	}
	seq := paging.All(context.Background(), "1", pages(5, -1))
	for range 2 { // each iteration starts again at the given cursor
		var again []int
		for v, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			again = append(again, v)
		}
		if len(again) != 4 || again[0] != 1 {
			t.Errorf("iterating again from cursor 1: %v", again)
		}
	}
	got, n := nil, 0
	for v, err := range paging.All(context.Background(), "", pages(9, 4)) {
		n++
		if err != nil {
			break
		}
		got = append(got, v)
	}
	if len(got) != 4 || n != 5 {
		t.Errorf("failing at the third page: items %v, %d yields", got, n)
	}
	n = 0
	for range paging.All(context.Background(), "", pages(9, -1)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("stopping early: %d", n)
	}
}
