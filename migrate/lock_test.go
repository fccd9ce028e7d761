package migrate

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sleepSQL(kind string, secs float64) string {
	if kind == Postgres {
		return "SELECT pg_sleep(" + ftoa(secs) + ");"
	}
	return "SELECT SLEEP(" + ftoa(secs) + ");"
}

func ftoa(f float64) string {
	return strings.TrimRight(strings.TrimRight(strings.Replace(time.Duration(f*1e9).String(), "s", "", 1), "0"), ".")
}

// Two runs at once: exactly one applies; the other waits --lock-wait and
// fails naming the holder, or, given time, finds nothing left to do.
func TestConcurrentUp(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		d := newDB(t, kind)
		dir := writeDir(t, map[string]string{
			"1_slow.up.sql":   sleepSQL(kind, 1.5) + " CREATE TABLE slow (id int);",
			"1_slow.down.sql": "DROP TABLE slow;",
		})
		ctx := context.Background()
		a := open(t, d.url, dir)
		done := make(chan error, 1)
		go func() { _, err := a.Up(ctx, -1, nil); done <- err }()
		watcher := open(t, d.url, dir)
		for deadline := time.Now().Add(10 * time.Second); watcher.LockHolder(ctx) == ""; {
			if time.Now().After(deadline) {
				t.Fatal("the first run never took the lock")
			}
			time.Sleep(20 * time.Millisecond)
		}
		b := open(t, d.url, dir, func(o *Options) { o.LockWait = 300 * time.Millisecond })
		start := time.Now()
		_, err := b.Up(ctx, -1, nil)
		var le *LockError
		if !errors.As(err, &le) {
			t.Fatalf("second run: want a LockError, got %v", err)
		}
		if w := time.Since(start); w < 300*time.Millisecond || w > 3*time.Second {
			t.Errorf("waited %s for a 300ms --lock-wait", w)
		}
		want := "PostgreSQL backend pid"
		if kind == MySQL {
			want = "connection "
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("the error does not name the holder: %v", err)
		}
		c := open(t, d.url, dir, func(o *Options) { o.LockWait = 20 * time.Second })
		res, err := c.Up(ctx, -1, nil)
		if err != nil {
			t.Fatalf("third run: %v", err)
		}
		if len(res.Steps) != 0 {
			t.Fatalf("third run applied again: %+v", res)
		}
		if err := <-done; err != nil {
			t.Fatalf("first run: %v", err)
		}
		rows, _ := c.History(ctx, 0)
		n := 0
		for _, w := range rows {
			if w.Direction == "up" && w.Outcome == OutcomeApplied {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("applied %d times: %+v", n, rows)
		}
	})
}

// --statement-timeout stops a long statement cleanly, naming the time and
// the statement.
func TestStatementTimeout(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		d := newDB(t, kind)
		dir := writeDir(t, map[string]string{
			"1_t.up.sql":      "CREATE TABLE t (id int);",
			"1_t.down.sql":    "DROP TABLE t;",
			"2_slow.up.sql":   "-- slow\n" + sleepSQL(kind, 5),
			"2_slow.down.sql": "SELECT 1;",
		})
		r := open(t, d.url, dir, func(o *Options) { o.StatementTimeout = 500 * time.Millisecond })
		start := time.Now()
		res, err := r.Up(context.Background(), -1, nil)
		if el := time.Since(start); el > 4*time.Second {
			t.Fatalf("the timeout did not stop the statement (%s)", el)
		}
		var se *StepError
		if !errors.As(err, &se) {
			t.Fatalf("want a StepError, got %v", err)
		}
		if !strings.Contains(err.Error(), "statement timeout (500ms)") {
			t.Fatalf("error does not name the timeout: %v", err)
		}
		// the time it ran: the server's timeout, give or take the
		// granularity of two clocks (a run measured 499ms)
		m := regexp.MustCompile(`after (\d+)ms in 2_slow\.up\.sql`).FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("error does not name the time and the statement: %v", err)
		}
		if ms, _ := strconv.Atoi(m[1]); ms < 450 || ms >= 4000 {
			t.Fatalf("error names %sms, want about the 500ms of the timeout: %v", m[1], err)
		}
		if res.To != 1 || len(res.Steps) != 2 || res.Steps[1].Attempts != 1 {
			t.Fatalf("a timeout must not be retried: %+v", res)
		}
	})
}

// Where the server does not stop DDL itself (MySQL's max_execution_time is
// for SELECT only), migsafe kills a statement that runs past
// --statement-timeout: here an ALTER TABLE waiting for a metadata lock on
// MariaDB with the server's own timeout left off.
func TestStatementTimeoutWatchdog(t *testing.T) {
	d := newDB(t, MySQL)
	d.exec(t, "CREATE TABLE busy (id int)")
	dir := writeDir(t, map[string]string{
		"1_alter.up.sql": "ALTER TABLE busy ADD COLUMN note text;",
	})
	var notes []string
	r := open(t, d.url, dir, func(o *Options) {
		o.StatementTimeout = 500 * time.Millisecond
		o.LockTimeout = 30 * time.Second
		o.Events = func(e Event) {
			if e.Kind == "note" {
				notes = append(notes, e.Message)
			}
		}
	})
	r.forceWatchdog = true
	tx, err := d.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec("SELECT * FROM busy"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = r.Up(context.Background(), -1, nil)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("the watchdog did not stop the statement (%s)", el)
	}
	if err == nil || !strings.Contains(err.Error(), "hit the statement timeout (500ms, killed by migsafe) after ") ||
		!strings.Contains(err.Error(), "in 1_alter.up.sql (ALTER TABLE busy ADD COLUMN note text)") {
		t.Fatalf("want the timeout with the statement, got %v", err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "max_execution_time applies only to SELECT, so migsafe enforces it: KILL QUERY") {
		t.Fatalf("notes %q", notes)
	}
	if r.TimeoutNote() == "" {
		t.Fatal("no note")
	}
	r.forceWatchdog = false
	if n := r.TimeoutNote(); !strings.Contains(n, "MariaDB's max_statement_time") {
		t.Fatalf("MariaDB note %q", n)
	}
}
