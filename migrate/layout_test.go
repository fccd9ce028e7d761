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

// A Flyway repeatable migration is refused; a database goose migrated is
// refused before anything runs again.
func TestLayoutRefusals(t *testing.T) {
	_, err := Load(writeDir(t, map[string]string{"V1__init.sql": "CREATE TABLE a (id int);", "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 1;"}), "")
	if err == nil || !strings.Contains(err.Error(), "R__views.sql: a Flyway repeatable migration") {
		t.Errorf("want the repeatable refused, got %v", err)
	}
	_, err = Load(writeDir(t, map[string]string{"2_b.sql": "CREATE TABLE b (id int);", "10_a.sql": "CREATE TABLE a (id int);"}), "")
	if err == nil || !strings.Contains(err.Error(), "2_b.sql: plain .sql files are replayed in lexical order") {
		t.Errorf("want the unpadded plain numbers refused, got %v", err)
	}
	d := newDB(t, Postgres)
	d.exec(t, "CREATE TABLE goose_db_version (id serial, version_id bigint, is_applied boolean)")
	dir := writeDir(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);"})
	_, err = open(t, d.url, dir).Up(context.Background(), -1, nil)
	if err == nil || !strings.Contains(err.Error(), "applied by goose (its table goose_db_version is there)") || d.tableExists(t, "a") {
		t.Fatalf("want the goose refusal, got %v", err)
	}
}

