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
		t.Errorf("%s printed on standard error:\n%s", strings.Join(args, " "), stderr.String())
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
