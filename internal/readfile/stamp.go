package readfile

import (
	"os"
	"path/filepath"
	"time"
)

// Stamp is what a stat says of a file that its contents cannot change
// without changing (git's index and ruff's cache keep the same): size,
// times to the nanosecond, inode, device and mode. A write changes the
// ctime even when the mtime is put back (touch -d).
type Stamp struct {
	Size, Mtime, Ctime int64
	Ino, Dev           uint64
	Mode               uint32
}

// Settle is how long after a file's last change a stamp taken of it is
// trusted (git's "racy" rule): a file written in the moment it was
// stamped, or on a file system whose times are coarse, could change again
// without changing its stamp.
const Settle = 2 * time.Second

// StampOf returns the stamp of the regular file (not a symbolic link) at
// full, taken at now (time.Now: a parameter for the tests), and whether
// it can be trusted to stand for the file's contents: false when it is
// not a regular file, when the platform gives no ctime, or when the file
// changed less than Settle before now (read it again next time).
func StampOf(full string, now time.Time) (Stamp, bool) {
	st, err := os.Lstat(full)
	if err != nil || !st.Mode().IsRegular() {
		return Stamp{}, false
	}
	s, ok := stampOf(st)
	if !ok {
		return Stamp{}, false
	}
	return s, now.UnixNano()-max(s.Mtime, s.Ctime) >= int64(Settle)
}

// Unchanged reports whether full is still the regular file, not a
// symbolic link, that s was taken of, and within o's bounds (its size
// limit, and its directory inside o.Root once resolved), so that what was
// read from it with Read can be used again without reading it.
func Unchanged(full string, o Options, s Stamp) bool {
	st, err := os.Lstat(full)
	if err != nil || !st.Mode().IsRegular() || st.Size() > o.Max {
		return false
	}
	if now, ok := stampOf(st); !ok || now != s {
		return false
	}
	if o.Root != "" && !o.FollowOutside {
		full = filepath.Clean(full)
		dir, err := o.Dirs.eval(filepath.Dir(full))
		if err != nil {
			return false
		}
		r, err := o.Dirs.eval(o.Root)
		if err != nil {
			r = o.Root
		}
		return o.Dirs.within(r, dir)
	}
	return true
}
