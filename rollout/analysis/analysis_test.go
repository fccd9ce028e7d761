package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/gate"
)

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

func compile(t *testing.T, src string) gate.Gate {
	t.Helper()
	g, err := Compile(parse(t, src))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return g
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"unknown key with suggestion", `
metrics:
  - name: m
    intervall: 10s
    provider: {exec: {argv: [true]}}
`, `line 4, column 5: unknown key "intervall" in metrics item; did you mean "interval"?`},
		{"unknown provider key", `
metrics:
  - name: m
    provider:
      prometheus: {adrress: http://x:9090, query: up}
`, `line 5, column 20: unknown key "adrress" in prometheus; did you mean "address"?`},
		{"unknown top key", `
metric:
  - name: m
`, `line 2, column 1: unknown key "metric" in analysis; did you mean "metrics"?`},
		{"no metrics", `name: x`, `analysis needs at least one metric`},
		{"no provider", `
metrics:
  - name: m
    count: 1
`, `line 3, column 5: metric "m" needs exactly one provider`},
		{"two providers", `
metrics:
  - name: m
    provider: {exec: {argv: ["true"]}, web: {url: "http://x"}}
`, `needs exactly one provider (prometheus, web, exec or log), found 2`},
		{"bad duration", `
metrics:
  - name: m
    interval: ten
    provider: {exec: {argv: ["true"]}}
`, `line 4, column 15: "ten" is not a duration`},
		{"bad expression", `
metrics:
  - name: m
    successCondition: result <
    provider: {exec: {argv: ["true"]}}
`, `line 4, column 23: successCondition:`},
		{"negative limit", `
metrics:
  - name: m
    failureLimit: -1
    provider: {exec: {argv: ["true"]}}
`, `line 4, column 19: failureLimit must not be negative`},
		{"count without interval", `
metrics:
  - name: m
    count: 3
    provider: {exec: {argv: ["true"]}}
`, `count 3 needs an interval`},
		{"template field", `
metrics:
  - name: m
    provider: {exec: {argv: ["check", "{{.Canry}}"]}}
`, `argv: template: m:1:2: executing "m" at <.Canry>`},
		{"errorRate without prometheus", `
metrics:
  - name: m
    provider: {web: {url: "http://x"}}
    errorRate: {requests: a, errors: b}
`, `give metric "m" a prometheus provider`},
		{"errorRate with a bad ratio", `
metrics:
  - name: m
    provider: {prometheus: {address: "http://127.0.0.1:9"}}
    errorRate: {requests: a, errors: b, maxRatio: 0.5}
`, `line 5, column 16: errorRate: maxRatio 0.5 is below 1`},
		{"latency without step", `
metrics:
  - name: m
    provider: {prometheus: {address: "http://127.0.0.1:9"}}
    latency: {query: a}
`, `latency needs a step`},
		{"duplicate names", `
metrics:
  - name: m
    provider: {exec: {argv: ["true"]}}
  - name: m
    provider: {exec: {argv: ["true"]}}
`, `line 5, column 11: two metrics are named "m"`},
		{"bad address", `
metrics:
  - name: m
    provider: {prometheus: {address: "localhost:9090", query: up}}
`, `address must be an http:// or https:// URL`},
	} {
		_, err := Compile(parse(t, c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %T is not an *analysis.Error", c.name, err)
		}
	}
}

func TestConditions(t *testing.T) {
	for _, c := range []struct {
		success, failure string
		result           any
		want             gate.Phase
	}{
		{"", "", 1.0, gate.Successful},
		{"result[0] < 0.05", "", []float64{0.01}, gate.Successful},
		{"result[0] < 0.05", "", []float64{0.07}, gate.Failed},
		{"", "result[0] > 0.1", []float64{0.07}, gate.Successful},
		{"", "result[0] > 0.1", []float64{0.2}, gate.Failed},
		{"result[0] < 0.05", "result[0] > 0.1", []float64{0.07}, gate.Inconclusive},
		{"result[0] < 0.05", "result[0] > 0.1", []float64{0.2}, gate.Failed},
		{"result == 'ok'", "", "ok", gate.Successful},
		{"result.perMinute <= 2", "", map[string]any{"perMinute": 3.0}, gate.Failed},
		{"isNaN(result)", "", 0.5, gate.Failed},
		{"asInt(result) == 3", "", 3.2, gate.Successful},
		{"result[5] < 1", "", []float64{0.1}, gate.Error},
	} {
		s, err := compileCondition(c.success)
		if err != nil {
			t.Fatal(err)
		}
		f, err := compileCondition(c.failure)
		if err != nil {
			t.Fatal(err)
		}
		got, why := judgeConditions(s, f, c.result)
		if got != c.want {
			t.Errorf("success %q failure %q on %v: %s (%s), want %s", c.success, c.failure, c.result, got, why, c.want)
		}
	}
}

