package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func outcomes(t *testing.T, r *Runner) string {
	t.Helper()
	rows, err := r.History(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range rows {
		out = append(out, w.Direction+" "+w.Name+" "+w.Outcome)
	}
	return strings.Join(out, "|")
}

var lockFiles = map[string]string{
	"1_users.up.sql":   "CREATE TABLE users (id int PRIMARY KEY);",
	"1_users.down.sql": "DROP TABLE users;",
	"2_add.up.sql":     "ALTER TABLE users ADD COLUMN email text;",
	"2_add.down.sql":   "ALTER TABLE users DROP COLUMN email;",
}

// A lock_timeout (55P03) on PostgreSQL applied nothing: the runner proves
// the schema unchanged, resets the version and retries with backoff.
func TestTransientRetry(t *testing.T) {
	ctx := context.Background()
	d := newDB(t, Postgres)
	dir := writeDir(t, lockFiles)
	r := open(t, d.url, dir, func(o *Options) { o.LockTimeout = 200 * time.Millisecond; o.Backoff = 200 * time.Millisecond })
	if _, err := r.Up(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := d.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("LOCK TABLE users IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(500*time.Millisecond, func() { _ = tx.Rollback() })
	var events []string
	r.opt.Events = func(e Event) { events = append(events, e.Kind) }
	res, err := r.Up(ctx, -1, nil)
	if err != nil {
		t.Fatalf("up: %v (events %v)", err, events)
	}
	if res.Steps[0].Attempts < 2 || res.Steps[0].Outcome != OutcomeApplied {
		t.Fatalf("want a retried success: %+v", res.Steps)
	}
	if got := outcomes(t, r); !strings.HasPrefix(got, "up users applied|up add retried|") || !strings.HasSuffix(got, "up add applied") {
		t.Fatalf("history: %s", got)
	}
	st, _ := r.Status(ctx)
	if st.Dirty || st.Version != 2 {
		t.Fatalf("status: %+v", st)
	}
}

// When the retries run out the database is left clean at the version
// before, and the error says so.
func TestTransientGiveUp(t *testing.T) {
	ctx := context.Background()
	d := newDB(t, Postgres)
	dir := writeDir(t, lockFiles)
	r := open(t, d.url, dir, func(o *Options) {
		o.LockTimeout = 100 * time.Millisecond
		o.Backoff = 20 * time.Millisecond
		o.Retries = 2
	})
	if _, err := r.Up(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	tx, err := d.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec("LOCK TABLE users IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Up(ctx, -1, nil)
	var se *StepError
	if !errors.As(err, &se) || !se.Clean || !strings.Contains(err.Error(), "55P03") || !strings.Contains(err.Error(), "attempt 3") {
		t.Fatalf("want a clean StepError after 3 attempts: %v", err)
	}
	_ = tx.Rollback()
	st, _ := r.Status(ctx)
	if st.Dirty || st.Version != 1 {
		t.Fatalf("status: %+v", st)
	}
	if got := outcomes(t, r); got != "up users applied|up add retried|up add retried|up add failed" {
		t.Fatalf("history: %s", got)
	}
	// and a later run applies it
	if _, err := r.Up(ctx, -1, nil); err != nil {
		t.Fatal(err)
	}
}

// On MariaDB a failed file is partially applied: the runner stops, does
// not force, and its runbook (and repair) says which changes ran.
func TestMySQLPartial(t *testing.T) {
	ctx := context.Background()
	d := newDB(t, MySQL)
	dir := writeDir(t, map[string]string{
		"1_a.up.sql":   "CREATE TABLE base (id int PRIMARY KEY);",
		"1_a.down.sql": "DROP TABLE base;",
		"2_b.up.sql": `CREATE TABLE a (id int PRIMARY KEY);
CREATE TABLE b (id int PRIMARY KEY);
ALTER TABLE missing ADD COLUMN x int;
CREATE TABLE c (id int PRIMARY KEY);`,
		"2_b.down.sql": "DROP TABLE c; DROP TABLE b; DROP TABLE a;",
	})
	r := open(t, d.url, dir)
	_, err := r.Up(ctx, -1, nil)
	var se *StepError
	if !errors.As(err, &se) || se.Clean {
		t.Fatalf("want a dirty StepError, got %v", err)
	}
	for _, want := range []string{"1146", "NEITHER: the migration is PARTIALLY applied", "applied:     add table a", "not applied: add table c", "never force"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("runbook lacks %q:\n%v", want, err)
		}
	}
	st, _ := r.Status(ctx)
	if !st.Dirty || st.Version != 2 {
		t.Fatalf("status: %+v", st)
	}
	// the next up refuses
	_, err = r.Up(ctx, -1, nil)
	var de *DirtyError
	if !errors.As(err, &de) {
		t.Fatalf("want a DirtyError, got %v", err)
	}
	ins, err := r.Repair(ctx, true)
	if err == nil || ins.Verdict != VerdictPartial {
		t.Fatalf("repair --apply on a partial migration: %+v %v", ins, err)
	}
	// finish it by hand: repair now finds it applied
	d.exec(t, "CREATE TABLE missing (id int)")
	d.exec(t, "ALTER TABLE missing ADD COLUMN x int")
	d.exec(t, "CREATE TABLE c (id int PRIMARY KEY)")
	ins, err = r.Repair(ctx, true)
	if err != nil || ins.Verdict != VerdictAfter || !ins.Done {
		t.Fatalf("repair after finishing by hand: %+v %v", ins, err)
	}
	st, _ = r.Status(ctx)
	if st.Dirty || st.Version != 2 || len(st.Problems) != 0 {
		t.Fatalf("status: %+v", st)
	}
}

// repair on PostgreSQL: before (reset and retry) and after (mark applied).
func TestRepairPostgres(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		"1_users.up.sql":    "CREATE TABLE users (id int PRIMARY KEY);",
		"1_users.down.sql":  "DROP TABLE users;",
		"2_orders.up.sql":   "CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL);\nCREATE INDEX orders_total ON orders (total);",
		"2_orders.down.sql": "DROP TABLE orders;",
		"3_x.up.sql":        "CREATE TABLE x (id int);",
		"3_x.down.sql":      "DROP TABLE x;",
	}
	t.Run("before", func(t *testing.T) {
		d := newDB(t, Postgres)
		bad := map[string]string{}
		for k, v := range files {
			bad[k] = v
		}
		bad["2_orders.up.sql"] = files["2_orders.up.sql"] + "\nSELECT 1/0;"
		dir := writeDir(t, bad)
		r := open(t, d.url, dir)
		_, err := r.Up(ctx, -1, nil)
		if err == nil || !strings.Contains(err.Error(), "22012") || !strings.Contains(err.Error(), "nothing was applied") {
			t.Fatalf("up: %v", err)
		}
		ins, err := r.Repair(ctx, false)
		if err != nil || ins.Verdict != VerdictBefore || ins.Target != 1 || ins.Done {
			t.Fatalf("repair: %+v %v", ins, err)
		}
		if !strings.Contains(ins.Text(), "not applied: add index orders_total") {
			t.Fatalf("report:\n%s", ins.Text())
		}
		if ins, err = r.Repair(ctx, true); err != nil || !ins.Done {
			t.Fatalf("repair --apply: %+v %v", ins, err)
		}
		fixed := writeDir(t, files)
		r2 := open(t, d.url, fixed)
		if _, err := r2.Up(ctx, -1, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("after", func(t *testing.T) {
		// golang-migrate died after the commit and before clearing dirty
		d := newDB(t, Postgres)
		dir := writeDir(t, files)
		r := open(t, d.url, dir)
		if _, err := r.Up(ctx, 1, nil); err != nil {
			t.Fatal(err)
		}
		d.exec(t, files["2_orders.up.sql"])
		d.exec(t, "UPDATE schema_migrations SET version = 2, dirty = true")
		ins, err := r.Repair(ctx, true)
		if err != nil || ins.Verdict != VerdictAfter || ins.Target != 2 || !ins.Done {
			t.Fatalf("repair: %+v %v", ins, err)
		}
		res, err := r.Up(ctx, -1, nil)
		if err != nil || len(res.Steps) != 1 || res.Steps[0].Version != 3 {
			t.Fatalf("up after repair: %+v %v", res, err)
		}
	})
}

// repair compares types, defaults and constraints too: a migration that
// only changes those is before, partial or after, not unknown.
func TestRepairSeesTypesDefaultsConstraints(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDB(t, kind)
		stmts := []string{
			"ALTER TABLE items ALTER COLUMN price TYPE bigint",
			"ALTER TABLE items ALTER COLUMN qty SET DEFAULT 1",
			"ALTER TABLE items ADD CONSTRAINT items_sku UNIQUE (sku)",
			"ALTER TABLE items ADD CONSTRAINT items_qty_positive CHECK (qty > 0)",
		}
		if kind == MySQL {
			stmts[0] = "ALTER TABLE items MODIFY price bigint"
		}
		dir := writeDir(t, map[string]string{
			"1_items.up.sql":   "CREATE TABLE items (id int PRIMARY KEY, sku varchar(20), price int, qty int);",
			"1_items.down.sql": "DROP TABLE items;",
			"2_tighten.up.sql": strings.Join(stmts, ";\n") + ";",
		})
		r := open(t, d.url, dir)
		if _, err := r.Up(ctx, 1, nil); err != nil {
			t.Fatal(err)
		}
		// golang-migrate was running 2 when it stopped (outside migsafe)
		d.exec(t, "UPDATE schema_migrations SET version = 2, dirty = true")
		ins, err := r.Repair(ctx, false)
		if err != nil || ins.Verdict != VerdictBefore {
			t.Fatalf("nothing run: %+v %v", ins, err)
		}
		d.exec(t, stmts[0])
		d.exec(t, stmts[1])
		ins, err = r.Repair(ctx, false)
		if err != nil || ins.Verdict != VerdictPartial {
			t.Fatalf("half run: %+v %v", ins, err)
		}
		applied := strings.Join(ins.Applied, "|")
		notApplied := strings.Join(ins.NotApplied, "|")
		wantApplied := "add default items.qty|add type items.price int8|drop type items.price int4"
		if kind == MySQL {
			// the MySQL model does not follow ALTER COLUMN SET DEFAULT
			wantApplied = "add type items.price bigint|drop type items.price int"
		}
		if applied != wantApplied || notApplied != "add constraint items check items_qty_positive|add constraint items unique (sku)|add index items_sku" {
			t.Fatalf("applied %q\nnot applied %q", applied, notApplied)
		}
		d.exec(t, stmts[2])
		d.exec(t, stmts[3])
		ins, err = r.Repair(ctx, true)
		if err != nil || ins.Verdict != VerdictAfter || !ins.Done {
			t.Fatalf("all run: %+v %v", ins, err)
		}
	})
}
