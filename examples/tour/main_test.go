package main

import (
	"testing"

	"github.com/allot-dev/allot/internal/golden"
)

func TestRun(t *testing.T) {
	golden.Run(t, "tour", run)
}
