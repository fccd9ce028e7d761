//go:build !linux

package readfile

import (
	"os"
	"time"
)

// lstamp gives no stamp where the ctime is not read here: every file is
// read each run.
func lstamp(string) (s Stamp, regular, ok bool) { return Stamp{}, false, false }

// Dir is a directory whose files are stamped by their paths here.
type Dir struct{ path string }

// OpenDir returns dir's Dir.
func OpenDir(dir string) *Dir { return &Dir{path: dir} }

// Close does nothing.
func (*Dir) Close() {}

// SameStamp reports whether name, a slash path relative to d's directory
// (or absolute), still has the stamp s (see the Linux version); here it
// never has one.
func (d *Dir) SameStamp(name string, max int64, s Stamp) bool {
	return sameStamp(d.full(name), max, s)
}

// DirStamp gives no stamp here: every directory is listed each run.
func DirStamp(*os.File, time.Time) (Stamp, bool) { return Stamp{}, false }

// SameDirStamp reports false here (DirStamp trusts no stamp).
func SameDirStamp(string, Stamp) bool { return false }
