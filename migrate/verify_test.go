package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func verifyFiles(kind string) map[string]string {
	f := map[string]string{
		"1_users.up.sql":   "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL);\nCREATE INDEX users_email ON users (email);",
		"1_users.down.sql": "DROP TABLE users;",
		// the down recreates the column without its NOT NULL and its index
		"2_drop_email.up.sql":   "ALTER TABLE users DROP COLUMN email;",
		"2_drop_email.down.sql": "ALTER TABLE users ADD COLUMN email varchar(100);",
		"3_notes.up.sql":        "CREATE TABLE notes (id int);",
		"4_tags.up.sql":         "CREATE TABLE tags (id int);",
		"4_tags.down.sql":       "DROP TABLE no_such_table;",
		"5_more.up.sql":         "CREATE TABLE more (id int);",
		"5_more.down.sql":       "DROP TABLE more;",
	}
	return f
}

func TestVerifyRollback(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDB(t, kind)
		dir := writeDir(t, verifyFiles(kind))
		r := open(t, d.url, dir)
		rep, err := r.VerifyRollback(ctx, -1)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range rep.Results {
			got = append(got, v.Result)
		}
		want := "reversible down-does-not-restore irreversible down-fails not-verified"
		if strings.Join(got, " ") != want {
			t.Fatalf("results %v, want %s\n%s", got, want, rep.Text())
		}
		text := rep.Text()
		t.Log(text)
		nn := "~ column public.users.email: character varying(100) not null → character varying(100)"
		ix := "- index public.users_email"
		if kind == MySQL {
			nn = "~ column users.email: varchar(100) not null"
			ix = "- index users.users_email"
		}
		for _, w := range []string{nn, ix, "no_such_table"} {
			if !strings.Contains(text, w) {
				t.Errorf("report lacks %q:\n%s", w, text)
			}
		}
		md := rep.Markdown()
		if !strings.Contains(md, "| `2_drop_email` | ❌ down-does-not-restore |") || !strings.Contains(md, "| `3_notes` | ⚠️ irreversible |") {
			t.Errorf("markdown:\n%s", md)
		}
		var n int
		if err := d.db.QueryRow("SELECT count(*) FROM migsafe_rollback_verifications WHERE result = 'down-does-not-restore' AND version = 2").Scan(&n); err != nil || n != 1 {
			t.Fatalf("not recorded: %d %v", n, err)
		}
		// the database is now marked scratch: a second run empties it and starts again
		r2 := open(t, d.url, writeDir(t, map[string]string{"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"}))
		rep, err = r2.VerifyRollback(ctx, -1)
		if err != nil || !rep.OK() || len(rep.Results) != 1 {
			t.Fatalf("second run: %v\n%s", err, rep.Text())
		}
		if d.tableExists(t, "users") {
			t.Fatal("the scratch database was not emptied")
		}
	})
}

func TestVerifyRollbackRefusesARealDatabase(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		d := newDB(t, kind)
		d.exec(t, "CREATE TABLE customers (id int)")
		r := open(t, d.url, writeDir(t, verifyFiles(kind)))
		_, err := r.VerifyRollback(context.Background(), -1)
		var se *ScratchError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "customers") {
			t.Fatalf("want a ScratchError naming customers, got %v", err)
		}
		if !d.tableExists(t, "customers") || d.tableExists(t, "users") {
			t.Fatal("the database was touched")
		}
	})
}

// --with-data seeds the tables before each up and finds the down that
// brings a dropped column back with the schema right and the values gone.
func TestVerifyRollbackWithData(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDB(t, kind)
		restore := "ALTER TABLE users ADD COLUMN email varchar(100);\nUPDATE users SET email = 'unknown';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;"
		if kind == MySQL {
			restore = "ALTER TABLE users ADD COLUMN email varchar(100);\nUPDATE users SET email = 'unknown';\nALTER TABLE users MODIFY email varchar(100) NOT NULL;"
		}
		dir := writeDir(t, map[string]string{
			// a_profiles sorts before users and references it: seeded second
			"1_users.up.sql":        "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL, born date, active boolean);\nCREATE TABLE a_profiles (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), bio text);",
			"1_users.down.sql":      "DROP TABLE a_profiles;\nDROP TABLE users;",
			"2_rename.up.sql":       "ALTER TABLE a_profiles RENAME COLUMN bio TO about;",
			"2_rename.down.sql":     "ALTER TABLE a_profiles RENAME COLUMN about TO bio;",
			"3_drop_email.up.sql":   "ALTER TABLE users DROP COLUMN email;",
			"3_drop_email.down.sql": restore,
			"4_note.up.sql":         "ALTER TABLE users ADD COLUMN note text;",
			"4_note.down.sql":       "ALTER TABLE users DROP COLUMN note;",
		})
		r := open(t, d.url, dir, func(o *Options) { o.VerifyWithData = true })
		rep, err := r.VerifyRollback(ctx, -1)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range rep.Results {
			got = append(got, v.Result)
			if len(v.Seeding) > 0 {
				t.Errorf("%d: not seeded: %q", v.Version, v.Seeding)
			}
		}
		if want := "reversible reversible down-loses-data reversible"; strings.Join(got, " ") != want {
			t.Fatalf("results %v, want %s\n%s", got, want, rep.Text())
		}
		if loss := rep.Results[2].DataLoss; len(loss) != 1 || loss[0] != "column users.email: 3 of 3 value(s) not restored (e.g. seed1)" {
			t.Fatalf("data loss %q", loss)
		}
		var n int
		if err := d.db.QueryRow("SELECT count(*) FROM a_profiles WHERE about = 'seed2'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("a_profiles was not seeded: %d %v", n, err)
		}
		if md := rep.Markdown(); !strings.Contains(md, "| `3_drop_email` | ❌ down-loses-data | data after the down: column users.email: 3 of 3 value(s) not restored (e.g. seed1) |") {
			t.Errorf("markdown:\n%s", md)
		}
		// without --with-data the same down looks reversible
		d2 := newDB(t, kind)
		rep, err = open(t, d2.url, dir).VerifyRollback(ctx, -1)
		if err != nil || !rep.OK() {
			t.Fatalf("without data: %v\n%s", err, rep.Text())
		}
	})
}
