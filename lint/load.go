package lint

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/internal/readfile"
)

// MaxFileSize is the default largest migration file migsafe reads.
const MaxFileSize = 16 << 20

// discovered hands discover's answer for each argument from the
// dialect's detection (Resolve) to the first Load of the same Settings:
// both list the tree, and a history of 100,000 migrations is 200,000
// names. An answer is used once, so that a later Load sees files added
// since. The exclusion rules and symbolic-link policy are the run's, the
// same for both. The discover of a nil *discovered remembers nothing.
type discovered struct {
	kept  *parsecache.Cache // keeps the directories' listings (nil: none)
	mu    sync.Mutex
	m     map[string]discovery
	lists map[string]listing // sqlFiles' answers, by directory
}

// listing is sqlFiles' answer for a directory: its .sql files, those of
// them that are regular files, or why it could not be listed.
type listing struct {
	files   []string
	regular map[string]bool
	err     error
}

// list is sqlFiles of the directory full, kept for the next listed of it
// (the dialect's detection and Load each list the directories whose files
// are named).
func (f *discovered) list(full, dir string, excluded func(string) bool) listing {
	ls := listFiles(full, dir, excluded)
	keep(&f.mu, &f.lists, full, ls)
	return ls
}

// listed is sqlFiles of the directory full, or the answer list kept for
// it (taken, as discover's).
func (f *discovered) listed(full, dir string, excluded func(string) bool) listing {
	if f != nil {
		if ls, ok := take(&f.mu, f.lists, full); ok {
			return ls
		}
	}
	return listFiles(full, dir, excluded)
}

func listFiles(full, dir string, excluded func(string) bool) listing {
	ls := listing{regular: map[string]bool{}}
	ls.files, ls.err = sqlFiles(full, dir, excluded, ls.regular)
	return ls
}

type discovery struct {
	files []string
	errs  []error
}

// discover is discover of arg, or the answer remembered for it (taken).
func (f *discovered) discover(arg, dir string, excluded func(string) bool, follow bool) discovery {
	if f != nil {
		if d, ok := take(&f.mu, f.m, arg); ok {
			return d
		}
	}
	var kept *parsecache.Cache
	if f != nil {
		kept = f.kept
	}
	files, errs := discover(arg, dir, excluded, follow, kept)
	return discovery{files, errs}
}

// remember is discover of arg, kept for the next discover of arg.
func (f *discovered) remember(arg, dir string, excluded func(string) bool, follow bool) discovery {
	files, errs := discover(arg, dir, excluded, follow, f.kept)
	d := discovery{files, errs}
	keep(&f.mu, &f.m, arg, d)
	return d
}

// keep sets (*m)[key] under mu, making the map on first use.
func keep[T any](mu *sync.Mutex, m *map[string]T, key string, v T) {
	mu.Lock()
	defer mu.Unlock()
	if *m == nil {
		*m = map[string]T{}
	}
	(*m)[key] = v
}

// take removes m[key] under mu and returns it: an answer is used once.
func take[T any](mu *sync.Mutex, m map[string]T, key string) (T, bool) {
	mu.Lock()
	defer mu.Unlock()
	v, ok := m[key]
	delete(m, key)
	return v, ok
}

// discover expands a command-line path into SQL files: a file is taken
// as given, a directory is searched recursively for *.sql (hidden
// directories skipped). Paths are returned relative to dir when below it.
//
// Symbolic links are followed, to files and to directories, as long as
// they stay inside the argument's boundary (its repository, else the
// directory given); a link out of it is an error naming it unless follow
// is set, so that nothing is left out silently. A directory reached twice
// (a link cycle) is searched once. With kept, a directory's listing is
// kept between runs (walker.list).
func discover(arg, dir string, excluded func(string) bool, follow bool, kept *parsecache.Cache) ([]string, []error) {
	w := &walker{kept: kept, dir: dir, excluded: excluded, follow: follow, visited: map[string]bool{}}
	full := arg
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, arg)
	}
	st, err := os.Stat(full)
	if err != nil {
		return nil, []error{PathError(arg, err)}
	}
	if !st.IsDir() {
		w.add(Display(dir, full))
		return w.files, nil
	}
	w.root = boundary(dir, full, true)
	if !follow {
		if err := readfile.Inside(full, arg, w.root); err != nil {
			return nil, []error{err}
		}
	}
	w.walk(full)
	if w.n == 0 {
		w.errs = append(w.errs, fmt.Errorf("%s: no .sql files found in this directory (searched recursively)", arg))
	}
	return w.files, w.errs
}

