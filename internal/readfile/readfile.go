// Package readfile is the one way migsafe reads a file that a user or a
// repository names: a migration, a .migsafe.yaml found upward or given
// with -c, a Flyway .sql.conf. A pull request controls these files, so
// the reader refuses what is not a regular file (a named pipe would wait
// for a writer forever, /dev/zero never ends), stops at a size limit even
// when the file grows while it is read, and does not follow a symbolic
// link out of the directory it was asked to stay in (a migration linked
// to ~/.aws/credentials would be printed in a syntax-error excerpt).
package readfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Options bound a read.
type Options struct {
	// Max is the largest size read, in bytes; it must be positive.
	Max int64
	// Root, when set, is the directory the file must be inside once
	// symbolic links are resolved (the repository, else the directory
	// given); a link out of it is an *OutsideError.
	Root string
	// FollowOutside follows links out of Root (--follow-symlinks).
	FollowOutside bool
	// TooLarge is added to the message of a file over Max: what to do
	// ("exclude it or raise --max-file-size").
	TooLarge string
	// Dirs, when set, remembers the directories resolved to check Root,
	// for reads of many files in a few directories.
	Dirs *Dirs
}

// Dirs remembers resolved directories for the reads of one run: a
// history of thousands of files in one directory resolves its path once,
// instead of once per file (a look at every component of the path each
// time). The zero value is ready to use; it is safe for concurrent use.
type Dirs struct {
	m       sync.Map
	withins sync.Map // resolved directory + "\x00" + resolved root → Within
	mu      sync.RWMutex
	insides map[[2]string]bool // directory and root as given → dirInside
}

// dirInside reports whether the directory of full, resolved, is inside
// root, resolved: then so is full, unless it is a symbolic link itself.
// It is remembered per directory and root as given, so that the files of
// a directory do not clean, resolve and compare their paths each time.
func (d *Dirs) dirInside(full, root string) bool {
	dir := filepath.Dir(full)
	k := [2]string{dir, root}
	if d != nil {
		d.mu.RLock()
		in, ok := d.insides[k]
		d.mu.RUnlock()
		if ok {
			return in
		}
	}
	in := false
	if r, err := d.eval(dir); err == nil {
		rr, err := d.eval(root)
		if err != nil {
			rr = root
		}
		in = d.within(rr, r)
	}
	if d != nil {
		d.mu.Lock()
		if d.insides == nil {
			d.insides = map[[2]string]bool{}
		}
		d.insides[k] = in
		d.mu.Unlock()
	}
	return in
}

// within is Within(root, dir), remembered (the files of a directory are
// inside a root exactly when the directory is: a file name has no
// separator).
func (d *Dirs) within(root, dir string) bool {
	if d == nil {
		return Within(root, dir)
	}
	k := dir + "\x00" + root
	if v, ok := d.withins.Load(k); ok {
		return v.(bool)
	}
	w := Within(root, dir)
	d.withins.Store(k, w)
	return w
}

// eval is filepath.EvalSymlinks, remembered.
func (d *Dirs) eval(p string) (string, error) {
	if d == nil {
		return filepath.EvalSymlinks(p)
	}
	if r, ok := d.m.Load(p); ok {
		return r.(string), nil
	}
	r, err := filepath.EvalSymlinks(p)
	if err == nil {
		d.m.Store(p, r)
	}
	return r, err
}

// resolve is filepath.EvalSymlinks of a file: its directory resolved
// through d, then the file itself when it is a link (link: its Lstat says
// it may be one).
func (d *Dirs) resolve(full string, link bool) (string, error) {
	if d == nil || link {
		return filepath.EvalSymlinks(full)
	}
	full = filepath.Clean(full)
	dir, err := d.eval(filepath.Dir(full))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(full)), nil
}

// NotRegularError is a path that is not a regular file.
type NotRegularError struct {
	Name string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: not a regular file (%s); migsafe reads only regular files", e.Name, Kind(e.Mode))
}

// TooLargeError is a file larger than the limit.
type TooLargeError struct {
	Name      string
	Size, Max int64
	Hint      string
	Growing   bool // the size is what was read before the limit stopped it
}

