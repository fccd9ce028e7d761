package readfile

import (
	"path/filepath"
	"time"
)

// Stamp is what a stat says of a file that its contents cannot change
// without changing (git's index and ruff's cache keep the same): size,
// times to the nanosecond, inode, device and mode (st_mode, as lstat(2)
// gives it). A write changes the ctime even when the mtime is put back
// (touch -d).
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
	s, regular, ok := lstamp(full)
	if !ok || !regular {
		return Stamp{}, false
	}
	return s, now.UnixNano()-max(s.Mtime, s.Ctime) >= int64(Settle)
}

// sameStamp reports whether full is still the regular file, not a
// symbolic link, that s was taken of, and no larger than max, so that what
// was read from it with Read can be used again without reading it once
// its directory is known to be within bounds (DirInside).
func sameStamp(full string, max int64, s Stamp) bool {
	now, regular, ok := lstamp(full)
	return s.holds(now, regular, ok, max)
}

// holds is sameStamp's verdict on what lstamp gave.
func (s Stamp) holds(now Stamp, regular, ok bool, max int64) bool {
	return ok && regular && now.Size <= max && now == s
}

// DirInside reports whether the files of dir are within o.Root once dir
// is resolved (always when o has no Root or follows links out of it).
func (o Options) DirInside(dir string) bool {
	if o.Root == "" || o.FollowOutside {
		return true
	}
	dir, err := o.Dirs.eval(dir)
	if err != nil {
		return false
	}
	r, err := o.Dirs.eval(o.Root)
	if err != nil {
		r = o.Root
	}
	return o.Dirs.within(r, dir)
}

// full is the path of name in d's directory (Path).
func (d *Dir) full(name string) string { return Path(d.path, name) }

// Path is the path of name, a slash path relative to dir unless absolute.
func Path(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}