// walker searches directories for .sql files, following symbolic links.
type walker struct {
	kept     *parsecache.Cache // keeps the listings (nil: none)
	dir      string
	excluded func(string) bool
	follow   bool
	root     string          // the boundary of the argument searched
	visited  map[string]bool // directories searched, resolved
	files    []string
	errs     []error
	n        int // .sql files found
}

func (w *walker) add(p string) {
	if !w.excluded(p) {
		w.files = append(w.files, p)
	}
}

// walk searches p: its .sql files first, in the order of their names,
// then its directories (a history of 100,000 migrations is a directory of
// 200,000 names: they are listed unsorted, and only the names of files
// are sorted, as strings).
func (w *walker) walk(p string) {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		if w.visited[real] {
			return
		}
		w.visited[real] = true
	}
	files, dirs, err := w.list(p)
	if err != nil {
		w.errs = append(w.errs, PathError(Display(w.dir, p), err))
		return
	}
	// the directory as displayed, once: its files are named under it
	dp := Display(w.dir, p)
	for _, name := range files {
		w.n++
		w.add(joinName(dp, name))
	}
	for _, name := range dirs {
		w.walk(filepath.Join(p, name))
	}
}

// list returns the .sql files of the directory p (the names not of
// directories) and its directories that are not hidden, each sorted. A
// listing of a directory without symbolic links is kept in the cache
// with the directory's stamp, and the next run takes it while the
// directory has that stamp: listing 200,000 names took a fifth of a run
// of --since on 100,000 migrations, and then their names were sorted.
func (w *walker) list(p string) (files, dirs []string, err error) {
	if w.kept != nil {
		var l keptListing
		if w.kept.Value(listingFormat, listingKey(p), &l) && readfile.SameDirStamp(p, l.Stamp) {
			listingsKept.Add(1)
			return splitNames(l.Files), splitNames(l.Dirs), nil
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	stamp, trusted := readfile.DirStamp(f, stampClock())
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, nil, err
	}
	links := false
	for _, e := range ents {
		name := e.Name()
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			links = true
			// a dangling link named .sql is reported by the reader
			c := filepath.Join(p, name)
			st, err := os.Stat(c)
			isDir = err == nil && st.IsDir()
			if isDir && !strings.HasPrefix(name, ".") && !w.follow {
				if err := readfile.Inside(c, Display(w.dir, c), w.root); err != nil {
					w.errs = append(w.errs, err)
					continue
				}
			}
		}
		if isDir {
			if !strings.HasPrefix(name, ".") {
				dirs = append(dirs, name)
			}
			continue
		}
		if strings.EqualFold(filepath.Ext(name), ".sql") {
			files = append(files, name)
		}
	}
	files = sortNames(files)
	slices.Sort(dirs)
	// where a link leads may change while the directory does not
	if w.kept != nil && trusted && !links {
		w.kept.PutValue(listingFormat, listingKey(p), &keptListing{Stamp: stamp, Files: strings.Join(files, "\x00"), Dirs: strings.Join(dirs, "\x00")})
	}
	return files, dirs, nil
}

// listingFormat is the kind of the cache entries that keep a directory's
// listing (walker.list); change it when keptListing changes shape.
const listingFormat = "migsafe-listing-1"

// keptListing is a directory's listing as kept: its stamp when listed,
// and the names of its .sql files and of its directories, sorted, each
// joined by NUL (one string to read back, not 200,000).
type keptListing struct {
	Stamp       readfile.Stamp
	Files, Dirs string
}

// listingsKept counts the listings taken from the cache (for the tests).
var listingsKept atomic.Int64

// listingKey is the key of the listing of the directory p.
func listingKey(p string) []byte {
	h := sha256.Sum256([]byte(p))
	return h[:]
}