func (e *TooLargeError) Error() string {
	s := Size(e.Size)
	if e.Growing {
		s = "more than " + s
	}
	msg := fmt.Sprintf("%s: file is %s, larger than the %s limit", e.Name, s, Size(e.Max))
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// OutsideError is a symbolic link whose target is outside the directory
// the read must stay in.
type OutsideError struct {
	Name string
	Root string // the directory, resolved
}

func (e *OutsideError) Error() string {
	return fmt.Sprintf("%s: leads through a symbolic link to a path outside %s; not followed (a link out of the repository could expose a secret); pass --follow-symlinks to follow it", e.Name, e.Root)
}

// Read reads the file at full (name is how messages show it) within the
// bounds of o.
func Read(full, name string, o Options) ([]byte, error) {
	b, _, err := ReadInfo(full, name, o)
	return b, err
}

// Info is what ReadInfo learnt about the path besides its bytes.
type Info struct {
	// Link: the path is a symbolic link (to the regular file read).
	Link bool
	// Exec: its owner may execute the file read (git records it with
	// mode 100755)
	Exec bool
}

// ReadInfo is Read, also saying whether the path was a symbolic link, so
// that a caller need not look at the path again (a history of thousands
// of files pays for each system call thousands of times).
func ReadInfo(full, name string, o Options) ([]byte, Info, error) {
	var info Info
	if o.Max <= 0 {
		return nil, info, fmt.Errorf("%s: internal error: no size limit", name)
	}
	if b, info, done, err := readDirect(full, name, o); done {
		return b, info, err
	}
	return readGeneral(full, name, o)
}

// readGeneral is ReadInfo for any path: it looks at the path before it
// opens it.
func readGeneral(full, name string, o Options) ([]byte, Info, error) {
	var info Info
	st, err := os.Lstat(full)
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		info.Link = true
		st, err = os.Stat(full)
	}
	if err != nil {
		return nil, info, PathError(name, err)
	}
	if !st.Mode().IsRegular() {
		// opening a named pipe would wait for a writer forever
		return nil, info, &NotRegularError{Name: name, Mode: st.Mode()}
	}
	if o.Root != "" && !o.FollowOutside {
		if err := o.Dirs.inside(full, name, o.Root, info.Link); err != nil {
			return nil, info, err
		}
	}
	if st.Size() > o.Max {
		return nil, info, &TooLargeError{Name: name, Size: st.Size(), Max: o.Max, Hint: o.TooLarge}
	}
	info.Exec = st.Mode()&0o100 != 0
	// a path that was not a link is opened without following one, so
	// that a link put in its place since is refused rather than followed
	b, err := readOpen(full, name, o, !info.Link)
	return b, info, err
}

// readAll reads what r yields up to max+1 bytes, starting with a buffer
// for the size the file had when stat'ed: a short read that brings
// exactly that size is the end of a regular file, so it takes one read;
// otherwise it reads on to the end (a file that grew or shrank).
func readAll(r func([]byte) (int, error), name string, size int64, o Options) ([]byte, error) {
	buf := make([]byte, 0, min(size, o.Max)+1)
	for {
		n, err := r(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > o.Max {
			return nil, &TooLargeError{Name: name, Size: int64(len(buf)), Max: o.Max, Hint: o.TooLarge, Growing: true}
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return buf, nil
		}
		if err != nil {
			return nil, PathError(name, err)
		}
		if len(buf) < cap(buf) {
			if int64(len(buf)) == size {
				return buf, nil
			}
			continue
		}
		buf = append(buf, 0)[:len(buf)]
	}
}

// Inside returns an *OutsideError when full, its symbolic links
// resolved, is not inside root (itself resolved), and a path error when
// it cannot be resolved.
func Inside(full, name, root string) error {
	return (*Dirs)(nil).inside(full, name, root, true)
}

// inside is Inside, told whether full may be a symbolic link (its Lstat
// says so, or failed).
func (d *Dirs) inside(full, name, root string, link bool) error {
	real, err := d.resolve(full, link)
	if err != nil {
		return PathError(name, err)
	}
	r, err := d.eval(root)
	if err != nil {
		r = root
	}
	if !Within(r, real) {
		return &OutsideError{Name: name, Root: r}
	}
	return nil
}

// Within reports whether p is root or below it (both clean, absolute or
// both relative to one directory).
func Within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// PathError words a file system error about p for a message: "no such
// file or directory", "permission denied", else the error itself.
func PathError(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file or directory", p)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", p)
	}
	return fmt.Errorf("%s: %w", p, err)
}

// Size formats a byte count for messages: "900 bytes", "12.5 KiB", "16 MiB".
func Size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<10)), ".0") + " KiB"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
}

// Kind names a file mode that is not a regular file.
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "mode " + m.String()
}
