package testservice

import (
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

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// moduleRoot is the repository root: the nearest directory above the
// test's working directory (its package's) that holds go.mod. Not from
// runtime.Caller, which -trimpath (scripts/test) makes a module path.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Build builds the named packages (paths relative to the module root,
// e.g. "./internal/testservice/testservice", "./cmd/migsafe") once per
// test process and returns the directory holding the binaries, named
// after the last element of each path. TestMain removes them
// (RemoveBuilds).
func Build(t testing.TB, pkgs ...string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "migsafe-rollout-bin-")
		if buildErr != nil {
			return
		}
		args := append([]string{"build", "-o", buildDir + "/"}, pkgs...)
		cmd := exec.Command("go", args...)
		cmd.Dir = moduleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// RemoveBuilds deletes what Build built; a test package that calls Build
// calls it from TestMain after m.Run.
func RemoveBuilds() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// Service is a running testservice.
type Service struct {
	Addr string
	cmd  *exec.Cmd
}

// StartService starts bin/testservice serve and stops it (by its pid)
// when the test ends.
func StartService(t testing.TB, bin, version string, errorRate float64) *Service {
	t.Helper()
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.Command(filepath.Join(bin, "testservice"), "serve", "-version", version, "-error-rate", fmt.Sprint(errorRate), "-addr-file", addrFile)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Service{cmd: cmd}
	t.Cleanup(func() { stop(cmd) })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(addrFile); err == nil {
			s.Addr = string(data)
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("testservice did not start within 10s")
	return nil
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Nginx is a throwaway nginx (Debian's) on loopback with its own prefix.
type Nginx struct {
	Prefix, Conf, Upstream, URL string
	Binary, PidFile             string
	cmd                         *exec.Cmd
}

// StartNginx starts nginx in a temporary prefix, proxying to the
// upstream migsafe_app defined in the file Upstream, which starts with
// all traffic on stable. It is stopped by its pid when the test ends.
// Without nginx the test skips, or fails under MIGSAFE_REQUIRE_TOOLS=1.
func StartNginx(t testing.TB, stable string) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		testdb.MissingTool(t, "testservice: nginx is not installed: install the Debian package nginx, or run scripts/test")
	}
	dir, err := os.MkdirTemp("", "migsafe-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	n := &Nginx{Prefix: dir, Conf: filepath.Join(dir, "nginx.conf"), Upstream: filepath.Join(dir, "upstream.conf"),
		URL: fmt.Sprintf("http://127.0.0.1:%d/", port), Binary: bin, PidFile: filepath.Join(dir, "nginx.pid")}
	conf := NginxConf(dir, n.Upstream, port)
	if err := os.WriteFile(n.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	up := fmt.Sprintf("upstream migsafe_app {\n    server %s weight=100;\n}\n", stable)
	if err := os.WriteFile(n.Upstream, []byte(up), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", n.Conf, "-e", filepath.Join(dir, "error.log"))
	out, _ := os.Create(filepath.Join(dir, "stderr.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.cmd = cmd
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		out.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond); err == nil {
			c.Close()
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx did not listen within 10s:\n%s", log)
	return nil
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// KubectlPath returns a directory holding a kubectl link to the
// stand-in, for the front of $PATH, and writes its cluster state.
func KubectlPath(t testing.TB, bin string, state KubeState) (dir, stateFile, logFile string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.Symlink(filepath.Join(bin, "testservice"), filepath.Join(dir, "kubectl")); err != nil {
		t.Fatal(err)
	}
	stateFile = filepath.Join(dir, "cluster.json")
	logFile = filepath.Join(dir, "kubectl.log")
	data, _ := json.Marshal(state)
	if err := os.WriteFile(stateFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, stateFile, logFile
}

// ReadKubeState reads the stand-in's cluster.
func ReadKubeState(t testing.TB, stateFile string) KubeState {
	t.Helper()
	data, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var st KubeState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// KubectlLog reads the stand-in's argv log, one joined argv a line.
func KubectlLog(t testing.TB, logFile string) []string {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "" {
			continue
		}
		var argv []string
		if err := json.Unmarshal([]byte(l), &argv); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(argv, " "))
	}
	return out
}

// WaitShare sends batches of n requests through url until the canary
// version gets want of them (a reload takes effect within moments), and
// returns how long that took.
func WaitShare(t testing.TB, url, canary string, n, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var c Counts
	for time.Since(start) < within {
		c = Send(url, n)
		if c.Requests[canary] == want && c.Failed == 0 {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("through %s the canary %s got %d of %d requests, want %d (all: %v)", url, canary, c.Requests[canary], n, want, c.Requests)
	return 0
}

// NginxConf is a minimal nginx.conf for a prefix: one worker (its
// weighted round robin is then exact over each cycle of the weights), no
// daemon, everything under prefix, listening on 127.0.0.1:port and
// proxying to the upstream migsafe_app that upstreamFile defines.
func NginxConf(prefix, upstreamFile string, port int) string {
	return fmt.Sprintf(`daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log notice;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp_body;
    proxy_temp_path %[1]s/tmp_proxy;
    fastcgi_temp_path %[1]s/tmp_fastcgi;
    uwsgi_temp_path %[1]s/tmp_uwsgi;
    scgi_temp_path %[1]s/tmp_scgi;
    include %[2]s;
    server {
        listen 127.0.0.1:%[3]d;
        location / {
            proxy_pass http://migsafe_app;
            proxy_next_upstream off;
        }
    }
}
`, prefix, upstreamFile, port)
}

// NginxWrapperPath returns a directory holding an nginx link to the
// testservice binary, which runs the real nginx (NginxWrapper).
func NginxWrapperPath(t testing.TB, bin string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(bin, "testservice"), filepath.Join(dir, "nginx")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Load sends rps GET requests a second to url until ctx ends, each in its
// own goroutine with a 5 s timeout, and waits for them before returning.
func Load(ctx context.Context, url string, rps int) {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(time.Second / time.Duration(rps))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp, err := client.Get(url); err == nil {
					_ = resp.Body.Close()
				}
			}()
		}
	}
}
