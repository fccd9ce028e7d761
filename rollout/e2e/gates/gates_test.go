// Package gates runs rollouts judged by a Prometheus analysis gate
// end to end: real nginx in front of two instances of the analysis
// test service, a real Prometheus scraping both every second, and the
// runner moving traffic.
package gates

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testprom"
	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/report"
	"github.com/migsafe/migsafe/rollout/runner"
)

func TestMain(m *testing.M) {
	m.Run() // the test wrapper exits with its code
	testservice.RemoveBuilds()
}

// startSvc starts the analysis test service (it exposes
// http_requests_total{version,code} on /metrics) and returns its address.
func startSvc(t *testing.T, bin, version string, rate float64, extra ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "testsvc"), append([]string{"-version=" + version, fmt.Sprintf("-error-rate=%g", rate)}, extra...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("testsvc did not print its address: %v", err)
	}
	return strings.TrimSpace(line)
}

// gatePlan is the plan docs/rollout-gates.md shows ("A rollout judged by
// Prometheus"), pointed at this test's nginx, services and Prometheus,
// with short windows: 5% then 50%, each judged by the canary's error
// rate against stable's over the step (an exact binomial test).
const gatePlan = `apiVersion: migsafe.dev/v1
kind: RolloutPlan
name: shop-v2
service: shop
release: {stable: v1, canary: v2}
backend:
  preset: nginx
  vars:
    nginx: %[1]s
    upstream_file: %[2]s/upstream.conf
    stable: "%[3]s"
    canary: "%[4]s"
    prefix: %[2]s
    conf: %[2]s/nginx.conf
    error_log: %[2]s/error.log
    pid_file: %[2]s/nginx.pid
  timeout: 30s
analysis:
  name: canary-vs-stable
  metrics:
    - name: error-rate
      initialDelay: 2s
      interval: 2s
      count: 5
      provider:
        prometheus: {address: "%[5]s", timeout: 2s}
      errorRate:
        requests: sum(increase(http_requests_total{version="{{.Version}}"}[{{.Range}}]))
        errors: sum(increase(http_requests_total{version="{{.Version}}",code=~"5.."}[{{.Range}}]))
        minRequests: 50
steps:
  - deploy
  - set_weight: 5
  - analysis
  - set_weight: 50
  - analysis
  - promote
rollback:
  - route_stable
`

// buildPkgs are the programs the package's tests run (testservice.Build
// builds once per package).
var buildPkgs = []string{"./internal/testservice/testservice", "./rollout/analysis/testdata/testsvc", "./rollout/flags/testdata/flagsvc"}

type env struct {
	bin, stable, canary string
	ngx                 *testservice.Nginx
	prom                *testprom.Server
}

func setup(t *testing.T, canaryRate float64, canaryArgs ...string) env {
	bin := testservice.Build(t, buildPkgs...)
	e := env{bin: bin}
	e.stable = startSvc(t, bin, "v1", 0.01)
	e.canary = startSvc(t, bin, "v2", canaryRate, canaryArgs...)
	e.ngx = testservice.StartNginx(t, e.stable)
	e.prom = testprom.Start(t, testprom.Options{Targets: []string{e.stable, e.canary}})
	return e
}

func (e env) plan(t *testing.T) runner.Options { return e.planWith(t, gatePlan) }

// planWith writes the plan text (gatePlan's placeholders) for this test's
// nginx, services and Prometheus.
func (e env) planWith(t *testing.T, text string) runner.Options {
	dir := t.TempDir()
	f := filepath.Join(dir, "rollout.yaml")
	src := fmt.Sprintf(text, e.ngx.Binary, e.ngx.Prefix, e.stable, e.canary, e.prom.URL)
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return runner.Options{PlanFile: f, StateDir: filepath.Join(dir, "state"), Loud: os.Stderr}
}

type outcome struct {
	st      engine.State
	events  []journal.Event
	took    time.Duration
	weights []int
}

