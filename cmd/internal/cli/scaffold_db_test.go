package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/internal/testdb"
)

// applier runs a migration file the way golang-migrate does (the whole
// file in one call) and describes the schema.
type applier struct {
	exec   func(t *testing.T, sql string) error
	schema func(t *testing.T) string
}

func pgApplier(t *testing.T) applier {
	srv := testdb.PostgreSQL(t)
	psql := filepath.Join(filepath.Dir(findPgCtl(t)), "psql")
	run := func(sql string) (string, error) {
		// -c sends the whole text as one simple query, like golang-migrate
		cmd := exec.Command(psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", fmt.Sprint(srv.Port), "-U", srv.User, "-d", srv.Database, "-c", sql)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, out)
		}
		return string(out), nil
	}
	return applier{
		exec: func(t *testing.T, sql string) error { _, err := run(sql); return err },
		schema: func(t *testing.T) string {
			out, err := run(`SELECT string_agg(format('%s.%s %s %s', table_name, column_name, data_type, is_nullable), E'\n' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public';
SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal;
SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace;`)
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
}

func findPgCtl(t *testing.T) string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Strings(matches)
	if len(matches) == 0 {
		t.Fatal("no PostgreSQL binaries")
	}
	return matches[len(matches)-1]
}

func mariaApplier(t *testing.T) applier {
	srv := testdb.MariaDB(t)
	db := srv.Open(t)
	return applier{
		exec: func(t *testing.T, sql string) error { _, err := db.Exec(sql); return err },
		schema: func(t *testing.T) string {
			rows, err := db.Query(`SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', is_nullable) FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, column_name`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				b.WriteString(s + "\n")
			}
			return b.String()
		},
	}
}

// TestScaffoldAppliesAndRollsBack writes the three scaffolds into a
// golang-migrate directory, checks that migsafe lints them clean, then
// applies every migration in order to a real server, rolls each one back
// (the schema must be what it was before it) and applies it again; rows
// written through the old column reach the new one.
func TestScaffoldAppliesAndRollsBack(t *testing.T) {
	for _, c := range []struct {
		dialect string
		db      func(*testing.T) applier
		base    string
	}{
		{"postgres", pgApplier, "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, score integer, legacy text NOT NULL, \"order\" int);\n"},
		{"mysql", mariaApplier, "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100) NOT NULL, score int, legacy varchar(20) NOT NULL, `order` int);\n"},
	} {
		t.Run(c.dialect, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "db", "000001_users.up.sql"), c.base)
			write(t, filepath.Join(dir, "db", "000001_users.down.sql"), "DROP TABLE users;\n")
			for _, args := range [][]string{
				{"rename-column", "users", "name", "full_name"},
				{"change-column-type", "users", "score", "bigint"},
				{"drop-column", "users", "legacy"},
				// a keyword: quoted everywhere, bodies included
				{"rename-column", "users", "order", "position"},
			} {
				r := migsafe(t, dir, nowEnv, false, append([]string{"scaffold", args[0], "--dialect", c.dialect, "--dir", "db"}, args[1:]...)...)
				if r.code != 0 {
					t.Fatalf("scaffold %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stdout, "[ ] step") {
					t.Errorf("scaffold %v printed no checklist:\n%s", args, r.stdout)
				}
			}
			files, _ := filepath.Glob(filepath.Join(dir, "db", "*.up.sql"))
			sort.Strings(files)
			// rename and type change: expand, backfill, deprecate,
			// contract, and on MySQL a relax of the NOT NULL name; drop:
			// relax of the NOT NULL legacy, deprecate, contract
			want := 1 + 4 + 4 + 3 + 4
			if c.dialect == "mysql" {
				want++
			}
			if len(files) != want {
				t.Fatalf("%d up migrations: %v", len(files), files)
			}
			// migsafe lints its own output clean: every version its own
			// deploy (no git), all rules on
			lint := migsafe(t, dir, nowEnv, false, "check", "--dialect", c.dialect, "--no-git", "--format", "json", "--fail-on", "warning", "db")
			var doc struct{ Findings []jsonFinding }
			if err := json.Unmarshal([]byte(lint.stdout), &doc); err != nil {
				t.Fatalf("%v\n%s", err, lint.stderr)
			}
			for _, f := range doc.Findings {
				if !strings.HasPrefix(filepath.Base(f.Path), "000001_") && f.Suppressed == nil {
					t.Errorf("%s:%d: %s: %s", f.Path, f.Start.Line, f.Name, f.Message)
				}
			}
			db := c.db(t)
			for _, up := range files {
				down := strings.TrimSuffix(up, ".up.sql") + ".down.sql"
				before := db.schema(t)
				apply(t, db, up)
				if filepath.Base(up) == "000001_users.up.sql" {
					apply2(t, db, "INSERT INTO users (id, name, score, legacy) VALUES (1, 'a', 1, 'x'), (2, 'b', 2, 'y')")
					if c.dialect == "postgres" {
						apply2(t, db, `UPDATE users SET "order" = id`)
					} else {
						apply2(t, db, "UPDATE users SET `order` = id")
					}
				}
				after := db.schema(t)
				if filepath.Base(up) != "000001_users.up.sql" {
					apply(t, db, down)
					if got := db.schema(t); got != before {
						t.Errorf("%s does not undo %s:\nbefore:\n%s\nafter the down:\n%s", filepath.Base(down), filepath.Base(up), before, got)
					}
					apply(t, db, up)
					if got := db.schema(t); got != after {
						t.Errorf("%s applied again gives another schema:\n%s\nwant:\n%s", filepath.Base(up), got, after)
					}
				}
				if strings.Contains(up, "expand_users_full_name") && c.dialect == "postgres" {
					// the old version writes name only: the trigger fills full_name
					apply2(t, db, "INSERT INTO users (id, name, score, legacy) VALUES (3, 'c', 3, 'z')")
				}
			}
			if c.dialect == "postgres" {
				out := db.schema(t)
				if strings.Contains(out, "users.name ") || !strings.Contains(out, "users.full_name") || strings.Contains(out, "legacy") || strings.Contains(out, "users.order ") || !strings.Contains(out, "users.position ") {
					t.Errorf("final schema:\n%s", out)
				}
			}
		})
	}
}

func apply(t *testing.T, db applier, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t, string(b)); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(file), err, b)
	}
}

func apply2(t *testing.T, db applier, sql string) {
	t.Helper()
	if err := db.exec(t, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
