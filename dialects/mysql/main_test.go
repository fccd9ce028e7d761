package mysql

import (
	"os"
	"testing"

	"github.com/migsafe/migsafe/internal/testdb"
)

// mariadb is the package's MariaDB server, shared by the tests that check
// the Online DDL table on a real server (a database each).
var mariadb = testdb.NewShared(testdb.MariaDB, "mysql")

func TestMain(m *testing.M) {
	code := m.Run()
	testdb.StopShared()
	os.Exit(code)
}
