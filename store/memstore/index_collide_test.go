package memstore

import (
	"hash/maphash"
	"testing"

	"github.com/allot-dev/allot/store/storetest"
)

// TestConformance_CollidingIDs runs the conformance suite with every ID's
// hash the same, so that every index finds its records by comparing IDs
// along one probe run: transfers, accounts, holds, members and login
// requests.
func TestConformance_CollidingIDs(t *testing.T) {
	indexHash = func(maphash.Seed, string) uint64 { return 1 }
	t.Cleanup(func() { indexHash = maphash.String })
	storetest.Run(t, func(t *testing.T) storetest.Store { return New() })
}
