package lint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/lint"
)

// checkWith lints paths under dir with the cache options given and returns
// the result and the history results the run read from the cache.
func checkWith(t *testing.T, o lint.Options, paths ...string) (*lint.Result, int64) {
	t.Helper()
	o.Paths = paths
	s, err := lint.Resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := lint.Check(context.Background(), s, paths)
	if err != nil {
		t.Fatalf("%v: %v", paths, err)
	}
	s.Done()
	if c := s.Cache(); c != nil {
		if st := c.Stats(); st.Corrupt != 0 {
			t.Errorf("%v: %d corrupt entries", paths, st.Corrupt)
		}
		return res, c.Stats().Results
	}
	return res, 0
}

// sameResult fails unless a and b report the same: findings, notes,
// errors, the files checked, their statement count and what the model
// could not follow.
func sameResult(t *testing.T, what string, a, b *lint.Result) {
	t.Helper()
	if !reflect.DeepEqual(a.Engine.Findings, b.Engine.Findings) {
		t.Errorf("%s: findings differ (%d without the cache, %d with)", what, len(a.Engine.Findings), len(b.Engine.Findings))
	}
	if !reflect.DeepEqual(a.Engine.Notes, b.Engine.Notes) || !reflect.DeepEqual(a.Errors, b.Errors) || !reflect.DeepEqual(a.Notes, b.Notes) {
		t.Errorf("%s: notes or errors differ", what)
	}
	if a.Statements != b.Statements || len(a.Engine.Files) != len(b.Engine.Files) {
		t.Errorf("%s: %d files and %d statements without the cache, %d and %d with", what, len(a.Engine.Files), a.Statements, len(b.Engine.Files), b.Statements)
	}
	for i := range min(len(a.Engine.Files), len(b.Engine.Files)) {
		f, g := a.Engine.Files[i], b.Engine.Files[i]
		if f.Path != g.Path || (f.Lines == nil) != (g.Lines == nil) {
			t.Errorf("%s: file %d is %s (lines %t) without the cache, %s (lines %t) with", what, i, f.Path, f.Lines != nil, g.Path, g.Lines != nil)
		}
	}
	for i := range min(len(a.Each), len(b.Each)) {
		if !reflect.DeepEqual(a.Each[i].Catalog.Unmodeled, b.Each[i].Catalog.Unmodeled) {
			t.Errorf("%s: the unmodelled statements of history %d differ", what, i)
		}
	}
}

// TestResultCacheCorpusSameFindings lints every migration folder of the
// corpus without any cache, then twice with the result cache (filling it,
// then reading every history back without replaying it): the reports must
// be the same, and the last run must read one result per history.
func TestResultCacheCorpusSameFindings(t *testing.T) {
	root := corpusDir()
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	if len(dirs) == 0 {
		t.Skipf("no corpus at %s (set MIGSAFE_CORPUS)", root)
	}
	cache := lint.CacheOptions{Dir: t.TempDir(), Results: true}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	checked := 0
	for _, dir := range dirs {
		dialect := filepath.Base(dir)
		switch dialect {
		case "postgres", "mysql":
		case "any":
			dialect = "postgres"
		default:
			continue
		}
		rel, _ := filepath.Rel(root, dir)
		o := lint.Options{Dir: root, Dialect: dialect, NoGit: true, Now: now}
		o.Cache = lint.CacheOptions{Off: true}
		plain, _ := checkWith(t, o, rel)
		o.Cache = cache
		cold, _ := checkWith(t, o, rel)
		warm, read := checkWith(t, o, rel)
		sameResult(t, rel+", filling the cache", plain, cold)
		sameResult(t, rel+", from the cache", plain, warm)
		if read != int64(len(warm.Histories)) || read == 0 {
			t.Errorf("%s: %d history results read from a warm cache, want %d", rel, read, len(warm.Histories))
		}
		checked += len(plain.Engine.Files)
	}
	if checked < 1000 {
		t.Fatalf("only %d files checked: is the corpus complete?", checked)
	}
}

