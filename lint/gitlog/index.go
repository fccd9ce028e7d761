package gitlog

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Index is what git's index says of the files under some directories:
// each entry's object id, and which entries differ from HEAD's. With the
// contents of the work tree's files, WorkStatus answers what Status would
// about them without git looking at the work tree: git status stats every
// tracked file and lists every directory, which migsafe has just done to
// read the migrations (on 100,000 migrations, git status took 0.64 s of
// CPU beside migsafe's own 0.46 s of stat'ing).
type Index struct {
	// entries: each path's object id (hex) and mode, sorted by path; an
	// empty id for a path git must be asked about (unmerged, the empty
	// blob, which an intent-to-add entry has, a symbolic link, a
	// submodule)
	entries table[indexEntry]
	// staged: path → what differs from HEAD, as git diff-index --cached
	// says it (A, D, M, T, U; StagedStatus)
	staged map[string]byte
}

// emptyBlobs are the ids of the empty blob (SHA-1 and SHA-256): an entry
// git add --intent-to-add made has it, and git status says " A" of it
// whatever the file holds.
var emptyBlobs = []string{
	"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
	"473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813",
}

// ReadIndex reads the index's entries under dirs (git ls-files --stage)
// and what the index changed from HEAD (git diff-index --cached), at
// once. It fails when HEAD has no commit yet: the caller asks git status.
func (g *Repo) ReadIndex(ctx context.Context, dirs []string) (*Index, error) {
	ix := &Index{}
	var lsOut []byte
	var lsErr, diffErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		lsOut, lsErr = runGit(ctx, g.Root, append([]string{"ls-files", "--stage", "-z", "--"}, dirs...)...)
	})
	wg.Go(func() { ix.staged, diffErr = g.StagedStatus(ctx, "HEAD", dirs) })
	wg.Wait()
	if lsErr != nil {
		return nil, lsErr
	}
	if diffErr != nil {
		return nil, diffErr
	}
	ix.entries = stageEntries(lsOut)
	return ix, nil
}

// indexEntry is an entry of the index: its object's id, and whether its
// mode is 100755.
type indexEntry struct {
	id   string
	exec bool
}

// stageEntries parses git ls-files --stage -z: "mode id stage\tpath\0",
// in the index's order (sorted; an unmerged path's stages one after the
// other: the last is kept).
func stageEntries(out []byte) table[indexEntry] {
	// the paths and ids are parts of one string: 200,000 entries would
	// otherwise be as many strings, and the output copied once more
	all := unsafe.String(unsafe.SliceData(out), len(out)) // out is not written to again
	n := bytes.Count(out, []byte{0})
	t := table[indexEntry]{paths: make([]string, 0, n), vals: make([]indexEntry, 0, n)}
	for len(all) > 0 {
		rec, rest, _ := strings.Cut(all, "\x00")
		all = rest
		meta, p, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		mode, meta, _ := strings.Cut(meta, " ")
		id, stage, _ := strings.Cut(meta, " ")
		e := indexEntry{id: id, exec: mode == "100755"}
		if stage != "0" || slices.Contains(emptyBlobs, id) || mode != "100644" && !e.exec {
			e.id = "" // unmerged, intent to add, a link or a submodule: ask
		}
		t.paths, t.vals = append(t.paths, p), append(t.vals, e)
	}
	t.sortTable()
	return t
}

// nameStatus parses git diff --name-status -z --no-renames: "X\0path\0".
func nameStatus(out []byte) map[string]byte {
	res := map[string]byte{}
	all := string(out)
	for len(all) > 0 {
		st, rest, ok := strings.Cut(all, "\x00")
		if !ok {
			break
		}
		p, rest, _ := strings.Cut(rest, "\x00")
		all = rest
		if st != "" && p != "" {
			res[p] = st[0]
		}
	}
	return res
}

// WorkFile is a file of the work tree: its repository path and content,
// in pieces (a BOM the reader removed, then the rest), and whether its
// owner may execute it.
type WorkFile struct {
	Path    string
	Content [][]byte
	Exec    bool
}

