package passes_test

import (
	"os"
	"testing"

	"github.com/allot-dev/allot/internal/testdepth"
)

// TestMain runs the package's properties at the depth ALLOT_TEST_DEEP asks
// for.
func TestMain(m *testing.M) { os.Exit(testdepth.Run(m)) }
