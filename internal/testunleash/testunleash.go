// Package testunleash starts the real unleash-server (8.2.0, installed by
// scripts/test with npm) on the throwaway PostgreSQL, authentication off,
// on loopback, for the tests of the flag driver, the flag checks and the
// rollout end to end.
package testunleash

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testdb"
)

// Dir is where scripts/test installs unleash-server@8.2.0.
func Dir(t testing.TB) string {
	t.Helper()
	tools := os.Getenv("MIGSAFE_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "migsafe-tools")
	}
	dir := filepath.Join(tools, "node_modules", "unleash-server")
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		testdb.MissingTool(t, "unleash-server is not installed in "+tools+": run scripts/test (npm install unleash-server@8.2.0)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		testdb.MissingTool(t, "node is not installed")
	}
	return dir
}

const launcher = `
const { start } = require(require('path').join(process.env.UNLEASH_DIR, 'dist/lib/server-impl.js'));
start({
  db: { host: '127.0.0.1', port: Number(process.env.PG_PORT), user: process.env.PG_USER, password: '',
        database: process.env.PG_DATABASE, ssl: false, pool: { min: 0, max: 4 } },
  server: { host: '127.0.0.1', port: Number(process.env.UNLEASH_PORT) },
  authentication: { type: 'none' },
  logLevel: 'error',
}).then(() => console.log('unleash ready'), (e) => { console.error(e); process.exit(1); });
`

// Server is a running unleash-server.
type Server struct {
	URL  string
	stop func()
}

// Stop ends the server by its pid (SIGTERM, then SIGKILL after 10 s).
func (s *Server) Stop() { s.stop() }

// Start runs unleash-server on a fresh database of the throwaway
// PostgreSQL and waits (at most 120 s) until /health answers; the test's
// cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	dir := Dir(t)
	pg := testdb.PostgreSQL(t)
	tmp := t.TempDir()
	script := filepath.Join(tmp, "start-unleash.js")
	if err := os.WriteFile(script, []byte(launcher), 0o644); err != nil {
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
	cmd := exec.Command("node", script)
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
	return &Server{URL: u, stop: stop}
}

// CreateFlag creates a release flag in the default project, off in every
// environment, as a person does before a rollout.
func CreateFlag(t testing.TB, base, key string) {
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

// ClientView reads the flag as an Unleash SDK does, from the client API:
// whether it is on in the default environment, and its flexibleRollout
// share.
func ClientView(t testing.TB, base, key string) (enabled bool, rollout string) {
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
