package integrations_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreCommitHook installs the hook of .pre-commit-hooks.yaml with the
// real pre-commit, from a snapshot of this checkout tagged like a release,
// using the .pre-commit-config.yaml of the getting started page (only the
// repository URL is replaced by the snapshot's path). A commit that stages
// a bad migration fails with the finding printed; a good one passes, even
// with a bad .sql file lying around unstaged.
func TestPreCommitHook(t *testing.T) {
	need(t, "pre-commit", "git", "go")
	config := snippet(t, "pre-commit")
	const url = "https://github.com/migsafe/migsafe"
	if !strings.Contains(config, "repo: "+url) || !strings.Contains(config, "id: migsafe") {
		t.Fatalf("the pre-commit snippet does not use %s and the migsafe hook:\n%s", url, config)
	}
	rev := ""
	for _, line := range strings.Split(config, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "rev: "); ok {
			rev = v
		}
	}
	if rev == "" {
		t.Fatalf("the pre-commit snippet pins no rev:\n%s", config)
	}
	hooks := snapshot(t, rev)
	project := t.TempDir()
	env := override(baseEnv(t),
		"PRE_COMMIT_HOME="+filepath.Join(t.TempDir(), "pre-commit"),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		// pre-commit runs `go install ./...` in the hook repository with
		// GOPATH set to its environment; the module cache stays the local one
		// and Go stays offline.
		"GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOPROXY=off",
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

	// A staged bad migration fails the commit and the finding is printed.
	migrations(t, project, true)
	git("add", "db")
	out, code := run(t, project, env, "git", "commit", "-m", "add plan")
	if code == 0 {
		t.Fatalf("the commit with a bad migration passed:\n%s", out)
	}
	for _, want := range []string{"migsafe", "Failed", "error[MS304] add-required-column", "--> db/migrations/000002_add_plan.up.sql:2:22"} {
		if !strings.Contains(out, want) {
			t.Errorf("the failed commit's output lacks %q:\n%s", want, out)
		}
	}
	if out, _ := run(t, project, env, "git", "log", "--oneline"); strings.Contains(out, "add plan") {
		t.Fatal("the bad commit was made")
	}

	// Good migrations pass; a bad file that is not staged is not linted.
	git("rm", "-q", "--cached", "db/migrations/000002_add_plan.up.sql")
	migrations(t, project, false)
	write(t, filepath.Join(project, "scratch", "wip.sql"), "ALTER TABLE users ADD COLUMN wip text NOT NULL;\n")
	out, code = run(t, project, env, "git", "commit", "-m", "create users")
	if code != 0 || !strings.Contains(out, "migsafe") || !strings.Contains(out, "Passed") {
		t.Fatalf("the commit with good migrations: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(project, "scratch", "wip.sql")); err != nil {
		t.Errorf("pre-commit lost the unstaged file: %v", err)
	}
}
