package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/journal"
)

// flagctl stands in for a flag service's command line: it appends
// "KEY PERCENT" to flags.log; with a file named down next to it, it
// fails, and with a file named hang, it hangs.
const flagctl = `#!/bin/sh
dir=$(dirname "$0")
if [ -f "$dir/hang" ]; then sleep 30; fi
if [ -f "$dir/down" ]; then echo "connection refused" >&2; exit 7; fi
echo "$1 $2" >> "$dir/flags.log"
`

// the flag plan of docs/rollout.md ("Feature flags"), with the gate
// and the flag command pointed at the test's files.
const flagPlan = `name: t
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {deploy: [[true]], set_weight: [[true]], route_stable: [["%[1]s/route"]], promote: [[true]], undo: [[true]]}}
flags:
  exec: {set: ["%[1]s/flagctl", "{{.Key}}", "{{.Percent}}"], timeout: 5s}
readiness:
  - name: flags
    waive: the test's flag command has no get, so the flags cannot be read back
steps:
  - deploy
  - set_weight: 5
  - flag: {key: checkout.new_path, percent: 5}
  - analysis: {exec: ["%[1]s/gate"]}
  - flag: {key: checkout.new_path, percent: 100}
  - promote
rollback:
  - route_stable
  - undo
`

type flagRun struct {
	dir    string
	o      Options
	events []journal.Event
}

func newFlagRun(t *testing.T, gateExit int) *flagRun {
	t.Helper()
	r := &flagRun{dir: t.TempDir()}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(r.dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("flagctl", flagctl)
	write("gate", fmt.Sprintf("#!/bin/sh\nexit %d\n", gateExit))
	// route_stable notes when it ran, next to the flag log
	write("route", "#!/bin/sh\necho route_stable >> \"$(dirname \"$0\")/flags.log\"\n")
	write("rollout.yaml", fmt.Sprintf(flagPlan, r.dir))
	r.o = Options{PlanFile: filepath.Join(r.dir, "rollout.yaml"), StateDir: filepath.Join(r.dir, "state"),
		Backoff: func(int) time.Duration { return time.Millisecond },
		Observe: func(e journal.Event) { r.events = append(r.events, e) }}
	return r
}

func (r *flagRun) log(t *testing.T) string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "flags.log"))
	return strings.ReplaceAll(strings.TrimSpace(string(data)), "\n", "; ")
}

func TestFlagStepsRamp(t *testing.T) {
	r := newFlagRun(t, 0)
	p, err := Load(r.o)
	if err != nil {
		t.Fatal(err)
	}
	var rb []string
	for _, s := range p.Rollback {
		rb = append(rb, s.String())
	}
	if got := strings.Join(rb, ", "); got != "route_stable, flag_off checkout.new_path, undo" {
		t.Errorf("rollback %s: flag_off belongs right after route_stable", got)
	}
	_, st, err := Start(context.Background(), r.o)
	if err != nil {
		t.Fatal(err)
	}
	if engine.OutcomeOf(st) != engine.OutcomePromoted {
		t.Fatalf("%s: %s", st.Status, st.Reason)
	}
	if got := r.log(t); got != "checkout.new_path 5; checkout.new_path 100" {
		t.Errorf("flag commands %q", got)
	}
}

func TestFlagOffOnRollback(t *testing.T) {
	r := newFlagRun(t, 1)
	_, st, err := Start(context.Background(), r.o)
	if err != nil {
		t.Fatal(err)
	}
	if engine.OutcomeOf(st) != engine.OutcomeRolledBack {
		t.Fatalf("%s: %s", st.Status, st.Reason)
	}
	if got := r.log(t); got != "checkout.new_path 5; route_stable; checkout.new_path 0" {
		t.Errorf("flag commands %q, want on 5%%, then traffic back, then off", got)
	}
}

// A flag service that is down, or hangs, when the rollback turns the flag
// off: traffic is already on stable, the failure is a warning, and the
// rest of the rollback goes on within FlagOffTimeout.
func TestFlagServiceFailingNeverBlocksRollback(t *testing.T) {
	old := engine.FlagOffTimeout
	engine.FlagOffTimeout = 500 * time.Millisecond
	defer func() { engine.FlagOffTimeout = old }()
	for _, mode := range []string{"down", "hang"} {
		t.Run(mode, func(t *testing.T) {
			r := newFlagRun(t, 1)
			var decided time.Time
			r.o.Observe = func(e journal.Event) {
				r.events = append(r.events, e)
				if e.Kind == journal.RollbackStarted {
					decided = time.Now()
					// the flag service goes away as the rollback starts
					_ = os.WriteFile(filepath.Join(r.dir, mode), nil, 0o644)
				}
			}
			_, st, err := Start(context.Background(), r.o)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(decided)
			if engine.OutcomeOf(st) != engine.OutcomeRolledBack {
				t.Fatalf("%s: %s", st.Status, st.Reason)
			}
			if got := r.log(t); got != "checkout.new_path 5; route_stable" {
				t.Errorf("commands %q", got)
			}
			var warned, undone bool
			for _, e := range r.events {
				if e.Kind == journal.Warning && strings.Contains(e.Reason, "could not turn flag checkout.new_path off") {
					warned = true
				}
				if e.Kind == journal.StepDone && e.Rollback && e.Name == "undo" {
					undone = true
				}
			}
			if !warned || !undone {
				t.Errorf("warned %v, undo done %v", warned, undone)
			}
			t.Logf("flag service %s: rollback finished %s after the decision", mode, took.Round(time.Millisecond))
			if took > 3*time.Second {
				t.Errorf("the rollback took %s: the flag service held it", took)
			}
		})
	}
}
