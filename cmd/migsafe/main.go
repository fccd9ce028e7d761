// Command migsafe lints SQL migrations for changes that break production.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/migsafe/migsafe/cmd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
