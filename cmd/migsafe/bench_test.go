package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// corpusDir is the shared corpus of real migrations, next to the
// repository; the benchmark skips when it is absent.
const corpusDir = "../../../shared/corpus"

// squawkPath finds squawk's native binary: $MIGSAFE_SQUAWK, or the one
// scripts/bench installs with npm (squawk-cli@2.66.0) under
// $MIGSAFE_TOOLS. The npm wrapper script is not used: it would add
// node's start-up to every squawk run.
func squawkPath() string {
	if p := os.Getenv("MIGSAFE_SQUAWK"); p != "" {
		return p
	}
	tools := os.Getenv("MIGSAFE_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "migsafe-tools")
	}
	p := filepath.Join(tools, "node_modules", "@squawk-cli", "linux-x64", "bin", "squawk")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// BenchmarkVersusSquawk runs the migsafe command and squawk, one after the
// other in the same run, over the same files: every PostgreSQL migration of
// the shared corpus, each tool with its default rules and its one-line
// output (migsafe --format concise, squawk --reporter gcc). Compare with
//
//	go test -run '^$' -bench VersusSquawk -count 10 ./cmd/migsafe > out.txt
//	benchstat -col /tool out.txt
//
// (scripts/bench does this). Besides time, each run reports cores: CPU
// time (user and system) over wall time, how much of the machine the tool
// used.
func BenchmarkVersusSquawk(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "postgres", "*.sql"))
	if len(files) == 0 {
		b.Skipf("no corpus at %s", corpusDir)
	}
	squawk := squawkPath()
	if squawk == "" {
		b.Skip("squawk not found: set MIGSAFE_SQUAWK or run scripts/bench, which installs squawk-cli@2.66.0")
	}
	sort.Strings(files)
	for i, f := range files {
		files[i], _ = filepath.Rel(corpusDir, f)
	}
	bin := filepath.Join(b.TempDir(), "migsafe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	tools := []struct {
		name string
		argv []string
	}{
		{"migsafe", append([]string{bin, "check", "--no-git", "--dialect", "postgres", "--format", "concise"}, files...)},
		{"squawk", append([]string{squawk, "--reporter", "gcc"}, files...)},
	}
	for _, tool := range tools {
		b.Run("tool="+tool.name, func(b *testing.B) {
			var cpu, wall time.Duration
			for b.Loop() {
				cmd := exec.Command(tool.argv[0], tool.argv[1:]...)
				cmd.Dir = corpusDir
				cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
				start := time.Now()
				err := cmd.Run()
				wall += time.Since(start)
				// both exit 1: the corpus has findings
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					b.Fatalf("%s: %v, want exit status 1", tool.name, err)
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
		})
	}
}
