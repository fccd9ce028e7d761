package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/rollout/analysis"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/execgate"
	"github.com/migsafe/migsafe/rollout/journal"
)

const metricsPlan = `name: t
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {deploy: [[true]], set_weight: [[true]], route_stable: [[true]], promote: [[true]], undo: [[true]]}}
gates:
  legacy: {exec: ["true"], timeout: 5s}
steps:
  - deploy
  - set_weight: 5
  - analysis: legacy
  - analysis:
      name: smoke
      metrics:
        - name: probe
          interval: 10ms
          count: 3
          provider:
            exec: {argv: ["%s"]}
  - promote
`

func writePlan(t *testing.T, probe string) Options {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "rollout.yaml")
	if err := os.WriteFile(f, []byte(strings.Replace(metricsPlan, "%s", probe, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return Options{PlanFile: f, StateDir: filepath.Join(dir, "state"), Loud: os.Stderr}
}

// A plan with a metrics: analysis compiles to an analysis gate (and an
// exec body still to an exec gate) and runs: a passing probe promotes,
// a failing one rolls back.
func TestCompileDispatch(t *testing.T) {
	o := writePlan(t, "true")
	p, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Steps[2].Gate.(*execgate.Gate); !ok {
		t.Errorf("exec body compiled to %T", p.Steps[2].Gate)
	}
	if _, ok := p.Steps[3].Gate.(*analysis.Analysis); !ok {
		t.Errorf("metrics body compiled to %T", p.Steps[3].Gate)
	}
	if p.Steps[3].String() != "analysis smoke" {
		t.Errorf("step %q", p.Steps[3])
	}
	_, st, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if engine.OutcomeOf(st) != engine.OutcomePromoted {
		t.Fatalf("good probe: %s %s", st.Status, st.Reason)
	}

	o = writePlan(t, "false")
	var gates []string
	o.Observe = func(e journal.Event) {
		if e.Kind == journal.GateResult {
			gates = append(gates, string(e.Gate.Phase)+": "+e.Gate.Message)
		}
	}
	_, st, err = Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if engine.OutcomeOf(st) != engine.OutcomeRolledBack {
		t.Fatalf("failing probe: %s %s", st.Status, st.Reason)
	}
	if len(gates) != 2 || !strings.HasPrefix(gates[1], "Failed") || !strings.Contains(gates[1], "probe") {
		t.Errorf("gate results %q", gates)
	}
}

// An unknown key in a metrics body is reported by the analysis compiler
// at its line, through plan.Load.
func TestCompileDispatchErrors(t *testing.T) {
	o := writePlan(t, "true")
	data, _ := os.ReadFile(o.PlanFile)
	_ = os.WriteFile(o.PlanFile, []byte(strings.Replace(string(data), "count: 3", "cuont: 3", 1)), 0o644)
	_, err := Load(o)
	if err == nil || !strings.Contains(err.Error(), `did you mean "count"`) || !strings.Contains(err.Error(), "rollout.yaml:16:11:") {
		t.Fatalf("err %v", err)
	}
}
