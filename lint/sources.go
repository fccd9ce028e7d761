package lint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/internal/readfile"
)

// sourcesFormat is the kind of the cache entries that keep what was read
// from the files of one group; change it when the entry changes shape.
const sourcesFormat = "migsafe-sources-3"

// A group's entry is one byte string, used where it was read: the number
// of files, then for each its name, stamp, BOM flag and source (lengths
// and numbers as varints). A history of 100,000 migrations is 200,000
// files; decoding each into a value of its own, and a map of them by
// name, took a sixth of a warm --since run.

// sourceFile is one file as readSQL read it, with its stamp.
type sourceFile struct {
	Name  string
	Stamp readfile.Stamp
	Src   []byte
	BOM   bool
}

// appendSource appends f to an entry.
func appendSource(b []byte, f *sourceFile) []byte {
	b = binary.AppendUvarint(b, uint64(len(f.Name)))
	b = append(b, f.Name...)
	s := f.Stamp
	b = binary.AppendVarint(b, s.Size)
	b = binary.AppendVarint(b, s.Mtime)
	b = binary.AppendVarint(b, s.Ctime)
	b = binary.AppendUvarint(b, s.Ino)
	b = binary.AppendUvarint(b, s.Dev)
	b = binary.AppendUvarint(b, uint64(s.Mode))
	if f.BOM {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(f.Src)))
	return append(b, f.Src...)
}

// keptSources is an entry read back: where each file starts in it.
type keptSources struct {
	b    []byte
	offs []int
}

// readKept checks an entry and finds its files; ok is false when it is
// malformed (then nothing of it is used).
func readKept(b []byte) (k keptSources, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)/9) {
		return k, false // a file takes 9 bytes at least
	}
	k.b, k.offs = b, make([]int, 0, n)
	for p := w; len(k.offs) < int(n); {
		k.offs = append(k.offs, p)
		var f sourceFile
		if _, p = k.file(p, &f); p < 0 {
			return keptSources{}, false
		}
		if len(k.offs) == int(n) && p != len(b) {
			return keptSources{}, false
		}
	}
	return k, n > 0 || w == len(b)
}

// file reads the file that starts at p into f, all but its name, and
// returns the name and where the next file starts, or -1 (the name and
// the source are the entry's own bytes).
func (k keptSources) file(p int, f *sourceFile) (name []byte, next int) {
	b := k.b
	if name, p = lengthAt(b, p); p < 0 {
		return nil, -1
	}
	var x [6]uint64
	for i := range x {
		var w int
		if i < 3 {
			var v int64
			v, w = binary.Varint(b[p:])
			x[i] = uint64(v)
		} else {
			x[i], w = binary.Uvarint(b[p:])
		}
		if w <= 0 {
			return nil, -1
		}
		p += w
	}
	f.Stamp = readfile.Stamp{Size: int64(x[0]), Mtime: int64(x[1]), Ctime: int64(x[2]), Ino: x[3], Dev: x[4], Mode: uint32(x[5])}
	if p >= len(b) || b[p] > 1 {
		return nil, -1
	}
	f.BOM = b[p] == 1
	f.Src, p = lengthAt(b, p+1)
	return name, p
}

// name is the name of the file that starts at p.
func (k keptSources) name(p int) []byte {
	n, _ := lengthAt(k.b, p)
	return n
}

// lengthAt reads a length and that many bytes at p of b (capped, so that
// an append cannot write over what follows), and returns where they end,
// or -1.
func lengthAt(b []byte, p int) ([]byte, int) {
	n, w := binary.Uvarint(b[p:])
	if w <= 0 || n > uint64(len(b)-p-w) {
		return nil, -1
	}
	e := p + w + int(n)
	return b[p+w : e : e], e
}

// sourcesKey is the key of the kept sources of the files of dir read
// with o.
func sourcesKey(dir string, o readfile.Options) []byte {
	h := sha256.New()
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(h, "%q %q %d %t\x00", abs, o.Root, o.Max, o.FollowOutside)
	return h.Sum(nil)
}

// keptEntries counts keptEntry's look-ups (for the tests).
var keptEntries atomic.Int64

// keptEntry reads the kept sources of key from c (none when c has none).
func keptEntry(c *parsecache.Cache, key []byte) keptSources {
	keptEntries.Add(1)
	var kept keptSources
	var entry []byte
	if c.Value(sourcesFormat, key, &entry) {
		kept, _ = readKept(entry)
	}
	return kept
}

// keptLookup is the kept sources of a directory's files, looked up while
// the directory is listed: a history of 100,000 migrations keeps 21 MB,
// which take about 80 ms to read and index.
type keptLookup struct {
	key  []byte
	done chan struct{}
	kept keptSources
}