// splitNames is the names joined by NUL in s.
func splitNames(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// sortNames sorts names, the halves of a long list on two cores, then
// merged (a directory of 200,000 names took 60 ms to sort on one).
func sortNames(names []string) []string {
	if len(names) < 20000 || runtime.GOMAXPROCS(0) < 2 {
		slices.Sort(names)
		return names
	}
	a, b := names[:len(names)/2], names[len(names)/2:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.Sort(a) })
	slices.Sort(b)
	wg.Wait()
	out := make([]string, 0, len(names))
	for len(a) > 0 && len(b) > 0 {
		if b[0] < a[0] {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// joinName is path.Join(dir, name) for a clean dir and a name without a
// separator, without cleaning again.
func joinName(dir, name string) string {
	switch {
	case dir == ".":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

// boundary is the directory that the files of an argument must stay
// inside once symbolic links are resolved: the git work tree of the
// working directory wd when the argument is in it (as written, before
// links are resolved: db/link/x.sql is bounded by the repository even if
// db/link leads out of it), else the work tree that holds the argument
// (found by its .git entry, without running git), else the argument
// itself when it is a directory, else the file's directory.
func boundary(wd, full string, isDir bool) string {
	full = filepath.Clean(full)
	if a, err := filepath.Abs(full); err == nil {
		full = a
	}
	if w, err := filepath.Abs(wd); err == nil {
		if repo := gitTop(w); repo != "" && readfile.Within(repo, full) {
			return resolved(repo)
		}
	}
	start := filepath.Dir(full)
	if isDir {
		if st, err := os.Lstat(full); err == nil && st.Mode()&fs.ModeSymlink == 0 {
			start = full
		}
	}
	start = resolved(start)
	if repo := gitTop(start); repo != "" {
		return repo
	}
	if isDir {
		return resolved(full)
	}
	return start
}

// gitTop returns the nearest directory from d upward that holds a .git
// entry, or "".
func gitTop(d string) string {
	for {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return ""
		}
		d = up
	}
}

func resolved(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// PathError words a file system error about p for a message: "no such
// file or directory", "permission denied", else the error itself.
func PathError(p string, err error) error { return readfile.PathError(p, err) }

// argJoiner joins the arguments of a run to its working directory.
type argJoiner struct {
	dir  string
	fast bool // dir is absolute and clean, and not a root
}

func newArgJoiner(dir string) argJoiner {
	return argJoiner{dir, filepath.IsAbs(dir) && filepath.Clean(dir) == dir && !os.IsPathSeparator(dir[len(dir)-1])}
}

// join returns filepath.Join(dir, arg) (arg when absolute) and
// Display(dir, that). A glob or a pre-commit hook names thousands of
// files, and cleaning each joined path twice took 4 ms of a run over the
// corpus's 1,851 files, on one core, before any file was read: a clean
// relative argument that does not climb out of dir is joined as it is.
// TestArgJoiner compares the two ways.
func (j argJoiner) join(arg string) (full, name string) {
	if j.fast && arg != "." && !strings.HasPrefix(arg, "..") && !filepath.IsAbs(arg) && filepath.VolumeName(arg) == "" && filepath.Clean(arg) == arg {
		return j.dir + string(filepath.Separator) + arg, filepath.ToSlash(arg)
	}
	full = arg
	if !filepath.IsAbs(full) {
		full = filepath.Join(j.dir, arg)
	}
	return full, Display(j.dir, full)
}

// Display returns p relative to dir when p is inside it, slash-separated.
func Display(dir, p string) string {
	if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// ReadSQL reads a migration and checks that it is text migsafe can parse:
// a regular file not larger than max, no NUL byte, valid UTF-8. A leading
// BOM is removed.
func ReadSQL(dir, name string, max int64) ([]byte, bool, error) {
	r := readSQL(dir, name, readfile.Options{Max: max})
	return r.src, r.bom, r.err
}

// sqlTooLarge is what to do about a migration over the size limit.
const sqlTooLarge = "migrations this large are usually data dumps; exclude it or raise --max-file-size"

// fullPath is the path of a file named as discover names it (relative to
// dir unless absolute).
func fullPath(dir, name string) string { return readfile.Path(dir, name) }

// readSQL is ReadSQL within the bounds of o (a root the file must stay in).
// It also says whether the file is not named as SQL once symbolic links
// are resolved (see isNotSQL), and whether it is executable.
func readSQL(dir, name string, o readfile.Options) readResult {
	full := fullPath(dir, name)
	o.TooLarge = sqlTooLarge
	src, info, err := readfile.ReadInfo(full, name, o)
	if err != nil {
		return readResult{err: err}
	}
	notSQL := !strings.EqualFold(filepath.Ext(full), ".sql")
	if info.Link {
		notSQL = isNotSQL(full)
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		li := analyzer.NewLineIndex(src[:i])
		p := li.Position(i)
		return readResult{err: fmt.Errorf("%s:%d:%d: binary file (NUL byte at offset %d), not SQL", name, p.Line, p.Column, i)}
	}
	bom := bytes.HasPrefix(src, []byte("\xef\xbb\xbf"))
	if bom {
		src = src[3:]
	}
	if !utf8.Valid(src) {
		off := 0
		for off < len(src) {
			r, n := utf8.DecodeRune(src[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		p := analyzer.NewLineIndex(src).Position(off)
		return readResult{err: fmt.Errorf("%s:%d:%d: invalid UTF-8 (byte 0x%02x): migrations must be UTF-8 encoded; convert the file (iconv -f latin1 -t utf-8)", name, p.Line, p.Column, src[off])}
	}
	return readResult{src: src, bom: bom, notSQL: notSQL, exec: info.Exec}
}
