package pgxstore_test

import (
	"testing"

	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newTestDB(t).store(t, 8, nil)
	})
}

// TestConformance_GroupCommit runs the suite on a store with group commit,
// where every Ledger.Post joins a group, alone or with the posts that run
// beside it.
func TestConformance_GroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newTestDB(t).store(t, 8, &pgxstore.Options{GroupCommit: true})
	})
}
