package lint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/historytest"
	"github.com/migsafe/migsafe/lint"
)

// TestGitCallsDoNotGrowWithMarkers: dating a history with many
// deprecation markers asks git a fixed number of times (one walk of the
// history), not once or twice per marker (each git log -S walks the whole
// history again). A marker written into a shipped migration is still dated
// by its own commit (TestMarkerAddedToShippedMigration in cmd/internal/cli).
func TestGitCallsDoNotGrowWithMarkers(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	historytest.Git(t, dir, time.Time{}, "init", "-q")
	const n = 20
	for i := 1; i <= n; i++ {
		sql := fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, name text);\n-- migsafe:deprecate t%d.name\n", i, i)
		write(t, dir, map[string]string{fmt.Sprintf("db/%06d_m%d.up.sql", i, i): sql})
		historytest.Git(t, dir, time.Time{}, "add", "db")
		historytest.Git(t, dir, start.AddDate(0, 0, i), "commit", "-q", "-m", fmt.Sprint(i))
	}
	trace := filepath.Join(t.TempDir(), "trace")
	t.Setenv("GIT_TRACE", trace)
	s, err := lint.Resolve(lint.Options{Dir: dir, Dialect: "postgres", Now: start.AddDate(1, 0, 0), Cache: lint.CacheOptions{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := lint.Check(context.Background(), s, []string{"db"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Engine.Files) != n {
		t.Fatalf("%d files linted, want %d", len(res.Engine.Files), n)
	}
	if !res.Histories[0].Git {
		t.Fatal("the history was not dated from git")
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Count(string(b), "trace: built-in: git ")
	if calls > 6 {
		t.Errorf("%d git commands for %d markers, want at most 6:\n%s", calls, n, b)
	}
}

// TestGitAskedOnceWhileReading: git's questions about a directory, asked
// while its files are read (lint/gitearly.go), are not asked again when
// the deploys are dated, whether the directory or a file of it is named,
// and the answers date the history as they did when asked afterwards; a
// small history asks git status, a large one reads the index instead
// (and asks no git status when its files match it).
func TestGitAskedOnceWhileReading(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	historytest.Git(t, dir, time.Time{}, "init", "-q")
	for i := 1; i <= 3; i++ {
		write(t, dir, map[string]string{fmt.Sprintf("db/%06d_m%d.up.sql", i, i): fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, name text);\n", i)})
		historytest.Git(t, dir, time.Time{}, "add", "db")
		historytest.Git(t, dir, start.AddDate(0, 0, i), "commit", "-q", "-m", fmt.Sprint(i))
	}
	// new and not committed: the pending deploy, which drops a column of
	// a table shipped in an earlier deploy
	write(t, dir, map[string]string{"db/000004_m4.up.sql": "ALTER TABLE t1 DROP COLUMN name;\n"})
	for _, c := range []struct {
		arg       string
		fromIndex bool
	}{{"db", false}, {"db/000004_m4.up.sql", false}, {"db", true}, {"db/000004_m4.up.sql", true}} {
		arg := c.arg
		t.Run(fmt.Sprintf("%s/index=%v", arg, c.fromIndex), func(t *testing.T) {
			if c.fromIndex {
				defer lint.SetIndexFrom(0)()
			}
			trace := filepath.Join(t.TempDir(), "trace")
			t.Setenv("GIT_TRACE", trace)
			s, err := lint.Resolve(lint.Options{Dir: dir, Dialect: "postgres", Now: start.AddDate(1, 0, 0), Cache: lint.CacheOptions{Off: true}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := lint.Check(context.Background(), s, []string{arg})
			if err != nil {
				t.Fatal(err)
			}
			hs := res.Histories[0]
			if !hs.Git || len(hs.Deploys.Deploys) != 4 {
				t.Fatalf("deploys %+v (from git: %v), want 3 commits and the pending deploy", hs.Deploys, hs.Git)
			}
			last := hs.Parts[len(hs.Parts)-1]
			if d := hs.Deploys.Deploy(last.Deploy); d == nil || !d.Pending {
				t.Errorf("%s is in deploy %+v, want the pending one", last.Path, d)
			}
			b, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			once := []string{"built-in: git rev-parse --show-toplevel", "built-in: git status"}
			never := []string{"built-in: git ls-files", "built-in: git diff-index"}
			if c.fromIndex {
				// the work tree is compared with the index by migsafe,
				// which has read it: git status would stat and list it
				// again
				once = []string{"built-in: git rev-parse --show-toplevel", "built-in: git ls-files --stage", "built-in: git diff-index --cached"}
				never = []string{"built-in: git status"}
			}
			for _, q := range once {
				if n := strings.Count(string(b), q); n != 1 {
					t.Errorf("%q asked %d times, want once:\n%s", q, n, b)
				}
			}
			for _, q := range never {
				if n := strings.Count(string(b), q); n != 0 {
					t.Errorf("%q asked %d times about a clean work tree and an untracked file, want never:\n%s", q, n, b)
				}
			}
		})
	}
}
