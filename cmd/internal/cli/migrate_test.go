package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/migsafe/migsafe/cmd/internal/cli"
	"github.com/migsafe/migsafe/internal/testdb"
)

type runOut struct {
	code           int
	stdout, stderr string
}

func migrateCLI(t *testing.T, dir string, env map[string]string, args ...string) runOut {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), append([]string{"migsafe"}, args...), cli.Env{
		Stdout: &out, Stderr: &errb, Dir: dir,
		Getenv: func(k string) string { return env[k] },
	})
	return runOut{code, out.String(), errb.String()}
}

func pgDatabase(t *testing.T, srv *testdb.Server, admin *sql.DB, name string) string {
	t.Helper()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://postgres:s3cr%%40t@127.0.0.1:%d/%s?sslmode=disable", srv.Port, name)
}

// pgMigrations is a PostgreSQL server, a connection to it and a working
// directory with the files in migrations/.
func pgMigrations(t *testing.T, files map[string]string) (*testdb.Server, *sql.DB, string) {
	t.Helper()
	srv := testdb.PostgreSQL(t)
	admin, err := sql.Open("pgx", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	dir := t.TempDir()
	mig := filepath.Join(dir, "migrations")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(mig, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return srv, admin, dir
}

// The migrate commands against a real PostgreSQL: the lint gate, --phase
// expand, status, history, down and the exit codes.
func TestMigrateCommand(t *testing.T) {
	srv, admin, dir := pgMigrations(t, map[string]string{
		"1_users.up.sql":   "CREATE TABLE users (id int PRIMARY KEY, email text);",
		"1_users.down.sql": "DROP TABLE users;",
		"2_idx.up.sql":     "CREATE INDEX users_email ON users (email);",
		"2_idx.down.sql":   "DROP INDEX users_email;",
		"3_drop.up.sql":    "ALTER TABLE users DROP COLUMN email;",
		"3_drop.down.sql":  "ALTER TABLE users ADD COLUMN email text;",
	})
	env := map[string]string{"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "cli1")}
	check := func(o runOut, code int, wants ...string) {
		t.Helper()
		if o.code != code {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", o.code, code, o.stdout, o.stderr)
		}
		for _, w := range wants {
			if !strings.Contains(o.stdout+o.stderr, w) {
				t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, o.stdout, o.stderr)
			}
		}
		if strings.Contains(o.stdout+o.stderr, "s3cr") {
			t.Fatalf("the password is shown:\n%s%s", o.stdout, o.stderr)
		}
	}
	// the gate refuses: 2 builds an index without CONCURRENTLY
	check(migrateCLI(t, dir, env, "migrate", "up"), 1, "lint gate refuses", "2_idx.up.sql:1:1: error non-concurrent-index")
	check(migrateCLI(t, dir, env, "migrate", "status"), 0, "version:  none", "pending:  3")
	check(migrateCLI(t, dir, env, "migrate", "up", "--to", "1"), 0, "up   1_users (", "version none → 1 (1 migration(s) run)")
	// expand only: 2 is applied, 3 (a drop) is not
	check(migrateCLI(t, dir, env, "migrate", "up", "--phase", "expand", "--fail-on", "never"), 0, "up   2_idx (", ") · predicted locks: SHARE on users (blocks writes; builds an index over the whole table)\n", "stopped: --phase expand stops before 3_drop, a contract step", "3_drop.up.sql:1 drops a column")
	check(migrateCLI(t, dir, env, "migrate", "status"), 0, "version:  2", "pending:  1", "  3_drop")
	check(migrateCLI(t, dir, env, "migrate", "history"), 0, "up       1_users  applied", "up       2_idx  applied")
	check(migrateCLI(t, dir, env, "migrate", "down"), 2, `"to" not set`)
	o := migrateCLI(t, dir, env, "migrate", "down", "--to", "1", "--format", "json")
	check(o, 0)
	var doc struct {
		Database string
		Result   struct{ From, To int64 }
	}
	if err := json.Unmarshal([]byte(o.stdout), &doc); err != nil || doc.Result.From != 2 || doc.Result.To != 1 || !strings.Contains(doc.Database, "xxxxx") {
		t.Fatalf("json: %v %+v\n%s", err, doc, o.stdout)
	}
	check(migrateCLI(t, dir, env, "migrate", "repair"), 0, "clean at version 1: nothing to repair")
	check(migrateCLI(t, dir, map[string]string{}, "migrate", "status"), 2, "no database: give --database URL or set MIGSAFE_DATABASE_URL")

	// verify-rollback refuses the database above and finds the down of
	// 3_drop, which brings the column back without its index
	check(migrateCLI(t, dir, nil, "verify-rollback", "--database", env["MIGSAFE_DATABASE_URL"]), 1, "refusing to run downs: the database is not empty")
	scratch := pgDatabase(t, srv, admin, "cli_scratch")
	check(migrateCLI(t, dir, nil, "verify-rollback", "--database", scratch, "--format", "markdown", "--output", "verified.json"), 1,
		"| `1_users` | ✅ reversible |", "| `2_idx` | ✅ reversible |", "| `3_drop` | ❌ down-does-not-restore | after the down: `- index public.users_email")
	check(migrateCLI(t, dir, nil, "verify-rollback", "--database", scratch, "--with-data"), 1,
		"down-does-not-restore    3_drop", "    data after the down: column users.email: 3 of 3 value(s) not restored (e.g. seed1)")
	b, err := os.ReadFile(filepath.Join(dir, "verified.json"))
	if err != nil || !strings.Contains(string(b), `"result": "down-does-not-restore"`) {
		t.Fatalf("verified.json: %v\n%s", err, b)
	}

	// a database error is user input: a migration can make the server
	// answer with a workflow command or terminal escapes, and neither may
	// reach the output raw
	hostile := t.TempDir()
	if err := os.Mkdir(filepath.Join(hostile, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	raise := "DO $$ BEGIN RAISE EXCEPTION E'boom\\n::error file=README.md,line=1::injected\\x1b]0;title\\x07'; END $$;"
	for name, body := range map[string]string{"1_raise.up.sql": raise, "1_raise.down.sql": "SELECT 1;"} {
		if err := os.WriteFile(filepath.Join(hostile, "migrations", name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o = migrateCLI(t, hostile, map[string]string{"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "cli_hostile")}, "migrate", "up", "--fail-on", "never")
	if o.code != 1 || !strings.Contains(o.stdout+o.stderr, "injected") {
		t.Fatalf("exit %d, want 1 with the server's message\nstdout:\n%s\nstderr:\n%s", o.code, o.stdout, o.stderr)
	}
	// the history shows the recorded error on stdout
	h := migrateCLI(t, hostile, map[string]string{"MIGSAFE_DATABASE_URL": strings.Replace(env["MIGSAFE_DATABASE_URL"], "/cli1?", "/cli_hostile?", 1)}, "migrate", "history")
	if !strings.Contains(h.stdout, "injected") {
		t.Fatalf("history lacks the error:\n%s\n%s", h.stdout, h.stderr)
	}
	for _, out := range []string{o.stdout, o.stderr, h.stdout, h.stderr} {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") || strings.ContainsAny(line, "\x1b\x07\r") {
				t.Errorf("raw server text in the output: %q", line)
			}
		}
	}
}

// On a terminal, with more than a few migrations pending, a live line
// shows migration N/M, the run's time and what a long one is doing;
// --format jsonl streams the same events, then the result.
func TestMigrateProgress(t *testing.T) {
	srv, admin, dir := pgMigrations(t, map[string]string{
		"1_a.up.sql":    "CREATE TABLE a (id int);",
		"2_b.up.sql":    "CREATE TABLE b (id int);",
		"3_slow.up.sql": "SELECT pg_sleep(1.6);",
		"4_d.up.sql":    "SET lock_timeout = '5s';\nALTER TABLE a ADD COLUMN note text;",
	})
	env := map[string]string{"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "progress1")}
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), []string{"migsafe", "migrate", "up", "--fail-on", "never"}, cli.Env{
		Stdout: &out, Stderr: &errb, Dir: dir, Getenv: func(k string) string { return env[k] },
		IsTerminal: func(w io.Writer) bool { return w == &out },
	})
	o := out.String()
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, o, errb.String())
	}
	for _, want := range []string{"\r\x1b[K[1/4 0s] up 1_a", "\r\x1b[K[3/4 ", "] up 3_slow 1s: ", "\r\x1b[Kup   3_slow (1.6",
		"up   4_d (", ") · predicted locks: ACCESS EXCLUSIVE on a (blocks reads and writes)\n"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%q", want, o)
		}
	}
	// a table the migration creates is nobody else's: no lock to predict
	if !strings.Contains(o, "up   1_a (") || strings.Contains(o, "predicted locks: ACCESS EXCLUSIVE on b") || !strings.HasSuffix(strings.Split(o, "postgres://")[0], ")\n") {
		t.Errorf("a created table's lock is listed, or the live line is not cleared before the summary:\n%q", o)
	}

	env["MIGSAFE_DATABASE_URL"] = pgDatabase(t, srv, admin, "progress2")
	r := migrateCLI(t, dir, env, "migrate", "up", "--fail-on", "never", "--format", "jsonl", "--progress", "500ms")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var progress, doneD bool
	for _, l := range lines[:len(lines)-1] {
		var ev struct{ Event map[string]any }
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		e := ev.Event
		if e["kind"] == "progress" && e["version"] == 3.0 && e["index"] == 3.0 && e["total"] == 4.0 && e["elapsed_ns"].(float64) > 5e8 {
			progress = true
		}
		if e["kind"] == "done" && e["version"] == 4.0 {
			ls, _ := e["locks"].([]any)
			doneD = len(ls) == 1 && ls[0].(map[string]any)["lock"] == "ACCESS EXCLUSIVE" && ls[0].(map[string]any)["line"] == 2.0
		}
	}
	var last struct{ Result struct{ To int64 } }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Result.To != 4 || !progress || !doneD {
		t.Fatalf("jsonl: progress %v, done with locks %v, result %+v %v:\n%s", progress, doneD, last, err, r.stdout)
	}
}

// --phase contract on a real PostgreSQL: the drop waits until the
// deprecation has been applied to this database for the minimum age.
func TestMigrateContractPhase(t *testing.T) {
	srv, admin, dir := pgMigrations(t, map[string]string{
		"1_orders.up.sql":    "CREATE TABLE orders (id int PRIMARY KEY, legacy text);",
		"2_deprecate.up.sql": "-- migsafe:deprecate orders.legacy\nCOMMENT ON COLUMN orders.legacy IS 'deprecated';",
		"3_drop.up.sql":      "SET lock_timeout = '5s';\nALTER TABLE orders DROP COLUMN legacy;",
	})
	url := pgDatabase(t, srv, admin, "contract1")
	env := map[string]string{"MIGSAFE_DATABASE_URL": url}
	run := func(code int, wants ...string) {
		t.Helper()
		o := migrateCLI(t, dir, env, append([]string{"migrate", "up"}, "--phase", "contract")...)
		if o.code != code {
			t.Fatalf("exit %d, want %d\n%s%s", o.code, code, o.stdout, o.stderr)
		}
		for _, w := range wants {
			if !strings.Contains(o.stdout+o.stderr, w) {
				t.Fatalf("output lacks %q:\n%s%s", w, o.stdout, o.stderr)
			}
		}
	}
	// the deprecation is pending: refused, nothing applied
	run(1, "--phase contract refuses to drop what has not been deprecated for the minimum age (7 days) yet", "deprecated by 2_deprecate, which this database has not applied yet")
	if o := migrateCLI(t, dir, env, "migrate", "up", "--phase", "expand"); o.code != 0 || !strings.Contains(o.stdout, "stops before 3_drop") {
		t.Fatalf("expand: %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	// applied just now
	run(1, "migrations/3_drop.up.sql:2: drops orders.legacy, deprecated by 2_deprecate (applied to this database ", "): allowed from ")
	db, err := sql.Open("pgx", strings.Replace(url, "s3cr%40t", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE migsafe_history SET started_at = started_at - interval '8 days' WHERE version = 2"); err != nil {
		t.Fatal(err)
	}
	run(0, "up   3_drop (", "version 2 → 3")
}

// A goose directory goes through the lint gate and golang-migrate like a
// golang-migrate one.
func TestMigrateGoose(t *testing.T) {
	srv, admin, dir := pgMigrations(t, map[string]string{
		"20240101000000_users.sql": "-- +goose Up\nCREATE TABLE users (id int PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n",
		"20240102000000_email.sql": "-- +goose Up\nSET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN email text;\n-- +goose Down\nSET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN email;\n",
		"20240103000000_index.sql": "-- +goose Up\nCREATE INDEX users_email ON users (email);\n-- +goose Down\nDROP INDEX users_email;\n",
	})
	env := map[string]string{"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "goose1")}
	o := migrateCLI(t, dir, env, "migrate", "up")
	if o.code != 1 || !strings.Contains(o.stderr, "20240103000000_index.sql:2:1: error non-concurrent-index") {
		t.Fatalf("the gate: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	o = migrateCLI(t, dir, env, "migrate", "up", "--to", "20240102000000")
	if o.code != 0 || !strings.Contains(o.stdout, "up   20240102000000_email (") || !strings.Contains(o.stdout, "predicted locks: ACCESS EXCLUSIVE on users (blocks reads and writes)") {
		t.Fatalf("up: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	o = migrateCLI(t, dir, env, "migrate", "down", "--to", "20240101000000")
	if o.code != 0 || !strings.Contains(o.stdout, "version 20240102000000 → 20240101000000") {
		t.Fatalf("down: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// Flyway (dotted versions, undo files) and plain directories go through
// the lint gate and golang-migrate, numbered by position.
func TestMigrateFlywayAndPlain(t *testing.T) {
	srv, admin, dir := pgMigrations(t, map[string]string{
		"V1__users.sql":   "CREATE TABLE users (id int PRIMARY KEY);\n",
		"U1__users.sql":   "DROP TABLE users;\n",
		"V1.1__email.sql": "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN email text;\n",
		"U1.1__email.sql": "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN email;\n",
		"V2__index.sql":   "CREATE INDEX users_email ON users (email);\n",
	})
	env := map[string]string{"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "flyway1")}
	run := func(code int, want []string, args ...string) {
		t.Helper()
		o := migrateCLI(t, dir, env, append([]string{"migrate"}, args...)...)
		for _, w := range want {
			if o.code != code || !strings.Contains(o.stdout+o.stderr, w) {
				t.Fatalf("%v: exit %d, want %d and %q\n%s%s", args, o.code, code, w, o.stdout, o.stderr)
			}
		}
	}
	run(1, []string{"lint gate refuses", "V2__index.sql:1:1: error non-concurrent-index"}, "up")
	run(0, []string{"up   1_V1__users (", "up   2_V1.1__email ("}, "up", "--to", "2")
	run(0, []string{"version:  2", "pending:  1", "3_V2__index"}, "status")
	run(0, []string{"up       2_V1.1__email  applied"}, "history")
	run(0, []string{"down 2_V1.1__email (", "version 2 → 1"}, "down", "--to", "1")

	_, _, plain := pgMigrations(t, map[string]string{
		"001_users.sql": "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
		"002_index.sql": "CREATE INDEX users_email ON users (email);\n",
	})
	o := migrateCLI(t, plain, map[string]string{"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "plain1")}, "migrate", "up")
	if o.code != 1 || !strings.Contains(o.stderr, "002_index.sql:1:1: error non-concurrent-index") {
		t.Fatalf("plain, the gate: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}
