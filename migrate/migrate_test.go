package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var basic = map[string]string{
	"1_users.up.sql":    "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL);",
	"1_users.down.sql":  "DROP TABLE users;",
	"2_orders.up.sql":   "CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL);",
	"2_orders.down.sql": "DROP TABLE orders;",
	"3_index.up.sql":    "CREATE INDEX orders_user ON orders (user_id);",
	"3_index.down.sql":  "DROP INDEX orders_user ON orders;",
}

func basicFor(kind string) map[string]string {
	out := map[string]string{}
	for k, v := range basic {
		out[k] = v
	}
	if kind == Postgres {
		out["3_index.down.sql"] = "DROP INDEX orders_user;"
	}
	return out
}

func TestUpDownStatusHistory(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		d := newDB(t, kind)
		dir := writeDir(t, basicFor(kind))
		r := open(t, d.url, dir)
		ctx := context.Background()

		st, err := r.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != -1 || len(st.Pending) != 3 {
			t.Fatalf("status before: version %d, %d pending", st.Version, len(st.Pending))
		}
		res, err := r.Up(ctx, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.From != -1 || res.To != 2 || len(res.Steps) != 2 {
			t.Fatalf("up --to 2: %+v", res)
		}
		if !d.tableExists(t, "orders") {
			t.Fatal("orders not created")
		}
		res, err = r.Up(ctx, -1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.To != 3 || len(res.Steps) != 1 {
			t.Fatalf("up: %+v", res)
		}
		// nothing pending: a no-op
		if res, err = r.Up(ctx, -1, nil); err != nil || len(res.Steps) != 0 {
			t.Fatalf("second up: %+v %v", res, err)
		}
		res, err = r.Down(ctx, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.To != 1 || len(res.Steps) != 2 || res.Steps[0].Version != 3 {
			t.Fatalf("down --to 1: %+v", res)
		}
		if d.tableExists(t, "orders") || !d.tableExists(t, "users") {
			t.Fatal("down --to 1 did not drop orders only")
		}
		st, err = r.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != 1 || st.Dirty || len(st.Pending) != 2 || len(st.Problems) != 0 {
			t.Fatalf("status after: %+v", st)
		}
		rows, err := r.History(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range rows {
			got = append(got, w.Direction+" "+w.Name+" "+w.Outcome)
			if w.Finished == nil || w.Duration == nil || len(w.SHA256) != 64 || w.RunID == "" || w.Host == "" || w.Migsafe != "test" {
				t.Errorf("incomplete row: %+v", w)
			}
		}
		want := "up users applied|up orders applied|up index applied|down index applied|down orders applied"
		if strings.Join(got, "|") != want {
			t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, "|"), want)
		}
	})
}

func refusal(t *testing.T, err error, want string) {
	t.Helper()
	var rs Refusals
	if !errors.As(err, &rs) {
		t.Fatalf("want a refusal containing %q, got %v", want, err)
	}
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "fix: ") {
		t.Fatalf("refusal %q lacks %q or a fix", err, want)
	}
}

func TestRefusals(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		t.Run("drift", func(t *testing.T) {
			d := newDB(t, kind)
			dir := writeDir(t, basicFor(kind))
			if _, err := open(t, d.url, dir).Up(ctx, 2, nil); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "1_users.up.sql"), []byte("CREATE TABLE users (id bigint PRIMARY KEY);"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := open(t, d.url, dir).Up(ctx, -1, nil)
			refusal(t, err, "1_users.up.sql changed since it was applied")
			if d.tableExists(t, "orders") && hasIndex(t, d) {
				t.Fatal("ran despite the refusal")
			}
		})
		t.Run("missing file", func(t *testing.T) {
			d := newDB(t, kind)
			dir := writeDir(t, basicFor(kind))
			if _, err := open(t, d.url, dir).Up(ctx, -1, nil); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "2_orders.up.sql"))
			os.Remove(filepath.Join(dir, "2_orders.down.sql"))
			_, err := open(t, d.url, dir).Up(ctx, -1, nil)
			refusal(t, err, "version 2 was applied")
			os.Remove(filepath.Join(dir, "3_index.up.sql"))
			os.Remove(filepath.Join(dir, "3_index.down.sql"))
			_, err = open(t, d.url, dir).Up(ctx, -1, nil)
			refusal(t, err, "the database is at version 3, which has no file")
		})
		t.Run("out of order", func(t *testing.T) {
			d := newDB(t, kind)
			files := basicFor(kind)
			delete(files, "2_orders.up.sql")
			delete(files, "2_orders.down.sql")
			files["3_index.up.sql"] = "CREATE INDEX users_email ON users (email);"
			files["3_index.down.sql"] = strings.ReplaceAll(strings.ReplaceAll(files["3_index.down.sql"], "orders_user", "users_email"), "orders", "users")
			dir := writeDir(t, files)
			if _, err := open(t, d.url, dir).Up(ctx, -1, nil); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "2_orders.up.sql"), []byte(basic["2_orders.up.sql"]), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := open(t, d.url, dir).Up(ctx, -1, nil)
			refusal(t, err, "2_orders.up.sql (version 2) is older than the database's version 3 and was never applied")
			if d.tableExists(t, "orders") {
				t.Fatal("ran despite the refusal")
			}
		})
		t.Run("down without down file", func(t *testing.T) {
			d := newDB(t, kind)
			files := basicFor(kind)
			delete(files, "2_orders.down.sql")
			dir := writeDir(t, files)
			r := open(t, d.url, dir)
			if _, err := r.Up(ctx, -1, nil); err != nil {
				t.Fatal(err)
			}
			_, err := r.Down(ctx, 1, nil)
			refusal(t, err, "2_orders is irreversible")
			if !hasIndex(t, d) {
				t.Fatal("down ran some migrations before refusing")
			}
			// down to 2 needs only 3's down file
			if _, err := r.Down(ctx, 2, nil); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("baseline", func(t *testing.T) {
			// a database migrated by plain golang-migrate before migsafe
			d := newDB(t, kind)
			dir := writeDir(t, basicFor(kind))
			d.exec(t, "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL)")
			d.exec(t, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
			d.exec(t, "INSERT INTO schema_migrations VALUES (1, false)")
			res, err := open(t, d.url, dir).Up(ctx, -1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Steps) != 2 {
				t.Fatalf("want 2 steps: %+v", res)
			}
			rows, _ := open(t, d.url, dir).History(ctx, 0)
			if rows[0].Outcome != OutcomeBaseline || rows[0].Version != 1 {
				t.Fatalf("first row: %+v", rows[0])
			}
		})
	})
}

func hasIndex(t *testing.T, d *testDB) bool {
	t.Helper()
	var n int
	q := "SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_user'"
	if d.kind == MySQL {
		q = "SELECT count(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'orders_user'"
	}
	if err := d.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
