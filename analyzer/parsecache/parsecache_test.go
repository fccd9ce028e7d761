package parsecache_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
)

const sample = `-- a migration
SET lock_timeout = '2s';
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT '', tags text[]);
CREATE INDEX CONCURRENTLY users_email ON users (email) WHERE email <> '';
ALTER TABLE users ADD COLUMN age int CHECK (age > 0), ALTER COLUMN email TYPE varchar(200);
UPDATE users SET age = 1 WHERE age IS NULL;
SELECT 1 FROM;
`

func pg(t *testing.T, version string) analyzer.Dialect {
	t.Helper()
	d, err := postgres.New(version)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func parse(d analyzer.Dialect, src string) ([]*analyzer.Statement, []analyzer.Comment) {
	return d.Parse([]byte(src), analyzer.Span{End: len(src)})
}

// TestWrapFrom: a part under the size given is parsed each time (no hit,
// no miss, no entry); a part of that size or more is cached; both give
// the parser's result. The size is the part's, not the file's.
func TestWrapFrom(t *testing.T) {
	dir := t.TempDir()
	c, err := parsecache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := pg(t, "16")
	min := len(sample)
	cd := c.WrapFrom(d, min)
	small := sample[:min-1]
	for _, src := range []string{small, small, sample, sample} {
		want, wantC := parse(d, src)
		got, gotC := parse(cd, src)
		if !reflect.DeepEqual(want, got) || !reflect.DeepEqual(wantC, gotC) {
			t.Fatalf("parse of %d bytes through WrapFrom differs from the parser's", len(src))
		}
	}
	if st := c.Stats(); st.Misses != 1 || st.Hits != 1 || st.Writes != 1 {
		t.Fatalf("stats %+v, want 1 miss, 1 hit, 1 write (the small part not cached)", st)
	}
	cd.Parse([]byte(sample), analyzer.Span{Start: 1, End: len(sample)}) // one byte under
	if st := c.Stats(); st.Misses != 1 || st.Writes != 1 {
		t.Fatalf("stats %+v: a part under the size was cached", st)
	}
	if n := len(entries(t, dir)); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}
}

// entries lists the cache's entry files.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !de.IsDir() && de.Name() != "trimmed" { // TrimIfDue's stamp
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHitEqualsParse(t *testing.T) {
	dir := t.TempDir()
	c, err := parsecache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := pg(t, "16")
	cd := c.Wrap(d)
	if cd.Name() != d.Name() || cd.Target() != d.Target() {
		t.Fatal("the wrapped dialect is not the same dialect")
	}
	want, wantC := parse(d, sample)
	for i := range 2 {
		got, gotC := parse(cd, sample)
		if !reflect.DeepEqual(want, got) || !reflect.DeepEqual(wantC, gotC) {
			t.Fatalf("parse %d through the cache differs from the parser's", i)
		}
	}
	if st := c.Stats(); st.Misses != 1 || st.Hits != 1 || st.Writes != 1 {
		t.Fatalf("stats %+v, want 1 miss, 1 hit, 1 write", st)
	}
	// another target version, another byte range or another dialect is
	// another entry
	parse(c.Wrap(pg(t, "17")), sample)
	cd.Parse([]byte(sample), analyzer.Span{Start: 15, End: len(sample)})
	my, err := mysql.New("8.0")
	if err != nil {
		t.Fatal(err)
	}
	wrapped := c.Wrap(my)
	if _, ok := wrapped.(analyzer.Transactions); !ok {
		t.Fatal("the wrapped MySQL dialect lost its transaction semantics")
	}
	parse(wrapped, sample)
	if st := c.Stats(); st.Misses != 4 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 4 misses", st)
	}
	if n := len(entries(t, dir)); n != 4 {
		t.Fatalf("%d entries, want 4", n)
	}
}

