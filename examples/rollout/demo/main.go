// Command demo runs what examples/rollout/rollout.yaml rolls out: nginx on
// 127.0.0.1:18080 in front of version v1 (127.0.0.1:18081) and version v2
// (127.0.0.1:18082), and a throwaway PostgreSQL on 127.0.0.1:18083 for the
// plan's migrate step, everything under /tmp/migsafe-demo, until Ctrl-C.
// With -bad, v2 fails 20% of its requests and the rollout rolls back.
//
//	go run ./examples/rollout/demo [-bad] &
//	DEMO_DATABASE_URL='postgres://postgres@127.0.0.1:18083/postgres?sslmode=disable' go run ./cmd/migsafe rollout start -p examples/rollout/rollout.yaml
//
// It also links itself as /tmp/migsafe-demo/testservice, the probe the
// plan's analysis gate runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/migsafe/migsafe/internal/testservice"
)

const dir = "/tmp/migsafe-demo"

func main() {
	if filepath.Base(os.Args[0]) == "testservice" {
		os.Exit(testservice.Main( //nolint:forbidigo // a main function: the exit code is the probe's verdict
			context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1) //nolint:forbidigo // a main function
	}
}

func run() error {
	bad := flag.Bool("bad", false, "v2 fails 20% of its requests")
	flag.Parse()
	rate := 0.0
	if *bad {
		rate = 0.2
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	link := filepath.Join(dir, "testservice")
	_ = os.Remove(link)
	if err := os.Symlink(self, link); err != nil {
		return err
	}
	upstream := filepath.Join(dir, "upstream.conf")
	if err := os.WriteFile(upstream, []byte("upstream migsafe_app {\n    server 127.0.0.1:18081 weight=100;\n}\n"), 0o644); err != nil {
		return err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(testservice.NginxConf(dir, upstream, 18080)), 0o644); err != nil {
		return err
	}
	stopPG, err := startPostgres(dir)
	if err != nil {
		return err
	}
	defer stopPG()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, s := range []struct {
		addr, version string
		rate          float64
	}{{"127.0.0.1:18081", "v1", 0}, {"127.0.0.1:18082", "v2", rate}} {
		srv := &http.Server{Addr: s.addr, Handler: testservice.Handler(s.version, s.rate), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "demo:", err)
				stop()
			}
		}()
		defer srv.Close()
	}
	ngx := exec.Command("nginx", "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	ngx.Stdout, ngx.Stderr = os.Stdout, os.Stderr
	if err := ngx.Start(); err != nil {
		return fmt.Errorf("nginx (Debian package nginx): %w", err)
	}
	fmt.Fprintf(os.Stdout, "demo: nginx on http://127.0.0.1:18080/ (pid %d) → v1 127.0.0.1:18081, v2 127.0.0.1:18082 (error rate %.0f%%); PostgreSQL: DEMO_DATABASE_URL='%s'; Ctrl-C stops\n", ngx.Process.Pid, rate*100, databaseURL())
	<-ctx.Done()
	_ = ngx.Process.Signal(syscall.SIGQUIT)
	_ = ngx.Wait()
	return nil
}
