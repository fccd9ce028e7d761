package cli_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/migsafe/migsafe/cmd/internal/cli"
)

// BenchmarkCheckCorpus runs `migsafe check` in process over every
// PostgreSQL file of the shared corpus, as scripts/bench does with the
// binary: discovery, reading, history, linting and the concise output.
// Use it with -cpuprofile; compare with squawk through
// BenchmarkVersusSquawk in cmd/migsafe.
func BenchmarkCheckCorpus(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpus, "*", "postgres", "*.sql"))
	if len(files) == 0 {
		b.Skipf("no corpus at %s", corpus)
	}
	sort.Strings(files)
	args := append([]string{"migsafe", "check", "--no-git", "--dialect", "postgres", "--format", "concise"}, files...)
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: os.Getenv}
	for b.Loop() {
		if code := cli.Main(context.Background(), args, env); code != 1 {
			b.Fatalf("exit %d, want 1 (findings)", code)
		}
	}
}