// TestCorruptEntry truncates, flips a byte of, empties and replaces each
// entry: the cache must ignore it, return the parser's result and rewrite
// it.
func TestCorruptEntry(t *testing.T) {
	d := pg(t, "")
	want, wantC := parse(d, sample)
	damage := map[string]func([]byte) []byte{
		"truncated":    func(b []byte) []byte { return b[:len(b)/2] },
		"no checksum":  func(b []byte) []byte { return b[:len(b)-4] },
		"flipped byte": func(b []byte) []byte { b[len(b)/2] ^= 0x55; return b },
		"empty":        func([]byte) []byte { return nil },
		"not an entry": func([]byte) []byte { return []byte("garbage that is long enough to pass the length check") },
		"bad length":   func(b []byte) []byte { b[8] ^= 1; return b },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c, _ := parsecache.Open(dir)
			parse(c.Wrap(d), sample)
			files := entries(t, dir)
			if len(files) != 1 {
				t.Fatalf("%d entries, want 1", len(files))
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(files[0], f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			c2, _ := parsecache.Open(dir)
			got, gotC := parse(c2.Wrap(d), sample)
			if !reflect.DeepEqual(want, got) || !reflect.DeepEqual(wantC, gotC) {
				t.Fatal("a corrupt entry changed the result")
			}
			if st := c2.Stats(); st.Corrupt != 1 || st.Misses != 1 || st.Writes != 1 {
				t.Fatalf("stats %+v, want the corrupt entry counted, missed and rewritten", st)
			}
			c3, _ := parsecache.Open(dir)
			got, _ = parse(c3.Wrap(d), sample)
			if st := c3.Stats(); st.Hits != 1 || !reflect.DeepEqual(want, got) {
				t.Fatalf("stats %+v: the rewritten entry is not read back", st)
			}
		})
	}
}

