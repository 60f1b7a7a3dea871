package memstore_test

import (
	"testing"

	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memstore.New() })
}
