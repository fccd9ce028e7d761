package integrations_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// runnerArch is RUNNER_ARCH for this machine.
func runnerArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "X64"
	case "arm64":
		return "ARM64"
	}
	return strings.ToUpper(runtime.GOARCH)
}

// noReleases is a release download server on loopback that has no
// release: every request is answered 404, so the action builds from
// source, as for a tag published without archives.
func noReleases(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// releaseServer stands in for GitHub's release downloads on loopback:
// files maps a path (/migsafe/migsafe/releases/download/v0.1.0/NAME) to
// its content; every other path is 404. It returns its URL and the paths
// asked for so far.
func releaseServer(t *testing.T, files map[string][]byte) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		data, ok := files[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

// archiveName is the name .goreleaser.yaml gives the archive of a version
// and platform (migsafe_0.1.0_linux_amd64.tar.gz): the action must ask for
// exactly that.
func archiveName(t *testing.T, version, goos, goarch string) string {
	t.Helper()
	var cfg struct {
		ProjectName string `yaml:"project_name"`
		Archives    []struct {
			NameTemplate string   `yaml:"name_template"`
			Formats      []string `yaml:"formats"`
		}
	}
	data, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil || len(cfg.Archives) != 1 || len(cfg.Archives[0].Formats) != 1 {
		t.Fatalf(".goreleaser.yaml: want one archive with one format (%v)", err)
	}
	vars := map[string]string{"ProjectName": cfg.ProjectName, "Version": version, "Os": goos, "Arch": goarch}
	name := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`).ReplaceAllStringFunc(cfg.Archives[0].NameTemplate, func(m string) string {
		v, ok := vars[strings.Trim(m, "{} .")]
		if !ok {
			t.Fatalf(".goreleaser.yaml: name_template uses %s, which the action cannot know", m)
		}
		return v
	})
	if strings.Contains(name, "{{") {
		t.Fatalf(".goreleaser.yaml: name_template %q is more than the action can compute", cfg.Archives[0].NameTemplate)
	}
	return name + "." + cfg.Archives[0].Formats[0]
}

var (
	releaseOnce sync.Once
	releaseErr  error
)

// releaseBinary is migsafe as a release ships it: built from this checkout
// with -trimpath, stamped v0.1.0 with the commit "stand-in-release" (so
// that a log shows which binary ran). It returns its path.
func releaseBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(sandbox, "release", "migsafe")
	releaseOnce.Do(func() {
		const pkg = "github.com/migsafe/migsafe/internal/buildinfo"
		out, code := run(t, root, override(baseEnv(t), "CGO_ENABLED=1"), "go", "build", "-trimpath",
			"-ldflags", "-s -w -X "+pkg+".Version=v0.1.0 -X "+pkg+".Commit=stand-in-release -X "+pkg+".Date=2026-12-01T00:00:00Z",
			"-o", bin, "./cmd/migsafe")
		if code != 0 {
			releaseErr = fmt.Errorf("go build: %s", out)
		}
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	return bin
}

// releaseArchive is a release archive as goreleaser makes it for this
// platform: releaseBinary and the README.
func releaseArchive(t *testing.T) []byte {
	t.Helper()
	releaseBin, err := os.ReadFile(releaseBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"README.md", 0o644, []byte("# migsafe\n")}, {"migsafe", 0o755, releaseBin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

const releasePath = "/migsafe/migsafe/releases/download/v0.1.0/"

// TestActionReleaseDownload: at a release tag the action downloads the
// archive for the runner, verifies it against checksums.txt and runs that
// binary, without Go (setup-go keeps its default, true: the actions/setup-go
// step must be skipped, or the harness fails); a second run in the same
// job finds it in the tool cache and downloads nothing.
func TestActionReleaseDownload(t *testing.T) {
	need(t, "bash", "go", "curl", "tar")
	a := loadAction(t)
	tgz := releaseArchive(t)
	name := archiveName(t, "0.1.0", runtime.GOOS, runtime.GOARCH)
	sums := fmt.Sprintf("%s  migsafe_0.1.0_darwin_arm64.tar.gz\n%s  %s\n", strings.Repeat("0", 64), sha256Hex(tgz), name)
	url, asked := releaseServer(t, map[string][]byte{releasePath + name: tgz, releasePath + "checksums.txt": []byte(sums)})
	tools := t.TempDir()
	ws := workspace(t, ".")
	for i, want := range []string{
		"migsafe: " + name + " verified against checksums.txt (sha256 " + sha256Hex(tgz) + ")",
		"migsafe: " + name + " from the tool cache (" + filepath.Join(tools, "migsafe", "v0.1.0", runtime.GOARCH) + ")",
	} {
		res := runAction(t, a, ws, map[string]string{"paths": "."}, "GITHUB_SERVER_URL="+url, "RUNNER_TOOL_CACHE="+tools, "PATH="+noGoPath(t))
		if !strings.Contains(res.log, want) || !strings.Contains(res.log, "commit:     stand-in-release") || strings.Contains(res.log, "from source") || strings.Contains(res.log, "go was called") {
			t.Errorf("run %d: the log does not show the verified release binary (want %q, and no build):\n%s", i+1, want, res.log)
		}
		if res.code != 1 || res.outputs["exit-code"] != "1" || len(res.commands) == 0 {
			t.Errorf("run %d: exit %d, outputs %v: want the findings of the workspace (exit 1, annotations)\n%s", i+1, res.code, res.outputs, res.log)
		}
	}
	if got, want := strings.Join(asked(), " "), releasePath+name+" "+releasePath+"checksums.txt"; got != want {
		t.Errorf("the server was asked for %s; want the archive and checksums.txt once (the second run uses the tool cache): %s", got, want)
	}
}

// noGoPath is PATH with a go ahead of the real one that fails saying so:
// the download path must not need Go.
func noGoPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go"), "#!/bin/sh\necho 'go was called on the download path' >&2\nexit 3\n")
	if err := os.Chmod(filepath.Join(dir, "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// TestActionReleaseUnverified: an archive whose checksum does not match,
// or that checksums.txt does not list, fails the step; nothing is
// installed or run, and the action does not fall back to a build.
func TestActionReleaseUnverified(t *testing.T) {
	need(t, "bash", "curl", "tar")
	a := loadAction(t)
	name := archiveName(t, "0.1.0", runtime.GOOS, runtime.GOARCH)
	tgz := []byte("not the archive that was released")
	for _, tc := range []struct{ sums, want string }{
		{strings.Repeat("ab", 32) + "  " + name + "\n", "::error title=migsafe::checksum mismatch for " + name + ": sha256 " + sha256Hex(tgz) + ", checksums.txt says " + strings.Repeat("ab", 32)},
		{sha256Hex(tgz) + "  migsafe_0.1.0_plan9_mips.tar.gz\n", "::error title=migsafe::"},
	} {
		url, _ := releaseServer(t, map[string][]byte{releasePath + name: tgz, releasePath + "checksums.txt": []byte(tc.sums)})
		tools := t.TempDir()
		res := runAction(t, a, workspace(t, "."), map[string]string{"setup-go": "false"}, "GITHUB_SERVER_URL="+url, "RUNNER_TOOL_CACHE="+tools)
		if res.code == 0 || !strings.Contains(res.log, tc.want) || strings.Contains(res.log, "from source") || res.outputs["exit-code"] != "" {
			t.Errorf("checksums.txt %q: exit %d, outputs %v; want a failed step with %q, no build and no check\n%s", tc.sums, res.code, res.outputs, tc.want, res.log)
		}
		if _, err := os.Stat(filepath.Join(tools, "migsafe", "v0.1.0", runtime.GOARCH, "migsafe")); err == nil {
			t.Errorf("checksums.txt %q: the unverified binary was installed in the tool cache", tc.sums)
		}
	}
}

// TestActionFallback: a ref that is not a release tag, a tag without
// release archives, and a runner without an archive build from source and
// say why; a branch ref asks the server nothing.
func TestActionFallback(t *testing.T) {
	need(t, "bash", "go", "curl")
	a := loadAction(t)
	url, asked := releaseServer(t, nil)
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"GITHUB_ACTION_REF=main"}, "migsafe: the action's ref main is not a release tag (vX.Y.Z): building from source"},
		{[]string{"RUNNER_ARCH=ARM"}, "migsafe: no release archive for Linux/ARM: building from source"},
		{nil, "migsafe: no release archive " + url + releasePath + archiveName(t, "0.1.0", runtime.GOOS, runtime.GOARCH) + " (HTTP 404): building from source"},
	} {
		ws := t.TempDir()
		write(t, filepath.Join(ws, "migrations", "000001_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n")
		res := runAction(t, a, ws, map[string]string{"paths": "migrations", "setup-go": "false"}, append([]string{"GITHUB_SERVER_URL=" + url}, tc.extra...)...)
		if res.code != 0 || !strings.Contains(res.log, tc.want) || !strings.Contains(res.log, "from source (go build") {
			t.Errorf("%v: exit %d; want %q and a build from source\n%s", tc.extra, res.code, tc.want, res.log)
		}
	}
	if got := asked(); len(got) != 1 {
		t.Errorf("the server was asked for %v; want only the archive of the tag without archives", got)
	}
}
