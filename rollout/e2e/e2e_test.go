// Package e2e runs migsafe rollout as a process against a real nginx in
// front of two instances of the test service, and kills it with SIGKILL
// at every point of a run to check that resume finishes the job.
package e2e

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/rollout/journal"
)

func binaries(t *testing.T) string {
	return testservice.Build(t, "./internal/testservice/testservice", "./cmd/migsafe", "./examples/rollout/demo")
}

type run struct {
	code   int
	events []journal.Event
	stderr string
	killed bool
}

// migsafe runs bin/migsafe with args; onEvent sees each JSON event as it
// is printed (with --format json).
func migsafe(t *testing.T, bin string, env []string, onEvent func(journal.Event), args ...string) run {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "migsafe"), args...)
	cmd.Env = append(os.Environ(), env...)
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
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("{")) {
			continue
		}
		var e journal.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("not an event: %s", line)
		}
		r.events = append(r.events, e)
		if onEvent != nil {
			onEvent(e)
		}
	}
	err = cmd.Wait()
	r.stderr = stderr.String()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		r.killed = ee.String() == "signal: killed"
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// examplePlan is examples/rollout/rollout.yaml pointed at this test's
// nginx, services and migrations, with short bakes; env holds the URL of
// a fresh database, which db opens.
func examplePlan(t *testing.T, bin string, ngx *testservice.Nginx, stable, canary string) (plan string, env []string, db *sql.DB) {
	t.Helper()
	migrations, err := filepath.Abs("../../examples/rollout/migrations")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../examples/rollout/rollout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(
		"/tmp/migsafe-demo", ngx.Prefix,
		"127.0.0.1:18081", stable,
		"127.0.0.1:18082", canary,
		"http://127.0.0.1:18080/", ngx.URL,
		"bake: 1s", "bake: 100ms",
		"path: migrations", "path: "+migrations,
	)
	src := r.Replace(string(data))
	src = strings.Replace(src, "    error_log:", "    nginx: "+ngx.Binary+"\n    error_log:", 1)
	// the gate's probe, where the demo links it
	if err := os.Symlink(filepath.Join(bin, "testservice"), filepath.Join(ngx.Prefix, "testservice")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rollout.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	db, url := newDatabase(t)
	return path, []string{"DEMO_DATABASE_URL=" + url}, db
}

// orderColumns are the columns of the example's orders table.
func orderColumns(t *testing.T, db *sql.DB) string {
	t.Helper()
	var cols string
	err := db.QueryRow(`SELECT coalesce(string_agg(column_name, ',' ORDER BY ordinal_position), '') FROM information_schema.columns WHERE table_name = 'orders'`).Scan(&cols)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func weights(events []journal.Event) []int {
	var w []int
	for _, e := range events {
		if e.Kind == journal.Weight {
			w = append(w, *e.Weight)
		}
	}
	return w
}

func TestGoodVersionIsPromoted(t *testing.T) {
	bin := binaries(t)
	v1 := testservice.StartService(t, bin, "v1", 0)
	v2 := testservice.StartService(t, bin, "v2", 0)
	ngx := testservice.StartNginx(t, v1.Addr)
	plan, env, db := examplePlan(t, bin, ngx, v1.Addr, v2.Addr)
	state := t.TempDir()
	r := migsafe(t, bin, env, nil, "rollout", "start", "-p", plan, "--state-dir", state, "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (promoted)\n%s", r.code, r.stderr)
	}
	// the migrate step applied the example's migrations before traffic moved
	if c := orderColumns(t, db); c != "id,total_cents,created_at,note" {
		t.Errorf("orders has %q after the migrate step", c)
	}
	if got := weights(r.events); !equal(got, []int{1, 5, 25, 100}) {
		t.Errorf("weights %v, want 1 5 25 100", got)
	}
	for _, e := range r.events {
		if e.Kind == journal.GateResult && e.Gate.Phase != "Successful" {
			t.Errorf("gate %+v", e.Gate)
		}
	}
	// measured through nginx: all of 200 requests reach v2
	testservice.WaitShare(t, ngx.URL, "v2", 200, 200, 5*time.Second)
}

func TestBadVersionIsRolledBack(t *testing.T) {
	bin := binaries(t)
	v1 := testservice.StartService(t, bin, "v1", 0)
	v2 := testservice.StartService(t, bin, "v2", 0.2)
	ngx := testservice.StartNginx(t, v1.Addr)
	plan, env, db := examplePlan(t, bin, ngx, v1.Addr, v2.Addr)
	state := t.TempDir()
	// From the moment the rollback is decided, send requests through
	// nginx until a batch of 100 all reach stable.
	stableAfter := make(chan time.Duration, 1)
	r := migsafe(t, bin, env, func(e journal.Event) {
		if e.Kind == journal.RollbackStarted {
			decided := time.Now()
			go func() {
				for time.Since(decided) < 10*time.Second {
					c := testservice.Send(ngx.URL, 100)
					if c.Requests["v1"] == 100 {
						stableAfter <- time.Since(decided)
						return
					}
				}
				stableAfter <- -1
			}()
		}
	}, "rollout", "start", "-p", plan, "--state-dir", state, "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (rolled back)\n%s", r.code, r.stderr)
	}
	if got := weights(r.events); !equal(got, []int{1, 0}) {
		t.Errorf("weights %v, want 1 then 0", got)
	}
	var reason string
	var decided, stable time.Time
	for _, e := range r.events {
		switch {
		case e.Kind == journal.RollbackStarted:
			reason, decided = e.Reason, e.At
		case e.Kind == journal.StepDone && e.Rollback && e.Step == 0:
			stable = e.At
		}
	}
	if !strings.Contains(reason, "step 6: canary-errors: Failed") {
		t.Errorf("rollback reason %q, want the first gate (step 6)", reason)
	}
	// a rollback runs no down migration: the expand migration stays
	if c := orderColumns(t, db); c != "id,total_cents,created_at,note" {
		t.Errorf("orders has %q after the rollback", c)
	}
	measured := <-stableAfter
	if measured < 0 {
		t.Fatal("nginx did not send all traffic to stable within 10s of the decision")
	}
	t.Logf("rollback: decision → route_stable done %s (journal); decision → 100 of 100 requests on stable %s (measured through nginx)", stable.Sub(decided).Round(time.Millisecond), measured.Round(time.Millisecond))
	if measured > 5*time.Second {
		t.Errorf("rollback took %s", measured)
	}
	c := testservice.Send(ngx.URL, 300)
	if c.Requests["v1"] != 300 || c.Errors["v1"] != 0 {
		t.Errorf("after the rollback: %+v", c)
	}
	// status says so
	st := exec.Command(filepath.Join(bin, "migsafe"), "rollout", "status", "-p", plan, "--state-dir", state)
	out, err := st.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(finished): rolled_back") || !strings.Contains(string(out), "canary weight 0%") {
		t.Errorf("status: %v\n%s", err, out)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDocExample: docs/rollout.md shows examples/rollout/rollout.yaml
// whole, so the example the tests run is the one the documentation shows.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rollout.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../examples/rollout/rollout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(example)+"```\n") {
		t.Error("docs/rollout.md does not show examples/rollout/rollout.yaml as it is")
	}
}

