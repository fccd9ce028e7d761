// Package historytest builds real git repositories from history fixtures
// (analyzertest's txtar histories) for tests of the command line: each
// deploy line of the header becomes a commit with that author and
// committer date, the pending files stay uncommitted, and an edited file is
// committed in another version and changed in the work tree.
package historytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer/analyzertest"
)

// DefaultNow is when the pending deploy ships in a history that does not
// say (the same default as analyzertest).
var DefaultNow = time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)

// Git runs git in dir with a fixed identity, failing the test on error.
// date, when not zero, is the author and committer date. Automatic
// garbage collection is off: a commit of thousands of files started one
// in the background, which raced the removal of the test's directory.
func Git(t testing.TB, dir string, date time.Time, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=migsafe test", "-c", "user.email=test@migsafe.invalid", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "gc.auto=0", "-c", "maintenance.auto=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if !date.IsZero() {
		d := date.UTC().Format(time.RFC3339)
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+d, "GIT_COMMITTER_DATE="+d)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Run is how to lint a materialized history as the fixture means.
type Run struct {
	Args   []string          // extra migsafe check arguments (--since, --target-version)
	Env    map[string]string // MIGSAFE_NOW
	Config string            // lines for .migsafe.yaml (migrations: layout, min-deprecation-age)
}

// Materialize writes the history into dir (which should be empty) as a git
// repository and says how to lint it: --since REF (REF at the last deploy)
// when the header lists deploys and not "lint: all", and MIGSAFE_NOW.
func Materialize(t testing.TB, dir string, h *analyzertest.History) Run {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := materialize(t, dir, h)
	if v := h.Header["target"]; v != "" {
		r.Args = append(r.Args, "--target-version", v)
	}
	var conf []string
	if v := h.Header["layout"]; v != "" {
		conf = append(conf, "  layout: "+v)
	}
	if v := h.Header["min-age"]; v != "" {
		conf = append(conf, "  min-deprecation-age: "+v)
	}
	if len(conf) > 0 {
		r.Config = "migrations:\n" + strings.Join(conf, "\n") + "\n"
	}
	return r
}

func materialize(t testing.TB, dir string, h *analyzertest.History) Run {
	t.Helper()
	var args []string
	var env map[string]string
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is not installed: %v", err)
	}
	content := map[string][]byte{}
	for _, f := range h.Files {
		content[f.Path] = f.Src
	}
	write := func(p string, b []byte) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edited := strings.Fields(h.Header["edited"])
	isEdited := func(p string) bool {
		for _, e := range edited {
			if e == p {
				return true
			}
		}
		return false
	}
	env = map[string]string{}
	now := DefaultNow
	if v := h.Header["now"]; v != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
			if t2, err := time.Parse(layout, v); err == nil {
				now = t2
				break
			}
		}
	}
	env["MIGSAFE_NOW"] = now.UTC().Format(time.RFC3339)
	if len(h.Deploys) == 0 {
		// no deploy lines: the history means "without git", every
		// migration version its own deploy
		for _, f := range h.Files {
			write(f.Path, f.Src)
		}
		return Run{Args: []string{"--no-git"}, Env: env}
	}
	Git(t, dir, time.Time{}, "init", "-q")
	for i, d := range h.Deploys {
		for _, p := range d.Files {
			b, ok := content[p]
			if !ok {
				t.Fatalf("deploy %d names %s, which the history does not have", i+1, p)
			}
			if isEdited(p) {
				// the shipped version differed
				b = append([]byte("-- as shipped\n"), b...)
			}
			write(p, b)
			Git(t, dir, time.Time{}, "add", "--", p)
		}
		Git(t, dir, d.Time, "commit", "-q", "--allow-empty", "-m", "deploy "+d.Time.Format("2006-01-02"))
	}
	since := h.Header["since"]
	if since == "" {
		since = "origin/main"
	}
	ref := "refs/tags/" + since
	if strings.Contains(since, "/") {
		ref = "refs/remotes/" + since
	}
	Git(t, dir, time.Time{}, "update-ref", ref, "HEAD")
	for _, p := range edited {
		write(p, content[p])
	}
	for _, p := range h.Pending {
		write(p, content[p])
	}
	if h.Header["lint"] != "all" {
		args = []string{"--since", since}
	}
	return Run{Args: args, Env: env}
}
