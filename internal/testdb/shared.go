package testdb

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Shared is a server for a whole test package: started by the first test
// that asks for it and stopped by StopShared at the end of TestMain, with
// a fresh database per test (NewDatabase). A skip or failure while
// starting it is reported by every test that asks.
//
//	var pg = testdb.NewShared(testdb.PostgreSQL, "pgx")
//	func TestMain(m *testing.M) { code := m.Run(); testdb.StopShared(); os.Exit(code) }
type Shared struct {
	start  func(testing.TB) *Server
	driver string // database/sql driver for the admin handle
	once   sync.Once
	srv    *Server
	admin  *sql.DB
	stop   *tbStop
}

// NewShared is a shared server that start starts; driver is the
// database/sql driver name its admin handle uses ("pgx" or "mysql").
func NewShared(start func(testing.TB) *Server, driver string) *Shared {
	return &Shared{start: start, driver: driver}
}

// Server starts the server on first use and returns it with an admin
// handle (at most 4 connections) on its default database.
func (s *Shared) Server(t *testing.T) (*Server, *sql.DB) {
	t.Helper()
	s.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				st, ok := r.(tbStop)
				if !ok {
					st = tbStop{msg: fmt.Sprint(r)}
				}
				s.stop = &st
			}
		}()
		s.srv = s.start(packageTB)
		db, err := sql.Open(s.driver, s.srv.DSN)
		if err != nil {
			panic(tbStop{msg: err.Error()})
		}
		db.SetMaxOpenConns(4)
		s.admin = db
		packageTB.Cleanup(func() { db.Close() })
	})
	if s.stop != nil {
		if s.stop.skip {
			t.Skip(s.stop.msg)
		}
		t.Fatal(s.stop.msg)
	}
	return s.srv, s.admin
}

var dbCount atomic.Int64

// NewDatabase creates a database named after the test on the shared
// server and returns the server and the database's name.
func (s *Shared) NewDatabase(t *testing.T) (*Server, string) {
	t.Helper()
	srv, admin := s.Server(t)
	name := fmt.Sprintf("t%d_%s", dbCount.Add(1), strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())))
	if len(name) > 60 {
		name = name[:60]
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return srv, name
}

// StopShared stops every shared server of the package and closes their
// handles, last started first. TestMain calls it after m.Run.
func StopShared() {
	for i := len(packageTB.cleanups) - 1; i >= 0; i-- {
		packageTB.cleanups[i]()
	}
	packageTB.cleanups = nil
}

// packageTB lets the servers start outside a test: its cleanups run in
// StopShared; a skip or failure panics with a tbStop that Server turns
// into the asking test's skip or failure.
var packageTB = &mainTB{}

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
