package integrations_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestLocalSnippet runs the "on your machine" commands of the getting
// started page as written: go install …@latest, then migsafe check.
func TestLocalSnippet(t *testing.T) {
	env := moduleProxy(t)
	script := snippet(t, "local")
	if !strings.Contains(script, "go install github.com/migsafe/migsafe/cmd/migsafe@latest") {
		t.Fatalf("the local snippet does not install migsafe with go install:\n%s", script)
	}
	dir := t.TempDir()
	migrations(t, dir, true)
	out, code := run(t, dir, env, "bash", "-e", "-c", script)
	if code != 1 || !strings.Contains(out, "error[MS304] add-required-column") || !strings.Contains(out, "db/migrations/000002_add_plan.up.sql:2:22") {
		t.Fatalf("with a bad migration: exit %d, want 1 and the finding:\n%s", code, out)
	}
	migrations(t, dir, false)
	out, code = run(t, dir, env, "bash", "-e", "-c", script)
	if code != 0 || !strings.Contains(out, "Checked 2 files") {
		t.Fatalf("with good migrations: exit %d, want 0:\n%s", code, out)
	}
	if out, _ := run(t, dir, env, "bash", "-c", "migsafe --version"); !strings.Contains(out, ProxyVersion) {
		t.Errorf("migsafe --version after go install …@%s: %s", ProxyVersion, out)
	}
}

// TestGitLabSnippet runs the GitLab CI job of the getting started page: its
// script lines in one shell that stops at the first failure, as the GitLab
// runner does, then checks the artifacts it declares.
func TestGitLabSnippet(t *testing.T) {
	env := moduleProxy(t)
	var ci map[string]struct {
		Stage     string
		Image     string
		Variables map[string]string
		Script    []string
		Artifacts struct {
			When    string
			Paths   []string
			Reports struct {
				Codequality string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(snippet(t, "gitlab")), &ci); err != nil {
		t.Fatalf("the GitLab snippet is not YAML: %v", err)
	}
	job, ok := ci["migsafe"]
	if !ok || len(job.Script) == 0 {
		t.Fatalf("the GitLab snippet has no migsafe job with a script: %+v", ci)
	}
	if job.Variables["GIT_DEPTH"] != "0" {
		t.Errorf("the job must clone the whole history (GIT_DEPTH: \"0\") so that migsafe can date the deploys; it has %v", job.Variables)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goVersion == nil || job.Image != "golang:"+string(goVersion[1]) {
		t.Errorf("the job's image %q does not match the Go version go.mod needs (%s)", job.Image, goVersion[1])
	}
	for _, bad := range []bool{true, false} {
		dir := t.TempDir()
		migrations(t, dir, bad)
		jobEnv := append(env, "CI=true", "GITLAB_CI=true", "CI_PROJECT_DIR="+dir, "CI_JOB_NAME=migsafe")
		out, code := run(t, dir, jobEnv, "bash", "-e", "-o", "pipefail", "-c", strings.Join(job.Script, "\n"))
		want := 0
		if bad {
			want = 1
		}
		if code != want {
			t.Fatalf("bad=%v: the job exited %d, want %d:\n%s", bad, code, want, out)
		}
		if job.Artifacts.When != "always" {
			t.Errorf("artifacts are kept when: %q; want always (failing jobs are the ones to look at)", job.Artifacts.When)
		}
		codeQuality(t, filepath.Join(dir, job.Artifacts.Reports.Codequality), bad)
		for _, p := range job.Artifacts.Paths {
			data, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				t.Fatalf("artifact %s: %v", p, err)
			}
			var doc struct {
				Version  int
				Findings []struct{ Code string }
			}
			if err := json.Unmarshal(data, &doc); err != nil || doc.Version != 1 {
				t.Fatalf("artifact %s is not a migsafe JSON document: %v", p, err)
			}
			if bad != (len(doc.Findings) > 0) {
				t.Errorf("bad=%v: %d findings in %s", bad, len(doc.Findings), p)
			}
		}
	}
}

// codeQuality checks a GitLab Code Quality report as GitLab reads it: a
// JSON array of issues, each with a description, a check name, a unique
// fingerprint, one of GitLab's severities and a repository-relative path
// with a first line.
func codeQuality(t *testing.T, path string, bad bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the Code Quality report (artifacts:reports:codequality): %v", err)
	}
	var issues []struct {
		Description, Fingerprint, Severity string
		CheckName                          string `json:"check_name"`
		Location                           struct {
			Path  string
			Lines struct{ Begin int }
		}
	}
	if err := json.Unmarshal(data, &issues); err != nil {
		t.Fatalf("the Code Quality report is not a JSON array of issues: %v\n%s", err, data)
	}
	if bad != (len(issues) > 0) {
		t.Errorf("bad=%v: %d issues in the Code Quality report", bad, len(issues))
	}
	seen := map[string]bool{}
	for _, is := range issues {
		if is.Description == "" || is.CheckName == "" || is.Fingerprint == "" || seen[is.Fingerprint] ||
			!strings.Contains(" info minor major critical blocker ", " "+is.Severity+" ") ||
			is.Location.Path == "" || filepath.IsAbs(is.Location.Path) || is.Location.Lines.Begin < 1 {
			t.Errorf("Code Quality issue GitLab would not read: %+v", is)
		}
		seen[is.Fingerprint] = true
	}
}