// WorkStatus answers what Status would about files (and only about them:
// not about other files of their directories, nor about tracked files
// deleted from the work tree), from ix and the files' contents:
//   - a file whose content is the index's object is as git status would
//     find it after stat'ing and hashing it;
//   - a file the index does not have is untracked (git status leaves out
//     the ignored ones, which HEAD does not have either), unless the
//     repository ignores case (core.ignoreCase: macOS, Windows), where
//     git may match it to an entry named in another case: git is asked;
//   - git status is asked about the rest by name, without listing any
//     directory: a content that differs, an unmerged path, an entry added
//     with --intent-to-add, a symbolic link. A file whose content the
//     index's filters change (core.autocrlf, a clean filter) is one of
//     them: many make this as slow as Status, not wrong.
//   - a file whose mode is not the index's is asked about too: git status
//     says " M" of it unless core.fileMode is off.
func (g *Repo) WorkStatus(ctx context.Context, ix *Index, dirs []string, files []WorkFile) (uncommitted, changed, unstaged map[string]bool, err error) {
	uncommitted, changed, unstaged = map[string]bool{}, map[string]bool{}, map[string]bool{}
	// each file's state, found on two cores (each half of the files): a
	// look-up of its path and, when tracked, the hash of its content
	const (
		untracked = iota
		ask
		same
	)
	state := make([]byte, len(files))
	var wg sync.WaitGroup
	parts := 2
	for k := range parts {
		wg.Go(func() {
			var h [2]hash.Hash
			var sum []byte
			var c Cursor
			for i := k * len(files) / parts; i < (k+1)*len(files)/parts; i++ {
				e, tracked := ix.entries.get(files[i].Path, &c)
				id := e.id
				switch {
				case !tracked:
					state[i] = untracked
					continue
				case id == "" || e.exec != files[i].Exec:
					state[i] = ask // (git decides, by core.fileMode)
					continue
				}
				a := 0
				if len(id) == 64 {
					a = 1
				}
				if h[a] == nil {
					h[a] = [...]func() hash.Hash{sha1.New, sha256.New}[a]()
				}
				sum = blobID(h[a], files[i].Content, sum[:0])
				state[i] = ask
				if len(id) == 2*len(sum) && hexEqual(id, sum) {
					state[i] = same
				}
			}
		})
	}
	wg.Wait()
	var asked []string
	untrackedFiles := "--untracked-files=no"
	ignoreCase := -1 // unknown until a file is untracked
	for i, f := range files {
		switch state[i] {
		case untracked:
			if ignoreCase < 0 {
				// (git config exits 1 when the key is not set)
				out, _ := runGit(ctx, g.Root, "config", "--get", "--bool", "core.ignoreCase")
				ignoreCase = 0
				if strings.TrimSpace(string(out)) == "true" {
					ignoreCase = 1
				}
			}
			if ignoreCase == 1 {
				asked, untrackedFiles = append(asked, f.Path), "--untracked-files=all"
				continue
			}
			uncommitted[f.Path] = true // git status: ??
			if ix.staged[f.Path] != 0 {
				changed[f.Path] = true // and "D ": git rm --cached
			}
		case ask:
			asked = append(asked, f.Path)
		case same:
			// the work tree has the index's content: only what the
			// index changed from HEAD
			switch ix.staged[f.Path] {
			case 0:
			case 'A':
				uncommitted[f.Path], changed[f.Path] = true, true
			default:
				changed[f.Path] = true
			}
		}
	}
	if len(asked) == 0 {
		return uncommitted, changed, unstaged, nil
	}
	slices.Sort(asked)
	asked = slices.Compact(asked)
	status := []string{"status", "--porcelain", "-z", untrackedFiles, "--no-renames", "--"}
	args := append(status, asked...)
	if len(asked) > maxNamed {
		args = append(status, dirs...) // (a command line has its limits)
	}
	out, err := runGit(ctx, g.Root, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	named := make(map[string]bool, len(asked))
	for _, p := range asked {
		named[p] = true
	}
	for _, e := range strings.Split(string(out), "\x00") {
		if len(e) < 4 || !named[e[3:]] {
			continue
		}
		statusEntry(e, uncommitted, changed, unstaged)
	}
	return uncommitted, changed, unstaged, nil
}

// statusEntry records one entry of git status --porcelain -z ("XY path")
// as Status does.
func statusEntry(e string, uncommitted, changed, unstaged map[string]bool) {
	x, p := e[:2], e[3:]
	if x == "??" || x[0] == 'A' {
		uncommitted[p] = true
	}
	if x != "??" {
		changed[p] = true
		if x[1] != ' ' { // (every unmerged state has one there)
			unstaged[p] = true
		}
	}
}

// blobID appends to sum git's object id of a blob with content: the hash
// of "blob <size>\0" and the content.
func blobID(h hash.Hash, content [][]byte, sum []byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	h.Reset()
	var head [32]byte
	h.Write(append(strconv.AppendInt(append(head[:0], "blob "...), int64(n), 10), 0))
	for _, c := range content {
		h.Write(c)
	}
	return h.Sum(sum)
}

// hexEqual reports whether the lower-case hex string id spells sum.
func hexEqual(id string, sum []byte) bool {
	var buf [64]byte
	return hex.Encode(buf[:], sum) == len(id) && string(buf[:len(id)]) == id
}
