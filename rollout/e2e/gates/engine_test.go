package gates

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/journal"
)

// latencyAnalysis replaces gatePlan's analysis: the canary's p90 latency
// against stable's over the step (Mann-Whitney U on a 1 s range query).
const latencyAnalysis = `analysis:
  name: canary-vs-stable
  metrics:
    - name: latency
      initialDelay: 3s
      interval: 2s
      count: 4
      provider:
        prometheus: {address: "%[5]s", timeout: 2s}
      latency:
        query: histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{version="{{.Version}}"}[3s])))
        step: 1s
        minDelta: 0.05
steps:`

func withAnalysis(analysis string) string {
	head, rest, _ := strings.Cut(gatePlan, "analysis:\n")
	_, tail, _ := strings.Cut(rest, "steps:")
	return head + analysis + tail
}

func gateEvents(events []journal.Event) (results []string) {
	for _, ev := range events {
		if ev.Kind == journal.GateResult {
			results = append(results, fmt.Sprintf("%s: %s", ev.Gate.Phase, ev.Gate.Message))
		}
	}
	return results
}

// A canary 200 ms slower than stable (same error rate) is halted at the
// 5% step by the latency gate and rolled back; afterwards every request
// through nginx reaches stable.
func TestPrometheusGateRollsBackOnLatency(t *testing.T) {
	t.Parallel()
	e := setup(t, 0.01, "-latency=202ms")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go testservice.Load(ctx, e.ngx.URL, rps)
	r := start(t, e.planWith(t, withAnalysis(latencyAnalysis)))
	if engine.OutcomeOf(r.st) != engine.OutcomeRolledBack {
		t.Fatalf("%s: %s (gates %q)", r.st.Status, r.st.Reason, gateEvents(r.events))
	}
	if fmt.Sprint(r.weights) != "[5 0]" {
		t.Errorf("weights %v, want [5 0]: rolled back at the 5%% step", r.weights)
	}
	g := gateEvents(r.events)
	if len(g) != 1 || !strings.HasPrefix(g[0], "Failed: ") || !strings.Contains(g[0], "latency") {
		t.Errorf("gate results %q, want one Failed on latency", g)
	}
	cancel()
	c := testservice.Send(e.ngx.URL, 200)
	if c.Requests["v1"] != 200 {
		t.Errorf("after the rollback, through nginx: %v (failed %d), want all 200 on v1", c.Requests, c.Failed)
	}
}

// Prometheus stopped in the middle of the analysis: the measurements
// fail, and after consecutiveErrorLimit (4) errors in a row the gate
// fails safe: the canary, healthy as it is, is rolled back rather than
// promoted on measurements that were never taken.
func TestPrometheusStoppedMidAnalysisRollsBack(t *testing.T) {
	t.Parallel()
	e := setup(t, 0.01)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go testservice.Load(ctx, e.ngx.URL, rps)
	o := e.plan(t)
	var stopped time.Time
	observe := func(ev journal.Event) {
		// 3 s into the first analysis step (one measurement taken),
		// Prometheus goes away.
		if ev.Kind == journal.StepIntent && ev.Step == 2 && stopped.IsZero() {
			stopped = time.Now().Add(3 * time.Second)
			time.AfterFunc(3*time.Second, e.prom.Stop)
		}
	}
	o.Observe = observe
	r := start(t, o)
	if engine.OutcomeOf(r.st) != engine.OutcomeRolledBack {
		t.Fatalf("%s: %s (gates %q)", r.st.Status, r.st.Reason, gateEvents(r.events))
	}
	if fmt.Sprint(r.weights) != "[5 0]" {
		t.Errorf("weights %v, want [5 0]", r.weights)
	}
	g := gateEvents(r.events)
	if len(g) != 1 || !strings.HasPrefix(g[0], "Failed: ") || !strings.Contains(g[0], "connection refused") {
		t.Errorf("gate results %q, want one Failed with the measurement errors", g)
	}
	var decided time.Time
	for _, ev := range r.events {
		if ev.Kind == journal.RollbackStarted {
			decided = ev.At
		}
	}
	t.Logf("Prometheus stopped → rollback started %s later", decided.Sub(stopped).Round(100*time.Millisecond))
	cancel()
	c := testservice.Send(e.ngx.URL, 200)
	if c.Requests["v1"] != 200 {
		t.Errorf("after the rollback, through nginx: %v (failed %d), want all 200 on v1", c.Requests, c.Failed)
	}
}
