package gitlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AddedModified is Added, and in the same walk of the history (whose cost
// is the diffs of the directories, not the number of lines asked about)
// the files under dirs a first-parent commit modified after adding them (a
// merge counts with its first parent). The other files have, at HEAD,
// every line the commit that added them gave them: their markers need no
// git log -S each.
//
// With a Store, what the walk found is kept by the commit it reached, and
// a later run walks only the first-parent commits after it (a pre-commit
// hook on a repository of thousands of commits reads one or two); when
// that commit is not on HEAD's first-parent history (another branch, a
// rewritten one) the whole history is walked again.
func (g *Repo) AddedModified(ctx context.Context, dirs []string) (*Log, error) {
	if g.Store == nil {
		files, err := g.walkWhole(ctx, "", dirs)
		if err != nil {
			return nil, err
		}
		return files.log()
	}
	head, err := g.Head(ctx)
	if err != nil {
		// no commit yet: nothing to remember
		files, err := g.walk(ctx, nil, dirs)
		if err != nil {
			return nil, err
		}
		return files.log()
	}
	sorted := slices.Clone(dirs)
	slices.Sort(sorted)
	digest := []byte(g.Root + "\x00" + strings.Join(sorted, "\x00"))
	var prev walked
	// (an entry that does not hold together is walked again)
	if g.Store.Value(walkKind, digest, &prev) && prev.Head != "" {
		if prev.Head == head {
			if l, ok, err := prev.log(); ok {
				return l, err
			}
		} else if g.onFirstParents(ctx, prev.Head, head) {
			if files, ok := prev.files(); ok {
				newer, err := g.walk(ctx, []string{prev.Head + ".." + head}, dirs)
				if err != nil {
					return nil, err
				}
				files.follow(newer)
				g.Store.PutValue(walkKind, digest, files.walked(head))
				return files.log()
			}
		}
	}
	files, err := g.walkWhole(ctx, head, dirs)
	if err != nil {
		return nil, err
	}
	g.Store.PutValue(walkKind, digest, files.walked(head))
	return files.log()
}

// Store keeps what a walk of the history found from one run to the next
// (migsafe's cache directory: *parsecache.Cache is one).
type Store interface {
	Value(kind string, digest []byte, v any) bool
	PutValue(kind string, digest []byte, v any)
}

// walkKind names the stored walks; change it when walked changes shape.
const walkKind = "migsafe-gitlog-2"

// walked is what AddedModified found up to Head, as stored: the commits
// that added files, and the files' names (sorted, joined by NUL) with,
// for each, a uvarint in Logs: 2×(1 + the index in Commits of the commit
// that added it, 0 if none) + 1 if a commit changed it after. A commit
// adds many files, and 200,000 files stored as structs of three strings
// took 75 ms to read back.
type walked struct {
	Head    string
	Commits []walkedCommit
	Names   string
	Logs    []byte
}

type walkedCommit struct {
	Hash string
	Date string // its committer date, as git printed it
}

// fileLog is what a walk found about one file.
type fileLog struct {
	hash, date string // the latest first-parent commit that added it; "" if none did
	modified   bool   // a commit changed it after that
}

type fileLogs map[string]fileLog

// all yields the stored files and their logs in order; ok is false when
// the entry does not hold together (it is then walked again).
func (w *walked) all(yield func(string, fileLog) bool) (ok bool) {
	names, logs := w.Names, w.Logs
	for names != "" {
		name, rest, _ := strings.Cut(names, "\x00")
		names = rest
		x, n := binary.Uvarint(logs)
		if n <= 0 || x>>1 > uint64(len(w.Commits)) {
			return false
		}
		logs = logs[n:]
		var f fileLog
		if c := x >> 1; c > 0 {
			f.hash, f.date = w.Commits[c-1].Hash, w.Commits[c-1].Date
		}
		f.modified = x&1 == 1
		if !yield(name, f) {
			return true
		}
	}
	return len(logs) == 0
}

// files is the stored walk as a walk's answer; ok is false when the entry
// does not hold together.
func (w *walked) files() (m fileLogs, ok bool) {
	m = fileLogs{}
	ok = w.all(func(name string, f fileLog) bool {
		m[name] = f
		return true
	})
	return m, ok
}

func (m fileLogs) walked(head string) *walked {
	w := &walked{Head: head}
	index := map[string]uint64{} // a commit's place in Commits, plus one
	var names strings.Builder
	for i, name := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			names.WriteByte(0)
		}
		names.WriteString(name)
		f := m[name]
		var c uint64
		if f.hash != "" {
			if c = index[f.hash]; c == 0 {
				w.Commits = append(w.Commits, walkedCommit{f.hash, f.date})
				c = uint64(len(w.Commits))
				index[f.hash] = c
			}
		}
		x := c << 1
		if f.modified {
			x |= 1
		}
		w.Logs = binary.AppendUvarint(w.Logs, x)
	}
	w.Names = names.String()
	return w
}

