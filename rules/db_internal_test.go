package rules

import (
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/migsafe/migsafe/internal/testdb"
)

// pg is one PostgreSQL 15 server for the package's tests that settle a
// rule's claim on a server (each uses tables of its own).
var pg = testdb.NewShared(testdb.PostgreSQL, "pgx")

func TestMain(m *testing.M) {
	m.Run()
	testdb.StopShared()
}
