// Package integrations_test exercises the integrations at the repository
// root with the real tools: the pre-commit hook (.pre-commit-hooks.yaml)
// with pre-commit, the GitHub Action (action.yml) step by step in a shell
// set up the way the Actions runner sets it up, and every snippet of
// docs/getting-started.md. Nothing here talks to the network: Go modules
// come from the local module cache, served as a file proxy.
package integrations_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// root is the module root (this checkout).
var root = func() string {
	abs, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	return abs
}()

// sandbox is a directory for what several tests share (the module proxy
// and its module cache); TestMain removes it.
var sandbox string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "migsafe-integrations-")
	if err != nil {
		panic(err) // no temporary directory: nothing can run
	}
	sandbox = dir
	m.Run() // go test exits with its status (Go 1.15+)
	removeProxyCopy()
	_ = os.RemoveAll(dir)
}

// removeProxyCopy removes what `go install …@ProxyVersion` put into the
// local module cache: this checkout's copy, and only that.
func removeProxyCopy() {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	mc := strings.TrimSpace(string(out))
	if err != nil || mc == "" {
		return
	}
	src := filepath.Join(mc, "github.com", "migsafe", "migsafe@"+ProxyVersion)
	// the module cache is read-only unless -modcacherw; make sure it goes
	_ = filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	_ = os.RemoveAll(src)
	at := filepath.Join(mc, "cache", "download", "github.com", "migsafe", "migsafe", "@v")
	dl, _ := filepath.Glob(filepath.Join(at, ProxyVersion+".*"))
	for _, f := range dl {
		_ = os.Remove(f)
	}
	// go keeps the proxy's version list too: take this version out of it
	if data, err := os.ReadFile(filepath.Join(at, "list")); err == nil {
		var keep []string
		for _, v := range strings.Fields(string(data)) {
			if v != ProxyVersion {
				keep = append(keep, v)
			}
		}
		if len(keep) == 0 {
			_ = os.Remove(filepath.Join(at, "list"))
		} else {
			_ = os.WriteFile(filepath.Join(at, "list"), []byte(strings.Join(keep, "\n")+"\n"), 0o644)
		}
	}
}

// snippet returns the fenced block of docs/getting-started.md that follows
// the marker <!-- test: NAME -->.
func snippet(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docs", "getting-started.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- test: " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```\n")
	m := re.FindStringSubmatch(string(data))
	if m == nil {
		t.Fatalf("docs/getting-started.md has no snippet marked <!-- test: %s -->", name)
	}
	return m[1]
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/test installs it)", tool)
		}
	}
}

// run runs a command and returns its combined output and exit status.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// baseEnv is a clean environment: PATH, HOME and Go's caches, nothing of
// migsafe's own (MIGSAFE_*, NO_COLOR, GITHUB_*) from the process running
// the tests. Go may not reach the network.
func baseEnv(t *testing.T) []string {
	t.Helper()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"LANG=C.UTF-8",
		"GOCACHE=" + goEnv(t, "GOCACHE"),
		"GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
		"GOPATH=" + goEnv(t, "GOPATH"),
		"GOFLAGS=" + goEnv(t, "GOFLAGS"),
		"GOPROXY=off",
		"GOTOOLCHAIN=local",
	}
	if v := os.Getenv("TMPDIR"); v != "" {
		env = append(env, "TMPDIR="+v)
	}
	return env
}

// snapshot copies the checkout as it is (the files git tracks or does not
// ignore, as go build sees them) into a new git repository with one commit tagged tag, and
// returns its path. pre-commit installs hooks from such a repository.
func snapshot(t *testing.T, tag string) string {
	t.Helper()
	need(t, "git")
	dst := filepath.Join(t.TempDir(), "migsafe")
	for _, f := range checkoutFiles(t) {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, f), string(data))
	}
	env := append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "snapshot"}, {"tag", tag}} {
		if out, code := run(t, dst, env, "git", args...); code != 0 {
			t.Fatalf("git %v: %s", args, out)
		}
	}
	return dst
}

// checkoutFiles lists the files of the checkout that git does not ignore,
// leaving out nested modules (they are not part of this module).
func checkoutFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files, nested []string
	all := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	for _, f := range all {
		if filepath.Base(f) == "go.mod" && f != "go.mod" {
			nested = append(nested, filepath.Dir(f)+"/")
		}
	}
next:
	for _, f := range all {
		if _, err := os.Lstat(filepath.Join(root, f)); err != nil {
			continue // deleted in the working tree
		}
		for _, n := range nested {
			if strings.HasPrefix(f, n) {
				continue next
			}
		}
		files = append(files, f)
	}
	return files
}

