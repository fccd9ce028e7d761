package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/migsafe/migsafe/internal/testdb"
)

// One PostgreSQL and one MariaDB per test package, started on first use
// and stopped after every test ran; each test gets its own database.
var (
	pgServer = testdb.NewShared(testdb.PostgreSQL, "pgx")
	myServer = testdb.NewShared(testdb.MariaDB, "mysql")
)

func driverOf(s *testdb.Server) string {
	if s.Kind == "postgres" {
		return "pgx"
	}
	return "mysql"
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain()) //nolint:forbidigo // the helper process's exit status is what the signal tests check
	}
	m.Run()
	testdb.StopShared()
}

// testDB is a fresh database on a shared server.
type testDB struct {
	kind  string
	url   string // for the runner
	name  string
	db    *sql.DB // a direct handle on it
	srv   *testdb.Server
	admin *sql.DB
}

func newDB(t *testing.T, kind string) *testDB {
	t.Helper()
	shared := pgServer
	if kind != Postgres {
		shared = myServer
	}
	srv, name := shared.NewDatabase(t)
	_, admin := shared.Server(t)
	td := &testDB{kind: kind, name: name, srv: srv, admin: admin}
	var dsn string
	if kind == Postgres {
		td.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", srv.Port, name)
		dsn = td.url
	} else {
		td.url = fmt.Sprintf("mysql://root@127.0.0.1:%d/%s", srv.Port, name)
		dsn = fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s?multiStatements=true&parseTime=true", srv.Port, name)
	}
	db, err := sql.Open(driverOf(srv), dsn)
	if err != nil {
		t.Fatal(err)
	}
	td.db = db
	t.Cleanup(func() {
		db.Close()
		if kind == Postgres {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		} else {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
		}
	})
	return td
}

func (d *testDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := d.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (d *testDB) tableExists(t *testing.T, name string) bool {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM information_schema.tables WHERE table_name = $1 AND table_schema = current_schema()"
	if d.kind == MySQL {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = DATABASE()"
	}
	if err := d.db.QueryRow(q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// writeDir writes migration files into a new directory.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func open(t *testing.T, url, dir string, mod ...func(*Options)) *Runner {
	t.Helper()
	src, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{DatabaseURL: url, Source: src, Version: "test", Backoff: 50 * 1e6}
	for _, f := range mod {
		f(&opt)
	}
	r, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func engines(t *testing.T, f func(t *testing.T, kind string)) {
	for _, k := range []string{Postgres, MySQL} {
		t.Run(k, func(t *testing.T) { f(t, k) })
	}
}