// execPlan writes a plan of service web (v1 to v2) whose backend runs
// true for each action, with more (top-level sections) and steps, into a
// temporary folder; it returns the folder and the plan's path.
func execPlan(t *testing.T, more, steps string) (dir, plan string) {
	t.Helper()
	dir = t.TempDir()
	plan = filepath.Join(dir, "rollout.yaml")
	src := "name: web-v2\nservice: web\nrelease: {stable: v1, canary: v2}\n" +
		"backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}\n" + more + "steps:\n" + steps
	if err := os.WriteFile(plan, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, plan
}

// TestExclusiveAndAbortFromAnotherTerminal: while one process drives a
// run, a second start refuses and names it, also when started from
// another working directory (the default state folder is beside the
// plan); abort from another terminal is handed to the driver, which rolls
// back during its bake.
func TestExclusiveAndAbortFromAnotherTerminal(t *testing.T) {
	bin := binaries(t)
	dir, plan := execPlan(t, "", "  - set_weight: 5\n  - bake: 30s\n  - approve\n  - promote\n")
	baking := make(chan string, 1)
	done := make(chan run, 1)
	go func() {
		done <- migsafe(t, bin, nil, func(e journal.Event) {
			if e.Kind == journal.Deadline {
				baking <- e.Name
			}
		}, "rollout", "start", "-p", plan, "--format", "json")
	}()
	select {
	case <-baking:
	case r := <-done:
		t.Fatalf("the first run ended: exit %d\n%s", r.code, r.stderr)
	case <-time.After(20 * time.Second):
		t.Fatal("the first run did not reach its bake")
	}
	second := exec.Command(filepath.Join(bin, "migsafe"), "rollout", "start", "-p", "rollout.yaml")
	second.Dir = dir // another working directory, the plan named relative to it
	out, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "is in progress") || !strings.Contains(string(out), "by pid ") {
		t.Fatalf("second start: %v\n%s", err, out)
	}
	start := time.Now()
	abort := exec.Command(filepath.Join(bin, "migsafe"), "rollout", "abort", "-p", plan, "--reason", "wrong build")
	abort.Dir = t.TempDir()
	out, err = abort.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "abort sent to the process driving the run") {
		t.Fatalf("abort: %v\n%s", err, out)
	}
	r := <-done
	if r.code != 1 {
		t.Fatalf("the run: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the bake was not interrupted: %s", took)
	}
	last := r.events[len(r.events)-1]
	if last.Kind != journal.RolledBack || !strings.HasPrefix(last.Reason, "aborted ") || !strings.Contains(last.Reason, "wrong build") {
		t.Errorf("last event %+v", last)
	}
}

