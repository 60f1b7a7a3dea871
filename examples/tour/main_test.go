package main

import (
	"bytes"
	"testing"

	"github.com/allot-dev/allot/internal/golden"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v", err)
	}
	golden.Check(t, "tour", out.Bytes())
}
