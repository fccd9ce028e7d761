// Package testservice is the rollout tests' service and its helpers: the
// service (serve), the error-counting probe the exec gate runs (probe),
// a build of the binary once per test process, and a throwaway nginx.
package testservice

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Main runs a subcommand and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "testservice: serve | probe | mark | has")
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "probe":
		return probe(args[1:], stdout, stderr)
	case "mark", "has":
		// a crash point of the crash tests, after the command's effect
		defer killParentIf(append([]string{"testservice"}, args...))
	}
	switch args[0] {
	case "mark":
		if len(args) != 3 {
			return 2
		}
		f, err := os.OpenFile(args[1], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		_, err = fmt.Fprintln(f, args[2])
		if err := errors.Join(err, f.Sync(), f.Close()); err != nil {
			return 2
		}
		return 0
	case "has":
		if len(args) != 3 {
			return 2
		}
		data, err := os.ReadFile(args[1])
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 2
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l == args[2] {
				return 0
			}
		}
		return 1
	}
	fmt.Fprintf(stderr, "testservice: unknown subcommand %q\n", args[0])
	return 2
}

// Handler answers with version and fails rate of the requests, spread
// evenly: request n fails when floor(n·rate) grows.
func Handler(version string, rate float64) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i := n.Add(1)
		w.Header().Set("X-Version", version)
		if int64(float64(i)*rate) > int64(float64(i-1)*rate) {
			http.Error(w, version+" failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, version)
	})
}

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	version := fs.String("version", "v1", "version to answer")
	rate := fs.Float64("error-rate", 0, "share of requests that fail with 500")
	addrFile := fs.String("addr-file", "", "write the listen address here")
	if fs.Parse(args) != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *addrFile != "" {
		tmp := *addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o644); err != nil {
			return 2
		}
		if err := os.Rename(tmp, *addrFile); err != nil {
			return 2
		}
	}
	srv := &http.Server{Handler: Handler(*version, *rate), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return 0
}

// Counts are what a probe saw, per version.
type Counts struct {
	Requests map[string]int
	Errors   map[string]int
	Failed   int // no answer at all
}

// Send sends n requests to url, each on a new connection (so an nginx
// reload is seen at once), and counts answers per X-Version.
func Send(url string, n int) Counts {
	c := Counts{Requests: map[string]int{}, Errors: map[string]int{}}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range n {
		resp, err := client.Get(url)
		if err != nil {
			c.Failed++
			continue
		}
		_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
		resp.Body.Close()
		v := resp.Header.Get("X-Version")
		c.Requests[v]++
		if resp.StatusCode >= 500 {
			c.Errors[v]++
		}
	}
	return c
}

// probe: exit 0 when the canary's error rate is within the limit, 1 when
// it is above it, 2 when requests got no answer, 3 when fewer than
// -min-canary requests reached the canary (missing data never passes).
func probe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL to send requests to")
	n := fs.Int("n", 200, "requests")
	canary := fs.String("canary", "", "the canary's version (X-Version)")
	maxRate := fs.Float64("max-error-rate", 0.05, "the highest acceptable canary error rate")
	minCanary := fs.Int("min-canary", 1, "canary requests needed to judge")
	if fs.Parse(args) != nil || *url == "" || *canary == "" {
		return 2
	}
	c := Send(*url, *n)
	req, errs := c.Requests[*canary], c.Errors[*canary]
	fmt.Fprintf(stdout, "probe: %d requests, canary %s: %d requests, %d errors; no answer: %d\n", *n, *canary, req, errs, c.Failed)
	if c.Failed > 0 {
		return 2
	}
	if req < *minCanary {
		fmt.Fprintf(stdout, "too few canary requests to judge (%d < %d)\n", req, *minCanary)
		return 3
	}
	if float64(errs) > *maxRate*float64(req) {
		fmt.Fprintf(stdout, "canary error rate %.3f > %.3f\n", float64(errs)/float64(req), *maxRate)
		return 1
	}
	return 0
}
