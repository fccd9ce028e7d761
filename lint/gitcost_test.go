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
