// Command tour walks through allot, one chapter per package, on an in-memory
// store and a fake clock, so its output is the same on every run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// run prints every chapter of the tour to w.
func run(w io.Writer) error {
	ctx := context.Background()
	chapters := []struct {
		title string
		run   func(context.Context, io.Writer) error
	}{
		{"The ledger", ledgerChapter},
		{"Session passes", passesChapter},
		{"Seats and modules", seatsChapter},
		{"Licenses", licensesChapter},
	}
	for i, c := range chapters {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "== %d. %s ==\n", i+1, c.title)
		if err := c.run(ctx, w); err != nil {
			return fmt.Errorf("%s: %w", c.title, err)
		}
	}
	return nil
}