// log turns a walk into AddedModified's answer.
func (m fileLogs) log() (*Log, error) {
	return logOf(len(m), maps.All(m))
}

// log is the answer of a stored walk that is still current, without the
// fileLogs in between (a history of 100,000 migrations is 200,000 files);
// ok is false when the entry does not hold together.
func (w *walked) log() (l *Log, ok bool, err error) {
	l, err = logOf(len(w.Logs), func(yield func(string, fileLog) bool) { ok = w.all(yield) })
	return l, ok, err
}

// Log is AddedModified's answer: for each file under the directories, the
// latest first-parent commit that added it (if one did), and whether a
// later commit modified it.
type Log struct {
	t table[logEntry]
}

type logEntry struct {
	c               Commit
	added, modified bool
}

// Added returns the commit that added p (looked up from c: see Cursor).
func (l *Log) Added(p string, c *Cursor) (Commit, bool) {
	e, _ := l.t.get(p, c)
	return e.c, e.added
}

// Modified reports whether a commit modified p after adding it.
func (l *Log) Modified(p string) bool {
	e, _ := l.t.get(p, nil)
	return e.modified
}

func logOf(n int, logs iter.Seq2[string, fileLog]) (*Log, error) {
	l := &Log{t: table[logEntry]{paths: make([]string, 0, n), vals: make([]logEntry, 0, n)}}
	times := map[string]time.Time{} // by date: a commit adds many files
	for name, f := range logs {
		e := logEntry{modified: f.modified}
		if f.hash != "" {
			t, ok := times[f.date]
			if !ok {
				var err error
				if t, err = time.Parse(time.RFC3339, f.date); err != nil {
					return nil, fmt.Errorf("git log: bad date %q", f.date)
				}
				times[f.date] = t
			}
			e.c, e.added = Commit{Hash: f.hash, Time: t}, true
		}
		if e.added || e.modified {
			l.t.paths, l.t.vals = append(l.t.paths, name), append(l.t.vals, e)
		}
	}
	l.t.sortTable() // (a fresh walk's files come from a map)
	return l, nil
}