// scripted is an HTTP server that answers each request with the next
// status of a script (the last one repeats) and a JSON body.
func scripted(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(statuses) {
			i = len(statuses) - 1
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statuses[i])
		fmt.Fprintf(w, `{"data": {"status": "ok", "checks": [{"latency": 0.25}]}, "n": %d}`, i)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func webMetric(url, extra string) string {
	return fmt.Sprintf(`
metrics:
  - name: health
    interval: 20ms
    count: 5
%s
    provider:
      web: {url: %q}
`, extra, url)
}

func TestWebLimits(t *testing.T) {
	for _, c := range []struct {
		name     string
		statuses []int
		extra    string
		want     gate.Phase
		calls    int64
		msg      string
	}{
		{"healthy", []int{200}, "", gate.Successful, 5, "5 measurement(s), 0 failed"},
		{"one failure fails by default", []int{200, 500, 200}, "", gate.Failed, 2, "answered 500, want 2xx"},
		{"failureLimit 1 tolerates one", []int{200, 503, 200}, "    failureLimit: 1", gate.Successful, 5, "1 failed"},
		{"failureLimit 1 fails on two", []int{503, 200, 503, 200}, "    failureLimit: 1", gate.Failed, 3, "2 failed measurement(s), more than failureLimit 1"},
	} {
		srv, calls := scripted(t, c.statuses...)
		r := compile(t, webMetric(srv.URL, c.extra)).Evaluate(context.Background(), gate.Window{Canary: "canary", Stable: "stable"})
		if r.Phase != c.want || calls.Load() != c.calls || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%s: %s after %d calls (%s), want %s after %d containing %q", c.name, r.Phase, calls.Load(), r.Message, c.want, c.calls, c.msg)
		}
		if len(r.Measurements) != int(c.calls) {
			t.Errorf("%s: %d measurements, want %d", c.name, len(r.Measurements), c.calls)
		}
	}
}

func TestWebJSONPath(t *testing.T) {
	srv, _ := scripted(t, 200)
	g := compile(t, fmt.Sprintf(`
metrics:
  - name: status
    provider: {web: {url: %q, jsonPath: "$.data.status"}}
    successCondition: result == "ok"
  - name: latency
    provider: {web: {url: %q, jsonPath: "data.checks[0].latency"}}
    failureCondition: result > 0.2
`, srv.URL, srv.URL))
	r := g.Evaluate(context.Background(), gate.Window{})
	if r.Phase != gate.Failed || !strings.Contains(r.Message, `latency: 1 failed measurement(s)`) || !strings.Contains(r.Message, `result 0.25: failureCondition "result > 0.2" is true`) {
		t.Errorf("%s: %s", r.Phase, r.Message)
	}
}

// A server that stops answering: every measurement is an Error; the
// fifth in a row exceeds the default consecutiveErrorLimit of 4 and the
// gate fails. Errors never count as measurements taken, so the metric
// cannot pass on them. A one-shot metric returns its Error to the engine.
func TestConsecutiveErrors(t *testing.T) {
	srv, _ := scripted(t, 200)
	url := srv.URL
	srv.Close()
	r := compile(t, webMetric(url, "")).Evaluate(context.Background(), gate.Window{})
	if r.Phase != gate.Failed || !strings.Contains(r.Message, "5 measurement errors in a row, more than consecutiveErrorLimit 4") {
		t.Errorf("%s: %s", r.Phase, r.Message)
	}
	if len(r.Measurements) != 0 {
		t.Errorf("%d measurements of nothing, want none", len(r.Measurements))
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("the result does not marshal to JSON (the engine's journal): %v", err)
	}
	r = compile(t, webMetric(url, "    consecutiveErrorLimit: 1")).Evaluate(context.Background(), gate.Window{})
	if r.Phase != gate.Failed || !strings.Contains(r.Message, "2 measurement errors in a row") {
		t.Errorf("limit 1: %s: %s", r.Phase, r.Message)
	}
	oneShot := fmt.Sprintf("metrics:\n  - name: once\n    provider: {web: {url: %q}}\n", url)
	r = compile(t, oneShot).Evaluate(context.Background(), gate.Window{})
	if r.Phase != gate.Error || !strings.Contains(r.Message, "the measurement failed") {
		t.Errorf("one shot: %s: %s", r.Phase, r.Message)
	}
}

