package e2e

import (
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/migsafe/migsafe/internal/testdb"
)

// One PostgreSQL for the package, started on first use and stopped by
// TestMain; each test gets a database of its own.
var pg = testdb.NewShared(testdb.PostgreSQL, "pgx")

func stopShared() { testdb.StopShared() }

// dbPassword is in every URL the tests give migsafe: it must never be
// printed or journaled (the server trusts loopback, so it is not checked).
const dbPassword = "s3cret-Pw-77"

// newDatabase creates a database on the shared PostgreSQL and returns a
// handle on it and the URL (with dbPassword) for migsafe.
func newDatabase(t *testing.T) (*sql.DB, string) {
	t.Helper()
	pgSrv, name := pg.NewDatabase(t)
	url := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", dbPassword, pgSrv.Port, name)
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pgSrv.Port, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}
