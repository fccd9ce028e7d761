//go:build linux

package lint

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/internal/readfile"
)

// stamped reads names of dir with readStamped through c and returns the
// sources by name and how many files were read rather than taken from
// the cache.
func stamped(t *testing.T, c *parsecache.Cache, dir string, names ...string) (map[string]string, int64) {
	t.Helper()
	before := sourcesRead.Load()
	out := readStamped(c, dir, names, readfile.Options{Max: MaxFileSize, Root: dir, Dirs: &readfile.Dirs{}}, nil)
	got := map[string]string{}
	for i, r := range out {
		if r.err != nil {
			t.Fatalf("%s: %v", names[i], r.err)
		}
		got[names[i]] = string(r.src)
	}
	return got, sourcesRead.Load() - before
}

// settled makes readStamped take its stamps an hour after now, so that
// files written by the test count as settled (not racy), and keep the
// sources from the first run on.
func settled(t *testing.T) {
	t.Cleanup(func() { stampClock, sourcesFromFirstRun = time.Now, false })
	stampClock = func() time.Time { return time.Now().Add(time.Hour) }
	sourcesFromFirstRun = true
}

// TestStampedFromSecondRun: a group's first run keeps no copy of its
// files, the second does, and the third reads none of them.
func TestStampedFromSecondRun(t *testing.T) {
	t.Cleanup(func() { stampClock = time.Now })
	stampClock = func() time.Time { return time.Now().Add(time.Hour) }
	dir, c := t.TempDir(), openTestCache(t)
	write(t, dir, "1_a.up.sql", "CREATE TABLE a (id int);")
	write(t, dir, "2_b.up.sql", "CREATE TABLE b (id int);")
	for run, want := range []int64{2, 2, 0} {
		got, read := stamped(t, c, dir, "1_a.up.sql", "2_b.up.sql")
		if read != want || got["2_b.up.sql"] != "CREATE TABLE b (id int);" {
			t.Errorf("run %d: %d files read (want %d), %q", run+1, read, want, got)
		}
	}
}

