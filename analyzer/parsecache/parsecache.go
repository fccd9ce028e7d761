// Package parsecache is a content-addressed cache of what a dialect's Parse
// returns for a file: its statements (spans, kinds, syntax errors, the
// change model) and its comments. A warm run reads them back instead of
// parsing again; the replay into the schema model, the dialect's Analyze,
// the rules and the suppressions still run every time, so findings are
// the same with and without the cache.
//
// An entry is keyed by a SHA-256 over the source bytes, the byte range
// parsed, the dialect and its target version, the cache format and the
// build of migsafe that wrote it (its module version and VCS revision, and
// the size and modification time of the executable, so that a rebuilt
// binary never reads an older build's entries). Entries are written to a
// temporary file and renamed into place, so a concurrent run sees a whole
// entry or none; an entry that is truncated or corrupt (its checksum does
// not match) is ignored, parsed again and rewritten. Trim keeps the cache
// under a size bound by removing the entries used least recently;
// TrimIfDue does it at most once an hour.
//
// Like golangci-lint's and ruff's, the cache lives in the user's cache
// directory ($XDG_CACHE_HOME/migsafe, else ~/.cache/migsafe on Linux).
package parsecache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/migsafe/migsafe/analyzer"
)

// format is the version of the entry layout and of its encoding: change it
// whenever analyzer.Statement, analyzer.Comment or a change type changes
// shape in a way the build key would not catch (it always does for a
// rebuilt binary; this guards a cache shared between identical builds).
const format = "migsafe-parsecache-3"

// magic starts every entry file.
var magic = [8]byte{'m', 's', 'p', 'c', 0, 0, 0, 3}

// DefaultMaxBytes is the size Trim keeps the cache under by default.
const DefaultMaxBytes = 256 << 20

// EnvDir names the environment variable that overrides the default
// directory (like GOLANGCI_LINT_CACHE and RUFF_CACHE_DIR).
const EnvDir = "MIGSAFE_CACHE_DIR"

// DefaultDir is where the cache lives when no directory is given:
// $MIGSAFE_CACHE_DIR, else the user's cache directory ($XDG_CACHE_HOME,
// else ~/.cache on Linux) joined with "migsafe/parse".
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: %w (set %s or pass --cache-dir, or --no-cache)", err, EnvDir)
	}
	return filepath.Join(d, "migsafe", "parse"), nil
}

// Cache is an open cache directory. Its methods are safe for concurrent
// use, and several processes may share one directory.
type Cache struct {
	dir   string
	build []byte
	// MaxBytes bounds the size Trim leaves; 0 means DefaultMaxBytes.
	MaxBytes int64

	hits, misses, writes, bad, results atomic.Int64
}

// Open opens (creating it if needed) the cache in dir.
func Open(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache directory %s: %w (pass --cache-dir DIR, or --no-cache)", dir, err)
	}
	return &Cache{dir: dir, build: buildID()}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Stats counts lookups since Open: parse entries read, parses that missed,
// entries written, entries found corrupt or truncated, and history
// results read (see Result).
type Stats struct{ Hits, Misses, Writes, Corrupt, Results int64 }

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Writes: c.writes.Load(), Corrupt: c.bad.Load(), Results: c.results.Load()}
}

// buildID identifies the running migsafe build: the module version and VCS
// state it was built from, and the executable's path, size and
// modification time (a development build has no version, and go run and
// go test binaries change with every build).
func buildID() []byte {
	var b bytes.Buffer
	b.WriteString(format)
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(&b, "\x00%s\x00%s\x00%s", bi.GoVersion, bi.Main.Path, bi.Main.Version)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.modified", "vcs.time", "CGO_ENABLED", "-tags":
				fmt.Fprintf(&b, "\x00%s=%s", s.Key, s.Value)
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			fmt.Fprintf(&b, "\x00%s\x00%d\x00%d", exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.Bytes()
}

// key is the entry name of one Parse call.
func (c *Cache) key(d analyzer.Dialect, src []byte, rng analyzer.Span) string {
	h := sha256.New()
	h.Write(c.build)
	t := d.Target()
	fmt.Fprintf(h, "\x00%s\x00%T\x00%s\x00%s\x00%s\x00%d\x00%d\x00%d\x00%d\x00%d\x00",
		d.Name(), d, t.Dialect, t.Flavor, t.Text, t.Major, t.Minor, rng.Start, rng.End, len(src))
	h.Write(src)
	return hex.EncodeToString(h.Sum(nil))
}

// bufs are put's encoding buffers.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// path is where the entry of key lives: directly in the cache directory.
// Entries were in subdirectories named by the key's first two characters,
// as Go's build cache does; a first run (CI with an empty cache) then made
// a directory for nearly every entry it wrote, and on this ext4 a new
// directory took 0.15 to 1 ms (the corpus's first run: 30 of them, 4% of
// its time at best). A directory of many entries costs ext4's hashed
// lookups nothing. The entries of older builds are never read again and
// go with the least recently used (Trim walks the subdirectories).
func (c *Cache) path(key string) string {
	return filepath.Join(c.dir, key)
}

// entry is what an entry file holds.
type entry struct {
	Stmts    []*analyzer.Statement
	Comments []analyzer.Comment
}

// get reads an entry into e (a pointer); ok is false when there is none
// or it is unreadable.
func (c *Cache) get(key string, e any) (ok bool) {
	f, err := os.Open(c.path(key))
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() > 1<<30 {
		return false
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		c.bad.Add(1)
		return false
	}
	payload, good := unwrap(data)
	if good {
		good = decode(payload, e) == nil
	}
	if !good {
		c.bad.Add(1)
		return false
	}
	// mark the entry as used for Trim, at most once an hour (like the Go
	// build cache), so that warm runs do not write
	if now := time.Now(); now.Sub(fi.ModTime()) > time.Hour {
		_ = os.Chtimes(f.Name(), now, now)
	}
	return true
}

// unwrap checks an entry file's frame: magic, length, payload, CRC-32
// (IEEE).
func unwrap(data []byte) ([]byte, bool) {
	const head = len(magic) + 8
	if len(data) < head+4 || !bytes.Equal(data[:len(magic)], magic[:]) {
		return nil, false
	}
	n := binary.LittleEndian.Uint64(data[len(magic):head])
	if n != uint64(len(data)-head-4) {
		return nil, false
	}
	payload := data[head : len(data)-4]
	if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, false
	}
	return payload, true
}

