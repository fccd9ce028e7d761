package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/migsafe/migsafe/internal/testdb"
)

// One PostgreSQL and one MariaDB per test package, started on first use
// and stopped after every test ran; each test gets its own database.

// mainTB lets testdb run outside a test: cleanups run at the end of
// TestMain; a skip or a failure is remembered and reported by each test
// that asks for the server.
type mainTB struct {
	testing.TB
	cleanups []func()
}

type tbStop struct {
	skip bool
	msg  string
}

func (m *mainTB) Helper()                   {}
func (m *mainTB) Name() string              { return "TestMain" }
func (m *mainTB) Cleanup(f func())          { m.cleanups = append(m.cleanups, f) }
func (m *mainTB) Logf(string, ...any)       {}
func (m *mainTB) Errorf(f string, a ...any) { panic(tbStop{msg: fmt.Sprintf(f, a...)}) }
func (m *mainTB) Fatalf(f string, a ...any) { panic(tbStop{msg: fmt.Sprintf(f, a...)}) }
func (m *mainTB) Fatal(a ...any)            { panic(tbStop{msg: fmt.Sprint(a...)}) }
func (m *mainTB) Skip(a ...any)             { panic(tbStop{skip: true, msg: fmt.Sprint(a...)}) }
func (m *mainTB) Skipf(f string, a ...any)  { panic(tbStop{skip: true, msg: fmt.Sprintf(f, a...)}) }

var shared = &mainTB{}

type lazyServer struct {
	once  sync.Once
	srv   *testdb.Server
	admin *sql.DB
	stop  *tbStop
}

var pgServer, myServer lazyServer

func (l *lazyServer) get(t *testing.T, start func(testing.TB) *testdb.Server) *testdb.Server {
	t.Helper()
	l.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				st, ok := r.(tbStop)
				if !ok {
					st = tbStop{msg: fmt.Sprint(r)}
				}
				l.stop = &st
			}
		}()
		l.srv = start(shared)
		db, err := sql.Open(driverOf(l.srv), l.srv.DSN)
		if err != nil {
			panic(tbStop{msg: err.Error()})
		}
		db.SetMaxOpenConns(4)
		l.admin = db
		shared.Cleanup(func() { db.Close() })
	})
	if l.stop != nil {
		if l.stop.skip {
			t.Skip(l.stop.msg)
		}
		t.Fatal(l.stop.msg)
	}
	return l.srv
}

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
	for i := len(shared.cleanups) - 1; i >= 0; i-- {
		shared.cleanups[i]()
	}
}

var dbCounter atomic.Int64

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
	var l *lazyServer
	var srv *testdb.Server
	if kind == Postgres {
		l = &pgServer
		srv = l.get(t, testdb.PostgreSQL)
	} else {
		l = &myServer
		srv = l.get(t, testdb.MariaDB)
	}
	name := fmt.Sprintf("t%d_%s", dbCounter.Add(1), strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())))
	if len(name) > 60 {
		name = name[:60]
	}
	if _, err := l.admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	td := &testDB{kind: kind, name: name, srv: srv, admin: l.admin}
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
			_, _ = l.admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		} else {
			_, _ = l.admin.Exec("DROP DATABASE IF EXISTS " + name)
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
