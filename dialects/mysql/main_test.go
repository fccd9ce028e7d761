package mysql

import (
	"testing"

	"github.com/migsafe/migsafe/internal/testdb"
)

// mariadb is the package's MariaDB server, shared by the tests that check
// the Online DDL table on a real server (a database each).
var mariadb = testdb.NewShared(testdb.MariaDB, "mysql")

func TestMain(m *testing.M) {
	m.Run()
	testdb.StopShared()
}
