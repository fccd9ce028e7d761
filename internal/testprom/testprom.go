// Package testprom starts a throwaway Prometheus server (Debian package
// prometheus) for tests: on loopback, with its configuration and data in a
// temporary directory, scraping the given targets every second, and stops
// it by its pid.
package testprom

import (
	"fmt"
	"io"
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

// Server is a running Prometheus.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	Dir  string
	once sync.Once
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Options configure Start.
type Options struct {
	// Targets are host:port pairs scraped every second under job "test".
	Targets []string
	// Rules is the content of a rule file (alerting or recording rules),
	// loaded when not empty.
	Rules string
}

// Start starts Prometheus and waits until it is ready and, when there are
// targets, until each has been scraped three times (Prometheus' discovery
// hands targets to the scraper about 5 s after start). A missing
// prometheus binary skips the test, or fails it when the tools are
// required (testdb.Required).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		testdb.MissingTool(t, "testprom: prometheus is not installed: install the Debian package prometheus, or run scripts/test")
	}
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
	if o.Rules != "" {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(o.Rules), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cfg, "rule_files: [%q]\n", filepath.Join(dir, "rules.yml"))
	}
	if len(o.Targets) > 0 {
		quoted := make([]string, len(o.Targets))
		for i, tg := range o.Targets {
			quoted[i] = fmt.Sprintf("%q", tg)
		}
		fmt.Fprintf(&cfg, "scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [%s]\n", strings.Join(quoted, ", "))
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	s.waitFor(t, deadline, "/-/ready", "")
	if len(o.Targets) > 0 {
		s.waitFor(t, deadline, "/api/v1/query?query=count(count_over_time(up[10s])+%3E=+3)", fmt.Sprintf(`,"%d"]`, len(o.Targets)))
	}
	return s
}

func (s *Server) waitFor(t testing.TB, deadline time.Time, path, want string) {
	t.Helper()
	for {
		resp, err := http.Get(s.URL + path)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), want) {
				return
			}
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "prometheus.log"))
			t.Fatalf("testprom: prometheus exited:\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "prometheus.log"))
			t.Fatalf("testprom: prometheus was not ready (%s) within 30 s:\n%s", path, log)
		}
	}
}

// Stop ends the server by its pid (SIGTERM, then SIGKILL after 10 s). It
// may be called more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		_ = s.log.Close()
	})
}
