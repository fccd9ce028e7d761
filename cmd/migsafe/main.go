// Command migsafe lints SQL migrations for changes that break production.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/migsafe/migsafe/cmd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTerminal: isTerminal})
	stop()
	os.Exit(code)
}

// isTerminal reports whether w is a character device (a terminal), for
// --color auto.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
