package backend_test

import (
	"testing"

	"github.com/migsafe/migsafe/internal/testservice"
)

// TestMain removes the binaries the tests built; the test wrapper exits
// with m.Run's code.
func TestMain(m *testing.M) {
	m.Run()
	testservice.RemoveBuilds()
}
