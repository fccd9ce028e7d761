package lint

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/internal/readfile"
)

// sourcesFormat is the kind of the cache entries that keep what was read
// from the files of one group; change it when sources changes shape.
const sourcesFormat = "migsafe-sources-2"

// sources is what readStamped keeps of a group's files between runs.
type sources struct {
	Files []sourceFile
}

// sourceFile is one file as readSQL read it, with its stamp.
type sourceFile struct {
	Name  string
	Stamp readfile.Stamp
	Src   []byte
	BOM   bool
}

// stampClock is the time a stamp is taken at (the tests move it on).
var stampClock = time.Now

// maxSources is the most source bytes readStamped keeps for one group: a
// larger entry would be rewritten whole each time a file is added, and
// crowd the cache (Trim keeps it under 256 MiB). A larger group is read
// from its files each run.
var maxSources = 32 << 20

// sourcesRead counts the files readStamped read (for the tests).
var sourcesRead atomic.Int64

// readStamped is readAll with a fast path for a warm run, as git's index
// and ruff's cache have one: the cache remembers, for each group of files
// read together, every file's stamp (size, times to the nanosecond,
// inode, mode: readfile.Stamp) with what was read from it. A file whose
// stamp has not changed is not read again. A file stamped less than
// readfile.Settle after it last changed is read again on the next run (it
// could change again within the same tick of its file system's clock), as
// is a symbolic link, a file whose directory now leads out of the
// boundary, and one that could not be read. Without a cache, it is
// readAll.
func readStamped(c *parsecache.Cache, dir string, names []string, o readfile.Options) []readResult {
	if c == nil || len(names) == 0 {
		return readAll(dir, names, o)
	}
	h := sha256.New()
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(h, "%q %q %d %t\x00", abs, o.Root, o.Max, o.FollowOutside)
	key := h.Sum(nil)
	var old sources
	known := map[string]*sourceFile{}
	if c.Value(sourcesFormat, key, &old) {
		for i := range old.Files {
			known[old.Files[i].Name] = &old.Files[i]
		}
	}
	out := make([]readResult, len(names))
	keep := make([]sourceFile, len(names))
	ok := make([]bool, len(names))
	var reread atomic.Int64
	eachParallel(len(names), func(i int) {
		name := names[i]
		full := name
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, filepath.FromSlash(name))
		}
		r := &out[i]
		if k := known[name]; k != nil && readfile.Unchanged(full, o, k.Stamp) {
			r.src, r.bom = k.Src, k.BOM
			// not a symbolic link (Unchanged), so named as it is
			r.notSQL = !strings.EqualFold(filepath.Ext(full), ".sql")
			keep[i], ok[i] = *k, true
			return
		}
		reread.Add(1)
		st, trusted := readfile.StampOf(full, stampClock())
		r.src, r.bom, r.notSQL, r.err = readSQL(dir, name, o)
		// a file not named as SQL (one named on the command line) is not
		// copied into the cache
		if trusted && r.err == nil && !r.notSQL {
			keep[i], ok[i] = sourceFile{Name: name, Stamp: st, Src: r.src, BOM: r.bom}, true
		}
	})
	sourcesRead.Add(reread.Load())
	if reread.Load() == 0 && len(known) == len(names) {
		return out
	}
	var next2 sources
	size := 0
	for i := range keep {
		if ok[i] {
			next2.Files = append(next2.Files, keep[i])
			size += len(keep[i].Src)
		}
	}
	if size > maxSources {
		next2.Files = nil
	}
	if len(next2.Files) == 0 && len(old.Files) == 0 {
		return out // nothing to remember (no stamps on this platform)
	}
	if len(old.Files) == 0 && !sourcesFromFirstRun && !seenOnce(c, sourcesSeenFormat, key) {
		// the group's first run keeps no copy of its files: writing one
		// cost about a twentieth of the corpus's first run (CI with an
		// empty cache), and that run may be the only one; the next keeps it
		return out
	}
	c.PutValue(sourcesFormat, key, &next2)
	return out
}

// sourcesSeenFormat is the kind of the cache entries that mark a group of
// files as read before (readStamped keeps its sources from then on).
const sourcesSeenFormat = "migsafe-sources-seen-1"

// sourcesFromFirstRun makes readStamped keep a group's sources from its
// first run on (for the tests of the stamps).
var sourcesFromFirstRun = false

// seenOnce reports whether the cache has the mark of kind for key, and
// sets it.
func seenOnce(c *parsecache.Cache, kind string, key []byte) bool {
	var seen struct{ Seen bool }
	if c.Value(kind, key, &seen) && seen.Seen {
		return true
	}
	seen.Seen = true
	c.PutValue(kind, key, &seen)
	return false
}