// Flyway (integer and dotted versions, undo files as downs) and plain
// directories on both servers: up, status, history, a down refused over
// an irreversible migration, an undo applied, and a file inserted before
// an applied one refused when the versions are positions.
func TestFlywayAndPlain(t *testing.T) {
	cases := []struct {
		name       string
		files      map[string]string
		versions   []uint
		names      []string
		positional bool
		insert     string // a file that sorts before the applied ones
		undo       string // the newest migration's undo file
	}{
		{name: "flyway-integer", files: map[string]string{
			"V1__users.sql":             "CREATE TABLE users (id int PRIMARY KEY);",
			"U1__users.sql":             "DROP TABLE users;",
			"V2__notes.sql":             "CREATE TABLE notes (id int);",
			"U2__notes.sql":             "DROP TABLE notes;",
			"V20240101120000__tags.sql": "CREATE TABLE tags (id int);",
		}, versions: []uint{1, 2, 20240101120000}, names: []string{"users", "notes", "tags"}, insert: "V3__between.sql", undo: "U20240101120000__tags.sql"},
		{name: "flyway-dotted", files: map[string]string{
			"V1__users.sql":    "CREATE TABLE users (id int PRIMARY KEY);",
			"U1__users.sql":    "DROP TABLE users;",
			"V1.1__notes.sql":  "CREATE TABLE notes (id int);",
			"U1.1__notes.sql":  "DROP TABLE notes;",
			"V2.0.3__tags.sql": "CREATE TABLE tags (id int);",
		}, versions: []uint{1, 2, 3}, names: []string{"V1__users", "V1.1__notes", "V2.0.3__tags"}, positional: true, insert: "V1.0.5__between.sql", undo: "U2.0.3__tags.sql"},
		{name: "plain", files: map[string]string{
			"001_users.sql": "CREATE TABLE users (id int PRIMARY KEY);",
			"002_notes.sql": "CREATE TABLE notes (id int);",
			"003_tags.sql":  "CREATE TABLE tags (id int);",
		}, versions: []uint{1, 2, 3}, names: []string{"001_users", "002_notes", "003_tags"}, positional: true, insert: "001a_between.sql"},
	}
	engines(t, func(t *testing.T, kind string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				d := newDB(t, kind)
				dir := writeDir(t, c.files)
				src, err := Load(dir, "")
				if err != nil {
					t.Fatal(err)
				}
				if src.Positional != c.positional || len(src.Migrations) != 3 {
					t.Fatalf("source: %+v", src)
				}
				for i, m := range src.Migrations {
					if m.Version != c.versions[i] || m.Name != c.names[i] {
						t.Fatalf("migration %d: %d %q, want %d %q", i, m.Version, m.Name, c.versions[i], c.names[i])
					}
				}
				r := open2(t, d.url, src)
				// the first two only
				if _, err := r.Up(ctx, int64(c.versions[1]), nil); err != nil {
					t.Fatal(err)
				}
				st, err := r.Status(ctx)
				if err != nil || st.Version != int64(c.versions[1]) || len(st.Pending) != 1 || len(st.Problems) != 0 {
					t.Fatalf("status: %+v %v", st, err)
				}
				if _, err := r.Up(ctx, -1, nil); err != nil {
					t.Fatal(err)
				}
				for _, tbl := range []string{"users", "notes", "tags"} {
					if !d.tableExists(t, tbl) {
						t.Fatalf("%s missing", tbl)
					}
				}
				rows, err := r.History(ctx, 0)
				if err != nil || len(rows) != 3 || rows[2].Name != c.names[2] || rows[2].Version != int64(c.versions[2]) || rows[2].Outcome != OutcomeApplied {
					t.Fatalf("history: %+v %v", rows, err)
				}
				// the newest has no down: irreversible
				_, err = r.Down(ctx, int64(c.versions[1]), nil)
				var rs Refusals
				if !errors.As(err, &rs) || !strings.Contains(err.Error(), "is irreversible") || !d.tableExists(t, "tags") {
					t.Fatalf("down over a missing down: %v", err)
				}
				if c.name == "flyway-integer" && !strings.Contains(err.Error(), "write its undo file U20240101120000__tags.sql") {
					t.Fatalf("the fix does not name the undo file: %v", err)
				}
				if c.name == "plain" && !strings.Contains(err.Error(), "plain .sql files have no down migrations") {
					t.Fatalf("the fix: %v", err)
				}
				// a file inserted before the applied ones
				if err := os.WriteFile(filepath.Join(dir, c.insert), []byte("CREATE TABLE between_t (id int);"), 0o644); err != nil {
					t.Fatal(err)
				}
				src2, err := Load(dir, "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = open2(t, d.url, src2).Up(ctx, -1, nil)
				want := "is older than the database's version"
				if c.positional {
					want = c.insert + " is now migration 2 of"
				}
				if !errors.As(err, &rs) || !strings.Contains(err.Error(), want) || d.tableExists(t, "between_t") {
					t.Fatalf("inserted file: want %q, got %v", want, err)
				}
				if err := os.Remove(filepath.Join(dir, c.insert)); err != nil {
					t.Fatal(err)
				}
				if c.name == "flyway-integer" {
					// a dotted version renumbers the directory by position
					dotted := filepath.Join(dir, "V20240102.1__later.sql")
					if err := os.WriteFile(dotted, []byte("CREATE TABLE later_t (id int);"), 0o644); err != nil {
						t.Fatal(err)
					}
					src2, err := Load(dir, "")
					if err != nil {
						t.Fatal(err)
					}
					_, err = open2(t, d.url, src2).Up(ctx, -1, nil)
					if !errors.As(err, &rs) || !strings.Contains(err.Error(), "a dotted version has renumbered it") || d.tableExists(t, "later_t") {
						t.Fatalf("a dotted version added: %v", err)
					}
					if err := os.Remove(dotted); err != nil {
						t.Fatal(err)
					}
				}
				if c.name == "plain" {
					return
				}
				// an undo file applied: give the newest one and go down to the first
				tags := filepath.Join(dir, c.undo)
				if err := os.WriteFile(tags, []byte("DROP TABLE tags;"), 0o644); err != nil {
					t.Fatal(err)
				}
				src3, err := Load(dir, "")
				if err != nil {
					t.Fatal(err)
				}
				r3 := open2(t, d.url, src3)
				if _, err := r3.Down(ctx, int64(c.versions[0]), nil); err != nil {
					t.Fatal(err)
				}
				if d.tableExists(t, "tags") || d.tableExists(t, "notes") || !d.tableExists(t, "users") {
					t.Fatal("the undo files did not run")
				}
				st, err = r3.Status(ctx)
				if err != nil || st.Version != int64(c.versions[0]) || len(st.Pending) != 2 || len(st.Problems) != 0 {
					t.Fatalf("status after down: %+v %v", st, err)
				}
			})
		}
	})
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
