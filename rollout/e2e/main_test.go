package e2e

import (
	"testing"

	"github.com/migsafe/migsafe/internal/testservice"
)

// TestMain removes the binaries the tests built and stops the shared
// PostgreSQL; the test wrapper exits with m.Run's code.
func TestMain(m *testing.M) {
	m.Run()
	stopShared()
	testservice.RemoveBuilds()
}