// lookUpKept starts looking up the sources kept of the files of dir read
// with o (nil without a cache).
func lookUpKept(c *parsecache.Cache, dir string, o readfile.Options) *keptLookup {
	if c == nil {
		return nil
	}
	k := &keptLookup{key: sourcesKey(dir, o), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		k.kept = keptEntry(c, k.key)
	}()
	return k
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
// pre, when its key is the group's, is the entry looked up already.
func readStamped(c *parsecache.Cache, dir string, names []string, o readfile.Options, pre *keptLookup) []readResult {
	if c == nil || len(names) == 0 {
		return readAll(dir, names, o)
	}
	key := sourcesKey(dir, o)
	var kept keptSources
	if pre != nil && bytes.Equal(pre.key, key) {
		<-pre.done
		kept = pre.kept
	} else {
		kept = keptEntry(c, key)
	}
	// at[i] is where names[i] starts in the entry, or -1: the files come
	// in the order the entry was written in, until one was added or
	// removed since
	at := make([]int, len(names))
	var byName map[string]int
	j := 0
	for i, name := range names {
		at[i] = -1
		if j < len(kept.offs) {
			if string(kept.name(kept.offs[j])) == name {
				at[i] = kept.offs[j]
				j++
				continue
			}
		}
		if len(kept.offs) == 0 {
			continue
		}
		if byName == nil {
			byName = make(map[string]int, len(kept.offs))
			for x, off := range kept.offs {
				byName[string(kept.name(off))] = x
			}
		}
		if x, ok := byName[name]; ok {
			at[i], j = kept.offs[x], x+1
		}
	}
	// whether each file's directory is within the bounds, asked once per
	// directory (a history's files share a few)
	inside := make([]bool, len(names))
	lastDir, lastInside := "", false
	for i, name := range names {
		if at[i] < 0 {
			continue
		}
		if d := path.Dir(name); d != lastDir {
			lastDir, lastInside = d, o.DirInside(filepath.Dir(fullPath(dir, name)))
		}
		inside[i] = lastInside
	}
	// the group's first run keeps no copy of its files, so it takes no
	// stamps either: writing one cost about a twentieth of the corpus's
	// first run (CI with an empty cache), and that run may be the only
	// one; the next keeps it
	keep := len(kept.offs) > 0 || sourcesFromFirstRun || seenOnce(c, sourcesSeenFormat, key)
	out := make([]readResult, len(names))
	fresh := make([]*sourceFile, len(names)) // read this run, to keep
	var reread atomic.Int64
	d := readfile.OpenDir(dir)
	defer d.Close()
	eachParallel(len(names), func(i int) {
		name := names[i]
		r := &out[i]
		if at[i] >= 0 {
			var k sourceFile
			kept.file(at[i], &k)
			if inside[i] && d.SameStamp(name, o.Max, k.Stamp) {
				r.src, r.bom, r.exec = k.Src, k.BOM, k.Stamp.Mode&0o100 != 0
				// not a symbolic link (SameStamp), so named as it is
				r.notSQL = !strings.EqualFold(filepath.Ext(name), ".sql")
				return
			}
			at[i] = -1
		}
		reread.Add(1)
		if !keep {
			*r = readSQL(dir, name, o)
			return
		}
		st, trusted := readfile.StampOf(fullPath(dir, name), stampClock())
		*r = readSQL(dir, name, o)
		// a file not named as SQL (one named on the command line) is not
		// copied into the cache
		if trusted && r.err == nil && !r.notSQL {
			fresh[i] = &sourceFile{Name: name, Stamp: st, Src: r.src, BOM: r.bom}
		}
	})
	sourcesRead.Add(reread.Load())
	if !keep || reread.Load() == 0 && len(kept.offs) == len(names) {
		return out
	}
	var body []byte
	files, size := 0, 0
	for i := range names {
		if at[i] >= 0 {
			var k sourceFile
			_, end := kept.file(at[i], &k)
			body = append(body, kept.b[at[i]:end]...)
			files, size = files+1, size+len(k.Src)
		} else if f := fresh[i]; f != nil {
			body = appendSource(body, f)
			files, size = files+1, size+len(f.Src)
		}
	}
	if size > maxSources {
		files = 0
	}
	if files == 0 && len(kept.offs) == 0 {
		return out // nothing to remember (no stamps on this platform)
	}
	if files == 0 {
		body = nil
	}
	next := binary.AppendUvarint(make([]byte, 0, len(body)+binary.MaxVarintLen64), uint64(files))
	next = append(next, body...)
	c.PutValue(sourcesFormat, key, &next)
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