func start(t *testing.T, o runner.Options) outcome {
	t.Helper()
	var out outcome
	prev := o.Observe
	o.Observe = func(e journal.Event) {
		if prev != nil {
			prev(e)
		}
		out.events = append(out.events, e)
		switch e.Kind {
		case journal.GateResult:
			t.Logf("gate %s: %s", e.Gate.Phase, e.Gate.Message)
		case journal.Weight:
			out.weights = append(out.weights, *e.Weight)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	_, st, err := runner.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	out.st, out.took = st, time.Since(t0)
	t.Logf("%s in %s: %s", st.Status, out.took.Round(100*time.Millisecond), st.Reason)
	return out
}

// 400 requests a second through nginx: 20 a second reach a canary at 5%.
const rps = 400

// A canary as good as stable (1% errors each) is promoted, judged by
// Prometheus at 5% and 50%, and then takes all the traffic.
func TestPrometheusGatePromotes(t *testing.T) {
	t.Parallel()
	e := setup(t, 0.01)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go testservice.Load(ctx, e.ngx.URL, rps)
	o := e.plan(t)
	r := start(t, o)
	if engine.OutcomeOf(r.st) != engine.OutcomePromoted {
		t.Fatalf("%s: %s", r.st.Status, r.st.Reason)
	}
	var passed int
	for _, ev := range r.events {
		if ev.Kind == journal.GateResult {
			if ev.Gate.Phase != "Successful" || !strings.Contains(ev.Gate.Message, "error-rate") {
				t.Errorf("gate %s: %s", ev.Gate.Phase, ev.Gate.Message)
			}
			if len(ev.Gate.Measurements) == 0 {
				t.Errorf("gate result without measurements (the report draws them)")
			}
			passed++
		}
	}
	if passed != 2 {
		t.Errorf("%d gate results, want 2", passed)
	}
	testservice.WaitShare(t, e.ngx.URL, "v2", 100, 100, 5*time.Second)

	// the run report, from the journal: one error-rate chart per analysis
	// step, each with the canary's and stable's series, a point for each
	// of the 5 measurements
	run, err := runner.LoadRun(o, "")
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := report.HTML(&html, run); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	if n := strings.Count(page, `<figure class="chart" data-metric="error-rate">`); n != 2 {
		t.Errorf("%d error-rate charts, want 2", n)
	}
	for _, v := range []string{"canary", "stable"} {
		series := strings.Split(page, `<g class="series" data-series="`+v+`">`)
		if len(series) != 3 {
			t.Errorf("%d %s series, want 2", len(series)-1, v)
			continue
		}
		for _, s := range series[1:] {
			pts, _, _ := strings.Cut(strings.SplitN(s, `points="`, 2)[1], `"`)
			if n := len(strings.Fields(pts)); n != 5 {
				t.Errorf("%s series with %d points, want 5", v, n)
			}
		}
	}
}

// A canary failing 5% of its requests against stable's 1% is rolled back
// by the error-rate gate at the 5% step, and afterwards every request
// through nginx reaches stable.
func TestPrometheusGateRollsBackAt5Percent(t *testing.T) {
	t.Parallel()
	e := setup(t, 0.05)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go testservice.Load(ctx, e.ngx.URL, rps)
	r := start(t, e.plan(t))
	if engine.OutcomeOf(r.st) != engine.OutcomeRolledBack {
		t.Fatalf("%s: %s", r.st.Status, r.st.Reason)
	}
	if fmt.Sprint(r.weights) != "[5 0]" {
		t.Errorf("weights %v, want [5 0]: rolled back at the 5%% step", r.weights)
	}
	var failed *journal.Event
	for i, ev := range r.events {
		if ev.Kind == journal.GateResult && ev.Gate.Phase == "Failed" {
			failed = &r.events[i]
		}
	}
	if failed == nil || !strings.Contains(failed.Gate.Message, "significantly above") {
		t.Fatalf("no Failed error-rate result: %+v", failed)
	}
	var decided time.Time
	for _, ev := range r.events {
		if ev.Kind == journal.RollbackStarted {
			decided = ev.At
		}
	}
	t.Logf("decided %s after the start of the run", decided.Sub(r.events[0].At).Round(100*time.Millisecond))
	c := testservice.Send(e.ngx.URL, 200)
	if c.Requests["v1"] != 200 {
		t.Errorf("after the rollback, through nginx: %v (failed %d), want all 200 on v1", c.Requests, c.Failed)
	}
}
