package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
)

// goose and dbmate files run through golang-migrate: up, history,
// down, a missing down refused, and an edit of the down section is not
// drift of the up.
func TestOtherLayouts(t *testing.T) {
	layouts := map[string]map[string]string{
		"goose": {
			"20240101000000_users.sql": "-- +goose Up\nCREATE TABLE users (id int PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n",
			"20240102000000_notes.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE notes (id int);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE notes;\n",
			"20240103000000_tags.sql":  "-- +goose Up\nCREATE TABLE tags (id int);\n",
		},
		"dbmate": {
			"20240101000000_users.sql": "-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n",
			"20240102000000_notes.sql": "-- migrate:up\nCREATE TABLE notes (id int);\n-- migrate:down\nDROP TABLE notes;\n",
			"20240103000000_tags.sql":  "-- migrate:up\nCREATE TABLE tags (id int);\n",
		},
		"popx": {
			"20240101000000_users.up.sql":          "CREATE TABLE users (id int PRIMARY KEY);",
			"20240101000000_users.down.sql":        "DROP TABLE users;",
			"20240102000000_notes.postgres.up.sql": "CREATE TABLE notes (id int);",
			"20240102000000_notes.mysql.up.sql":    "CREATE TABLE notes (id int) ENGINE=InnoDB;",
			"20240102000000_notes.down.sql":        "DROP TABLE notes;",
			"20240103000000_tags.up.sql":           "CREATE TABLE tags (id int);",
		},
	}
	engines(t, func(t *testing.T, kind string) {
		for _, layout := range []string{"goose", "dbmate", "popx"} {
			t.Run(layout, func(t *testing.T) {
				ctx := context.Background()
				d := newDB(t, kind)
				dir := writeDir(t, layouts[layout])
				dialect := analyzer.Postgres
				if kind == MySQL {
					dialect = analyzer.MySQL
				}
				src, err := Load(dir, dialect)
				if err != nil {
					t.Fatal(err)
				}
				if src.Layout != layout || len(src.Migrations) != 3 || src.Migrations[2].Down != nil || src.Migrations[0].Name != "users" {
					t.Fatalf("source: %+v", src)
				}
				r, err := Open(ctx, Options{DatabaseURL: d.url, Source: src, Version: "test"})
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, err := r.Up(ctx, -1, nil); err != nil {
					t.Fatal(err)
				}
				for _, tbl := range []string{"users", "notes", "tags"} {
					if !d.tableExists(t, tbl) {
						t.Fatalf("%s missing", tbl)
					}
				}
				_, err = r.Down(ctx, 20240101000000, nil)
				var rs Refusals
				if !errors.As(err, &rs) || !strings.Contains(err.Error(), "20240103000000_tags is irreversible") {
					t.Fatalf("down over a missing down: %v", err)
				}
				if layout != "popx" && !strings.Contains(err.Error(), "add a -- ") {
					t.Fatalf("the fix does not say how in %s: %v", layout, err)
				}
				if _, err := r.Down(ctx, 20240103000000-1, nil); err == nil {
					t.Fatal("--to a version that is not in the source")
				}
				// editing a down section is not drift of the up
				if layout != "popx" {
					p := filepath.Join(dir, "20240102000000_notes.sql")
					b, _ := os.ReadFile(p)
					if err := os.WriteFile(p, []byte(strings.Replace(string(b), "DROP TABLE notes;", "DROP TABLE IF EXISTS notes;", 1)), 0o644); err != nil {
						t.Fatal(err)
					}
					src2, err := Load(dir, dialect)
					if err != nil {
						t.Fatal(err)
					}
					r2 := open2(t, d.url, src2)
					st, err := r2.Status(ctx)
					if err != nil || len(st.Problems) != 0 || st.Version != 20240103000000 {
						t.Fatalf("status after editing the down: %+v %v", st, err)
					}
				}
			})
		}
	})
}

func open2(t *testing.T, url string, src *Source) *Runner {
	t.Helper()
	r, err := Open(context.Background(), Options{DatabaseURL: url, Source: src, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Flyway and plain directories are refused with the layouts that work; a
// database goose migrated is refused before anything runs again.
func TestLayoutRefusals(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"Flyway's V{version}__{name}.sql files have no down migrations": {"V1__init.sql": "CREATE TABLE a (id int);"},
		"no file follows a migration tool's naming":                     {"schema.sql": "CREATE TABLE a (id int);"},
	} {
		_, err := Load(writeDir(t, files), "")
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "migsafe migrate applies golang-migrate, goose, dbmate, popx directories") {
			t.Errorf("want %q, got %v", name, err)
		}
	}
	d := newDB(t, Postgres)
	d.exec(t, "CREATE TABLE goose_db_version (id serial, version_id bigint, is_applied boolean)")
	dir := writeDir(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);"})
	_, err := open(t, d.url, dir).Up(context.Background(), -1, nil)
	if err == nil || !strings.Contains(err.Error(), "applied by goose (its table goose_db_version is there)") || d.tableExists(t, "a") {
		t.Fatalf("want the goose refusal, got %v", err)
	}
}

// A goose section knows where it starts in its file, for the lines in
// messages.
func TestSectionLines(t *testing.T) {
	src, err := Load(writeDir(t, map[string]string{
		"1_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\nSELECT 1;\n-- +goose Down\nDROP TABLE a;\n",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	m := src.Migrations[0]
	if m.Up.fileLine(2) != 2 || m.Down.fileLine(2) != 5 {
		t.Fatalf("up starts at %d, down at %d", m.Up.Line, m.Down.Line)
	}
	locks := []Lock{{Mode: "ACCESS EXCLUSIVE", On: "a", Line: 5}}
	if got := statementOn(m.Down, locks, "a"); got != "line 5: DROP TABLE a;" {
		t.Fatalf("statement %q", got)
	}
}