// TestResultCacheInvalidated changes, one at a time, what a history's
// findings depend on (a migration before the one linted, the
// configuration, the target version, a file's name), each change one
// that changes the findings, and checks that the cache is not read and
// that the findings are those of a run without it; then that the same
// run again reads it.
func TestResultCacheInvalidated(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("db/001_a.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, c varchar(10));\n")
	write("db/002_b.up.sql", "ALTER TABLE t ADD COLUMN d int DEFAULT 0;\n")
	write("db/003_c.up.sql", "ALTER TABLE t ALTER COLUMN c TYPE text;\n")
	cache := lint.CacheOptions{Dir: t.TempDir(), Results: true}
	steps := []struct {
		name   string
		change func(o *lint.Options)
		paths  []string
	}{
		{"first run", nil, []string{"db/003_c.up.sql"}},
		{"an earlier migration changed", func(*lint.Options) {
			// the same length as before: only the bytes say it changed
			write("db/001_a.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY, c numeric(10));\n")
		}, []string{"db/003_c.up.sql"}},
		{"the whole directory", nil, []string{"db"}},
		{"the configuration changed", func(*lint.Options) {
			write(".migsafe.yaml", "rules:\n  change-column-type: off\n")
		}, []string{"db"}},
		{"the target changed", func(o *lint.Options) { o.TargetVersion = "10" }, []string{"db"}},
		{"a file renamed", func(*lint.Options) {
			if err := os.Rename(filepath.Join(dir, "db/002_b.up.sql"), filepath.Join(dir, "db/002_bb.up.sql")); err != nil {
				t.Fatal(err)
			}
		}, []string{"db"}},
	}
	o := lint.Options{Dir: dir, NoGit: true}
	var prev *lint.Result
	for _, st := range steps {
		if st.change != nil {
			st.change(&o)
		}
		plain := o
		plain.Cache = lint.CacheOptions{Off: true}
		want, _ := checkWith(t, plain, st.paths...)
		cached := o
		cached.Cache = cache
		got, read := checkWith(t, cached, st.paths...)
		if read != 0 {
			t.Errorf("%s: %d results read from the cache, want none", st.name, read)
		}
		sameResult(t, st.name, want, got)
		if prev != nil && reflect.DeepEqual(prev.Engine.Findings, want.Engine.Findings) {
			t.Errorf("%s: the findings did not change, so the test proves nothing", st.name)
		}
		again, read := checkWith(t, cached, st.paths...)
		if read != 1 {
			t.Errorf("%s, again: %d results read from the cache, want 1", st.name, read)
		}
		sameResult(t, st.name+", again", want, again)
		prev = want
	}
}

// TestParsesCachedFromSecondRun: the first run on a history (CI with an
// empty cache) keeps its result but not each file's parse, so it writes a
// few entries, not one per file; a run after a change writes the parses,
// and the run after the next change reads all but the changed file's.
// A PostgreSQL file under 512 bytes is parsed each time, never cached
// (minCached): the 30 files are made larger, and one small file is
// neither read from the cache nor written to it. Findings are those of a
// run without the cache throughout.
func TestParsesCachedFromSecondRun(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	pad := "-- " + strings.Repeat("a comment that makes the file larger than 512 bytes ", 10) + "\n"
	for i := 1; i <= 30; i++ {
		files[filepath.Join("db", fmt.Sprintf("%03d_t%d.up.sql", i, i))] = fmt.Sprintf("%sCREATE TABLE t%d (id bigint PRIMARY KEY);\nCREATE INDEX t%d_id ON t%d (id);\n", pad, i, i, i)
	}
	files[filepath.Join("db", "000_small.up.sql")] = "CREATE TABLE small (id bigint);\n"
	write(t, dir, files)
	cache := filepath.Join(t.TempDir(), "cache")
	run := func(what string) parsecache.Stats {
		t.Helper()
		o := lint.Options{Dir: dir, Dialect: "postgres", NoGit: true, Paths: []string{"db"}}
		plain, _ := checkWith(t, lint.Options{Dir: o.Dir, Dialect: o.Dialect, NoGit: true, Cache: lint.CacheOptions{Off: true}}, "db")
		o.Cache = lint.CacheOptions{Dir: cache, Results: true}
		s, err := lint.Resolve(o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := lint.Check(context.Background(), s, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		s.Done()
		sameResult(t, what, plain, res)
		return s.Cache().Stats()
	}
	if st := run("first run"); st.Writes > 5 {
		t.Errorf("the first run wrote %d entries for 30 files, want a few (the result, the sources, the mark)", st.Writes)
	}
	write(t, dir, map[string]string{filepath.Join("db", "031_t31.up.sql"): pad + "CREATE TABLE t31 (id bigint);\n"})
	if st := run("second run"); st.Writes < 31 {
		t.Errorf("the run after a change wrote %d entries, want each of the 31 files' parse", st.Writes)
	}
	write(t, dir, map[string]string{filepath.Join("db", "032_t32.up.sql"): pad + "CREATE TABLE t32 (id bigint);\n"})
	if st := run("third run"); st.Hits != 31 || st.Misses != 1 {
		t.Errorf("the run after the next change read %d parses and made %d, want 31 and 1", st.Hits, st.Misses)
	}
}
