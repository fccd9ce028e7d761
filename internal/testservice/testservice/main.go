// Command testservice is the small HTTP service of the rollout tests: it
// answers every request with its version (body and X-Version header) and
// fails a configurable share of them with 500, deterministically (with
// -error-rate 0.2 every fifth request fails). It also has the probe the
// tests' exec gate runs, two helpers for crash tests, and, called
// through a link named kubectl, the kubectl stand-in (kubectl.go).
//
//	testservice serve -version v2 -error-rate 0.2 -addr-file F
//	testservice probe -url http://127.0.0.1:8080/ -n 500 -canary v2 -max-error-rate 0.05
//	testservice mark FILE LINE    (append LINE to FILE)
//	testservice has FILE LINE     (exit 0 when FILE has LINE, else 1)
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/migsafe/migsafe/internal/testservice"
)

func main() {
	if filepath.Base(os.Args[0]) == "nginx" {
		os.Exit(testservice.NginxWrapper(os.Args[1:], os.Stdout, os.Stderr)) //nolint:forbidigo // a main function: nginx's exit code
	}
	if filepath.Base(os.Args[0]) == "kubectl" {
		os.Exit(testservice.Kubectl(os.Args[1:], os.Stdout, os.Stderr)) //nolint:forbidigo // a main function: kubectl's exit code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := testservice.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code) //nolint:forbidigo // a main function
}
