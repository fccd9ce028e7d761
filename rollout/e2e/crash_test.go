package e2e

import (
	"encoding/json"
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
	check func(t *testing.T, good bool, where string)
	// commands is the file every command of the run (nginx, kubectl, the
	// exec steps, checks and gates) appends its argv to; the crash tests
	// kill the runner inside each of them, after its effect
	// (testservice.CommandLog, $MIGSAFE_TEST_KILL_AT)
	commands string
}

const crashSteps = `steps:
  - deploy
  - set_weight: 1
  - bake: 50ms
  - analysis
  - exec: {argv: [%[1]s, mark, %[2]s, migrated], check: [%[1]s, has, %[2]s, migrated]}
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
	verdict := []byte("pass\n")
	if !good {
		verdict = nil
	}
	if err := os.WriteFile(gateFile, verdict, 0o644); err != nil {
		t.Fatal(err)
	}
	runs := 0
	run := func(crash string) (first, last run, events []journal.Event) {
		w.reset()
		os.Remove(marks)
		os.Remove(w.commands)
		state := t.TempDir()
		env := append([]string{"MIGSAFE_TEST_COMMANDS=" + w.commands}, w.env...)
		if crash != "" {
			env = append(append([]string{}, env...), crash)
		}
		runs++
		first = migsafe(t, bin, env, nil, "rollout", "start", "-p", w.plan, "--state-dir", state, "--format", "json")
		last = first
		for i := 0; last.killed && i < 5; i++ {
			cmd := "start"
			if runs%2 == 1 {
				cmd = "resume"
			}
			last = migsafe(t, bin, append([]string{"MIGSAFE_TEST_COMMANDS=" + w.commands}, w.env...), nil, "rollout", cmd, "-p", w.plan, "--state-dir", state, "--format", "json")
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
	_, clean, events := run("")
	total := len(events)
	wantCode := 0
	if !good {
		wantCode = 1
	}
	if clean.code != wantCode || total < 10 {
		t.Fatalf("clean run: exit %d, %d events\n%s", clean.code, total, clean.stderr)
	}
	var points []string
	for n := 1; n <= total; n++ {
		points = append(points, fmt.Sprintf("MIGSAFE_ROLLOUT_CRASH_AT_SEQ=%d", n))
	}
	ran := testservice.CommandLog(t, w.commands)
	if len(ran) < 5 {
		t.Fatalf("the clean run ran %d commands: %v", len(ran), ran)
	}
	for n := range ran {
		points = append(points, fmt.Sprintf("MIGSAFE_TEST_KILL_AT=%d", n+1))
	}
	for i, crash := range points {
		n := i + 1
		where := func(events []journal.Event) string {
			if i < total {
				return fmt.Sprintf("crash after event %d (%s)", n, kindAt(events, n))
			}
			return fmt.Sprintf("crash inside command %d (%s)", i-total+1, ran[i-total])
		}
		first, last, events := run(crash)
		if !first.killed {
			t.Fatalf("%s: the runner was not killed (exit %d)", where(first.events), first.code)
		}
		if last.code != wantCode {
			t.Fatalf("%s: resumed run exit %d, want %d\n%s", where(events), last.code, wantCode, last.stderr)
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
		want := []string{"false/0", "false/1", "false/2", "false/3", "false/4", "false/5"}
		if !good {
			want = []string{"false/0", "false/1", "false/2", "true/0", "true/1", "true/2"}
		}
		if strings.Join(order, " ") != strings.Join(want, " ") {
			t.Errorf("%s: steps done %v, want %v", where(events), order, want)
		}
		if !good && rollbacks != 1 {
			t.Errorf("%s: %d rollback decisions", where(events), rollbacks)
		}
		data, _ := os.ReadFile(marks)
		wantMarks := "migrated\n"
		if !good {
			wantMarks = "paged\n"
		}
		if string(data) != wantMarks {
			t.Errorf("%s: side effects %q, want %q (exactly once)", where(events), data, wantMarks)
		}
		w.check(t, good, where(events))
	}
	t.Logf("%d crash points (%d after journal events, %d inside commands), each resumed to the same end", len(points), total, len(points)-total)
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
	t.Parallel()
	bin := binaries(t)
	for _, good := range []bool{true, false} {
		t.Run(fmt.Sprint("good=", good), func(t *testing.T) {
			t.Parallel()
			v1 := testservice.StartService(t, bin, "v1", 0)
			v2 := testservice.StartService(t, bin, "v2", 0)
			ngx := testservice.StartNginx(t, v1.Addr)
			dir := t.TempDir()
			marks, gateFile := filepath.Join(dir, "marks"), filepath.Join(dir, "gate")
			ts := filepath.Join(bin, "testservice")
			wrapper := filepath.Join(testservice.NginxWrapperPath(t, bin), "nginx")
			src := fmt.Sprintf(`name: crash
