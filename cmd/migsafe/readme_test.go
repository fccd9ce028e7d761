package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/cmd/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the quick start output in README.md")

// TestReadmeQuickStart runs the README's quick start command and checks
// that the output the README shows is what migsafe prints, and that it
// shows what the examples hold: findings in every example migration.
func TestReadmeQuickStart(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(root, "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	cmdRe := regexp.MustCompile(`"\$\(go env GOPATH\)/bin/migsafe" (check[^\n]*)\n`)
	m := cmdRe.FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md: no quick start command (\"$(go env GOPATH)/bin/migsafe\" check …)")
	}
	args := append([]string{"migsafe"}, strings.Fields(string(m[1]))...)
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{Stdout: &stdout, Stderr: &stderr, Dir: root})
	if code != cli.ExitFindings {
		t.Fatalf("%s: exit status %d, want 1\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s out on standard error:\n%s", strings.Join(args, " "), stderr.String())
	}
	// the newcomer sees what migsafe catches: a finding in every up
	// migration after the first
	for _, f := range []string{"000002_add_plan.up.sql", "000003_rename_name.up.sql"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("the quick start shows no finding in %s:\n%s", f, stdout.String())
		}
	}
	n := len(regexp.MustCompile(`(?m)^(error|warning|note)\[`).FindAllIndex(stdout.Bytes(), -1))
	if c := regexp.MustCompile(`What it prints: (\d+) findings`).FindSubmatch(data); c == nil || string(c[1]) != strconv.Itoa(n) {
		t.Errorf("README.md: the quick start's <summary> must say \"What it prints: %d findings\"", n)
	}
	outRe := regexp.MustCompile("(?s)(<!-- quickstart output:[^\n]*-->\n```\n)(.*?)(```\n)")
	o := outRe.FindSubmatchIndex(data)
	if o == nil {
		t.Fatal("README.md: no <!-- quickstart output: … --> block")
	}
	shown := string(data[o[4]:o[5]])
	if *update {
		out := append(append(append([]byte(nil), data[:o[4]]...), stdout.Bytes()...), data[o[5]:]...)
		if err := os.WriteFile(readme, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if shown != stdout.String() {
		t.Errorf("README.md shows another output than %s prints (go test ./cmd/migsafe -run TestReadmeQuickStart -update rewrites it)\nshown:\n%s\nprinted:\n%s", strings.Join(args, " "), shown, stdout.String())
	}
}

// TestReadmeRolloutQuickStart runs the README's rollout quick start (in a
// state folder of its own) and checks that it rolls the canary back and
// prints what the README shows, times, run ids and durations aside.
func TestReadmeRolloutQuickStart(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(root, "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"\$\(go env GOPATH\)/bin/migsafe" (rollout start[^\n]*)\n`).FindSubmatch(data)
	if m == nil {
		t.Fatal("README.md: no rollout quick start command (\"$(go env GOPATH)/bin/migsafe\" rollout start …)")
	}
	args := append([]string{"migsafe"}, strings.Fields(string(m[1]))...)
	const shownState = "/tmp/migsafe-quickstart"
	state := t.TempDir()
	for i, a := range args {
		if a == shownState {
			args[i] = state
		}
	}
	t.Chdir(root) // the plan's gate reads its file from the repository's root, as the README runs it
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{Stdout: &stdout, Stderr: &stderr, Dir: root, Getenv: func(string) string { return "" }})
	if code != cli.ExitFindings {
		t.Fatalf("%s: exit status %d, want 1 (rolled back)\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	out := strings.ReplaceAll(stdout.String(), state, shownState)
	for _, want := range []string{"ROLLING BACK: step 3: canary-errors: Failed", "rollback 1/2 route_stable: done", "rolled back\n", "post-mortem draft: " + shownState} {
		if !strings.Contains(out, want) {
			t.Errorf("the rollout quick start does not print %q:\n%s", want, out)
		}
	}
	outRe := regexp.MustCompile("(?s)(<!-- rollout quickstart output:[^\n]*-->\n```\n)(.*?)(```\n)")
	o := outRe.FindSubmatchIndex(data)
	if o == nil {
		t.Fatal("README.md: no <!-- rollout quickstart output: … --> block")
	}
	if *update {
		page := append(append(append([]byte(nil), data[:o[4]]...), out...), data[o[5]:]...)
		if err := os.WriteFile(readme, page, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	mask := func(s string) string {
		for re, with := range map[string]string{
			`\b\d\d:\d\d:\d\d\b`:           "HH:MM:SS",
			`\b\d{8}T\d{6}Z-[0-9a-f]{8}\b`: "RUN",
			`\b\d+(\.\d+)?(ns|µs|ms|s)\b`:  "D",
		} {
			s = regexp.MustCompile(re).ReplaceAllString(s, with)
		}
		return s
	}
	if shown := string(data[o[4]:o[5]]); mask(shown) != mask(out) {
		t.Errorf("README.md shows another output than %s prints (go test ./cmd/migsafe -run TestReadmeRolloutQuickStart -update rewrites it)\nshown:\n%s\nprinted:\n%s", strings.Join(args, " "), shown, out)
	}
}
