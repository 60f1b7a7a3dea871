package memstore

import (
	"hash/maphash"
	"testing"

	"github.com/allot-dev/allot/store/storetest"
)

// TestConformance_CollidingRequests runs the conformance suite with every
// login request's hash the same, so every request but the first in a log is
// indexed as a collision.
func TestConformance_CollidingRequests(t *testing.T) {
	requestHash = func(maphash.Seed, string) uint64 { return 1 }
	t.Cleanup(func() { requestHash = maphash.String })
	storetest.Run(t, func(t *testing.T) storetest.Store { return New() })
}
