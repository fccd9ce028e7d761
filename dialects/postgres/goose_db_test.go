package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/migsafe/migsafe/internal/testdb"
)

// TestCommitInToolTransaction runs a section with a COMMIT in it as the
// migration tools run it on PostgreSQL 15, on one server:
//
//   - goose: one transaction (database/sql), the section's statements sent
//     one at a time on it, then goose's version row and Commit. A COMMIT in
//     the section ends goose's transaction, so CREATE INDEX CONCURRENTLY
//     after it runs outside any and succeeds, and the migration with it;
//     without that COMMIT the server refuses it. This is the claim behind
//     analyzer.TxModeStatementsInTx (fixtures/rules/concurrent-in-transaction
//     /postgres/goose_commit.txtar).
//   - dbmate and popx: one transaction, the whole section in one Exec (a
//     multi-statement simple query). After a COMMIT the server starts a new
//     implicit transaction for the rest of the query string, so CREATE INDEX
//     CONCURRENTLY after it still fails: the whole-file model those layouts
//     keep (analyzer.TxModeWholeFile) is right for them. The COMMIT does
//     release the locks taken before it, so the engine starts a new
//     transaction there.
//   - Flyway: pgjdbc with autocommit off, one statement at a time, then
//     commit. After a COMMIT pgjdbc begins a new transaction: locks are
//     released, and CREATE INDEX CONCURRENTLY still fails.
func TestCommitInToolTransaction(t *testing.T) {
	srv := testdb.PostgreSQL(t)
	db, err := sql.Open("pgx", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE users (id bigint PRIMARY KEY, email text)",
		"INSERT INTO users SELECT i, 'u' || i FROM generate_series(1, 100) i",
		"CREATE TABLE goose_db_version (version_id bigint, is_applied boolean)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Run("goose", func(t *testing.T) {
		// BeginTx, ExecContext per statement, the version row, Commit
		goose := func(stmts ...string) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			for _, q := range stmts {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					_ = tx.Rollback()
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO goose_db_version VALUES (2, true)"); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		}
		err := goose("CREATE INDEX CONCURRENTLY users_email_a ON users (email)")
		if err == nil || !strings.Contains(err.Error(), "cannot run inside a transaction block") {
			t.Fatalf("CREATE INDEX CONCURRENTLY in goose's transaction: %v, want it refused", err)
		}
		if err := goose("COMMIT", "CREATE INDEX CONCURRENTLY users_email_b ON users (email)", "BEGIN"); err != nil {
			t.Fatalf("after COMMIT, CREATE INDEX CONCURRENTLY failed: %v", err)
		}
		var valid bool
		if err := db.QueryRowContext(ctx, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_b'::regclass").Scan(&valid); err != nil || !valid {
			t.Fatalf("users_email_b: valid %v, %v", valid, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM goose_db_version").Scan(&n); err != nil || n != 1 {
			t.Fatalf("goose's version rows: %d, %v; want the second run's only", n, err)
		}
	})
	t.Run("one Exec", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		// no arguments: pgx sends it with the simple protocol, as lib/pq does
		_, err = tx.ExecContext(ctx, "COMMIT; CREATE INDEX CONCURRENTLY users_email_c ON users (email); BEGIN;")
		if err == nil || !strings.Contains(err.Error(), "cannot run inside a transaction block") {
			t.Fatalf("CREATE INDEX CONCURRENTLY after COMMIT in one Exec: %v, want it refused", err)
		}
	})
	t.Run("one Exec releases at COMMIT", func(t *testing.T) {
		// the ACCESS EXCLUSIVE lock of the ALTER, seen from the rest of the
		// same query string: held without a COMMIT between them, gone
		// after one (fixtures/rules/statement-after-exclusive-lock/postgres
		// /dbmate_commit.txtar)
		if _, err := db.ExecContext(ctx, "CREATE TABLE held (commit_between boolean, locks int)"); err != nil {
			t.Fatal(err)
		}
		const count = "INSERT INTO held SELECT %t, count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'users'::regclass AND mode = 'AccessExclusiveLock';"
		for i, between := range []bool{false, true} {
			q := fmt.Sprintf("ALTER TABLE users ADD COLUMN c%d int; ", i)
			if between {
				q += "COMMIT; "
			}
			q += fmt.Sprintf(count, between)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, q); err != nil {
				_ = tx.Rollback()
				t.Fatalf("%s: %v", q, err)
			}
			// after a COMMIT in the string there is no transaction left:
			// the server only warns
			if err := tx.Commit(); err != nil {
				t.Fatalf("%s: commit: %v", q, err)
			}
		}
		heldAfterCommit(t, db, "held")
	})
	t.Run("pgjdbc", func(t *testing.T) {
		// Flyway: autocommit off, one Statement.execute per statement,
		// commit (testdata/JdbcTx.java). After a COMMIT pgjdbc begins a
		// new transaction for the next statement: the lock taken before
		// is gone, and CONCURRENTLY still fails (25001). This is the
		// claim behind analyzer.TxModeWholeFile for Flyway.
		java, err := exec.LookPath("java")
		jar := "/usr/share/java/postgresql.jar"
		if _, serr := os.Stat(jar); err != nil || serr != nil {
			testdb.MissingTool(t, fmt.Sprintf("java (%v) or %s (%v) missing: install the Debian packages default-jre-headless and libpostgresql-jdbc-java, or run scripts/test", err, jar, serr))
		}
		url := fmt.Sprintf("jdbc:postgresql://%s:%d/%s?user=%s", srv.Host, srv.Port, srv.Database, srv.User)
		run := func(stmts ...string) []string {
			t.Helper()
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, java, append([]string{"-cp", jar, "testdata/JdbcTx.java", url}, stmts...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("java: %v\n%s", err, out)
			}
			return strings.Fields(string(out))
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE held_jdbc (commit_between boolean, locks int)"); err != nil {
			t.Fatal(err)
		}
		const count = "INSERT INTO held_jdbc SELECT %t, count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'users'::regclass AND mode = 'AccessExclusiveLock'"
		if got := run("ALTER TABLE users ADD COLUMN j1 int", fmt.Sprintf(count, false)); strings.Join(got, " ") != "ok ok" {
			t.Fatalf("without COMMIT: %v", got)
		}
		if got := run("ALTER TABLE users ADD COLUMN j2 int", "COMMIT", fmt.Sprintf(count, true)); strings.Join(got, " ") != "ok ok ok" {
			t.Fatalf("with COMMIT: %v", got)
		}
		heldAfterCommit(t, db, "held_jdbc")
		if got := run("COMMIT", "CREATE INDEX CONCURRENTLY users_email_j ON users (email)"); strings.Join(got, " ") != "ok 25001" {
			t.Fatalf("CREATE INDEX CONCURRENTLY after COMMIT through pgjdbc: %v, want ok 25001 (active SQL transaction)", got)
		}
	})
}

// heldAfterCommit checks the rows a subtest wrote into table (commit_between,
// locks): the ACCESS EXCLUSIVE locks on users the rest of the migration saw
// after the ALTER, 1 without a COMMIT between them and 0 with one.
func heldAfterCommit(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	got := map[bool]int{}
	rows, err := db.Query("SELECT commit_between, locks FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b bool
		var n int
		if err := rows.Scan(&b, &n); err != nil {
			t.Fatal(err)
		}
		got[b] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got[false] != 1 || got[true] != 0 {
		t.Fatalf("%s: ACCESS EXCLUSIVE locks on users seen after the ALTER: %v; want 1 without a COMMIT between, 0 with one", table, got)
	}
}
