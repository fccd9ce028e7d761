package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/rollout/journal"
)

// world is one backend under crash test.
type world struct {
	plan  string
	env   []string
	reset func()
	// check the world after the run finished
	check func(t *testing.T, good bool)
}

const crashSteps = `steps:
  - deploy
  - set_weight: 1
  - bake: 50ms
  - analysis
  - exec: {argv: [%[1]s, mark, %[2]s, migrated], check: [%[1]s, has, %[2]s, migrated]}
  - set_weight: 50
  - analysis
  - promote
rollback:
  - route_stable
  - undo
  - exec: {argv: [%[1]s, mark, %[2]s, paged], check: [%[1]s, has, %[2]s, paged]}
`

// crashAll runs the plan once to count its events, then for every event
// n kills the runner with SIGKILL right after writing event n, resumes
// (with start and with resume, alternately) and checks that the run ends
// as an uninterrupted one does: every step done once and in order,
// nothing skipped, every action with an effect exactly once (marks) or
// idempotent (weights, guarded kubectl), a rollback finished.
func crashAll(t *testing.T, bin string, w world, good bool, marks, gateFile string) {
	if good {
		os.WriteFile(gateFile, []byte("pass\n"), 0o644)
	} else {
		os.WriteFile(gateFile, nil, 0o644)
	}
	run := func(n int) (first, last run, events []journal.Event) {
		w.reset()
		os.Remove(marks)
		state := t.TempDir()
		env := w.env
		if n > 0 {
			env = append(env, fmt.Sprintf("MIGSAFE_ROLLOUT_CRASH_AT_SEQ=%d", n))
		}
		first = migsafe(t, bin, env, nil, "rollout", "start", "-p", w.plan, "--state-dir", state, "--format", "json")
		last = first
		for i := 0; last.killed && i < 5; i++ {
			cmd := "start"
			if n%2 == 1 {
				cmd = "resume"
			}
			last = migsafe(t, bin, w.env, nil, "rollout", cmd, "-p", w.plan, "--state-dir", state, "--format", "json")
		}
		names, _ := filepath.Glob(filepath.Join(state, "*", "runs", "*.jsonl"))
		for _, name := range names {
			if strings.HasSuffix(name, ".control.jsonl") {
				continue
			}
			s := &journal.Store{Dir: filepath.Dir(filepath.Dir(name))}
			events, _ = s.ReadEvents(strings.TrimSuffix(filepath.Base(name), ".jsonl"))
		}
		return first, last, events
	}
	_, clean, events := run(0)
	total := len(events)
	wantCode := 0
	if !good {
		wantCode = 1
	}
	if clean.code != wantCode || total < 10 {
		t.Fatalf("clean run: exit %d, %d events\n%s", clean.code, total, clean.stderr)
	}
	for n := 1; n <= total; n++ {
		first, last, events := run(n)
		if !first.killed {
			t.Fatalf("crash at event %d: the runner was not killed (exit %d)", n, first.code)
		}
		if last.code != wantCode {
			t.Fatalf("crash at event %d (%s): resumed run exit %d, want %d\n%s", n, kindAt(events, n), last.code, wantCode, last.stderr)
		}
		done := map[string]int{}
		var order []string
		rollbacks := 0
		for _, e := range events {
			switch e.Kind {
			case journal.StepDone:
				key := fmt.Sprintf("%v/%d", e.Rollback, e.Step)
				done[key]++
				order = append(order, key)
			case journal.RollbackStarted:
				rollbacks++
			}
		}
		want := []string{"false/0", "false/1", "false/2", "false/3", "false/4", "false/5", "false/6", "false/7"}
		if !good {
			want = []string{"false/0", "false/1", "false/2", "true/0", "true/1", "true/2"}
		}
		if strings.Join(order, " ") != strings.Join(want, " ") {
			t.Errorf("crash at event %d (%s): steps done %v, want %v", n, kindAt(events, n), order, want)
		}
		if !good && rollbacks != 1 {
			t.Errorf("crash at event %d: %d rollback decisions", n, rollbacks)
		}
		data, _ := os.ReadFile(marks)
		wantMarks := "migrated\n"
		if !good {
			wantMarks = "paged\n"
		}
		if string(data) != wantMarks {
			t.Errorf("crash at event %d (%s): side effects %q, want %q (exactly once)", n, kindAt(events, n), data, wantMarks)
		}
		w.check(t, good)
	}
	t.Logf("%d crash points, each resumed to the same end", total)
}

func kindAt(events []journal.Event, n int) string {
	for _, e := range events {
		if e.Seq == n {
			s := e.Kind
			if e.Command != nil {
				s += " " + strings.Join(e.Command.Argv, " ")
			}
			if e.Name != "" {
				s += " of " + e.Name
			}
			return s
		}
	}
	return "?"
}

func TestCrashNginx(t *testing.T) {
	bin := binaries(t)
	v1 := testservice.StartService(t, bin, "v1", 0)
	v2 := testservice.StartService(t, bin, "v2", 0)
	ngx := testservice.StartNginx(t, v1.Addr)
	dir := t.TempDir()
	marks, gateFile := filepath.Join(dir, "marks"), filepath.Join(dir, "gate")
	ts := filepath.Join(bin, "testservice")
	src := fmt.Sprintf(`name: crash
service: web
release: {stable: v1, canary: v2}
backend:
  preset: nginx
  vars: {upstream_file: %s, stable: "%s", canary: "%s", prefix: %s, conf: %s, nginx: %s, error_log: %s}
analysis: {exec: [%s, has, %s, pass]}
`, ngx.Upstream, v1.Addr, v2.Addr, ngx.Prefix, ngx.Conf, ngx.Binary, filepath.Join(ngx.Prefix, "error.log"), ts, gateFile) +
		fmt.Sprintf(crashSteps, ts, marks)
	plan := filepath.Join(dir, "rollout.yaml")
	os.WriteFile(plan, []byte(src), 0o644)
	initial, _ := os.ReadFile(ngx.Upstream)
	w := world{plan: plan,
		reset: func() { os.WriteFile(ngx.Upstream, initial, 0o644) },
		check: func(t *testing.T, good bool) {
			data, _ := os.ReadFile(ngx.Upstream)
			up := string(data)
			if good && (strings.Contains(up, v1.Addr) || !strings.Contains(up, v2.Addr+" weight=100")) {
				t.Errorf("promoted, but the upstream is\n%s", up)
			}
			if !good && (strings.Contains(up, v2.Addr) || !strings.Contains(up, v1.Addr+" weight=100")) {
				t.Errorf("rolled back, but the upstream is\n%s", up)
			}
		}}
	for _, good := range []bool{true, false} {
		t.Run(fmt.Sprint("good=", good), func(t *testing.T) { crashAll(t, bin, w, good, marks, gateFile) })
	}
	// and nginx serves what the file says
	testservice.WaitShare(t, ngx.URL, "v2", 100, 0, 5*time.Second)
}
