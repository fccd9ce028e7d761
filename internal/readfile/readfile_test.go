//go:build unix

package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.sql")
	if err := os.WriteFile(ok, []byte("SELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.sql")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.sql")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.sql")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}

	if b, err := Read(ok, "ok.sql", Options{Max: 100, Root: dir}); err != nil || string(b) != "SELECT 1;\n" {
		t.Fatalf("ok.sql: %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := Read(ok, "ok.sql", Options{Max: 5}); !errors.As(err, &tl) || tl.Size != 10 {
		t.Fatalf("over the limit: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(fifo, "pipe.sql", Options{Max: 100}); done <- err }()
	var nr *NotRegularError
	select {
	case err := <-done:
		if !errors.As(err, &nr) || Kind(nr.Mode) != "a named pipe" {
			t.Fatalf("pipe: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a named pipe hangs")
	}
	if _, err := Read(zero, "zero.sql", Options{Max: 100}); !errors.As(err, &nr) || Kind(nr.Mode) != "a character device" {
		t.Fatalf("/dev/zero: %v", err)
	}
	var oe *OutsideError
	if _, err := Read(link, "link.sql", Options{Max: 100, Root: dir}); !errors.As(err, &oe) {
		t.Fatalf("link out of the root: %v", err)
	}
	if b, err := Read(link, "link.sql", Options{Max: 100, Root: dir, FollowOutside: true}); err != nil || string(b) != "token" {
		t.Fatalf("followed on request: %q, %v", b, err)
	}
	if _, err := Read(ok, "ok.sql", Options{}); err == nil {
		t.Fatal("no limit accepted")
	}
}

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		root, p string
		want    bool
	}{
		{"/a", "/a", true},
		{"/a", "/a/b", true},
		{"/a", "/ab", false},
		{"/a", "/", false},
		{"/a/b", "/a/c", false},
		{"/a", "/a/..b", true},
	} {
		if got := Within(c.root, c.p); got != c.want {
			t.Errorf("Within(%q, %q) = %v", c.root, c.p, got)
		}
	}
}

// TestDirsSameVerdicts reads files through links (a linked directory
// inside the root, one out of it, a linked file) with and without Dirs:
// remembering resolved directories must not change which reads are
// refused.
func TestDirsSameVerdicts(t *testing.T) {
	root := t.TempDir()
	out := t.TempDir()
	for _, p := range []string{filepath.Join(root, "db", "a.sql"), filepath.Join(out, "b.sql")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("SELECT 1;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, to := range map[string]string{
		"in":             filepath.Join(root, "db"),
		"out":            out,
		"db/linked.sql":  filepath.Join(out, "b.sql"),
		"db/sibling.sql": filepath.Join(root, "db", "a.sql"),
	} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	dirs := &Dirs{}
	for range 2 { // the second time from what Dirs remembers
		for _, name := range []string{"db/a.sql", "in/a.sql", "in/linked.sql", "in/sibling.sql", "out/b.sql", "db/linked.sql", "db/sibling.sql", "db/missing.sql"} {
			full := filepath.Join(root, name)
			_, want := Read(full, name, Options{Max: 100, Root: root})
			_, got := Read(full, name, Options{Max: 100, Root: root, Dirs: dirs})
			if (want == nil) != (got == nil) || want != nil && want.Error() != got.Error() {
				t.Errorf("%s: %v without Dirs, %v with", name, want, got)
			}
		}
	}
	var oe *OutsideError
	if _, err := Read(filepath.Join(root, "out", "b.sql"), "out/b.sql", Options{Max: 100, Root: root, Dirs: dirs}); !errors.As(err, &oe) {
		t.Fatalf("a directory linked out of the root: %v", err)
	}
}

// TestReadOpen checks the reader behind Read on what can change between
// the look at a path and its opening: a named pipe put in its place is
// refused at once, a symbolic link put in its place is not followed, and
// a file that grew since its size was taken is read to its end or to the
// limit. ReadInfo says when the path was a link.
func TestReadOpen(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.sql")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var nr *NotRegularError
	if _, err := readOpen(fifo, "pipe.sql", Options{Max: 100}, true); !errors.As(err, &nr) || Kind(nr.Mode) != "a named pipe" {
		t.Fatalf("pipe: %v", err)
	}
	target := filepath.Join(dir, "target.sql")
	if err := os.WriteFile(target, []byte("SELECT 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.sql")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if b, err := readOpen(link, "link.sql", Options{Max: 100}, true); err == nil {
		t.Fatalf("a link opened without following links: %q", b)
	}
	b, info, err := ReadInfo(link, "link.sql", Options{Max: 100})
	if err != nil || string(b) != "SELECT 1;\n" || !info.Link {
		t.Fatalf("ReadInfo of a link: %q, %+v, %v", b, info, err)
	}
	if _, info, err := ReadInfo(target, "target.sql", Options{Max: 100}); err != nil || info.Link || info.Exec {
		t.Fatalf("ReadInfo of a file: %+v, %v", info, err)
	}
	// executable (git records mode 100755), read directly and through a
	// link (the general path)
	if err := os.Chmod(target, 0o744); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{target, link} {
		if _, info, err := ReadInfo(p, filepath.Base(p), Options{Max: 100}); err != nil || !info.Exec {
			t.Fatalf("ReadInfo of %s, executable: %+v, %v", p, info, err)
		}
	}
	// sizes from an earlier stat: larger, smaller and zero
	data := []byte("SELECT 1;\n")
	for _, size := range []int64{0, 4, 10, 64} {
		read := 0
		got, err := readAll(func(p []byte) (int, error) {
			n := copy(p, data[read:])
			read += n
			return n, nil
		}, "f.sql", size, Options{Max: 100})
		if err != nil || string(got) != string(data) {
			t.Errorf("size %d: %q, %v", size, got, err)
		}
	}
	var tl *TooLargeError
	if _, err := readAll(func(p []byte) (int, error) { return len(p), nil }, "f.sql", 4, Options{Max: 100}); !errors.As(err, &tl) || !tl.Growing {
		t.Errorf("a file growing past the limit: %v", err)
	}
}

// TestReadDirect compares ReadInfo, which takes readDirect's one lookup
// for a regular file, with the general path on every kind of path a
// history can hold: the bytes, whether it was a link, and the error
// must be the same, and the regular files inside the root must take the
// short path.
func TestReadDirect(t *testing.T) {
	root := t.TempDir()
	out := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(to, at string) {
		t.Helper()
		if err := os.Symlink(to, filepath.Join(root, at)); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "db", "a.sql"), "SELECT 1;\n")
	write(filepath.Join(root, "db", "empty.sql"), "")
	write(filepath.Join(root, "db", "big.sql"), strings.Repeat("x", 101))
	write(filepath.Join(out, "b.sql"), "SELECT 2;\n")
	if err := os.Mkdir(filepath.Join(root, "db", "dir.sql"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "db", "pipe.sql"), 0o644); err != nil {
		t.Fatal(err)
	}
	link(filepath.Join(root, "db"), "in")
	link(out, "out")
	link(filepath.Join(out, "b.sql"), "db/linked.sql")
	link("a.sql", "db/sibling.sql")
	link("/dev/zero", "db/zero.sql")
	link("missing.sql", "db/dangling.sql")
	// a directory out of the root holding a link back into it
	if err := os.Symlink(filepath.Join(root, "db", "a.sql"), filepath.Join(out, "back.sql")); err != nil {
		t.Fatal(err)
	}
	direct := map[string]bool{"db/a.sql": true, "db/empty.sql": true, "db/big.sql": true, "in/a.sql": true}
	names := []string{"db/a.sql", "db/empty.sql", "db/big.sql", "db/dir.sql", "db/pipe.sql", "in/a.sql", "in/sibling.sql",
		"out/b.sql", "out/back.sql", "db/linked.sql", "db/sibling.sql", "db/zero.sql", "db/dangling.sql", "db/missing.sql", "nodir/a.sql"}
	for _, o := range []Options{{Max: 100, Root: root}, {Max: 100, Root: root, Dirs: &Dirs{}}, {Max: 100, Root: root, FollowOutside: true}, {Max: 100}} {
		for range 2 { // the second time from what Dirs remembers
			for _, name := range names {
				full := filepath.Join(root, name)
				b, info, err := ReadInfo(full, name, o)
				wb, winfo, werr := readGeneral(full, name, o)
				if string(b) != string(wb) || info != winfo || (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
					t.Errorf("%s %+v: %q %+v %v, want %q %+v %v", name, o, b, info, err, wb, winfo, werr)
				}
				inside := o.Root == "" || o.FollowOutside || !strings.HasPrefix(name, "out/")
				if _, _, done, _ := readDirect(full, name, o); done != (direct[name] || inside && name == "out/b.sql") {
					t.Errorf("%s %+v: short path taken %t", name, o, done)
				}
			}
		}
	}
}
