package readfile

import (
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lstamp is the stamp of full from lstat(2), without following a link,
// and whether full is a regular file; ok is false when it cannot be
// stat'ed. Each run stats every file of a history (200,000 for 100,000
// migrations), so without the allocations of os.Lstat.
func lstamp(full string) (s Stamp, regular, ok bool) {
	return lstampAt(unix.AT_FDCWD, full)
}

// lstampAt is lstamp of name relative to the directory open as dirfd
// (fstatat(2)): the kernel walks the name only, not the directory's path.
func lstampAt(dirfd int, name string) (s Stamp, regular, ok bool) {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	for err == unix.EINTR {
		err = unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return s, false, false
	}
	return stampOf(&st), st.Mode&unix.S_IFMT == unix.S_IFREG, true
}

func stampOf(st *unix.Stat_t) Stamp {
	return Stamp{
		Size:  st.Size,
		Mtime: st.Mtim.Nano(),
		Ctime: st.Ctim.Nano(),
		Ino:   st.Ino,
		Dev:   uint64(st.Dev), //nolint:unconvert // uint64 on some architectures only
		Mode:  st.Mode,
	}
}

// Dir is a directory whose files' stamps are taken relative to it
// (fstatat(2)), so that the kernel walks each file's name only, not the
// directory's path again.
type Dir struct {
	path string
	fd   int // -1: stat by path
}

// OpenDir opens dir for SameStamp (O_PATH: only as the starting point of
// the names). When it cannot be opened, SameStamp stats each file by its
// path.
func OpenDir(dir string) *Dir {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fd = -1
	}
	return &Dir{path: dir, fd: fd}
}

// Close closes d.
func (d *Dir) Close() {
	if d.fd >= 0 {
		_ = unix.Close(d.fd)
		d.fd = -1
	}
}

// SameStamp reports whether name, a slash path relative to d's directory
// (or absolute), is still the regular file, not a symbolic link, that s
// was taken of, and no larger than max, so that what was read from it
// with Read can be used again without reading it once its directory is
// known to be within bounds (DirInside). A clean local name is stat'ed
// relative to d, which is where its path leads; any other by its path
// (the kernel walks "link/.." to the parent of the link's target, the
// path does not).
func (d *Dir) SameStamp(name string, max int64, s Stamp) bool {
	if d.fd < 0 || !filepath.IsLocal(name) || filepath.Clean(name) != name {
		return sameStamp(d.full(name), max, s)
	}
	now, regular, ok := lstampAt(d.fd, name)
	return s.holds(now, regular, ok, max)
}

// DirStamp is the stamp of the directory open as f, and whether it can be
// trusted to stand for the directory's list of names: a name added,
// removed or renamed in a directory changes its times (a file written in
// it does not), unless it changed less than Settle before now (git's
// untracked cache keeps directories' listings by the same rule).
func DirStamp(f *os.File, now time.Time) (Stamp, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return Stamp{}, false
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return Stamp{}, false
	}
	s := stampOf(&st)
	return s, st.Mode&unix.S_IFMT == unix.S_IFDIR && now.UnixNano()-max(s.Mtime, s.Ctime) >= int64(Settle)
}

// SameDirStamp reports whether the directory at full (links followed, as
// a directory is listed) still has the stamp s that DirStamp gave.
func SameDirStamp(full string, s Stamp) bool {
	var st unix.Stat_t
	if err := unix.Stat(full, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false
	}
	return stampOf(&st) == s
}