// TestConcurrentWriters has writers on separate Cache values (as separate
// processes would be) fill and refill one directory with the same and
// different entries while readers read them: every result equals the
// parser's, no entry is ever seen half-written, and no temporary file is
// left behind.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	d := pg(t, "")
	var srcs []string
	for i := range 20 {
		srcs = append(srcs, fmt.Sprintf("%s\nALTER TABLE t%d ADD COLUMN c%d int;\n-- %s\n", sample, i, i, strings.Repeat("x", i*500)))
	}
	want := make([][]*analyzer.Statement, len(srcs))
	for i, s := range srcs {
		want[i], _ = parse(d, s)
	}
	var wg sync.WaitGroup
	caches := make([]*parsecache.Cache, 6)
	errs := make(chan string, 100)
	for w := range caches {
		c, err := parsecache.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		caches[w] = c
		cd := c.Wrap(d)
		wg.Go(func() {
			for round := range 5 {
				for k := range srcs {
					i := (k + w*3) % len(srcs)
					if round%2 == 1 && w%2 == 0 && k%5 == 0 {
						// remove entries while others read and write them
						files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
						for j, p := range files {
							if j%3 == w%3 {
								os.Remove(p)
							}
						}
					}
					got, _ := parse(cd, srcs[i])
					if !reflect.DeepEqual(want[i], got) {
						errs <- fmt.Sprintf("writer %d, round %d: source %d differs", w, round, i)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var hits, writes int64
	for _, c := range caches {
		st := c.Stats()
		if st.Corrupt != 0 {
			t.Errorf("a reader saw %d corrupt entries: a write was not atomic", st.Corrupt)
		}
		hits += st.Hits
		writes += st.Writes
	}
	if hits == 0 || writes == 0 {
		t.Errorf("%d hits, %d writes: the test did not share the cache", hits, writes)
	}
	for _, p := range entries(t, dir) {
		if strings.HasPrefix(filepath.Base(p), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
	}
}

// TestTrim bounds the cache's size, removing the entries used least
// recently first, and the temporary files of writers that died.
func TestTrim(t *testing.T) {
	dir := t.TempDir()
	c, _ := parsecache.Open(dir)
	cd := c.Wrap(pg(t, ""))
	var srcs []string
	for i := range 30 {
		srcs = append(srcs, fmt.Sprintf("CREATE TABLE t%d (id int);\n", i))
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range srcs[:10] {
		parse(cd, s)
	}
	// the first ten entries are the oldest
	for i, p := range entries(t, dir) {
		at := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range srcs[10:] {
		parse(cd, s)
	}
	var total int64
	for _, p := range entries(t, dir) {
		fi, _ := os.Stat(p)
		total += fi.Size()
	}
	stale := filepath.Join(dir, ".tmp-dead")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	c.MaxBytes = total / 2
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	var after int64
	for _, p := range entries(t, dir) {
		fi, _ := os.Stat(p)
		after += fi.Size()
	}
	if after > c.MaxBytes {
		t.Fatalf("%d bytes after Trim, want at most %d", after, c.MaxBytes)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("the dead writer's temporary file is still there")
	}
	c2, _ := parsecache.Open(dir)
	cd2 := c2.Wrap(pg(t, ""))
	for _, s := range srcs[:10] {
		parse(cd2, s)
	}
	if st := c2.Stats(); st.Hits != 0 {
		t.Fatalf("the oldest entries were kept (%d hits)", st.Hits)
	}
	parse(cd2, srcs[29])
	if st := c2.Stats(); st.Hits != 1 {
		t.Fatal("the newest entry was removed")
	}
}

// TestResultRoundTrip stores a history result and reads it back equal,
// under its digest only; a damaged entry is not used.
func TestResultRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, _ := parsecache.Open(dir)
	sup := &analyzer.Suppression{Rules: []string{"x"}, Reason: "r", Used: []int{1}}
	want := &parsecache.Result{
		Findings: []analyzer.Finding{{Code: "MS001", Name: "x", Severity: analyzer.SeverityWarning, Path: "a.sql", Message: "m",
			Objects: []string{"t"}, Fixes: []analyzer.Fix{{Description: "d", Edits: []analyzer.Edit{{NewText: "y"}}}}, Stmt: -1, Suppressed: sup}},
		Notes: []string{"n"},
		// one item at the end of the entry: its length prefix is 2, with
		// one byte left to read
		Stmts: []int{1},
	}
	c.PutResult([]byte("digest"), want)
	got, ok := c.Result([]byte("digest"))
	if !ok || !reflect.DeepEqual(want, got) {
		t.Fatalf("read back %v: %+v, want %+v", ok, got, want)
	}
	if _, ok := c.Result([]byte("other")); ok {
		t.Fatal("a result read under another digest")
	}
	files := entries(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d entries, want 1", len(files))
	}
	b, _ := os.ReadFile(files[0])
	if err := os.WriteFile(files[0], b[:len(b)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Result([]byte("digest")); ok {
		t.Fatal("a truncated result was used")
	}
	if st := c.Stats(); st.Results != 1 || st.Corrupt != 1 {
		t.Fatalf("stats %+v, want 1 result read and 1 corrupt", st)
	}
}

// TestTrimIfDue trims a cache over its bound the first time, then not
// again within the hour unless a run wrote many entries.
func TestTrimIfDue(t *testing.T) {
	dir := t.TempDir()
	fill := func(c *parsecache.Cache, from, n int) {
		cd := c.Wrap(pg(t, ""))
		for i := from; i < from+n; i++ {
			parse(cd, fmt.Sprintf("CREATE TABLE t%d (id int);\n", i))
		}
	}
	c, _ := parsecache.Open(dir)
	c.MaxBytes = 1
	fill(c, 0, 5)
	if err := c.TrimIfDue(); err != nil {
		t.Fatal(err)
	}
	if n := len(entries(t, dir)); n != 0 {
		t.Fatalf("%d entries after the first trim, want 0", n)
	}
	c2, _ := parsecache.Open(dir)
	c2.MaxBytes = 1
	fill(c2, 5, 5)
	if err := c2.TrimIfDue(); err != nil {
		t.Fatal(err)
	}
	if n := len(entries(t, dir)); n != 5 {
		t.Fatalf("%d entries after a second trim within the hour, want the 5 written", n)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "trimmed"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := c2.TrimIfDue(); err != nil {
		t.Fatal(err)
	}
	if n := len(entries(t, dir)); n != 0 {
		t.Fatalf("%d entries after the hour, want 0", n)
	}
}
