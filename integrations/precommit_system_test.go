package integrations_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreCommitSystemHook installs the migsafe-system hook with the real
// pre-commit, from a snapshot of this checkout, using the getting started
// page's snippet: it runs the migsafe on PATH (here a release build) and
// builds nothing (a go on PATH that fails says so if anything calls it).
// A staged bad migration fails the commit with the finding.
func TestPreCommitSystemHook(t *testing.T) {
	need(t, "pre-commit", "git", "go")
	config := snippet(t, "pre-commit-system")
	const url = "https://github.com/migsafe/migsafe"
	if !strings.Contains(config, "repo: "+url) || !strings.Contains(config, "id: migsafe-system") {
		t.Fatalf("the pre-commit-system snippet does not use %s and the migsafe-system hook:\n%s", url, config)
	}
	hooks := snapshot(t, "v0.1.0")
	bin := filepath.Dir(releaseBinary(t))
	project := t.TempDir()
	env := override(baseEnv(t),
		"PRE_COMMIT_HOME="+filepath.Join(t.TempDir(), "pre-commit"),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"PATH="+bin+string(os.PathListSeparator)+noGoPath(t),
	)
	git := func(args ...string) {
		t.Helper()
		if out, code := run(t, project, env, "git", args...); code != 0 {
			t.Fatalf("git %v: %s", args, out)
		}
	}
	git("init", "-q")
	write(t, filepath.Join(project, ".pre-commit-config.yaml"), strings.Replace(config, url, hooks, 1))
	git("add", ".pre-commit-config.yaml")
	git("commit", "-q", "--no-verify", "-m", "pre-commit configuration")
	if out, code := run(t, project, env, "pre-commit", "install"); code != 0 {
		t.Fatalf("pre-commit install: %s", out)
	}

	migrations(t, project, true)
	git("add", "db")
	out, code := run(t, project, env, "git", "commit", "-m", "add plan")
	if code == 0 {
		t.Fatalf("the commit with a bad migration passed:\n%s", out)
	}
	for _, want := range []string{"migsafe (installed)", "Failed", "error[MS304] add-required-column", "--> db/migrations/000002_add_plan.up.sql:2:22"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failed commit's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "go was called") {
		t.Errorf("the system hook called go:\n%s", out)
	}
	git("rm", "-q", "--cached", "db/migrations/000002_add_plan.up.sql")
	migrations(t, project, false)
	out, code = run(t, project, env, "git", "commit", "-m", "create users")
	if code != 0 || !strings.Contains(out, "Passed") {
		t.Fatalf("the commit with good migrations: exit %d\n%s", code, out)
	}
}