// onFirstParents reports whether old is on the first-parent history of
// head (and not head itself): the commits after it are then old..head.
func (g *Repo) onFirstParents(ctx context.Context, old, head string) bool {
	out, err := runGit(ctx, g.Root, "rev-list", "--first-parent", "--parents", old+".."+head)
	if err != nil {
		return false
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.Fields(lines[len(lines)-1])
	return len(last) >= 2 && last[1] == old
}

// follow adds to m, a walk of older commits, the walk of the commits
// after them: a file newer added is newer's; one it only modified keeps
// the commit that added it before.
func (m fileLogs) follow(newer fileLogs) {
	for name, n := range newer {
		if o, ok := m[name]; ok && n.hash == "" {
			n.hash, n.date = o.hash, o.date
		}
		m[name] = n
	}
}

// splitFrom is the length of a first-parent history from which walkWhole
// cuts it into parts (a variable for the tests).
var splitFrom = 1000

// walkWhole is walk of the whole first-parent history of head (HEAD when
// ""). git log reads, for each commit, its tree of the directories, as
// large as the folder was then: on a folder that reached 5,000 migrations
// added one by one, git took 2.3 s of one core. With more than one core,
// the history is cut into as many parts (up to 4), walked by as many git
// processes at once and joined: each commit's diff against its first
// parent is in one part, as in the whole walk. The cuts assume a folder
// that grew steadily, so that a part costs the sum of the folder's sizes
// over its commits: part j of p starts at the fraction √(j/p) of the
// history from its oldest commit (the folder above, in two parts: 1.3 s).
// A history shorter than splitFrom is walked whole: it is quick, and a
// part costs a process.
func (g *Repo) walkWhole(ctx context.Context, head string, dirs []string) (fileLogs, error) {
	var whole []string // git log's default, HEAD, when head is ""
	rev := "HEAD"
	if head != "" {
		whole, rev = []string{head}, head
	}
	p := min(runtime.GOMAXPROCS(0), 4)
	if p < 2 {
		return g.walk(ctx, whole, dirs)
	}
	out, err := runGit(ctx, g.Root, "rev-list", "--first-parent", rev)
	if err != nil {
		// no commit yet (walk's answer is then empty), or an error walk
		// reports too
		return g.walk(ctx, whole, dirs)
	}
	hashes := strings.Fields(string(out)) // newest first
	n := len(hashes)
	if n < splitFrom || n < 2 {
		return g.walk(ctx, whole, dirs)
	}
	// each part's revisions, oldest first: the oldest ends at the first
	// cut, each next runs from the cut before to its own, the last to rev
	var ranges [][]string
	prev, last := "", -1
	for j := 1; j < p; j++ {
		k := int(float64(n)*math.Sqrt(float64(j)/float64(p))) - 1 // from the oldest
		if k <= last || k >= n-1 {
			continue
		}
		c := hashes[n-1-k]
		if prev == "" {
			ranges = append(ranges, []string{c})
		} else {
			ranges = append(ranges, []string{prev + ".." + c})
		}
		prev, last = c, k
	}
	if prev == "" {
		return g.walk(ctx, whole, dirs)
	}
	ranges = append(ranges, []string{prev + ".." + rev})
	parts := make([]fileLogs, len(ranges))
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for j, r := range ranges {
		wg.Go(func() { parts[j], errs[j] = g.walk(ctx, r, dirs) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // (the parts fail alike: one says why)
		}
	}
	files := parts[0]
	for _, newer := range parts[1:] {
		files.follow(newer)
	}
	return files, nil
}

// walks counts the git log walks run (for the tests).
var walks atomic.Int64

// walk reads the first-parent history of revs (HEAD when none) under
// dirs, newest first: for each file, the latest commit that added it, and
// whether a later one changed it.
func (g *Repo) walk(ctx context.Context, revs, dirs []string) (fileLogs, error) {
	walks.Add(1)
	args := []string{"log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--diff-filter=AMT", "--name-status", "-z", "--format=%x1e%H %cI"}
	args = append(append(append(args, revs...), "--"), dirs...)
	out, err := runGit(ctx, g.Root, args...)
	files := fileLogs{}
	if err != nil {
		if strings.Contains(err.Error(), "does not have any commits") {
			return files, nil
		}
		return nil, err
	}
	for _, rec := range strings.Split(string(out), "\x1e") {
		rec = strings.TrimLeft(rec, "\x00\n")
		if rec == "" {
			continue
		}
		// "HASH DATE\x00\nSTATUS\x00PATH\x00STATUS\x00PATH\x00..."
		head, rest, _ := strings.Cut(rec, "\x00")
		hash, date, _ := strings.Cut(head, " ")
		date = strings.TrimSpace(date)
		if _, err := time.Parse(time.RFC3339, date); err != nil {
			return nil, fmt.Errorf("git log: bad date %q", date)
		}
		fields := strings.Split(strings.TrimLeft(rest, "\n"), "\x00")
		for i := 0; i+1 < len(fields); i += 2 {
			status, name := strings.TrimSpace(fields[i]), fields[i+1]
			if name == "" {
				continue
			}
			f, seen := files[name]
			switch {
			case f.hash != "":
				// newest first: the latest add wins, and a change before
				// it is of an older file
			case status == "A":
				f.hash, f.date = hash, date
				files[name] = f
			case !seen || !f.modified:
				f.modified = true
				files[name] = f
			}
		}
	}
	return files, nil
}
