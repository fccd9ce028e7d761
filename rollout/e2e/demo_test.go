package e2e

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testdb"
)

// readmeDemo returns the two commands the README gives to try a rollout
// on the bundled example.
func readmeDemo(t *testing.T) (demo, start string) {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- the rollout demo: run as written by TestReadmeDemo \\(rollout/e2e\\) -->\n```sh\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md: the rollout demo's commands are not found")
	}
	lines := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	if len(lines) != 2 {
		t.Fatalf("README.md: the rollout demo is %d commands, not two:\n%s", len(lines), m[1])
	}
	return lines[0], lines[1]
}

// TestReadmeDemo runs the README's two commands on the bundled example:
// the demo (nginx, v1, v2 and PostgreSQL on loopback), then rollout start
// with the environment the second command sets. A good v2 is promoted
// (exit 0); with -bad it is rolled back (exit 1). The built binaries stand
// for go run; the state goes to a temporary folder ($MIGSAFE_ROLLOUT_STATE)
// rather than the checkout.
func TestReadmeDemo(t *testing.T) {
	demoCmd, startCmd := readmeDemo(t)
	if demoCmd != "go run ./examples/rollout/demo &" {
		t.Fatalf("README: the first command is %q", demoCmd)
	}
	m := regexp.MustCompile(`^(\w+)='([^']*)' go run ./cmd/migsafe (.*)$`).FindStringSubmatch(startCmd)
	if m == nil {
		t.Fatalf("README: the second command is %q", startCmd)
	}
	env, args := m[1]+"="+m[2], strings.Fields(m[3])
	bin := binaries(t)
	if _, err := exec.LookPath("nginx"); err != nil {
		testdb.MissingTool(t, "nginx is not installed (Debian package nginx)")
	}
	for _, tc := range []struct {
		flag string
		code int
		last string
	}{{"", 0, "promoted: v2 is stable"}, {"-bad", 1, "rolled back: step 6: canary-errors: Failed"}} {
		name := "good"
		if tc.flag != "" {
			name = "bad"
		}
		t.Run(name, func(t *testing.T) {
			var demoArgs []string
			if tc.flag != "" {
				demoArgs = append(demoArgs, tc.flag)
			}
			demo := exec.Command(filepath.Join(bin, "demo"), demoArgs...)
			demo.Stderr = os.Stderr
			out, err := demo.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := demo.Start(); err != nil {
				t.Fatal(err)
			}
			stopped := false
			stop := func() {
				if !stopped {
					stopped = true
					_ = demo.Process.Signal(syscall.SIGTERM)
					_ = demo.Wait()
				}
			}
			defer stop()
			ready := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "demo: nginx on") {
						ready <- true
					}
				}
				ready <- false
			}()
			select {
			case ok := <-ready:
				if !ok {
					t.Fatal("the demo ended before it was ready")
				}
			case <-time.After(60 * time.Second):
				t.Fatal("the demo did not start within 60s")
			}
			start := exec.Command(filepath.Join(bin, "migsafe"), args...)
			start.Dir = "../.."
			start.Env = append(os.Environ(), env, "MIGSAFE_ROLLOUT_STATE="+t.TempDir())
			got, err := start.CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(string(got), tc.last) {
				t.Errorf("rollout start: exit %d, want %d and %q:\n%s", code, tc.code, tc.last, got)
			}
			stop()
		})
	}
}
