package flags

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testdb"
)

func missingTool(t *testing.T, msg string) {
	t.Helper()
	if testdb.Required() {
		t.Fatal(msg + " (MIGSAFE_REQUIRE_TOOLS=1)")
	}
	t.Skip(msg)
}

// unleashDir is where scripts/test installs unleash-server@8.2.0.
func unleashDir(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("MIGSAFE_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "migsafe-tools")
	}
	dir := filepath.Join(tools, "node_modules", "unleash-server")
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		missingTool(t, "unleash-server is not installed in "+tools+": run scripts/test (npm install unleash-server@8.2.0)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missingTool(t, "node is not installed")
	}
	return dir
}

const unleashLauncher = `
const { start } = require(require('path').join(process.env.UNLEASH_DIR, 'dist/lib/server-impl.js'));
start({
  db: { host: '127.0.0.1', port: Number(process.env.PG_PORT), user: process.env.PG_USER, password: '',
        database: process.env.PG_DATABASE, ssl: false, pool: { min: 0, max: 4 } },
  server: { host: '127.0.0.1', port: Number(process.env.UNLEASH_PORT) },
  authentication: { type: 'none' },
  logLevel: 'error',
}).then(() => console.log('unleash ready'), (e) => { console.error(e); process.exit(1); });
`

type unleashServer struct {
	URL  string
	stop func()
}

// startUnleash runs unleash-server on the throwaway PostgreSQL with
// authentication off, on loopback; stop ends it by its pid.
func startUnleash(t *testing.T) *unleashServer {
	t.Helper()
	dir := unleashDir(t)
	pg := testdb.PostgreSQL(t)
	tmp := t.TempDir()
	launcher := filepath.Join(tmp, "start-unleash.js")
	if err := os.WriteFile(launcher, []byte(unleashLauncher), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logPath := filepath.Join(tmp, "unleash.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", launcher)
	cmd.Env = append(os.Environ(), "UNLEASH_DIR="+dir, fmt.Sprintf("UNLEASH_PORT=%d", port),
		fmt.Sprintf("PG_PORT=%d", pg.Port), "PG_USER="+pg.User, "PG_DATABASE="+pg.Database, "TZ=UTC")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			_ = logf.Close()
		})
	}
	t.Cleanup(stop)
	u := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(120 * time.Second)
	for {
		resp, err := http.Get(u + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("unleash exited before it was ready: %s", log)
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("unleash did not become ready within 120 s: %s", log)
		}
	}
	return &unleashServer{URL: u, stop: stop}
}

func createFlag(t *testing.T, base, key string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": key, "type": "release", "description": "test flag"})
	resp, err := http.Post(base+"/api/admin/projects/default/features", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("creating %s: %d %s", key, resp.StatusCode, b.String())
	}
}

// clientView reads the flag as an Unleash SDK does, from the client API.
func clientView(t *testing.T, base, key string) (enabled bool, rollout string) {
	t.Helper()
	resp, err := http.Get(base + "/api/client/features/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f struct {
		Enabled    bool `json:"enabled"`
		Strategies []struct {
			Name       string            `json:"name"`
			Parameters map[string]string `json:"parameters"`
		} `json:"strategies"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatalf("client API: %d: %v", resp.StatusCode, err)
	}
	for _, s := range f.Strategies {
		if s.Name == "flexibleRollout" {
			rollout = s.Parameters["rollout"]
		}
	}
	return f.Enabled, rollout
}

func TestUnleash(t *testing.T) {
	srv := startUnleash(t)
	ctx := context.Background()
	u := &Unleash{URL: srv.URL}
	const key = "checkout.new_path"
	createFlag(t, srv.URL, key)

	if s, err := u.Get(ctx, key); err != nil || s != (State{Exists: true}) {
		t.Fatalf("new flag: %+v %v, want it to exist and be off", s, err)
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
		if on, r := clientView(t, srv.URL, key); !on || r != fmt.Sprint(p) {
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
	if on, _ := clientView(t, srv.URL, key); on {
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
	srv.stop()
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