func TestInterruptedIsInconclusive(t *testing.T) {
	srv, _ := scripted(t, 200)
	g := compile(t, fmt.Sprintf(`
metrics:
  - name: slow
    interval: 1h
    count: 2
    provider: {web: {url: %q}}
`, srv.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	r := g.Evaluate(ctx, gate.Window{})
	if r.Phase != gate.Inconclusive || !strings.Contains(r.Message, "interrupted") || time.Since(t0) > 5*time.Second {
		t.Errorf("%s after %s: %s", r.Phase, time.Since(t0), r.Message)
	}
}

func TestWindowEndBoundsUnlimitedCount(t *testing.T) {
	srv, calls := scripted(t, 200)
	g := compile(t, fmt.Sprintf(`
metrics:
  - name: bg
    interval: 50ms
    provider: {web: {url: %q}}
`, srv.URL))
	now := time.Now()
	r := g.Evaluate(context.Background(), gate.Window{Start: now, End: now.Add(300 * time.Millisecond)})
	if r.Phase != gate.Successful || calls.Load() < 3 || calls.Load() > 8 {
		t.Errorf("%s after %d calls: %s", r.Phase, calls.Load(), r.Message)
	}
}

// One metric failing stops the others at once (Argo terminates the run).
func TestFailureStopsOtherMetrics(t *testing.T) {
	good, goodCalls := scripted(t, 200)
	bad, _ := scripted(t, 500)
	g := compile(t, fmt.Sprintf(`
metrics:
  - name: good
    interval: 20ms
    count: 1000
    provider: {web: {url: %q}}
  - name: bad
    initialDelay: 100ms
    provider: {web: {url: %q}}
`, good.URL, bad.URL))
	t0 := time.Now()
	r := g.Evaluate(context.Background(), gate.Window{})
	if r.Phase != gate.Failed || !strings.HasPrefix(r.Message, "bad: ") || time.Since(t0) > 5*time.Second || goodCalls.Load() > 50 {
		t.Errorf("%s in %s, good called %d times: %s", r.Phase, time.Since(t0), goodCalls.Load(), r.Message)
	}
}

func TestExec(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "check")
	// The test's stand-in for a user's check: exits with the code named
	// by its first argument and prints the canary it was given.
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"checked $MIGSAFE_CANARY\"\nexit \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := gate.Window{Canary: "v2", Stable: "v1", Weight: 5}
	for _, c := range []struct {
		argv  string
		extra string
		want  gate.Phase
		msg   string
	}{
		{fmt.Sprintf("[%q, '0']", script), "", gate.Successful, `result 0: successCondition "result == 0" is true`},
		{fmt.Sprintf("[%q, '3']", script), "", gate.Failed, `result 3: successCondition "result == 0" is false`},
		{fmt.Sprintf("[%q, '3']", script), "    successCondition: result == 3", gate.Successful, ""},
		{fmt.Sprintf("[%q, '{{.Weight}}']", script), "", gate.Failed, "result 5"},
		{`["/nonexistent/check"]`, "", gate.Error, "no such file"},
		{`["sleep", "10"]`, "", gate.Error, "did not finish within 200ms"},
	} {
		g := compile(t, fmt.Sprintf(`
metrics:
  - name: check
%s
    provider:
      exec: {argv: %s, timeout: 200ms}
`, c.extra, c.argv))
		r := g.Evaluate(context.Background(), w)
		if r.Phase != c.want || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%s: %s: %s, want %s with %q", c.argv, r.Phase, r.Message, c.want, c.msg)
		}
	}
}

func TestLogFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "current.log")
	start := time.Now().Add(-2 * time.Minute).Truncate(time.Second)
	var b strings.Builder
	line := func(at time.Time, msg string) {
		fmt.Fprintf(&b, "%s %s\n", at.UTC().Format(time.RFC3339), msg)
	}
	// Before the step: one error in the two minutes before it.
	line(start.Add(-3*time.Minute), "ERROR too old to count")
	line(start.Add(-90*time.Second), "error: connection reset")
	line(start.Add(-30*time.Second), "GET / 200")
	// Since: six errors in two minutes, one of them a multi-line trace.
	for i := range 5 {
		line(start.Add(time.Duration(10+i*20)*time.Second), "Error: boom")
	}
	line(start.Add(110*time.Second), "panic: nil map")
	b.WriteString("\tgoroutine 1 [running]: error in trace\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := func(cond string) string {
		return fmt.Sprintf(`
metrics:
  - name: log-errors
    provider:
      log: {path: %q, pattern: "(?i)error"}
%s
`, path, cond)
	}
	w := gate.Window{Start: start}
	r := compile(t, src("")).Evaluate(context.Background(), w)
	// 6 matches in ~2 min (3/min) against 1 in the 2 min before (0.5/min):
	// the default condition allows max(1, 2 × 0.5) = 1 per minute.
	if r.Phase != gate.Failed || !strings.Contains(r.Message, "before=1 ") || !strings.Contains(r.Message, "count=6 ") {
		t.Errorf("default condition: %s: %s", r.Phase, r.Message)
	}
	r = compile(t, src("    successCondition: result.count <= 10")).Evaluate(context.Background(), w)
	if r.Phase != gate.Successful {
		t.Errorf("count <= 10: %s: %s", r.Phase, r.Message)
	}
	// Of a large file only the end is read: with the tail cut to the
	// last 5 lines' bytes, the first (partial) line is skipped and only the
	// errors in the tail count (two lines and a trace line).
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	tail := strings.Join(lines[len(lines)-5:], "")
	old := logTail
	logTail = int64(len(tail)) + 3 // 3 bytes of the line before: a partial line
	r = compile(t, src("    successCondition: result.count == 3 && result.before == 0")).Evaluate(context.Background(), w)
	logTail = old
	if r.Phase != gate.Successful {
		t.Errorf("tail read: %s: %s", r.Phase, r.Message)
	}
	// A missing file is an Error, not a pass.
	os.Remove(path)
	r = compile(t, src("")).Evaluate(context.Background(), w)
	if r.Phase != gate.Error {
		t.Errorf("missing file: %s: %s", r.Phase, r.Message)
	}
}
