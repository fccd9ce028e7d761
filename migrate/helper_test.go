package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The signal tests run the runner in a child process: the test binary
// itself, with helperEnv set.
const helperEnv = "MIGSAFE_MIGRATE_TEST_HELPER"

func helperMain() int {
	src, err := LoadDir(os.Getenv("HELPER_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, kill, stop := OnSignals(context.Background(), func(n int, s os.Signal) {
		fmt.Fprintf(os.Stderr, "signal %d: %v\n", n, s)
	})
	defer stop()
	r, err := Open(ctx, Options{DatabaseURL: os.Getenv("HELPER_URL"), Source: src, Version: "test",
		Events: func(e Event) { fmt.Fprintf(os.Stderr, "event %s %d\n", e.Kind, e.Version) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer r.Close()
	res, err := r.Up(ctx, -1, kill)
	if res != nil {
		fmt.Fprintf(os.Stdout, "to %d stopped %q\n", res.To, res.Stopped)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	return 0
}

type child struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan struct{} // closed when the child exited, err set
	err    error
}

func startHelper(t *testing.T, url, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "HELPER_URL="+url, "HELPER_DIR="+dir)
	c := &child{cmd: cmd, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
		err := c.err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("the helper did not exit; stderr:\n%s", c.stderr)
	}
	return -1
}

// waitRunning waits until migration v is running according to the history.
func waitRunning(t *testing.T, d *testDB, v int) {
	t.Helper()
	q := "SELECT count(*) FROM migsafe_history WHERE version = $1 AND outcome = 'running'"
	if d.kind == MySQL {
		q = strings.Replace(q, "$1", "?", 1)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var n int
		if err := d.db.QueryRow(q, v).Scan(&n); err == nil && n > 0 {
			time.Sleep(200 * time.Millisecond) // into the statement
			return
		}
	}
	t.Fatalf("migration %d never started", v)
}

func sigFiles(kind string, secs float64) map[string]string {
	return map[string]string{
		"1_first.up.sql":   "CREATE TABLE first (id int);",
		"1_first.down.sql": "DROP TABLE first;",
		"2_slow.up.sql":    sleepSQL(kind, secs) + "\nCREATE TABLE slow (id int);",
		"2_slow.down.sql":  "DROP TABLE slow;",
		"3_after.up.sql":   "CREATE TABLE after_slow (id int);",
		"3_after.down.sql": "DROP TABLE after_slow;",
	}
}

// The first SIGINT lets the running migration finish and stops before the
// next one.
func TestSignalStopsBetweenMigrations(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		d := newDB(t, kind)
		dir := writeDir(t, sigFiles(kind, 1))
		c := startHelper(t, d.url, dir)
		waitRunning(t, d, 2)
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		if code := c.wait(t); code != 1 {
			t.Fatalf("exit %d; stderr:\n%s", code, c.stderr)
		}
		if !d.tableExists(t, "slow") || d.tableExists(t, "after_slow") {
			t.Fatalf("want 2 finished and 3 not run; stderr:\n%s", c.stderr)
		}
		r := open(t, d.url, dir)
		if got := outcomes(t, r); got != "up first applied|up slow applied" {
			t.Fatalf("history: %s", got)
		}
		st, _ := r.Status(context.Background())
		if st.Dirty || st.Version != 2 {
			t.Fatalf("status %+v", st)
		}
	})
}

// A second SIGINT cancels the running statement on the server.
func TestSecondSignalCancels(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		d := newDB(t, kind)
		dir := writeDir(t, sigFiles(kind, 30))
		c := startHelper(t, d.url, dir)
		waitRunning(t, d, 2)
		start := time.Now()
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		time.Sleep(100 * time.Millisecond)
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		if code := c.wait(t); code != 1 {
			t.Fatalf("exit %d; stderr:\n%s", code, c.stderr)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("the statement was not cancelled (%s)", el)
		}
		if !strings.Contains(c.stderr.String(), "cancelled on request") {
			t.Fatalf("stderr:\n%s", c.stderr)
		}
		r := open(t, d.url, dir)
		st, _ := r.Status(context.Background())
		if kind == Postgres && (st.Dirty || st.Version != 1) {
			t.Fatalf("PostgreSQL: nothing applied, want clean at 1: %+v", st)
		}
		if d.tableExists(t, "slow") {
			t.Fatal("the cancelled migration's table exists")
		}
	})
}

// SIGKILL during a migration, then run again: nothing applied twice,
// nothing lost, and the history says what happened.
func TestKillDuringMigration(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDB(t, kind)
		dir := writeDir(t, sigFiles(kind, 3))
		c := startHelper(t, d.url, dir)
		waitRunning(t, d, 2)
		_ = c.cmd.Process.Kill()
		c.wait(t)
		r := open(t, d.url, dir, func(o *Options) { o.LockWait = 20 * time.Second })
		_, err := r.Up(ctx, -1, nil)
		if kind == MySQL {
			// MySQL cannot prove what ran: refuse, then repair decides
			var de *DirtyError
			if !errors.As(err, &de) {
				t.Fatalf("want a DirtyError, got %v", err)
			}
			ins, err := r.Repair(ctx, true)
			if err != nil || (ins.Verdict != VerdictBefore && ins.Verdict != VerdictAfter) {
				t.Fatalf("repair: %+v %v", ins, err)
			}
			if _, err := r.Up(ctx, -1, nil); err != nil {
				t.Fatal(err)
			}
		} else if err != nil {
			t.Fatalf("PostgreSQL: the schema is unchanged, the run must recover: %v", err)
		}
		for _, tbl := range []string{"first", "slow", "after_slow"} {
			if !d.tableExists(t, tbl) {
				t.Fatalf("%s missing", tbl)
			}
		}
		got := outcomes(t, r)
		if kind == Postgres && got != "up first applied|up slow interrupted|up slow applied|up after applied" {
			t.Fatalf("history: %s", got)
		}
		if strings.Count(got, "up slow applied")+strings.Count(got, "up slow repaired") != 1 {
			t.Fatalf("history: %s", got)
		}
		rows, _ := r.History(ctx, 0)
		for _, w := range rows {
			if w.Outcome == OutcomeInterrupted && !strings.Contains(w.Error, "stopped during the migration") {
				t.Fatalf("interrupted row does not say what happened: %+v", w)
			}
		}
	})
}
