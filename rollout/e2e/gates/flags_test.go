package gates

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/internal/testunleash"
	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/runner"
)

// flagPlan turns the risky path on through the real Unleash server, and
// its gate fails: the rollback routes traffic back and turns the flag off.
const flagPlan = `name: checkout-v2
service: checkout
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
flags:
  unleash: {url: "%[5]s", timeout: 5s}
  safe_default: false
steps:
  - deploy
  - set_weight: 50
  - flag: {key: checkout.new_path, percent: 100}
  - bake: 3s
  - analysis: {exec: ["false"]}
  - promote
rollback:
  - route_stable
`

// startFlagsvc starts the flag tests' application: GET / answers "new"
// when it reads the flag on from Unleash (through a cache refreshed every
// refresh), "old" otherwise, and "old" when Unleash cannot be read.
func startFlagsvc(t *testing.T, bin, unleashURL string, refresh time.Duration) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "flagsvc"), "-unleash="+unleashURL, "-flag=checkout.new_path", "-refresh="+refresh.String())
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
		t.Fatalf("flagsvc did not print its address: %v", err)
	}
	return strings.TrimSpace(line)
}

// paths sends n requests through nginx and counts the answers.
func paths(url string, n int) map[string]int {
	c := &http.Client{Timeout: 2 * time.Second}
	got := map[string]int{}
	for range n {
		resp, err := c.Get(url)
		if err != nil {
			got["error"]++
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got[strings.TrimSpace(string(b))]++
	}
	return got
}

// waitAll polls nginx every 20 ms until 20 requests in a row answer want,
// and returns how long that took (-1 after limit).
func waitAll(url, want string, limit time.Duration) time.Duration {
	t0 := time.Now()
	for time.Since(t0) < limit {
		if paths(url, 20)[want] == 20 {
			return time.Since(t0)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}

// The flag steps against the real Unleash: the readiness checklist finds
// the flag off, the flag step turns it on (the service, through nginx,
// takes the new path), the gate fails, the rollback routes traffic back
// and turns the flag off, and the service leaves the new path within its
// cache interval. Then, with Unleash stopped, the service falls back to
// the safe default and keeps serving through nginx.
func TestFlagRollbackUnleash(t *testing.T) {
	t.Parallel()
	const refresh = time.Second
	srv := testunleash.Start(t)
	testunleash.CreateFlag(t, srv.URL, "checkout.new_path")
	bin := testservice.Build(t, buildPkgs...)
	stable := startFlagsvc(t, bin, srv.URL, refresh)
	canary := startFlagsvc(t, bin, srv.URL, refresh)
	ngx := testservice.StartNginx(t, stable)

	dir := t.TempDir()
	f := filepath.Join(dir, "rollout.yaml")
	if err := os.WriteFile(f, []byte(fmt.Sprintf(flagPlan, ngx.Binary, ngx.Prefix, stable, canary, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	o := runner.Options{PlanFile: f, StateDir: filepath.Join(dir, "state"), Loud: os.Stderr}

	// Watch nginx while the run goes: when the flag step is done, the
	// service must take the new path within the cache interval.
	var mu sync.Mutex
	var sawNew time.Duration = -1
	var flagOff time.Time
	var watch sync.WaitGroup
	o.Observe = func(e journal.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == journal.StepDone && strings.HasPrefix(e.Reason, "flag checkout.new_path on") {
			watch.Add(1)
			go func() {
				defer watch.Done()
				d := waitAll(ngx.URL, "new", 3*time.Second)
				mu.Lock()
				sawNew = d
				mu.Unlock()
			}()
		}
		if e.Kind == journal.StepDone && e.Rollback && e.Reason == "flag checkout.new_path off" {
			flagOff = time.Now()
		}
	}
	var ready []string
	o.Readiness = func(r checklist.Report) {
		for _, oc := range r.Outcomes {
			ready = append(ready, fmt.Sprintf("%s %v: %s", oc.Name, oc.Passed, oc.Message))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, st, err := runner.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	watch.Wait()
	if engine.OutcomeOf(st) != engine.OutcomeRolledBack {
		t.Fatalf("%s: %s", st.Status, st.Reason)
	}
	t.Logf("flag on → every request through nginx on the new path after %s", sawNew)
	if sawNew < 0 {
		t.Fatal("the service never took the new path through nginx with the flag on")
	}
	if len(ready) != 1 || !strings.Contains(ready[0], "flags true: flags exist and are off: checkout.new_path") {
		t.Errorf("the readiness checklist before the run: %q, want the flag found off in Unleash", ready)
	}
	if flagOff.IsZero() {
		t.Fatal("the rollback did not turn the flag off")
	}
	took := waitAll(ngx.URL, "old", 5*time.Second)
	offToOld := time.Since(flagOff)
	t.Logf("flag off (rollback) → every request through nginx on the old path within %s of the flag_off step (cache interval %s)", offToOld.Round(10*time.Millisecond), refresh)
	if took < 0 || offToOld > refresh+time.Second {
		t.Errorf("the service was still on the new path %s after the flag was turned off (cache interval %s)", offToOld, refresh)
	}
	if on, _ := testunleash.ClientView(t, srv.URL, "checkout.new_path"); on {
		t.Error("after the rollback Unleash's client API still shows the flag on")
	}

	// The flag on again, then Unleash stops: the service falls back to
	// the safe default (the old path) within its cache interval and keeps
	// serving through nginx.
	u := &flags.Unleash{URL: srv.URL}
	if err := u.Set(ctx, "checkout.new_path", 100); err != nil {
		t.Fatal(err)
	}
	if waitAll(ngx.URL, "new", 5*time.Second) < 0 {
		t.Fatal("the service did not take the new path again")
	}
	srv.Stop()
	took = waitAll(ngx.URL, "old", 5*time.Second)
	t.Logf("Unleash stopped → every request through nginx on the safe default after %s", took)
	if took < 0 || took > 2*refresh+time.Second {
		t.Errorf("the service took %s to fall back to the safe default", took)
	}
	if got := paths(ngx.URL, 200); got["old"] != 200 {
		t.Errorf("with Unleash down, 200 requests through nginx: %v", got)
	}
}
