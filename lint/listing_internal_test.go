//go:build linux

package lint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestListingKept: a directory's listing is kept with its stamp and taken
// while the directory keeps it, and what the walk finds is the same as
// without the cache after every change a listing can see: a file added,
// removed or renamed, a directory added, a symbolic link (whose
// directory is listed every time: where it leads may change while the
// directory does not), a file excluded by the configuration (applied to
// a kept listing too). A directory changed within readfile.Settle of its
// listing is not kept.
func TestListingKept(t *testing.T) {
	settled(t)
	root, c := t.TempDir(), openTestCache(t)
	db := filepath.Join(root, "db")
	for _, d := range []string{"sub", ".hidden"} {
		if err := os.MkdirAll(filepath.Join(db, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"1_a.up.sql", "2_b.up.sql", "notes.txt", "sub/3_c.sql", ".hidden/x.sql"} {
		write(t, db, f, "SELECT 1;\n")
	}
	var exclude string
	excluded := func(p string) bool { return exclude != "" && strings.HasSuffix(p, exclude) }
	// check walks db with and without the cache: the same files, and
	// kept the listings of so many directories
	check := func(step string, kept int64) []string {
		t.Helper()
		before := listingsKept.Load()
		got, errs := discover("db", root, excluded, false, c)
		if n := listingsKept.Load() - before; n != kept {
			t.Errorf("%s: %d listings kept, want %d", step, n, kept)
		}
		want, wantErrs := discover("db", root, excluded, false, nil)
		if !slices.Equal(got, want) || len(errs) != len(wantErrs) {
			t.Errorf("%s: %v (%v) with the cache, %v (%v) without", step, got, errs, want, wantErrs)
		}
		return got
	}
	// change changes db with do, a tick of the file system's clock after
	// its last listing, and checks that its stamp changed
	change := func(do func()) {
		t.Helper()
		before, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		do()
		after, err := os.Stat(db)
		if err != nil {
			t.Fatal(err)
		}
		if after.ModTime().Equal(before.ModTime()) {
			t.Fatal("the directory's time did not change")
		}
	}
	if got := check("first run", 0); !slices.Equal(got, []string{"db/1_a.up.sql", "db/2_b.up.sql", "db/sub/3_c.sql"}) {
		t.Fatalf("first run: %v", got)
	}
	check("second run", 2)
	change(func() { write(t, db, "4_d.up.sql", "SELECT 4;\n") })
	check("a file added", 1)
	check("a file added, next run", 2)
	change(func() {
		if err := os.Remove(filepath.Join(db, "1_a.up.sql")); err != nil {
			t.Fatal(err)
		}
	})
	check("a file removed", 1)
	change(func() {
		if err := os.Rename(filepath.Join(db, "2_b.up.sql"), filepath.Join(db, "2_renamed.up.sql")); err != nil {
			t.Fatal(err)
		}
	})
	check("a file renamed", 1)
	change(func() {
		if err := os.MkdirAll(filepath.Join(db, "new"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, db, "new/5_e.sql", "SELECT 5;\n")
	})
	if got := check("a directory added", 1); !slices.Contains(got, "db/new/5_e.sql") || slices.Contains(got, "db/1_a.up.sql") || !slices.Contains(got, "db/2_renamed.up.sql") {
		t.Errorf("a directory added: %v", got)
	}
	check("a directory added, next run", 3)
	exclude = "4_d.up.sql"
	if got := check("a file excluded", 3); slices.Contains(got, "db/4_d.up.sql") {
		t.Errorf("a file excluded: %v", got)
	}
	exclude = ""
	change(func() {
		if err := os.Symlink("4_d.up.sql", filepath.Join(db, "link.sql")); err != nil {
			t.Fatal(err)
		}
	})
	check("a link", 2)
	check("a link, next run", 2)
	if err := os.Remove(filepath.Join(db, "link.sql")); err != nil {
		t.Fatal(err)
	}

	// a directory changed just now: listed each run until it settles
	stampClock = time.Now
	change(func() { write(t, db, "6_f.up.sql", "SELECT 6;\n") })
	check("changed just now", 2)
	check("changed just now, next run", 2)
}