// The checksum is CRC-32 with the IEEE polynomial, not Castagnoli's:
// both run on the processor's instructions, but Castagnoli's first use
// builds tables by checksumming 1.5 MB of zeros (about 0.17 ms, 2.6% of
// a warm one-file run), IEEE's an 8 KiB one.

// put writes an entry: to a temporary file in the entry's folder, then
// renamed over the entry, so that a reader sees the old file, the new one
// or none, never a part.
//
// The encoding buffer is reused: a history's result is hundreds of
// kilobytes, and a new buffer grew by copying into fresh memory each time.
func (c *Cache) put(key string, e any) error {
	buf := bufs.Get().(*[]byte)
	data := append(append((*buf)[:0], magic[:]...), make([]byte, 8)...)
	data, err := encode(data, e)
	defer func() {
		*buf = data[:0]
		bufs.Put(buf)
	}()
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(data[len(magic):], uint64(len(data)-len(magic)-8))
	data = binary.LittleEndian.AppendUint32(data, crc32.ChecksumIEEE(data[len(magic)+8:]))
	p := c.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), p)
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return werr
	}
	c.writes.Add(1)
	return nil
}

// Trim removes the least recently used entries until the cache holds at
// most MaxBytes, and temporary files an interrupted writer left more than
// an hour ago. It reads the whole directory, so call it after a run that
// wrote entries, not on every lookup.
func (c *Cache) Trim() error {
	max := c.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	stale := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(c.dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if de.IsDir() {
			return nil
		}
		fi, err := de.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if de.Name() == trimStamp {
			return nil
		}
		if len(de.Name()) > 5 && de.Name()[:5] == ".tmp-" {
			if fi.ModTime().Before(stale) {
				_ = os.Remove(p)
			}
			return nil
		}
		files = append(files, file{p, fi.Size(), fi.ModTime()})
		total += fi.Size()
		return nil
	})
	if err != nil || total <= max {
		return err
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	for _, f := range files {
		if total <= max {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
	return nil
}

// trimEvery is how often Done trims: walking a cache of thousands of
// entries costs more than a warm run of one file.
const trimEvery = time.Hour

// trimStamp is the file whose modification time says when the cache was
// last trimmed.
const trimStamp = "trimmed"

// TrimIfDue trims the cache (Trim) when it was not trimmed in the last
// hour, or when this Cache wrote many entries (a cold run of a large
// repository): the cache exceeds MaxBytes by at most what an hour of runs
// writes.
func (c *Cache) TrimIfDue() error {
	stamp := filepath.Join(c.dir, trimStamp)
	if fi, err := os.Stat(stamp); err == nil && time.Since(fi.ModTime()) < trimEvery && c.writes.Load() < 1000 {
		return nil
	}
	if err := os.WriteFile(stamp, nil, 0o644); err != nil {
		return err
	}
	return c.Trim()
}

// Wrap returns d with a Parse that reads and fills the cache. The result
// implements analyzer.Transactions when d does.
func (c *Cache) Wrap(d analyzer.Dialect) analyzer.Dialect { return c.WrapFrom(d, 0) }

// WrapFrom is Wrap for the sources (parts) of at least minSize bytes:
// smaller ones are parsed each time, for a parser that reads them faster
// than the cache reads an entry (a file opened, read and decoded).
func (c *Cache) WrapFrom(d analyzer.Dialect, minSize int) analyzer.Dialect {
	cd := &cached{Dialect: d, c: c, min: minSize}
	if tx, ok := d.(analyzer.Transactions); ok {
		return &cachedTx{cached: cd, Transactions: tx}
	}
	return cd
}

// Unwrap returns the dialect a cache wrapped, or d itself.
func Unwrap(d analyzer.Dialect) analyzer.Dialect {
	switch w := d.(type) {
	case *cached:
		return w.Dialect
	case *cachedTx:
		return w.Dialect
	}
	return d
}

type cached struct {
	analyzer.Dialect
	c   *Cache
	min int // the smallest part cached (WrapFrom)
}

type cachedTx struct {
	*cached
	analyzer.Transactions
}

// Parse returns the cached result for src and rng, else parses and stores
// it. A failure to store is not an error: the result is the parser's.
func (w *cached) Parse(src []byte, rng analyzer.Span) ([]*analyzer.Statement, []analyzer.Comment) {
	if rng.End-rng.Start < w.min {
		return w.Dialect.Parse(src, rng) // neither a hit nor a miss
	}
	key := w.c.key(w.Dialect, src, rng)
	var e entry
	if w.c.get(key, &e) {
		w.c.hits.Add(1)
		return e.Stmts, e.Comments
	}
	w.c.misses.Add(1)
	stmts, comments := w.Dialect.Parse(src, rng)
	_ = w.c.put(key, &entry{Stmts: stmts, Comments: comments})
	return stmts, comments
}