func write(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func openTestCache(t *testing.T) *parsecache.Cache {
	t.Helper()
	c, err := parsecache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKeptLookedUpWhileListing: a directory argument's kept sources are
// looked up once, while it is listed, and are the ones its files are
// read from (a run after the second reads no file).
func TestKeptLookedUpWhileListing(t *testing.T) {
	settled(t)
	dir := t.TempDir()
	dir = filepath.Join(dir, "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "1_a.up.sql", "CREATE TABLE a (id int);")
	write(t, dir, "2_b.up.sql", "CREATE TABLE b (id int);")
	dir = filepath.Dir(dir)
	cache := filepath.Join(t.TempDir(), "cache")
	for run := range 3 {
		s, err := Resolve(Options{Dir: dir, Dialect: "postgres", NoGit: true, Cache: CacheOptions{Dir: cache}})
		if err != nil {
			t.Fatal(err)
		}
		lookups, read := keptEntries.Load(), sourcesRead.Load()
		if _, err := Check(context.Background(), s, []string{"db"}); err != nil {
			t.Fatal(err)
		}
		if n := keptEntries.Load() - lookups; n != 1 {
			t.Errorf("run %d: the kept sources were looked up %d times, want once", run+1, n)
		}
		if n := sourcesRead.Load() - read; run == 2 && n != 0 {
			t.Errorf("run 3: %d files read, want none (the sources looked up while listing)", n)
		}
	}
}

// TestStampedSameSizeOldMtime: a file rewritten with contents of the same
// size and its mtime put back (touch -d) has a new ctime, and is read
// again; an untouched file is not.
func TestStampedSameSizeOldMtime(t *testing.T) {
	settled(t)
	dir, c := t.TempDir(), openTestCache(t)
	write(t, dir, "1.sql", "SELECT 1;\n")
	write(t, dir, "2.sql", "SELECT 2;\n")
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	for _, n := range []string{"1.sql", "2.sql"} {
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, n := stamped(t, c, dir, "1.sql", "2.sql"); n != 2 {
		t.Fatalf("first run read %d files, want 2", n)
	}
	if got, n := stamped(t, c, dir, "1.sql", "2.sql"); n != 0 || got["1.sql"] != "SELECT 1;\n" {
		t.Fatalf("warm run read %d files (want 0), 1.sql = %q", n, got["1.sql"])
	}
	st1, _ := os.Stat(filepath.Join(dir, "1.sql"))
	time.Sleep(10 * time.Millisecond) // a later ctime on any clock granularity the test's file system has
	write(t, dir, "1.sql", "SELECT 3;\n")
	if err := os.Chtimes(filepath.Join(dir, "1.sql"), old, old); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(filepath.Join(dir, "1.sql"))
	if st1.Size() != st2.Size() || !st1.ModTime().Equal(st2.ModTime()) {
		t.Fatal("the test did not keep the size and mtime")
	}
	got, n := stamped(t, c, dir, "1.sql", "2.sql")
	if got["1.sql"] != "SELECT 3;\n" || n != 1 {
		t.Fatalf("after a same-size rewrite with the mtime put back: 1.sql = %q, %d files read (want SELECT 3, 1)", got["1.sql"], n)
	}
}

// TestStampedRacy: a file stamped within readfile.Settle of its last
// change is read again on every run until it settles.
func TestStampedRacy(t *testing.T) {
	dir, c := t.TempDir(), openTestCache(t)
	write(t, dir, "1.sql", "SELECT 1;\n")
	for run := range 3 {
		if _, n := stamped(t, c, dir, "1.sql"); n != 1 {
			t.Fatalf("run %d read %d files: a file changed just now must be read again", run, n)
		}
	}
	settled(t)
	stamped(t, c, dir, "1.sql")
	if _, n := stamped(t, c, dir, "1.sql"); n != 0 {
		t.Fatalf("once settled, a warm run read %d files", n)
	}
}

// TestStampedNames: a file added, removed or renamed (same inode) is seen;
// a symbolic link and a file not named .sql are always read.
func TestStampedNames(t *testing.T) {
	settled(t)
	dir, c := t.TempDir(), openTestCache(t)
	write(t, dir, "1.sql", "SELECT 1;\n")
	write(t, dir, "2.sql", "SELECT 2;\n")
	stamped(t, c, dir, "1.sql", "2.sql")
	write(t, dir, "3.sql", "SELECT 3;\n")
	if got, n := stamped(t, c, dir, "1.sql", "2.sql", "3.sql"); n != 1 || got["3.sql"] != "SELECT 3;\n" {
		t.Fatalf("added: %d read, %q", n, got["3.sql"])
	}
	if err := os.Rename(filepath.Join(dir, "2.sql"), filepath.Join(dir, "4.sql")); err != nil {
		t.Fatal(err)
	}
	if got, n := stamped(t, c, dir, "1.sql", "3.sql", "4.sql"); n != 1 || got["4.sql"] != "SELECT 2;\n" || len(got) != 3 {
		t.Fatalf("renamed: %d read, %v", n, got)
	}
	// 2.sql again, another file under the old name: read, not remembered
	write(t, dir, "2.sql", "SELECT 5;\n")
	if got, n := stamped(t, c, dir, "1.sql", "2.sql", "3.sql", "4.sql"); n != 1 || got["2.sql"] != "SELECT 5;\n" {
		t.Fatalf("a new file under a removed name: %d read, %q", n, got["2.sql"])
	}
	if err := os.Remove(filepath.Join(dir, "2.sql")); err != nil {
		t.Fatal(err)
	}
	if got, n := stamped(t, c, dir, "1.sql", "3.sql", "4.sql"); n != 0 || len(got) != 3 {
		t.Fatalf("removed: %d read, %v", n, got)
	}
	if err := os.Symlink("1.sql", filepath.Join(dir, "5.sql")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, n := stamped(t, c, dir, "1.sql", "5.sql"); n != 1 || got["5.sql"] != "SELECT 1;\n" {
			t.Fatalf("a link: %d read, %q", n, got["5.sql"])
		}
	}
	// a file not named as SQL is read each time, never copied to the cache
	write(t, dir, "notes.txt", "SELECT 6;\n")
	for range 2 {
		if got, n := stamped(t, c, dir, "1.sql", "notes.txt"); n != 1 || got["notes.txt"] != "SELECT 6;\n" {
			t.Fatalf("a file not named .sql: %d read, %q", n, got["notes.txt"])
		}
	}
}

// TestStampedTooLarge: a group whose sources exceed maxSources is read
// from its files each run.
func TestStampedTooLarge(t *testing.T) {
	settled(t)
	t.Cleanup(func() { maxSources = 32 << 20 })
	maxSources = 15
	dir, c := t.TempDir(), openTestCache(t)
	write(t, dir, "1.sql", "SELECT 1;\n")
	write(t, dir, "2.sql", "SELECT 2;\n")
	for run := range 2 {
		if _, n := stamped(t, c, dir, "1.sql", "2.sql"); n != 2 {
			t.Fatalf("run %d read %d files, want 2", run, n)
		}
	}
	maxSources = 20
	stamped(t, c, dir, "1.sql", "2.sql")
	if _, n := stamped(t, c, dir, "1.sql", "2.sql"); n != 0 {
		t.Fatalf("within the bound, a warm run read %d files", n)
	}
}

// TestKeptSourcesMalformed: an entry cut short anywhere is refused whole,
// and one with any byte changed never makes readKept or file panic (the
// cache's checksum catches both first; this is the second line).
func TestKeptSourcesMalformed(t *testing.T) {
	files := []sourceFile{
		{Name: "db/1_a.up.sql", Stamp: readfile.Stamp{Size: 9, Mtime: 1e18, Ctime: -5, Ino: 7, Dev: 1 << 40, Mode: 0o100644}, Src: []byte("SELECT 1;"), BOM: true},
		{Name: "db/2_b.up.sql", Src: []byte{}},
		{Name: "db/3_c.up.sql", Stamp: readfile.Stamp{Size: 3}, Src: []byte("abc")},
	}
	entry := []byte{byte(len(files))}
	for i := range files {
		entry = appendSource(entry, &files[i])
	}
	k, ok := readKept(entry)
	if !ok || len(k.offs) != len(files) {
		t.Fatalf("a whole entry: ok %t, %d files", ok, len(k.offs))
	}
	for i, want := range files {
		var got sourceFile
		name, _ := k.file(k.offs[i], &got)
		if string(name) != want.Name || got.Stamp != want.Stamp || string(got.Src) != string(want.Src) || got.BOM != want.BOM {
			t.Errorf("file %d: %s %+v %q %t, want %+v", i, name, got.Stamp, got.Src, got.BOM, want)
		}
		if cap(got.Src) != len(got.Src) {
			t.Errorf("file %d: its source has room to grow into the next file", i)
		}
	}
	for n := range len(entry) {
		if _, ok := readKept(entry[:n]); ok {
			t.Errorf("the entry cut to %d of %d bytes was read", n, len(entry))
		}
	}
	if _, ok := readKept(append(entry[:len(entry):len(entry)], 0)); ok {
		t.Error("an entry with a byte too many was read")
	}
	for i := range entry {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			bad := append([]byte(nil), entry...)
			bad[i] = v
			if k, ok := readKept(bad); ok {
				for _, off := range k.offs {
					var f sourceFile
					k.file(off, &f)
					k.name(off)
				}
			}
		}
	}
}
