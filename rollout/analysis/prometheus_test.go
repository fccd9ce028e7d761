package analysis

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testprom"
	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/rollout/gate"
)

// service is one running testsvc instance.
type service struct {
	addr string
	cmd  *exec.Cmd
}

func buildTestsvc(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "testsvc")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/testsvc").CombinedOutput()
	if err != nil {
		t.Fatalf("building testsvc: %v\n%s", err, out)
	}
	return bin
}

func startService(t *testing.T, bin string, args ...string) *service {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("testsvc %v did not print its address: %v", args, err)
	}
	return &service{addr: strings.TrimSpace(line), cmd: cmd}
}

const e2eGate = `
metrics:
  - name: error-rate
    initialDelay: 2s
    interval: %[3]s
    count: %[2]d
    provider:
      prometheus: {address: %[1]q, timeout: 2s}
    errorRate:
      requests: sum(increase(http_requests_total{version="{{.Version}}"}[{{.Range}}]))
      errors: sum(increase(http_requests_total{version="{{.Version}}",code=~"5.."}[{{.Range}}]))
  - name: latency
    initialDelay: 2s
    interval: %[3]s
    count: %[2]d
    provider:
      prometheus: {address: %[1]q, timeout: 2s}
    latency:
      query: histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{version="{{.Version}}"}[3s])))
      step: 1s
      minDelta: 0.05
`

