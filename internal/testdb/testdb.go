// Package testdb starts throwaway database servers for tests: a PostgreSQL
// and a MariaDB, each in a temporary directory, listening on 127.0.0.1 on a
// free port, stopped and removed when the test ends (t.Cleanup).
//
//	func TestSomething(t *testing.T) {
//		srv := testdb.MariaDB(t)         // or testdb.PostgreSQL(t)
//		db, err := sql.Open(srv.Driver, srv.DSN)
//		…
//	}
//
// A server takes a few seconds to start: start one per test function and use
// subtests (or several databases) inside it rather than one per subtest.
//
// When the server binaries are not installed, the test is skipped with a
// message that says which package to install (scripts/test installs them).
// When they are installed but the server does not start, the test fails
// with the server's log: a broken database must never look like a pass.
//
// Data directories live in /dev/shm when the machine has it (set
// MIGSAFE_TESTDB_DISK=1 to use the temporary directory instead).
//
// Both servers are started the way a root CI machine needs: PostgreSQL
// refuses to run as root, so when the test runs as root initdb and pg_ctl
// run as the postgres user (runuser); MariaDB is started with --user=mysql.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is a running throwaway server.
type Server struct {
	Kind     string // "postgres" or "mariadb"
	Version  string // the server's version string, e.g. "15.8" or "10.11.6-MariaDB-0+deb12u1"
	Host     string // always 127.0.0.1
	Port     int
	User     string // a superuser without password
	Database string // an empty database that exists
	// Socket is the Unix socket (MariaDB) or the socket directory
	// (PostgreSQL, for psql -h).
	Socket string
	// Driver is the database/sql driver name a DSN is meant for: "mysql"
	// (github.com/go-sql-driver/mysql, registered by this package) or
	// "postgres" (whatever PostgreSQL driver the test imports, pgx's
	// "pgx" accepts the same URL).
	Driver string
	// DSN connects to Database over TCP: for MariaDB a go-sql-driver/mysql
	// DSN ("root@tcp(127.0.0.1:PORT)/test?multiStatements=true"), for
	// PostgreSQL a URL ("postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable").
	DSN string
	// Dir is the temporary directory holding the data directory and logs.
	Dir string
}

