package e2e

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/migsafe/migsafe/internal/testdb"
)

// One PostgreSQL for the package, started on first use and stopped by
// TestMain; each test gets a database of its own.

// mainTB lets testdb start a server outside a test: its cleanups run at
// the end of TestMain, and a skip or failure is reported by every test
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

var (
	shared  = &mainTB{}
	pgOnce  sync.Once
	pgSrv   *testdb.Server
	pgAdmin *sql.DB
	pgStop  *tbStop
	dbCount atomic.Int64
)

func stopShared() {
	for i := len(shared.cleanups) - 1; i >= 0; i-- {
		shared.cleanups[i]()
	}
}

// dbPassword is in every URL the tests give migsafe: it must never be
// printed or journaled (the server trusts loopback, so it is not checked).
const dbPassword = "s3cret-Pw-77"

// newDatabase creates a database on the shared PostgreSQL and returns a
// handle on it and the URL (with dbPassword) for migsafe.
func newDatabase(t *testing.T) (*sql.DB, string) {
	t.Helper()
	pgOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				st, ok := r.(tbStop)
				if !ok {
					st = tbStop{msg: fmt.Sprint(r)}
				}
				pgStop = &st
			}
		}()
		pgSrv = testdb.PostgreSQL(shared)
		db, err := sql.Open("pgx", pgSrv.DSN)
		if err != nil {
			panic(tbStop{msg: err.Error()})
		}
		pgAdmin = db
		shared.Cleanup(func() { db.Close() })
	})
	if pgStop != nil {
		if pgStop.skip {
			t.Skip(pgStop.msg)
		}
		t.Fatal(pgStop.msg)
	}
	name := fmt.Sprintf("t%d_%s", dbCount.Add(1), strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())))
	if len(name) > 60 {
		name = name[:60]
	}
	if _, err := pgAdmin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	url := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", dbPassword, pgSrv.Port, name)
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pgSrv.Port, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}