// ProxyVersion is the version the module proxy serves this checkout as: a
// release of its own per test run (v0.1.<milliseconds><random digit>), so
// that runs from several checkouts at once never meet in the module cache.
var ProxyVersion = func() string {
	var b [1]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("v0.1.%d%d", time.Now().UnixMilli(), b[0]%10)
}()

var (
	proxyOnce sync.Once
	proxyEnv  []string
	proxyErr  error
)

// moduleProxy serves this checkout as github.com/migsafe/migsafe at
// ProxyVersion from a file proxy, ahead of the local module cache's
// download directory, so that `go install
// github.com/migsafe/migsafe/cmd/migsafe@latest` works offline exactly as
// written in the docs. It returns the environment for it: a GOBIN on PATH,
// no checksum database, and the local module cache, so that the
// dependencies keep their directories and with them the build cache's keys:
// the cgo PostgreSQL parser's flags name its directory, and a module cache
// of its own made every run compile it again (minutes on two cores).
// TestMain removes this checkout's copy from the module cache.
func moduleProxy(t *testing.T) []string {
	t.Helper()
	need(t, "git")
	proxyOnce.Do(func() {
		dir := filepath.Join(sandbox, "proxy", "github.com", "migsafe", "migsafe", "@v")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			proxyErr = err
			return
		}
		gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err != nil {
			proxyErr = err
			return
		}
		var zbuf bytes.Buffer
		zw := zip.NewWriter(&zbuf)
		for _, f := range checkoutFiles(t) {
			data, err := os.ReadFile(filepath.Join(root, f))
			if err != nil {
				proxyErr = err
				return
			}
			w, err := zw.Create("github.com/migsafe/migsafe@" + ProxyVersion + "/" + f)
			if err == nil {
				_, err = w.Write(data)
			}
			if err != nil {
				proxyErr = err
				return
			}
		}
		if err := zw.Close(); err != nil {
			proxyErr = err
			return
		}
		for name, data := range map[string][]byte{
			"list":                 []byte(ProxyVersion + "\n"),
			ProxyVersion + ".info": []byte(`{"Version":"` + ProxyVersion + `","Time":"2026-01-01T00:00:00Z"}`),
			ProxyVersion + ".mod":  gomod,
			ProxyVersion + ".zip":  zbuf.Bytes(),
		} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				proxyErr = err
				return
			}
		}
		gobin := filepath.Join(sandbox, "bin")
		modcache := goEnv(t, "GOMODCACHE")
		download := filepath.Join(modcache, "cache", "download")
		proxyEnv = []string{
			"GOPROXY=" + fileURL(filepath.Join(sandbox, "proxy")) + "," + fileURL(download),
			"GOMODCACHE=" + modcache,
			"GOSUMDB=off",
			"GOBIN=" + gobin,
			// -trimpath as scripts/test builds: the packages built for the
			// tests are reused; -modcacherw lets TestMain remove the copy
			"GOFLAGS=-modcacherw -trimpath",
			"PATH=" + gobin + string(os.PathListSeparator) + os.Getenv("PATH"),
		}
	})
	if proxyErr != nil {
		t.Fatalf("module proxy: %v", proxyErr)
	}
	return override(baseEnv(t), proxyEnv...)
}

func fileURL(p string) string {
	p = filepath.ToSlash(p)
	if runtime.GOOS == "windows" {
		p = "/" + p
	}
	return "file://" + p
}

// override returns env with the given KEY=VALUE entries replacing or added.
func override(env []string, kv ...string) []string {
	out := append([]string(nil), env...)
	for _, e := range kv {
		k, _, _ := strings.Cut(e, "=")
		replaced := false
		for i, o := range out {
			if strings.HasPrefix(o, k+"=") {
				out[i], replaced = e, true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}

// migrations writes a small project: a migration that creates a table,
// and, when bad, one that adds a NOT NULL column without a default to a
// table the project does not create (an error, MS304).
func migrations(t *testing.T, dir string, bad bool) {
	t.Helper()
	write(t, filepath.Join(dir, "db", "migrations", "000001_create_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n")
	write(t, filepath.Join(dir, "db", "migrations", "000001_create_users.down.sql"), "DROP TABLE users;\n")
	p := filepath.Join(dir, "db", "migrations", "000002_add_plan.up.sql")
	if bad {
		write(t, p, "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN plan text NOT NULL;\n")
	} else {
		_ = os.Remove(p)
	}
}