// startTimeout bounds how long a server may take to become ready.
const startTimeout = 90 * time.Second

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tempDir makes a directory every user can traverse (the servers run as
// other users than root) and removes it at the end of the test.
func tempDir(t testing.TB, prefix string) string {
	t.Helper()
	// Memory-backed when the machine has /dev/shm: the servers write
	// throwaway data, and DDL-heavy tests run several times faster.
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() && os.Getenv("MIGSAFE_TESTDB_DISK") == "" {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// chownTo gives path to a system user (when running as root).
func chownTo(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("user %s: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func isRoot() bool { return os.Geteuid() == 0 }

// run runs a command and returns its combined output in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// ---------------------------------------------------------------- PostgreSQL

// pgBinDir finds the directory of initdb and pg_ctl: $PATH first, then the
// Debian layout /usr/lib/postgresql/<major>/bin (newest first).
func pgBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				return filepath.Dir(real)
			}
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

// Required reports whether the tools the tests use must be present:
// scripts/test sets MIGSAFE_REQUIRE_TOOLS=1 after installing them, so that
// a failed installation fails the suite instead of skipping the tests that
// prove migsafe against real servers. A plain go test skips them.
func Required() bool { return os.Getenv("MIGSAFE_REQUIRE_TOOLS") == "1" }

// MissingTool skips the test, or fails it when the tools are Required:
// every test helper that starts a tool reports its absence this way.
func MissingTool(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatal(msg + " (MIGSAFE_REQUIRE_TOOLS=1)")
	}
	t.Skip(msg)
}

// PostgreSQL starts a throwaway PostgreSQL server (Debian package
// postgresql; version 15 on the project's machines) and returns it. The
// superuser is "postgres" without a password (trust authentication on
// loopback only); the database "postgres" exists.
func PostgreSQL(t testing.TB) *Server {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		MissingTool(t, "testdb: PostgreSQL is not installed (no initdb in $PATH or /usr/lib/postgresql/*/bin): install the Debian package postgresql, or run scripts/test")
	}
	dir := tempDir(t, "migsafe-pg-")
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "sock")
	logf := filepath.Join(dir, "postgres.log")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatalf("testdb: %v", err)
		}
	}
	// the log file must be writable by the server's user
	if err := os.WriteFile(logf, nil, 0o644); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	as := func(name string, args ...string) (string, []string) { return name, args }
	if isRoot() {
		for _, p := range []string{data, sock, logf} {
			if err := chownTo(p, "postgres"); err != nil {
				t.Fatalf("testdb: PostgreSQL must run as the postgres user when the tests run as root: %v", err)
			}
		}
		as = func(name string, args ...string) (string, []string) {
			return "runuser", append([]string{"-u", "postgres", "--", name}, args...)
		}
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name, args := as(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if err := run(name, args...); err != nil {
		t.Fatalf("testdb: initdb failed: %v", err)
	}
	opts := fmt.Sprintf("-k %s -p %d -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", sock, port)
	name, args = as(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", logf, "-o", opts, "-w", "-t", strconv.Itoa(int(startTimeout/time.Second)), "start")
	if err := run(name, args...); err != nil {
		t.Fatalf("testdb: PostgreSQL did not start: %v\nserver log:\n%s", err, readLog(logf))
	}
	t.Cleanup(func() {
		name, args := as(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		if err := run(name, args...); err != nil {
			t.Errorf("testdb: stopping PostgreSQL: %v", err)
		}
	})
	ver := ""
	if out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output(); err == nil {
		// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
		f := strings.Fields(string(out))
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "(PostgreSQL)" {
				ver = f[i+1]
				break
			}
		}
	}
	return &Server{
		Kind: "postgres", Version: ver, Host: "127.0.0.1", Port: port, User: "postgres", Database: "postgres",
		Socket: sock, Driver: "postgres", Dir: dir,
		DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
	}
}

// ------------------------------------------------------------------- MariaDB

func lookMariaDB() (installDB, server string) {
	installDB, _ = exec.LookPath("mariadb-install-db")
	for _, c := range []string{"mariadbd", "/usr/sbin/mariadbd"} {
		if p, err := exec.LookPath(c); err == nil {
			return installDB, p
		}
	}
	return installDB, ""
}

// MariaDB starts a throwaway MariaDB server (Debian package mariadb-server;
// 10.11 on the project's machines) and returns it. The user is "root"
// without a password, allowed from 127.0.0.1; the database "test" exists
// and is empty. Its DSN (go-sql-driver/mysql) enables multiStatements.
func MariaDB(t testing.TB) *Server {
	t.Helper()
	installDB, server := lookMariaDB()
	if installDB == "" || server == "" {
		MissingTool(t, "testdb: MariaDB is not installed (no mariadb-install-db or mariadbd): install the Debian package mariadb-server, or run scripts/test")
	}
	dir := tempDir(t, "migsafe-mariadb-")
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "mysqld.sock")
	logf := filepath.Join(dir, "mariadb.log")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	userArg := []string{}
	if isRoot() {
		userArg = []string{"--user=mysql"}
		if err := chownTo(data, "mysql"); err != nil {
			t.Fatalf("testdb: MariaDB must run as the mysql user when the tests run as root: %v", err)
		}
		if err := os.Chmod(dir, 0o777); err != nil { // socket, pid and log files
			t.Fatalf("testdb: %v", err)
		}
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve"}, userArg...)
	if err := run(installDB, args...); err != nil {
		t.Fatalf("testdb: mariadb-install-db failed: %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	cmd := exec.Command(server, append([]string{"--no-defaults", "--datadir=" + data,
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port), "--socket=" + sock,
		"--pid-file=" + filepath.Join(dir, "mariadb.pid"), "--log-error=" + logf,
		"--skip-name-resolve", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
		"--innodb-flush-log-at-trx-commit=0", "--skip-log-bin", "--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci"}, userArg...)...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testdb: starting mariadbd: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	// root@localhost over the socket can create the TCP user.
	sockCfg := mysql.NewConfig()
	sockCfg.User, sockCfg.Net, sockCfg.Addr = "root", "unix", sock
	var db *sql.DB
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("testdb: mariadbd exited while starting (%v)\nserver log:\n%s", waitErr, readLog(logf))
		default:
		}
		c, err := mysql.NewConnector(sockCfg)
		if err == nil {
			db = sql.OpenDB(c)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = db.PingContext(ctx)
			cancel()
			if err == nil {
				break
			}
			db.Close()
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("testdb: MariaDB not ready after %s: %v\nserver log:\n%s", startTimeout, err, readLog(logf))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
	})
	defer db.Close()
	for _, q := range []string{
		"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'",
		"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
		"CREATE DATABASE IF NOT EXISTS test",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("testdb: preparing MariaDB: %s: %v", q, err)
		}
	}
	var ver string
	if err := db.QueryRow("SELECT VERSION()").Scan(&ver); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", "127.0.0.1:"+strconv.Itoa(port), "test"
	cfg.MultiStatements = true
	return &Server{
		Kind: "mariadb", Version: ver, Host: "127.0.0.1", Port: port, User: "root", Database: "test",
		Socket: sock, Driver: "mysql", DSN: cfg.FormatDSN(), Dir: dir,
	}
}

// Open opens a database/sql handle on the server's DSN and closes it at
// the end of the test. For PostgreSQL the test must import a driver
// registered as Server.Driver; MariaDB's driver is always available.
func (s *Server) Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open(s.Driver, s.DSN)
	if err != nil {
		t.Fatalf("testdb: opening %s: %v", s.Kind, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("testdb: connecting to %s at %s: %v", s.Kind, s.DSN, err)
	}
	return db
}