// TestCheckStep: a check step lints the pending migrations with this
// migsafe; a finding fails the step and rolls the run back before any
// traffic moved.
func TestCheckStep(t *testing.T) {
	bin := binaries(t)
	dir := t.TempDir()
	mig := filepath.Join(dir, "migrations")
	if err := os.MkdirAll(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "rollout.yaml")
	src := `name: web-v2
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
steps:
  - check: {args: [` + mig + `]}
  - set_weight: 5
  - approve
  - promote
`
	if err := os.WriteFile(plan, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sql  string
		code int
	}{
		{"CREATE TABLE orders (id bigint PRIMARY KEY);\n", 3},
		{"ALTER TABLE orders DROP COLUMN legacy;\n", 1},
	} {
		if err := os.WriteFile(filepath.Join(mig, "001.sql"), []byte(c.sql), 0o644); err != nil {
			t.Fatal(err)
		}
		r := migsafe(t, bin, nil, nil, "rollout", "start", "-p", plan, "--state-dir", t.TempDir(), "--format", "json")
		if r.code != c.code {
			t.Fatalf("%s: exit %d, want %d\n%s", c.sql, r.code, c.code, r.stderr)
		}
		first := r.events[2]
		if first.Kind != journal.Command || first.Command.Argv[0] != filepath.Join(bin, "migsafe") || first.Command.Argv[1] != "check" {
			t.Errorf("the check ran %+v", first.Command)
		}
		if c.code == 1 && !equal(weights(r.events), []int{0}) {
			t.Errorf("traffic moved before the check passed: %v", weights(r.events))
		}
	}
}

// TestPauseAndPromoteFromAnotherTerminal: while one process drives a run,
// promote from another terminal counts its bake as passed, and pause
// stops it (exit 3, paused); resume then drives the run, and promote from
// a third terminal ends its bake, so it is promoted (exit 0). Every
// request is in the journal with who sent it.
func TestPauseAndPromoteFromAnotherTerminal(t *testing.T) {
	bin := binaries(t)
	_, plan := execPlan(t, "", `  - set_weight: 5
  - bake: 1m
  - set_weight: 50
  - bake: 1m
  - analysis: {exec: ["true"]}
  - promote
`)
	control := func(action string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "migsafe"), "rollout", action, "-p", plan, "--reason", "test "+action)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "USER=oncall")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", action, err, out)
		}
		return string(out)
	}
	// drive runs a command that drives the run, sending on baking the
	// step number of each bake it starts or, resumed, goes on with
	drive := func(baking chan<- int, args ...string) <-chan run {
		done := make(chan run, 1)
		go func() {
			done <- migsafe(t, bin, nil, func(e journal.Event) {
				if e.Kind == journal.Deadline || e.Kind == journal.Unpaused {
					baking <- e.Step
				}
			}, append(args, "-p", plan, "--format", "json")...)
		}()
		return done
	}
	waitBake := func(baking <-chan int, done <-chan run, step int) {
		t.Helper()
		select {
		case s := <-baking:
			if s != step {
				t.Fatalf("baking step %d, want %d", s, step)
			}
		case r := <-done:
			t.Fatalf("the run ended: exit %d\n%s", r.code, r.stderr)
		case <-time.After(20 * time.Second):
			t.Fatalf("no bake of step %d", step)
		}
	}
	start := time.Now()
	baking := make(chan int, 4)
	done := drive(baking, "rollout", "start")
	waitBake(baking, done, 1)
	if out := control("promote"); !strings.Contains(out, "promote sent to the process driving the run") {
		t.Fatalf("promote: %s", out)
	}
	waitBake(baking, done, 3) // the first bake counted as passed: 50%
	if out := control("pause"); !strings.Contains(out, "pause sent to the process driving the run") {
		t.Fatalf("pause: %s", out)
	}
	r := <-done
	if r.code != 3 {
		t.Fatalf("paused run: exit %d, want 3\n%s", r.code, r.stderr)
	}
	if last := r.events[len(r.events)-1]; last.Kind != journal.Paused || !strings.Contains(last.Reason, "paused by oncall: test pause") {
		t.Errorf("last event %+v", last)
	}
	// resume drives it again: the bake goes on (its deadline is absolute)
	baking2 := make(chan int, 4)
	done = drive(baking2, "rollout", "resume")
	waitBake(baking2, done, 3)
	control("promote")
	r = <-done
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the bakes were not cut short: %s", took)
	}
	var got []string
	for _, e := range r.events {
		if e.Kind == journal.StepDone && strings.HasPrefix(e.Reason, "promoted by oncall") {
			got = append(got, e.Name)
		}
	}
	if len(got) != 1 || got[0] != "bake 1m0s" {
		t.Errorf("steps promoted in the resumed run: %v", got)
	}
	st := exec.Command(filepath.Join(bin, "migsafe"), "rollout", "status", "-p", plan)
	out, err := st.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "promoted") {
		t.Errorf("status: %v\n%s", err, out)
	}
}