service: web
release: {stable: v1, canary: v2}
backend:
  preset: nginx
  vars: {upstream_file: %s, stable: "%s", canary: "%s", prefix: %s, conf: %s, nginx: %s, error_log: %s, pid_file: %s}
analysis: {exec: [%s, has, %s, pass]}
`, ngx.Upstream, v1.Addr, v2.Addr, ngx.Prefix, ngx.Conf, wrapper, filepath.Join(ngx.Prefix, "error.log"), ngx.PidFile, ts, gateFile) +
				fmt.Sprintf(crashSteps, ts, marks)
			plan := filepath.Join(dir, "rollout.yaml")
			if err := os.WriteFile(plan, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			initial, _ := os.ReadFile(ngx.Upstream)
			w := world{plan: plan,
				env: []string{"MIGSAFE_TEST_REAL_NGINX=" + ngx.Binary,
					"MIGSAFE_TEST_KILL_MARKER=" + filepath.Join(dir, "killed")},
				commands: filepath.Join(dir, "commands"),
				reset: func() {
					if err := os.WriteFile(ngx.Upstream, initial, 0o644); err != nil {
						t.Fatal(err)
					}
					os.Remove(filepath.Join(dir, "killed"))
				},
				check: func(t *testing.T, good bool, where string) {
					data, _ := os.ReadFile(ngx.Upstream)
					up := string(data)
					if good && (strings.Contains(up, v1.Addr) || !strings.Contains(up, v2.Addr+" weight=100")) {
						t.Errorf("%s: promoted, but the upstream is\n%s", where, up)
					}
					if !good && (strings.Contains(up, v2.Addr) || !strings.Contains(up, v1.Addr+" weight=100")) {
						t.Errorf("%s: rolled back, but the upstream is\n%s", where, up)
					}
				}}
			crashAll(t, bin, w, good, marks, gateFile)
			// and nginx serves what the file says
			want := 0
			if good {
				want = 100
			}
			testservice.WaitShare(t, ngx.URL, "v2", 100, want, 5*time.Second)
		})
	}
}

func TestCrashKubectl(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	for _, good := range []bool{true, false} {
		t.Run(fmt.Sprint("good=", good), func(t *testing.T) {
			t.Parallel()
			crashKubectl(t, bin, good)
		})
	}
}

func crashKubectl(t *testing.T, bin string, good bool) {
	dir := t.TempDir()
	marks, gateFile := filepath.Join(dir, "marks"), filepath.Join(dir, "gate")
	ts := filepath.Join(bin, "testservice")
	initial := testservice.KubeState{Deployments: map[string]*testservice.FakeDeployment{"web": {Image: "reg/web:1", Revisions: []string{"reg/web:1"}}}}
	kdir, stateFile, logFile := testservice.KubectlPath(t, bin, initial)
	src := fmt.Sprintf(`name: crash
service: web
release: {stable: "reg/web:1", canary: "reg/web:2"}
backend:
  preset: kubectl-deployment
  vars: {deployment: web, container: app, namespace: shop, status_timeout: 5s}
analysis: {exec: [%s, has, %s, pass]}
`, ts, gateFile) + fmt.Sprintf(crashSteps, ts, marks)
	plan := filepath.Join(dir, "rollout.yaml")
	if err := os.WriteFile(plan, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	w := world{plan: plan,
		env: []string{"PATH=" + kdir + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_KUBE_STATE=" + stateFile, "FAKE_KUBE_LOG=" + logFile,
			"MIGSAFE_TEST_KILL_MARKER=" + filepath.Join(dir, "killed")},
		reset: func() {
			data, _ := json.Marshal(initial)
			if err := os.WriteFile(stateFile, data, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Remove(logFile)
			os.Remove(filepath.Join(dir, "killed"))
		},
		commands: filepath.Join(dir, "commands"),
		check: func(t *testing.T, good bool, where string) {
			d := testservice.ReadKubeState(t, stateFile).Deployments["web"]
			want := "reg/web:2"
			if !good {
				want = "reg/web:1"
			}
			if d.Image != want || d.Paused {
				t.Errorf("%s: deployment %+v, want image %s, not paused", where, d, want)
			}
			log := testservice.KubectlLog(t, logFile)
			undos, paused := 0, false
			for _, l := range log {
				switch {
				case strings.Contains(l, "rollout pause"):
					paused = true
				case strings.Contains(l, "rollout resume"):
					paused = false
				case strings.Contains(l, "rollout undo"):
					undos++
					if paused {
						t.Errorf("%s: undo while paused (resume must come first):\n%s", where, strings.Join(log, "\n"))
					}
				}
			}
			wantUndos := 0
			if !good {
				wantUndos = 1
			}
			if undos != wantUndos {
				t.Errorf("%s: %d undos, want %d:\n%s", where, undos, wantUndos, strings.Join(log, "\n"))
			}
		}}
	crashAll(t, bin, w, good, marks, gateFile)
}
