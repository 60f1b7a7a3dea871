package pgxstore_test

import (
	"testing"

	"github.com/allot-dev/allot/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newTestDB(t).store(t, 8, nil)
	})
}
