// Command migsafe lints SQL migrations for changes that break production.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"

	"golang.org/x/term"

	"github.com/migsafe/migsafe/cmd/internal/cli"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTerminal: isTerminal})
	stop()
	os.Exit(code)
}

// tuneGC trades memory for time unless the user set GOGC or GOMEMLIMIT:
// a run allocates parse trees that mostly live until it ends, so the
// default GOGC=100 collects often for little. Measured on the corpus
// (scripts/bench), GOGC=400 saves about a sixth of a run; the soft limit
// makes the collector work harder again before a huge input (a 50 MB
// migration) takes more than 1 GiB.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

// isTerminal reports whether w is a terminal, for --color auto: not any
// character device (output sent to /dev/null was coloured).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
