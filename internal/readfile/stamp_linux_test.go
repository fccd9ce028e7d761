package readfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDirSameStamp: a Dir gives the verdicts of sameStamp by path, for
// names stat'ed relative to the directory and for the names it stats by
// path (absolute, with "..", not clean), and when the directory cannot be
// opened.
func TestDirSameStamp(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.sql", "sub/b.sql"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), []byte("SELECT 1;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.sql", filepath.Join(dir, "link.sql")); err != nil {
		t.Fatal(err)
	}
	// a link to sub/deeper: the kernel walks "up/../a.sql" to
	// sub/a.sql, which is not there, and the path means dir/a.sql
	deeper := filepath.Join(sub, "deeper")
	if err := os.Mkdir(deeper, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(deeper, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	stamp := func(name string) Stamp {
		s, ok := StampOf(Path(dir, name), time.Now())
		_ = ok // racy or not, the stamp is what SameStamp compares
		return s
	}
	a, b := stamp("a.sql"), stamp("sub/b.sql")
	cases := []struct {
		name string
		s    Stamp
		max  int64
	}{
		{"a.sql", a, 100},
		{"sub/b.sql", b, 100},
		{"a.sql", b, 100},        // another file's stamp
		{"a.sql", a, 5},          // larger than max
		{"link.sql", a, 100},     // a symbolic link
		{"missing.sql", a, 100},  // gone
		{"sub/../a.sql", a, 100}, // not clean: by path
		{"up/../a.sql", a, 100},  // by path: dir/a.sql
		{"./a.sql", a, 100},
		{filepath.Join(dir, "a.sql"), a, 100}, // absolute
	}
	d := OpenDir(dir)
	defer d.Close()
	if d.fd < 0 {
		t.Fatal("OpenDir did not open the directory")
	}
	// a directory that cannot be opened: its names are stat'ed by path
	// (here the absolute name is the only one there)
	nowhere := filepath.Join(dir, "nowhere")
	gone := OpenDir(nowhere)
	defer gone.Close()
	if gone.fd >= 0 {
		t.Fatal("OpenDir opened a directory that is not there")
	}
	for _, c := range cases {
		want := sameStamp(Path(dir, c.name), c.max, c.s)
		if got := d.SameStamp(c.name, c.max, c.s); got != want {
			t.Errorf("%s: Dir.SameStamp = %v, sameStamp by path = %v", c.name, got, want)
		}
		want = sameStamp(Path(nowhere, c.name), c.max, c.s)
		if got := gone.SameStamp(c.name, c.max, c.s); got != want {
			t.Errorf("%s in a directory not opened: Dir.SameStamp = %v, sameStamp by path = %v", c.name, got, want)
		}
	}
	if !d.SameStamp("a.sql", 100, a) || !d.SameStamp("sub/b.sql", 100, b) || !d.SameStamp("up/../a.sql", 100, a) ||
		d.SameStamp("link.sql", 100, a) || d.SameStamp("a.sql", 100, b) {
		t.Error("the verdicts themselves are wrong")
	}
}
