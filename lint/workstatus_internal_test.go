package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/historytest"
	"github.com/migsafe/migsafe/lint/gitlog"
)

// TestWorkStatusAsGitStatus: a history in a work tree whose files are in
// every state git status tells apart (a marker added to a shipped
// migration, a staged and an unstaged edit, a file made executable, one
// removed from the index, an untracked, a staged and an intent-to-add
// migration, a file with a BOM, a templated one) is dated and linted the
// same from the index and the files read (workStatus) as from git status,
// with and without --since, on a cold and a warm cache (the history is
// compared with the index however small it is).
func TestWorkStatusAsGitStatus(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	git := func(at time.Time, args ...string) { historytest.Git(t, dir, at, args...) }
	put := func(name, sql string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "db", name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	git(time.Time{}, "init", "-q")
	for i := 1; i <= 6; i++ {
		put(fmt.Sprintf("%06d_m%d.up.sql", i, i), fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, name text);\n", i))
		put(fmt.Sprintf("%06d_m%d.down.sql", i, i), fmt.Sprintf("DROP TABLE t%d;\n", i))
		git(time.Time{}, "add", "db")
		git(start.AddDate(0, 0, i), "commit", "-q", "-m", fmt.Sprint(i))
		if i == 3 {
			git(time.Time{}, "tag", "ref")
		}
	}
	put("000001_m1.up.sql", "CREATE TABLE t1 (id bigint PRIMARY KEY, name text);\n-- migsafe:deprecate t1.name\n")
	put("000002_m2.up.sql", "CREATE TABLE t2 (id bigint PRIMARY KEY, name text, x int);\n")
	git(time.Time{}, "add", "db/000002_m2.up.sql")
	put("000003_m3.up.sql", "CREATE TABLE t3 (id bigint PRIMARY KEY);\n")
	if err := os.Chmod(filepath.Join(dir, "db", "000002_m2.down.sql"), 0o755); err != nil {
		t.Fatal(err)
	}
	git(time.Time{}, "rm", "-q", "--cached", "db/000005_m5.down.sql")
	git(time.Time{}, "rm", "-q", "db/000001_m1.down.sql") // deleted since ref
	put("000006_m6.down.sql", "\ufeffDROP TABLE t6;\n")
	put("000007_m7.up.sql", "ALTER TABLE t1 DROP COLUMN name;\n")
	put("000008_m8.up.sql", "ALTER TABLE t2 ADD COLUMN y int NOT NULL DEFAULT 0;\n")
	git(time.Time{}, "add", "db/000008_m8.up.sql")
	put("000009_m9.up.sql", "CREATE INDEX i9 ON t3 (id);\n")
	git(time.Time{}, "add", "--intent-to-add", "db/000009_m9.up.sql")
	put("000010_m10.up.sql", "ALTER TABLE {{ .Schema }}.t4 ADD COLUMN z int;\n")

	run := func(since string, cache string, fromIndex bool) string {
		t.Helper()
		defer func(n int) { indexFrom = n }(indexFrom)
		indexFrom = 0 // from the index, however small the history
		if !fromIndex {
			defer func(r func(*gitlog.Repo, context.Context, []string) (*gitlog.Index, error)) { readIndex = r }(readIndex)
			readIndex = func(*gitlog.Repo, context.Context, []string) (*gitlog.Index, error) {
				return nil, errors.New("git status, for the test")
			}
		}
		s, err := Resolve(Options{Dir: dir, Dialect: "postgres", Since: since, Now: start.AddDate(1, 0, 0),
			TemplateVars: map[string]string{"Schema": "app"}, Cache: CacheOptions{Dir: cache, Off: cache == "", Results: cache != ""}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Check(context.Background(), s, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, hs := range res.Histories {
			out += fmt.Sprintf("git %v, deploys %+v\n", hs.Git, hs.Deploys.Deploys)
			for _, f := range hs.Parts {
				out += fmt.Sprintf("%s lint=%v deploy=%d edited=%q markers=%v\n", f.Path, f.Lint, f.Deploy, f.Edited, f.MarkerDeploys)
			}
		}
		for _, f := range res.Engine.Findings {
			out += fmt.Sprintf("%s:%d %s\n", f.Path, f.Start.Line, f.Code)
		}
		for _, n := range res.Notes {
			out += "note: " + n + "\n"
		}
		return out
	}
	// the files were written just now: their stamps are trusted as if
	// taken an hour later, so that the third run reads none
	t.Cleanup(func() { stampClock = time.Now })
	stampClock = func() time.Time { return time.Now().Add(time.Hour) }
	for _, since := range []string{"", "ref", "HEAD"} {
		want := run(since, "", false)
		if deleted := strings.Contains(want, "000001_m1.down.sql was in ref and has been deleted since"); deleted != (since == "ref") {
			t.Fatalf("since %q: the deletion since ref noted %t\n%s", since, deleted, want)
		}
		for _, c := range []struct{ name, cache string }{
			{"no cache", ""},
			{"cold cache", filepath.Join(t.TempDir(), "c")},
		} {
			for n := range 3 { // the second run keeps the sources, the third reads them
				before := sourcesRead.Load()
				got := run(since, c.cache, true)
				if read := sourcesRead.Load() - before; n == 2 && read != 0 {
					t.Errorf("since %q, run 3: %d files read, want the sources kept", since, read)
				}
				if got != want {
					t.Errorf("since %q, %s, run %d: from the index\n%s\nfrom git status\n%s", since, c.name, n+1, got, want)
				}
				if c.cache == "" {
					break
				}
			}
		}
		if !reflect.DeepEqual(want, run(since, "", false)) {
			t.Fatal("git status's answer changed between two runs")
		}
	}
}

// TestMagicDirectoryDated: a history in a directory named like a git
// pathspec with magic (":(exclude)*" would exclude every file) is dated
// from git, whether git status or the index is asked about it: git reads
// every path literally.
func TestMagicDirectoryDated(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	db := ":(exclude)*"
	if err := os.MkdirAll(filepath.Join(dir, db), 0o755); err != nil {
		t.Fatal(err)
	}
	historytest.Git(t, dir, time.Time{}, "init", "-q")
	for i := 1; i <= 2; i++ {
		p := filepath.Join(dir, db, fmt.Sprintf("%06d_m%d.up.sql", i, i))
		if err := os.WriteFile(p, []byte(fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY);\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		historytest.Git(t, dir, time.Time{}, "--literal-pathspecs", "add", "--", db)
		historytest.Git(t, dir, start.AddDate(0, 0, i), "commit", "-q", "-m", fmt.Sprint(i))
	}
	if err := os.WriteFile(filepath.Join(dir, db, "000003_m3.up.sql"), []byte("ALTER TABLE t1 DROP COLUMN id;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, from := range []int{indexFrom, 0} {
		func() {
			defer func(n int) { indexFrom = n }(indexFrom)
			indexFrom = from
			s, err := Resolve(Options{Dir: dir, Dialect: "postgres", Now: start.AddDate(1, 0, 0), Cache: CacheOptions{Off: true}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Check(context.Background(), s, []string{db})
			if err != nil {
				t.Fatal(err)
			}
			hs := res.Histories[0]
			var pending []bool
			for _, f := range hs.Parts {
				pending = append(pending, hs.Deploys.Deploy(f.Deploy).Pending)
			}
			if !hs.Git || !reflect.DeepEqual(pending, []bool{false, false, true}) {
				t.Errorf("index from %d files: dated from git %v, pending %v; want the two committed migrations dated and the third pending", from, hs.Git, pending)
			}
		}()
	}
}
