package flags

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testunleash"
)

func TestUnleash(t *testing.T) {
	srv := testunleash.Start(t)
	ctx := context.Background()
	u := &Unleash{URL: srv.URL}
	const key = "checkout.new_path"
	testunleash.CreateFlag(t, srv.URL, key)

	if s, err := u.Get(ctx, key); err != nil || s != (State{Exists: true}) {
		t.Fatalf("new flag: %+v %v, want it to exist and be off", s, err)
	}
	// The kill switch is reachable: the admin API the rollback uses
	// answers for the flag and its environment. Nothing is changed.
	if err := u.CanTurnOff(ctx, key); err != nil {
		t.Errorf("CanTurnOff: %v", err)
	}
	if err := u.CanTurnOff(ctx, "no.such.flag"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("CanTurnOff on a missing flag: %v", err)
	}
	if err := (&Unleash{URL: srv.URL, Environment: "nowhere"}).CanTurnOff(ctx, key); err == nil || !strings.Contains(err.Error(), `no environment "nowhere"`) {
		t.Errorf("CanTurnOff in a missing environment: %v", err)
	}
	steps := []int{10, 50, 50, 100}
	for _, p := range steps {
		if err := u.Set(ctx, key, p); err != nil {
			t.Fatalf("Set %d: %v", p, err)
		}
		s, err := u.Get(ctx, key)
		if err != nil || s != (State{Exists: true, Enabled: true, Percent: p}) {
			t.Fatalf("after Set %d: %+v %v", p, s, err)
		}
		if on, r := testunleash.ClientView(t, srv.URL, key); !on || r != fmt.Sprint(p) {
			t.Fatalf("after Set %d the client API shows enabled=%v rollout=%q", p, on, r)
		}
	}
	t0 := time.Now()
	if err := u.Set(ctx, key, 0); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	if s, _ := u.Get(ctx, key); s != (State{Exists: true}) {
		t.Fatalf("after Set 0: %+v", s)
	}
	if on, _ := testunleash.ClientView(t, srv.URL, key); on {
		t.Fatal("after Set 0 the client API still shows the flag on")
	}
	t.Logf("turning the flag off took %s", took)
	// Off twice is fine; on again reuses the strategy (one strategy, 25 %).
	if err := u.Set(ctx, key, 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Set(ctx, key, 25); err != nil {
		t.Fatal(err)
	}
	f, err := u.feature(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f.Environments {
		if e.Name == "development" && len(e.Strategies) != 1 {
			t.Errorf("development has %d strategies after ramps, want 1", len(e.Strategies))
		}
	}

	// A flag that does not exist: Get says so, Set refuses.
	if s, err := u.Get(ctx, "no.such.flag"); err != nil || s.Exists {
		t.Errorf("missing flag: %+v %v", s, err)
	}
	for _, p := range []int{0, 10} {
		if err := u.Set(ctx, "no.such.flag", p); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Set %d on a missing flag: %v", p, err)
		}
	}
	if err := u.Set(ctx, key, 101); err == nil {
		t.Error("Set 101 succeeded")
	}

	// The application reads the flag through a cache refreshed every
	// second; the rollback turns the flag off and the service stops taking
	// the new path within the refresh interval.
	const refresh = time.Second
	if err := u.Set(ctx, key, 100); err != nil {
		t.Fatal(err)
	}
	app := startFlagsvc(t, srv.URL, key, refresh)
	if got := waitFor(t, app, "new", 10*time.Second); got < 0 {
		t.Fatal("the service never took the new path with the flag on")
	}
	t0 = time.Now()
	if err := u.Set(ctx, key, 0); err != nil {
		t.Fatal(err)
	}
	took = waitFor(t, app, "old", 10*time.Second)
	t.Logf("flag off → service on the old path after %s (refresh interval %s; off request %s)", took, refresh, time.Since(t0)-took)
	if took < 0 || took > refresh+time.Second {
		t.Errorf("the service took %s to leave the new path, want within the refresh interval %s", took, refresh)
	}

	// With Unleash stopped, the service falls back to the safe default
	// (the old path) and keeps serving.
	if err := u.Set(ctx, key, 100); err != nil {
		t.Fatal(err)
	}
	if waitFor(t, app, "new", 10*time.Second) < 0 {
		t.Fatal("the service did not take the new path again")
	}
	srv.Stop()
	took = waitFor(t, app, "old", 10*time.Second)
	t.Logf("Unleash stopped → service on the safe default after %s", took)
	if took < 0 || took > 2*refresh+time.Second {
		t.Errorf("the service took %s to fall back to the safe default", took)
	}
	for range 20 {
		if body, err := get(app); err != nil || body != "old" {
			t.Fatalf("with Unleash down the service answered %q, %v", body, err)
		}
	}

	// With the server gone, Set fails fast with an error (the engine
	// records it and goes on rolling back through traffic).
	t0 = time.Now()
	err = (&Unleash{URL: srv.URL, Timeout: 2 * time.Second, Token: "secret-token-value"}).Set(ctx, key, 0)
	if err == nil || time.Since(t0) > 5*time.Second {
		t.Fatalf("Set with Unleash stopped: %v after %s", err, time.Since(t0))
	}
	if strings.Contains(err.Error(), "secret-token-value") {
		t.Errorf("the token leaked into the error: %v", err)
	}
}

func startFlagsvc(t *testing.T, unleashURL, key string, refresh time.Duration) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flagsvc")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/flagsvc").CombinedOutput(); err != nil {
		t.Fatalf("building flagsvc: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-unleash="+unleashURL, "-flag="+key, "-refresh="+refresh.String())
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
		t.Fatalf("flagsvc did not print its address: %v", err)
	}
	return "http://" + strings.TrimSpace(line)
}

func get(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return strings.TrimSpace(b.String()), err
}

// waitFor polls the service every 20 ms until it answers want and returns
// how long that took, or -1 after limit.
func waitFor(t *testing.T, url, want string, limit time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	for time.Since(t0) < limit {
		if body, err := get(url); err == nil && body == want {
			return time.Since(t0)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}
