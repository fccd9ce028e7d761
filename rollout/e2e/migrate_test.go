package e2e

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/migsafe/migsafe/rollout/journal"
)

// The rollout's check and migrate steps on a real PostgreSQL: the plan's
// migrations section, the database URL from the environment, the lint
// gate, the expand phase, and kill -9 during the migrate step.

const (
	createOrders = "CREATE TABLE orders (id bigint PRIMARY KEY, legacy text);\n"
	addNote      = "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n"
	dropLegacy   = "SET lock_timeout = '5s';\n-- migsafe:ignore drop-column the test's contract step: the expand phase must stop before it\nALTER TABLE orders DROP COLUMN legacy;\n"
)

// dbWorld is a folder with migrations and a plan on the exec backend
// (weights change nothing but the journal), and a database.
type dbWorld struct {
	dir, plan, state string
	db               *sql.DB
	env              []string
}

func newDBWorld(t *testing.T, steps string, files map[string]string) dbWorld {
	t.Helper()
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
	src := `name: shop-v2
service: shop
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
migrations: {path: migrations, database_env: SHOP_DATABASE_URL, lock_wait: 20s, statement_timeout: 30s}
analysis: {exec: [true]}
steps:
` + steps
	plan := filepath.Join(dir, "rollout.yaml")
	if err := os.WriteFile(plan, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	db, url := newDatabase(t)
	return dbWorld{dir: dir, plan: plan, state: filepath.Join(dir, "state"), db: db, env: []string{"SHOP_DATABASE_URL=" + url}}
}

// journalTable turns on the plan's copy of the journal in the database
// (migrations.journal_table: migsafe_rollout_journal).
func (w dbWorld) journalTable(t *testing.T) {
	t.Helper()
	w.editPlan(t, "statement_timeout: 30s}", "statement_timeout: 30s, journal_table: migsafe_rollout_journal}")
}

// editPlan replaces the first old in the plan with new.
func (w dbWorld) editPlan(t *testing.T, old, new string) {
	t.Helper()
	src, err := os.ReadFile(w.plan)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(old)) {
		t.Fatalf("the plan has no %q", old)
	}
	if err := os.WriteFile(w.plan, bytes.Replace(src, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (w dbWorld) start(t *testing.T, bin string, extraEnv ...string) run {
	t.Helper()
	r := migsafe(t, bin, append(append([]string{}, w.env...), extraEnv...), nil, "rollout", "start", "-p", w.plan, "--state-dir", w.state, "--format", "json")
	w.noSecret(t, r)
	return r
}

// noSecret: the database password is in no output and no journal.
func (w dbWorld) noSecret(t *testing.T, r run) {
	t.Helper()
	var out bytes.Buffer
	for _, e := range r.events {
		data, _ := json.Marshal(e)
		out.Write(data)
	}
	out.WriteString(r.stderr)
	files, _ := filepath.Glob(filepath.Join(w.state, "*", "runs", "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		out.Write(data)
	}
	if strings.Contains(out.String(), dbPassword) {
		t.Errorf("the database password reached the output or the journal")
	}
}

func (w dbWorld) columns(t *testing.T) string {
	t.Helper()
	rows, err := w.db.Query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, ",")
}

// applied is how many times migsafe_history says each version was applied.
func (w dbWorld) applied(t *testing.T) map[int64]int {
	t.Helper()
	rows, err := w.db.Query(`SELECT version, count(*) FROM migsafe_history WHERE direction = 'up' AND outcome = 'applied' GROUP BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]int{}
	for rows.Next() {
		var v int64
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		got[v] = n
	}
	return got
}

func (w dbWorld) version(t *testing.T) (int64, bool) {
	t.Helper()
	var v int64
	var dirty bool
	if err := w.db.QueryRow(`SELECT version, dirty FROM schema_migrations`).Scan(&v, &dirty); err != nil {
		t.Fatal(err)
	}
	return v, dirty
}

func migrationLines(events []journal.Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind == journal.Migration {
			out = append(out, e.Reason)
		}
	}
	return out
}

func doneOf(events []journal.Event, name string) *journal.Event {
	for i := range events {
		if events[i].Kind == journal.StepDone && !events[i].Rollback && strings.HasPrefix(events[i].Name, name) {
			return &events[i]
		}
	}
	return nil
}

// TestMigrateStepExpandThenPromote: the check step lints the pending
// migrations, the migrate step applies the expand ones and stops before
// the contract one, then traffic moves and the canary is promoted.
func TestMigrateStepExpandThenPromote(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - check\n  - migrate\n  - set_weight: 5\n  - analysis\n  - promote\n", map[string]string{
		"1_create_orders.up.sql": createOrders, "1_create_orders.down.sql": "DROP TABLE orders;\n",
		"2_add_note.up.sql": addNote, "2_add_note.down.sql": "SET lock_timeout = '5s';\nALTER TABLE orders DROP COLUMN note;\n",
		"3_drop_legacy.up.sql": dropLegacy, "3_drop_legacy.down.sql": "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN legacy text;\n",
	})
	r := w.start(t, bin)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stderr, dump(r.events))
	}
	check := doneOf(r.events, "check")
	if check == nil || !strings.Contains(check.Reason, "3 pending migration(s) linted") {
		t.Errorf("check step: %+v", check)
	}
	mig := doneOf(r.events, "migrate")
	if mig == nil || !strings.Contains(mig.Reason, "version none → 2, 2 migration(s) applied") || !strings.Contains(mig.Reason, "stops before 3_drop_legacy") {
		t.Fatalf("migrate step: %+v", mig)
	}
	lines := strings.Join(migrationLines(r.events), "\n")
	for _, want := range []string{"3_drop_legacy is a contract step", "up 1_create_orders: started", "up 1_create_orders: applied", "up 2_add_note: applied"} {
		if !strings.Contains(lines, want) {
			t.Errorf("journal lacks %q:\n%s", want, lines)
		}
	}
	// the migration came before any traffic moved
	for _, e := range r.events {
		if e.Kind == journal.Weight && *e.Weight > 0 && e.Seq < mig.Seq {
			t.Errorf("traffic moved (seq %d) before the migrate step was done (seq %d)", e.Seq, mig.Seq)
		}
	}
	if got := weights(r.events); !equal(got, []int{5, 100}) {
		t.Errorf("weights %v", got)
	}
	if c := w.columns(t); c != "id,legacy,note" {
		t.Errorf("orders has %s, want id,legacy,note (the contract step is not applied)", c)
	}
	if v, dirty := w.version(t); v != 2 || dirty {
		t.Errorf("version %d dirty %v", v, dirty)
	}
	var runID string
	if err := w.db.QueryRow(`SELECT DISTINCT run_id FROM migsafe_history WHERE outcome = 'applied'`).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	if want := r.events[0].RunID + "-step2"; runID != want {
		t.Errorf("history run id %q, want %q", runID, want)
	}
	// a second run of the plan has nothing to apply
	r = w.start(t, bin)
	if mig := doneOf(r.events, "migrate"); r.code != 0 || mig == nil || !strings.Contains(mig.Reason, "0 migration(s) applied") {
		t.Errorf("second run: exit %d, %+v", r.code, mig)
	}
	if got := w.applied(t); got[1] != 1 || got[2] != 1 || got[3] != 0 {
		t.Errorf("applied %v", got)
	}
}

// TestLintGateRefusesBeforeTraffic: a pending migration with an error
// finding fails the migrate step (its lint gate) or the check step, before
// anything is applied or any traffic moves; the run rolls back (exit 1).
func TestLintGateRefusesBeforeTraffic(t *testing.T) {
	bin := binaries(t)
	for _, steps := range []string{"  - migrate\n", "  - check\n  - migrate\n"} {
		first := strings.Fields(steps)[1]
		t.Run(first, func(t *testing.T) {
			w := newDBWorld(t, steps+"  - set_weight: 5\n  - analysis\n  - promote\n", map[string]string{
				"1_create_orders.up.sql": createOrders,
				"2_index.up.sql":         "CREATE INDEX orders_legacy ON orders (legacy);\n",
			})
			r := w.start(t, bin)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (rolled back)\n%s", r.code, r.stderr)
			}
			var failed *journal.Event
			for i := range r.events {
				if r.events[i].Kind == journal.StepFailed {
					failed = &r.events[i]
					break
				}
			}
			if failed == nil || !strings.HasPrefix(failed.Name, first) || !strings.Contains(failed.Reason, "the lint gate refuses") || !strings.Contains(failed.Reason, "non-concurrent-index") {
				t.Fatalf("failed step: %+v", failed)
			}
			if got := weights(r.events); !equal(got, []int{0}) {
				t.Errorf("weights %v: traffic moved", got)
			}
			if c := w.columns(t); c != "" {
				t.Errorf("migration 1 was applied (orders has %s): the gate refuses the whole run", c)
			}
		})
	}
}

// TestMigrateStepCrash: the runner is killed with SIGKILL at each point of
// the migrate step (its intent journaled and nothing done; a history row
// written and golang-migrate not started; inside a migration's
// statement; right after a migration committed), then started again: the
// run ends promoted and every migration is applied exactly once.
func TestMigrateStepCrash(t *testing.T) {
	bin := binaries(t)
	files := map[string]string{
		"1_create_orders.up.sql": createOrders, "1_create_orders.down.sql": "DROP TABLE orders;\n",
		"2_add_note.up.sql": "SELECT pg_sleep(0.6);\n" + addNote, "2_add_note.down.sql": "SET lock_timeout = '5s';\nALTER TABLE orders DROP COLUMN note;\n",
	}
	steps := "  - migrate\n  - set_weight: 5\n  - analysis\n  - promote\n"
	// an uninterrupted run gives the events' numbers
	ref := newDBWorld(t, steps, files)
	r := ref.start(t, bin)
	if r.code != 0 {
		t.Fatalf("reference run: exit %d\n%s", r.code, r.stderr)
	}
	seqOf := func(match func(journal.Event) bool) int {
		for _, e := range r.events {
			if match(e) {
				return e.Seq
			}
		}
		t.Fatal("no such event in the reference run")
		return 0
	}
	line := func(s string) func(journal.Event) bool {
		return func(e journal.Event) bool { return e.Kind == journal.Migration && strings.Contains(e.Reason, s) }
	}
	points := []struct {
		name   string
		seq    int
		inside bool // killed from outside 250ms into migration 2
	}{
		{"after the intent", seqOf(func(e journal.Event) bool { return e.Kind == journal.StepIntent && e.Step == 0 }), false},
		{"after migration 1 committed", seqOf(line("up 1_create_orders: applied")), false},
		{"before migration 2 ran", seqOf(line("up 2_add_note: started")), false},
		{"inside migration 2", 0, true},
	}
	for _, p := range points {
		t.Run(strings.ReplaceAll(p.name, " ", "_"), func(t *testing.T) {
			w := newDBWorld(t, steps, files)
			var first run
			if p.inside {
				first = w.startKilledInside(t, bin, "up 2_add_note: started", 250*time.Millisecond)
			} else {
				first = w.start(t, bin, "MIGSAFE_ROLLOUT_CRASH_AT_SEQ="+strconv.Itoa(p.seq))
			}
			if !first.killed {
				t.Fatalf("the runner was not killed: exit %d\n%s", first.code, first.stderr)
			}
			again := w.start(t, bin)
			if again.code != 0 {
				t.Fatalf("resumed run: exit %d\n%s", again.code, again.stderr)
			}
			if got := w.applied(t); got[1] != 1 || got[2] != 1 {
				t.Errorf("applied %v, want each version once", got)
			}
			if v, dirty := w.version(t); v != 2 || dirty {
				t.Errorf("version %d dirty %v", v, dirty)
			}
			if c := w.columns(t); c != "id,legacy,note" {
				t.Errorf("orders has %s", c)
			}
			if got := weights(again.events); !equal(got, []int{5, 100}) {
				t.Errorf("weights after resume %v", got)
			}
			t.Logf("resumed: %s", strings.Join(migrationLines(again.events), " | "))
		})
	}
}

// startKilledInside starts the run and kills it with SIGKILL delay after
// a journal line containing marker is printed.
func (w dbWorld) startKilledInside(t *testing.T, bin, marker string, delay time.Duration) run {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "migsafe"), "rollout", "start", "-p", w.plan, "--state-dir", w.state, "--format", "json")
	cmd.Env = append(os.Environ(), w.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var r run
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e journal.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		r.events = append(r.events, e)
		if e.Kind == journal.Migration && strings.Contains(e.Reason, marker) {
			time.AfterFunc(delay, func() { _ = cmd.Process.Kill() })
		}
	}
	err = cmd.Wait()
	r.stderr = stderr.String()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		r.killed = ee.String() == "signal: killed"
	}
	w.noSecret(t, r)
	return r
}

func dump(events []journal.Event) string {
	var b strings.Builder
	for _, e := range events {
		data, _ := json.Marshal(e)
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestJournalTable: with migrations.journal_table every journal event is
// copied to the database, once, also across a kill -9 and a resume; a
// second machine (another state folder, no local journal) reads the run
// with status --from-database.
func TestJournalTable(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - migrate\n  - set_weight: 5\n  - approve\n  - promote\n", map[string]string{
		"1_create_orders.up.sql": createOrders, "1_create_orders.down.sql": "DROP TABLE orders;\n",
	})
	w.journalTable(t)
	elsewhere := func(t *testing.T) map[string]any {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "migsafe"), "rollout", "status", "--from-database", "-p", w.plan, "--state-dir", t.TempDir(), "--format", "json")
		cmd.Env = append(os.Environ(), w.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("status --from-database: %v\n%s", err, out)
		}
		if bytes.Contains(out, []byte(dbPassword)) {
			t.Error("status shows the database password")
		}
		var rep map[string]any
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	status := func(rep map[string]any) string { return rep["state"].(map[string]any)["status"].(string) }

	first := w.start(t, bin, "MIGSAFE_ROLLOUT_CRASH_AT_SEQ=6")
	if !first.killed {
		t.Fatalf("not killed: exit %d\n%s", first.code, first.stderr)
	}
	if rep := elsewhere(t); status(rep) != "running" || rep["active"] != true {
		t.Errorf("after the kill, the other machine sees %v active %v", status(rep), rep["active"])
	}
	if r := w.start(t, bin); r.code != 3 {
		t.Fatalf("resumed run: exit %d, want 3 (approve)\n%s", r.code, r.stderr)
	}
	if rep := elsewhere(t); status(rep) != "paused" {
		t.Errorf("at the approve step, the other machine sees %v", status(rep))
	}
	r := migsafe(t, bin, w.env, nil, "rollout", "resume", "-p", w.plan, "--state-dir", w.state, "--format", "json")
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	rep := elsewhere(t)
	if status(rep) != "promoted" || rep["active"] != false {
		t.Errorf("after the promotion, the other machine sees %v active %v", status(rep), rep["active"])
	}
	// the copy is the local journal, event for event
	runID := rep["state"].(map[string]any)["run_id"].(string)
	local, err := os.ReadFile(filepath.Join(w.state, "shop", "runs", runID+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(local, []byte("\n"))
	var n, maxSeq int
	var leaked bool
	if err := w.db.QueryRow(`SELECT count(*), max(seq), bool_or(event::text LIKE '%' || $1 || '%') FROM migsafe_rollout_journal WHERE run_id = $2`, dbPassword, runID).Scan(&n, &maxSeq, &leaked); err != nil {
		t.Fatal(err)
	}
	if n != lines || maxSeq != lines || leaked {
		t.Errorf("journal table: %d events up to seq %d (password: %v); the local journal has %d", n, maxSeq, leaked, lines)
	}
}

// TestMigrateStepStatementTimeout: the plan's statement_timeout bounds
// each statement of the migrate step; a migration past it fails the step,
// nothing of it is applied, and the run rolls back before traffic moves.
func TestMigrateStepStatementTimeout(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - migrate\n  - set_weight: 5\n  - approve\n  - promote\n", map[string]string{
		"1_create_orders.up.sql": createOrders + "SELECT pg_sleep(5);\n",
	})
	w.editPlan(t, "statement_timeout: 30s", "statement_timeout: 300ms")
	began := time.Now()
	r := w.start(t, bin)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (rolled back)\n%s", r.code, r.stderr)
	}
	if took := time.Since(began); took > 4*time.Second {
		t.Errorf("the run took %s: the statement timeout did not stop pg_sleep(5)", took)
	}
	var failed string
	for _, e := range r.events {
		if e.Kind == journal.StepFailed {
			failed = e.Reason
		}
	}
	if !strings.Contains(failed, "statement timeout") && !strings.Contains(failed, "statement_timeout") {
		t.Errorf("the step failed with %q", failed)
	}
	if got := weights(r.events); !equal(got, []int{0}) {
		t.Errorf("weights %v", got)
	}
	if c := w.columns(t); c != "" {
		t.Errorf("orders exists (%s): the migration's transaction was not rolled back", c)
	}
}

// TestJournalTableDatabaseDown: with the copy of the journal on and a
// database that accepts connections but never answers, a failed gate
// still sends all traffic back to stable at once; the run ends within
// the final flush of the copy, and says what was not copied.
func TestJournalTableDatabaseDown(t *testing.T) {
	bin := binaries(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	dir, plan := execPlan(t, "migrations: {path: migrations, database_env: DOWN_DATABASE_URL, journal_table: migsafe_rollout_journal}\n", `  - set_weight: 5
  - analysis:
      name: canary-errors
      metrics:
        - name: errors
          provider: {exec: {argv: ["false"]}}
  - promote
`)
	if err := os.MkdirAll(filepath.Join(dir, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"DOWN_DATABASE_URL=postgres://u:secret@" + ln.Addr().String() + "/db?sslmode=disable&connect_timeout=30"}
	start := time.Now()
	r := migsafe(t, bin, env, nil, "rollout", "start", "-p", plan, "--state-dir", filepath.Join(dir, "state"), "--format", "json")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (rolled back)\n%s", r.code, r.stderr)
	}
	var decided, stable time.Time
	for _, e := range r.events {
		switch {
		case e.Kind == journal.RollbackStarted:
			decided = e.At
		case e.Kind == journal.StepDone && e.Rollback && e.Step == 0:
			stable = e.At
		}
	}
	t.Logf("database not answering: decision → stable %s, whole run %s", stable.Sub(decided).Round(time.Millisecond), took.Round(time.Millisecond))
	if back := stable.Sub(decided); decided.IsZero() || back > time.Second {
		t.Errorf("decision → stable took %s", back)
	}
	if took > 15*time.Second {
		t.Errorf("the run took %s", took)
	}
	// the lock could not be taken either: said, and the run went on
	if !strings.Contains(r.stderr, "the run goes on with this machine's lock only") {
		t.Errorf("the lock's failure is not said: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "are not in the database's copy") || strings.Contains(r.stderr, "secret") {
		t.Errorf("stderr %s", r.stderr)
	}
}

// TestJournalTableLocksAcrossMachines: with the journal copied to the
// target database, a run holds the service's advisory lock there, so a
// runner with another state folder (another machine) is refused, naming
// the first; once the first run ended, the lock is free again.
func TestJournalTableLocksAcrossMachines(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - set_weight: 5\n  - bake: 30s\n  - analysis\n  - promote\n", nil)
	w.journalTable(t)
	baking := make(chan bool, 1)
	done := make(chan run, 1)
	go func() {
		done <- migsafe(t, bin, w.env, func(e journal.Event) {
			if e.Kind == journal.Deadline {
				baking <- true
			}
		}, "rollout", "start", "-p", w.plan, "--state-dir", w.state, "--format", "json")
	}()
	select {
	case <-baking:
	case r := <-done:
		t.Fatalf("the first run ended: exit %d\n%s", r.code, r.stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("the first run did not reach its bake")
	}
	other := filepath.Join(t.TempDir(), "other-machine")
	r := migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", other)
	if r.code != 2 || !strings.Contains(r.stderr, "a run is in progress elsewhere") || !strings.Contains(r.stderr, "migsafe rollout shop (pid ") {
		t.Fatalf("second machine: exit %d\n%s", r.code, r.stderr)
	}
	w.noSecret(t, r)
	abort := migsafe(t, bin, w.env, nil, "rollout", "abort", "-p", w.plan, "--state-dir", w.state)
	if abort.code != 0 {
		t.Fatalf("abort: exit %d\n%s", abort.code, abort.stderr)
	}
	if first := <-done; first.code != 1 {
		t.Fatalf("the first run: exit %d, want 1 (aborted)\n%s", first.code, first.stderr)
	}
	// the lock went with the first run
	var held int
	if err := w.db.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`).Scan(&held); err != nil || held != 0 {
		t.Errorf("after the first run ended: %d advisory locks held (%v)", held, err)
	}
}

// TestJournalTableUnfinishedRunElsewhere: with the journal copied to the
// target database, a run paused on one machine (no process drives it)
// still keeps another machine from starting a second run, which is
// refused naming it; that machine may resume it with its own state
// folder; --replace RUN starts over it when its machine is gone.
func TestJournalTableUnfinishedRunElsewhere(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - set_weight: 5\n  - analysis\n  - approve\n  - promote\n", nil)
	w.journalTable(t)
	first := w.start(t, bin)
	if first.code != 3 {
		t.Fatalf("first machine: exit %d, want 3 (approve)\n%s", first.code, first.stderr)
	}
	firstID := first.events[0].RunID
	other := filepath.Join(t.TempDir(), "other-machine")
	r := migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", other)
	if r.code != 2 || !strings.Contains(r.stderr, "run "+firstID+" is unfinished in the journal table") || !strings.Contains(r.stderr, "--replace "+firstID) {
		t.Fatalf("second machine: exit %d\n%s", r.code, r.stderr)
	}
	// the first machine resumes its own run without the database's say
	if r := migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", w.state); r.code != 3 {
		t.Fatalf("first machine again: exit %d\n%s", r.code, r.stderr)
	}
	// the first machine is gone: the second replaces its run
	r = migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", other, "--replace", firstID, "--format", "json")
	if r.code != 3 {
		t.Fatalf("--replace: exit %d\n%s", r.code, r.stderr)
	}
	var warned bool
	for _, e := range r.events {
		warned = warned || (e.Kind == journal.Warning && strings.Contains(e.Reason, "replaces run "+firstID))
	}
	if !warned || r.events[0].RunID == firstID {
		t.Errorf("the new run does not say what it replaced: %+v", r.events)
	}
	var newest string
	if err := w.db.QueryRow(`SELECT run_id FROM migsafe_rollout_journal WHERE seq = 1 ORDER BY at DESC LIMIT 1`).Scan(&newest); err != nil || newest != r.events[0].RunID {
		t.Errorf("newest run in the table %q (%v), want %s", newest, err, r.events[0].RunID)
	}
}

// TestJournalTableEndCopiedLate: a run whose last events did not reach
// the journal table (the database was down as it ended) looks unfinished
// there: another machine is refused, but the machine whose state folder
// holds the run copies its end and starts the next run.
func TestJournalTableEndCopiedLate(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - set_weight: 5\n  - analysis\n  - promote\n", nil)
	w.journalTable(t)
	first := w.start(t, bin)
	if first.code != 0 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	firstID := first.events[0].RunID
	// the database missed the run's end
	if _, err := w.db.Exec(`DELETE FROM migsafe_rollout_journal WHERE run_id = $1 AND seq > (SELECT max(seq) - 3 FROM migsafe_rollout_journal WHERE run_id = $1)`, firstID); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other-machine")
	if r := migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", other); r.code != 2 || !strings.Contains(r.stderr, "run "+firstID+" is unfinished") {
		t.Fatalf("another machine: exit %d\n%s", r.code, r.stderr)
	}
	second := w.start(t, bin)
	if second.code != 0 || second.events[0].RunID == firstID {
		t.Fatalf("the same machine: exit %d\n%s", second.code, second.stderr)
	}
	var ended bool
	if err := w.db.QueryRow(`SELECT bool_or(kind = 'promoted') FROM migsafe_rollout_journal WHERE run_id = $1`, firstID).Scan(&ended); err != nil || !ended {
		t.Errorf("the first run's end is not in the table (%v)", err)
	}
}

// TestJournalTableNewestByDatabaseTime: the newest run in the journal
// table is the one whose first event the database received last, not the
// one whose machine's clock says so: a finished run from a machine whose
// clock is an hour ahead does not hide a run paused since on another.
func TestJournalTableNewestByDatabaseTime(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - set_weight: 5\n  - analysis\n  - approve\n  - promote\n", nil)
	w.journalTable(t)
	if r := w.start(t, bin); r.code != 3 {
		t.Fatalf("machine 1: exit %d\n%s", r.code, r.stderr)
	}
	if r := migsafe(t, bin, w.env, nil, "rollout", "resume", "-p", w.plan, "--state-dir", w.state); r.code != 0 {
		t.Fatalf("machine 1 resume: exit %d\n%s", r.code, r.stderr)
	}
	// machine 1's clock was an hour ahead
	if _, err := w.db.Exec(`UPDATE migsafe_rollout_journal SET at = at + interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	two := filepath.Join(t.TempDir(), "machine-2")
	r := migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", two, "--format", "json")
	if r.code != 3 {
		t.Fatalf("machine 2: exit %d\n%s", r.code, r.stderr)
	}
	paused := r.events[0].RunID
	three := filepath.Join(t.TempDir(), "machine-3")
	r = migsafe(t, bin, w.env, nil, "rollout", "start", "-p", w.plan, "--state-dir", three)
	if r.code != 2 || !strings.Contains(r.stderr, "run "+paused+" is unfinished") {
		t.Fatalf("machine 3: exit %d, want 2 naming %s\n%s", r.code, paused, r.stderr)
	}
}

// TestJournalTableWithoutCreateRight: a database user that may only read
// and write the existing journal table (no CREATE on its schema) gets the
// cross-machine check and the copy, not a warning that skips them.
func TestJournalTableWithoutCreateRight(t *testing.T) {
	bin := binaries(t)
	w := newDBWorld(t, "  - set_weight: 5\n  - analysis\n  - approve\n  - promote\n", nil)
	w.journalTable(t)
	if r := w.start(t, bin); r.code != 3 { // creates the table, as the owner
		t.Fatalf("owner: exit %d\n%s", r.code, r.stderr)
	}
	role := fmt.Sprintf("limited_%d", time.Now().UnixNano())
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
		"GRANT SELECT, INSERT ON migsafe_rollout_journal TO " + role,
	} {
		if _, err := w.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = w.db.Exec("REVOKE ALL ON migsafe_rollout_journal FROM " + role)
		_, _ = w.db.Exec("DROP ROLE " + role)
	})
	env := []string{strings.Replace(w.env[0], "://postgres:", "://"+role+":", 1)}
	r := migsafe(t, bin, env, nil, "rollout", "start", "-p", w.plan, "--state-dir", filepath.Join(t.TempDir(), "other-machine"))
	if r.code != 2 || !strings.Contains(r.stderr, "is unfinished in the journal table") || strings.Contains(r.stderr, "warning") {
		t.Fatalf("limited user: exit %d, want 2 (the owner's run is unfinished)\n%s", r.code, r.stderr)
	}
}