// TestRealPrometheus runs the canary-vs-stable gate against a real
// Prometheus scraping real services every second: stable fails 1 % of its
// requests; a healthy canary (1 %) passes, a canary at 5 % errors fails the
// error-rate check, a canary 200 ms slower fails the latency check, and
// Prometheus stopped in the middle of an analysis gives measurement errors
// and, after consecutiveErrorLimit of them in a row, fails the gate.
func TestRealPrometheus(t *testing.T) {
	bin := buildTestsvc(t)
	stable := startService(t, bin, "-version=stable", "-error-rate=0.01")
	canaries := map[string]*service{
		"healthy": startService(t, bin, "-version=healthy", "-error-rate=0.01"),
		"errors":  startService(t, bin, "-version=errors", "-error-rate=0.05"),
		"slow":    startService(t, bin, "-version=slow", "-error-rate=0.01", "-latency=202ms"),
		"down":    startService(t, bin, "-version=down", "-error-rate=0.01"),
	}
	// "recovers" is a stable version of its own, for the post-rollback
	// check against its own past: loaded from the start at 1 %.
	recovers := startService(t, bin, "-version=recovers", "-error-rate=0.01")
	targets := []string{stable.addr, recovers.addr}
	for _, c := range canaries {
		targets = append(targets, c.addr)
	}
	// Stable traffic flows before Prometheus starts, so that every
	// window the tests query, even the one before a step, has some.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go testservice.Load(ctx, "http://"+stable.addr+"/", 100)
	go testservice.Load(ctx, "http://"+recovers.addr+"/", 100)
	ps := testprom.Start(t, testprom.Options{Targets: targets})
	prom, stopProm := ps.URL, ps.Stop

	run := func(t *testing.T, version string, count int, interval string, during func()) (gate.Result, time.Duration) {
		g := compile(t, fmt.Sprintf(e2eGate, prom, count, interval))
		lctx, lcancel := context.WithCancel(ctx)
		defer lcancel()
		go testservice.Load(lctx, "http://"+canaries[version].addr+"/", 100)
		if during != nil {
			go during()
		}
		ectx, ecancel := context.WithTimeout(ctx, 60*time.Second)
		defer ecancel()
		t0 := time.Now()
		r := g.Evaluate(ectx, gate.Window{Start: t0, Stable: "stable", Canary: version, Weight: 50})
		took := time.Since(t0)
		t.Logf("%s: %s after %s: %s", version, r.Phase, took.Round(100*time.Millisecond), r.Message)
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("the result does not marshal to JSON (the engine's journal): %v", err)
		}
		return r, took
	}

	t.Run("decisions", func(t *testing.T) {
		for _, c := range []struct {
			version string
			want    gate.Phase
			prefix  string
		}{
			{"healthy", gate.Successful, ""},
			{"errors", gate.Failed, "error-rate: "},
			{"slow", gate.Failed, "latency: "},
		} {
			t.Run(c.version, func(t *testing.T) {
				t.Parallel()
				r, _ := run(t, c.version, 8, "1s", nil)
				if r.Phase != c.want || !strings.HasPrefix(r.Message, c.prefix) {
					t.Errorf("%s: %s (%s), want %s from %q", c.version, r.Phase, r.Message, c.want, c.prefix)
				}
				if c.want == gate.Successful {
					var canary, stable int
					for _, m := range r.Measurements {
						if m.Metric == "error-rate" && m.Version == "canary" {
							canary++
						}
						if m.Metric == "error-rate" && m.Version == "stable" {
							stable++
						}
					}
					if canary != 8 || stable != 8 {
						t.Errorf("%d canary and %d stable error-rate measurements, want 8 of each", canary, stable)
					}
				}
			})
		}
		// against: before compares a version since the step began with the
		// same length of time just before it (the post-rollback "error rates
		// are back to the baseline").
		t.Run("against before", func(t *testing.T) {
			t.Parallel()
			src := fmt.Sprintf(`
metrics:
  - name: back-to-baseline
    initialDelay: 3s
    interval: 1s
    count: 5
    provider:
      prometheus: {address: %q}
    errorRate:
      against: before
      requests: sum(increase(http_requests_total{version="{{.Version}}"}[{{.Range}}]))
      errors: sum(increase(http_requests_total{version="{{.Version}}",code=~"5.."}[{{.Range}}]))
`, prom)
			r := compile(t, src).Evaluate(ctx, gate.Window{Start: time.Now(), Stable: "recovers"})
			t.Logf("steady: %s: %s", r.Phase, r.Message)
			if r.Phase != gate.Successful {
				t.Errorf("a steady 1%% against its own past: %s: %s", r.Phase, r.Message)
			}
			resp, err := http.Post("http://"+recovers.addr+"/admin?error-rate=0.05", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			r = compile(t, src).Evaluate(ctx, gate.Window{Start: time.Now(), Stable: "recovers"})
			t.Logf("worse: %s: %s", r.Phase, r.Message)
			if r.Phase != gate.Failed || !strings.Contains(r.Message, "stable error rate") || !strings.Contains(r.Message, "the same time before") {
				t.Errorf("5%% against its own 1%% past: %s: %s", r.Phase, r.Message)
			}
		})
	})

	// Absolute checks, as Argo writes them: instant and range queries, and
	// no data or NaN as a failed measurement.
	t.Run("absolute", func(t *testing.T) {
		for _, c := range []struct {
			name, provider, condition string
			want                      gate.Phase
			msg                       string
		}{
			{"instant ratio", `{address: %q, query: 'sum(rate(http_requests_total{version="stable",code="500"}[5s])) / sum(rate(http_requests_total{version="stable"}[5s]))'}`,
				"result[0] < 0.05", gate.Successful, "successCondition"},
			{"instant ratio too high", `{address: %q, query: 'sum(rate(http_requests_total{version="stable",code="500"}[5s])) / sum(rate(http_requests_total{version="stable"}[5s]))'}`,
				"result[0] < 0.001", gate.Failed, "is false"},
			{"one value per series", `{address: %q, query: 'sum by (code) (http_requests_total{version="stable"})'}`,
				"len(result) == 2", gate.Successful, ""},
			{"range query", `{address: %q, query: 'sum(rate(http_requests_total{version="stable"}[3s]))', range: {step: 1s}}`,
				"len(result) >= 4 && all(result, {# > 50 && # < 150})", gate.Successful, ""},
			{"no data", `{address: %q, query: 'http_requests_total{version="nonexistent"}'}`,
				"", gate.Failed, "returned no data"},
			{"NaN", `{address: %q, query: 'vector(0) / 0'}`,
				"result[0] >= 0", gate.Failed, "returned NaN"},
		} {
			cond := ""
			if c.condition != "" {
				cond = fmt.Sprintf("    successCondition: %q\n", c.condition)
			}
			g := compile(t, fmt.Sprintf("metrics:\n  - name: abs\n%s    provider:\n      prometheus: "+c.provider+"\n", cond, prom))
			now := time.Now()
			r := g.Evaluate(ctx, gate.Window{Start: now.Add(-5 * time.Second), Stable: "stable", Canary: "healthy"})
			if r.Phase != c.want || !strings.Contains(r.Message, c.msg) {
				t.Errorf("%s: %s: %s, want %s with %q", c.name, r.Phase, r.Message, c.want, c.msg)
			}
		}
	})

	// A Prometheus behind a proxy that wants a bearer token: the token
	// comes from the environment variable the plan names and never shows
	// in a message.
	t.Run("bearer token", func(t *testing.T) {
		target, _ := url.Parse(prom)
		proxy := httputil.NewSingleHostReverseProxy(target)
		guard := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer s3cret-token" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer guard.Close()
		src := fmt.Sprintf(`
metrics:
  - name: up
    provider:
      prometheus: {address: %q, bearerTokenEnv: TEST_PROM_TOKEN, query: 'count(up)'}
    consecutiveErrorLimit: 0
    successCondition: result[0] >= 1
`, guard.URL)
		for _, c := range []struct {
			token string
			want  gate.Phase
			msg   string
		}{
			{"s3cret-token", gate.Successful, ""},
			{"wrong-token", gate.Error, "401"},
			{"", gate.Error, "TEST_PROM_TOKEN (bearerTokenEnv) is empty"},
		} {
			t.Setenv("TEST_PROM_TOKEN", c.token)
			r := compile(t, src).Evaluate(ctx, gate.Window{})
			if r.Phase != c.want || !strings.Contains(r.Message, c.msg) || strings.Contains(r.Message, "s3cret") || (c.token != "" && strings.Contains(r.Message, c.token)) {
				t.Errorf("token %q: %s: %s", c.token, r.Phase, r.Message)
			}
		}
	})

	// The query API's other answers, from the same Prometheus: a scalar,
	// its errors (a syntax error, in an instant and in a range query, an
	// instant query that returns a matrix, a server that is not
	// Prometheus), and a proxy in front of it that allows GET only, as
	// read-only proxies do.
	t.Run("query API", func(t *testing.T) {
		getOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				http.Error(w, "read-only", http.StatusMethodNotAllowed)
				return
			}
			target, _ := url.Parse(prom)
			httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
		}))
		defer getOnly.Close()
		for _, c := range []struct {
			name, address, query, condition string
			want                            gate.Phase
			msg                             string
		}{
			{"scalar", prom, `scalar(count(up))`, "result >= 1", gate.Successful, ""},
			{"syntax error", prom, `sum((`, "result[0] >= 0", gate.Error, "bad_data: "},
			{"matrix where a vector is wanted", prom, `up[10s]`, "result[0] >= 0", gate.Error, "returned a matrix, want a vector or a scalar"},
			{"GET only", getOnly.URL, `count(up)`, "result[0] >= 1", gate.Successful, ""},
			{"not Prometheus", getOnly.URL + "/nothing-here", `count(up)`, "result[0] >= 1", gate.Error, "HTTP 404"},
		} {
			src := fmt.Sprintf("metrics:\n  - name: q\n    consecutiveErrorLimit: 0\n    successCondition: %q\n    provider:\n      prometheus: {address: %q, query: %q}\n", c.condition, c.address, c.query)
			r := compile(t, src).Evaluate(ctx, gate.Window{})
			if r.Phase != c.want || !strings.Contains(r.Message, c.msg) {
				t.Errorf("%s: %s: %s, want %s with %q", c.name, r.Phase, r.Message, c.want, c.msg)
			}
		}
		src := fmt.Sprintf("metrics:\n  - name: q\n    consecutiveErrorLimit: 0\n    successCondition: \"len(result) > 0\"\n    provider:\n      prometheus: {address: %q, query: 'rate(up[', range: {step: 1s}}\n", prom)
		r := compile(t, src).Evaluate(ctx, gate.Window{Start: time.Now().Add(-3 * time.Second)})
		if r.Phase != gate.Error || !strings.Contains(r.Message, "prometheus range query") || !strings.Contains(r.Message, "bad_data: ") {
			t.Errorf("a range query with a syntax error: %s: %s", r.Phase, r.Message)
		}
	})

	t.Run("prometheus stopped", func(t *testing.T) {
		stopped := make(chan time.Time, 1)
		r, _ := run(t, "down", 60, "500ms", func() {
			time.Sleep(3 * time.Second)
			stopProm()
			stopped <- time.Now()
		})
		at := <-stopped
		if r.Phase != gate.Failed || !strings.Contains(r.Message, "5 measurement errors in a row, more than consecutiveErrorLimit 4") || !strings.Contains(r.Message, "connection refused") {
			t.Fatalf("%s: %s, want Failed after consecutiveErrorLimit errors", r.Phase, r.Message)
		}
		var before int
		for _, m := range r.Measurements {
			if m.At.Before(at) && m.Metric == "error-rate" && m.Version == "canary" {
				before++
			}
		}
		if before < 2 {
			t.Errorf("only %d error-rate measurements before Prometheus stopped, want the analysis to have been running", before)
		}
	})
}
