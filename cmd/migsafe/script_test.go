package main

import (
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for the migsafe command in the
// scripts: testscript runs it as a separate process, so exit codes, standard
// output and standard error are the real ones.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"migsafe": main})
}

// TestScripts runs the end-to-end scripts in fixtures/cli/*.txtar. Each
// script starts in a fresh directory holding its files. Beyond the standard
// testscript commands:
//
//	exits N CMD ARGS...  run a program (like exec) and check its exit status is N
//	mkfifo NAME          create a named pipe
//	mksocket NAME        create a Unix socket file (nobody listens on it)
//	writehex NAME HEX    write bytes given in hexadecimal (binary files)
//	repeat NAME N TEXT   write TEXT (\n and \t escapes) N times into NAME
func TestScripts(t *testing.T) {
	cache := t.TempDir()
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "fixtures", "cli"),
		Setup: func(env *testscript.Env) error {
			// a clean environment: no colour, no CI annotations
			env.Setenv("NO_COLOR", "1")
			// one parse cache for every script, outside their work
			// directories (scripts run in parallel: they share it as
			// concurrent runs do)
			env.Setenv("MIGSAFE_CACHE_DIR", cache)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 || neg {
					ts.Fatalf("usage: exits N CMD [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("%s: %v", args[1], err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
				}
			},
			"mkfifo": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: mkfifo NAME")
				}
				ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o644))
			},
			"mksocket": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: mksocket NAME")
				}
				l, err := net.ListenUnix("unix", &net.UnixAddr{Name: ts.MkAbs(args[0]), Net: "unix"})
				ts.Check(err)
				l.SetUnlinkOnClose(false)
				ts.Check(l.Close())
			},
			"writehex": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: writehex NAME HEX")
				}
				b, err := hex.DecodeString(args[1])
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
			},
			"repeat": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: repeat NAME N TEXT")
				}
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				text := strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(args[2])
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Repeat(text, n)), 0o644))
			},
		},
	})
}
