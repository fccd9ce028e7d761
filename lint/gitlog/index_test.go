package gitlog_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/lint/gitlog"
)

// TestWorkStatus: WorkStatus, from the index and the files' contents,
// says what git status says of the files of the work tree, in every state
// a file can be in: clean, staged, unstaged, both, staged and put back,
// new in the index, new in the index and changed again, added with --intent-to-add (empty
// or not), untracked, removed from the index only, unmerged, a symbolic
// link, a file with a BOM, a file git stores with LF and checks out with
// CRLF (core.autocrlf), a name like a pathspec with magic; in a SHA-1 and
// a SHA-256 repository, naming the files git is asked about or (past
// maxNamed) their directory; and a file made executable. One difference
// is by design, and checked: an ignored file is untracked (git status
// leaves it out; HEAD does not have it either).
func TestWorkStatus(t *testing.T) {
	for _, format := range []string{"sha1", "sha256"} {
		t.Run(format, func(t *testing.T) {
			dir, run, write := dbRepoInit(t, "init", "-q", "-b", "main", "--object-format="+format)
			write("bom.sql", "\ufeffbom\n")
			commitWithLink(t, dir, run, write, "base", "same", "staged", "unstaged", "both", "putback", "readded", "rm-index", "conflict", "crlf", "mode", ":(exclude)magic*")
			unmerge(run, write, "conflict.sql")
			// stored with LF, checked out with CRLF: the same to git
			run("config", "core.autocrlf", "true")
			if err := os.Remove(filepath.Join(dir, "db", "crlf.sql")); err != nil {
				t.Fatal(err)
			}
			run("checkout", "--", "db/crlf.sql")
			if b, _ := os.ReadFile(filepath.Join(dir, "db", "crlf.sql")); !bytes.Contains(b, []byte("\r\n")) {
				t.Fatalf("crlf.sql checked out as %q", b)
			}
			write("staged.sql", "s2\n")
			write("both.sql", "b2\n")
			write("putback.sql", "p2\n")
			write(":(exclude)magic*.sql", "m2\n")
			write("new.sql", "n\n")
			write("added.sql", "a\n")
			run("add", "db/staged.sql", "db/both.sql", "db/putback.sql", "db/:(exclude)magic*.sql", "db/new.sql", "db/added.sql")
			write("both.sql", "b3\n")
			write("putback.sql", "putback\n")
			write("new.sql", "n2\n")
			write("unstaged.sql", "u2\n")
			run("rm", "-q", "--cached", "db/rm-index.sql")
			write("ita.sql", "i\n")
			write("ita-empty.sql", "")
			run("add", "--intent-to-add", "db/ita.sql", "db/ita-empty.sql")
			write("untracked.sql", "u\n")
			if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("ignored.sql\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			write("ignored.sql", "x\n")
			if err := os.Chmod(filepath.Join(dir, "db", "mode.sql"), 0o755); err != nil {
				t.Fatal(err)
			}

			repo, err := gitlog.Locate(context.Background(), dir)
			if err != nil || repo == nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var files []gitlog.WorkFile
			entries, err := os.ReadDir(filepath.Join(dir, "db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, "db", e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				st, err := os.Stat(filepath.Join(dir, "db", e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				w := gitlog.WorkFile{Path: "db/" + e.Name(), Content: [][]byte{b}, Exec: st.Mode()&0o100 != 0}
				if rest, ok := bytes.CutPrefix(b, []byte("\ufeff")); ok {
					w.Content = [][]byte{[]byte("\ufeff"), rest} // as the reader gives it
				}
				files = append(files, w)
			}
			uW, cW, wW, err := repo.Status(ctx, []string{"db"})
			if err != nil {
				t.Fatal(err)
			}
			// only the files given, with the difference by design
			keep := func(m map[string]bool) map[string]bool {
				out := map[string]bool{}
				for _, f := range files {
					if m[f.Path] {
						out[f.Path] = true
					}
				}
				return out
			}
			uW, cW, wW = keep(uW), keep(cW), keep(wW)
			if uW["db/ignored.sql"] || !cW["db/mode.sql"] || !wW["db/mode.sql"] || !wW["db/conflict.sql"] {
				t.Fatalf("git status: uncommitted %v, changed %v, unstaged %v: not the states this test sets up", uW, cW, wW)
			}
			uW["db/ignored.sql"] = true
			for _, max := range []int{1000, 1} {
				trace := filepath.Join(t.TempDir(), "trace")
				t.Setenv("GIT_TRACE", trace)
				restore := gitlog.SetMaxNamed(max)
				ix, err := repo.ReadIndex(ctx, []string{"db"})
				if err != nil {
					restore()
					t.Fatal(err)
				}
				u, c, w, err := repo.WorkStatus(ctx, ix, []string{"db"}, files)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				// git is asked only about the files whose content is not
				// the index's (or that it cannot compare)
				b, err := os.ReadFile(trace)
				if err != nil {
					t.Fatal(err)
				}
				status := statusNamed(b)
				want := []string{"db/both.sql", "db/conflict.sql", "db/crlf.sql", "db/ita-empty.sql", "db/ita.sql", "db/link.sql", "db/mode.sql", "db/new.sql", "db/putback.sql", "db/unstaged.sql"}
				if max == 1 {
					want = []string{"db"}
				}
				if !slices.Equal(status, want) {
					t.Errorf("naming at most %d: git status asked about %v, want %v", max, status, want)
				}
				for _, m := range []struct {
					name      string
					got, want map[string]bool
				}{{"uncommitted", u, uW}, {"changed", c, cW}, {"unstaged", w, wW}} {
					if !reflect.DeepEqual(m.got, m.want) {
						t.Errorf("naming at most %d: %s %v, git status says %v", max, m.name, keys(m.got), keys(m.want))
					}
				}
			}
		})
	}
}

// TestReadIndexWithoutCommit: a repository without a commit has no HEAD
// to compare the index with; ReadIndex fails, and the caller asks git
// status.
func TestReadIndexWithoutCommit(t *testing.T) {
	dir, run, write := dbRepo(t)
	write("1.sql", "a\n")
	run("add", "db")
	repo, err := gitlog.Locate(context.Background(), dir)
	if err != nil || repo == nil {
		t.Fatal(err)
	}
	if ix, err := repo.ReadIndex(context.Background(), []string{"db"}); err == nil {
		t.Fatalf("ReadIndex without a commit: %+v, want an error", ix)
	}
}

// statusNamed returns the paths the git status of a GIT_TRACE log named.
func statusNamed(trace []byte) []string {
	for line := range bytes.Lines(trace) {
		if _, args, ok := bytes.Cut(line, []byte("built-in: git status ")); ok {
			_, names, _ := bytes.Cut(args, []byte(" -- "))
			return strings.Fields(string(names))
		}
	}
	return nil
}

// TestWorkStatusIgnoreCase: where the file system ignores case
// (core.ignoreCase), git matches a file to an index entry named in
// another case; WorkStatus asks git about a file the index lacks there,
// and still finds an untracked one.
func TestWorkStatusIgnoreCase(t *testing.T) {
	dir, run, write := dbRepo(t)
	write("1.sql", "a\n")
	run("add", "db")
	run("commit", "-q", "-m", "1")
	write("2.sql", "b\n")
	repo, err := gitlog.Locate(context.Background(), dir)
	if err != nil || repo == nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	files := []gitlog.WorkFile{{Path: "db/1.sql", Content: [][]byte{[]byte("a\n")}}, {Path: "db/2.sql", Content: [][]byte{[]byte("b\n")}}}
	for _, ignoreCase := range []string{"false", "true"} {
		run("config", "core.ignoreCase", ignoreCase)
		trace := filepath.Join(t.TempDir(), "trace")
		t.Setenv("GIT_TRACE", trace)
		ix, err := repo.ReadIndex(ctx, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		u, c, w, err := repo.WorkStatus(ctx, ix, []string{"db"}, files)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(keys(u), []string{"db/2.sql"}) || len(c) != 0 || len(w) != 0 {
			t.Errorf("core.ignoreCase %s: uncommitted %v, changed %v, unstaged %v; want db/2.sql untracked", ignoreCase, keys(u), keys(c), keys(w))
		}
		b, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := statusNamed(b), map[string][]string{"false": nil, "true": {"db/2.sql"}}[ignoreCase]; !slices.Equal(got, want) {
			t.Errorf("core.ignoreCase %s: git status asked about %v, want %v", ignoreCase, got, want)
		}
	}
}

// TestReadIndexLiteralDirectory: a directory named with pathspec magic is
// asked about as named, not as a pathspec that excludes it.
func TestReadIndexLiteralDirectory(t *testing.T) {
	dir, run, _ := dbRepo(t)
	d := ":(exclude)*"
	if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, d, "1.sql"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("--literal-pathspecs", "add", "--", d)
	run("commit", "-q", "-m", "1")
	repo, err := gitlog.Locate(context.Background(), dir)
	if err != nil || repo == nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ix, err := repo.ReadIndex(ctx, []string{d})
	if err != nil {
		t.Fatal(err)
	}
	u, c, w, err := repo.WorkStatus(ctx, ix, []string{d}, []gitlog.WorkFile{{Path: d + "/1.sql", Content: [][]byte{[]byte("a\n")}}})
	if err != nil || len(u)+len(c)+len(w) != 0 {
		t.Fatalf("a committed file of %s: uncommitted %v, changed %v, unstaged %v, %v; want it clean", d, u, c, w, err)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestAtFromIndex: the paths a commit has, from the index and what the
// index changed since the commit, are those git ls-tree lists, for an
// older commit and HEAD, in every state an entry can be in: committed,
// added and deleted since the older commit, staged new, removed from the
// index, deleted from the work tree only, added with --intent-to-add (new,
// and after git rm --cached of a committed file), unmerged, empty, a
// symbolic link; naming the entries git is asked about, or (past
// maxNamed) listing the tree.
func TestAtFromIndex(t *testing.T) {
	dir, run, write := dbRepo(t)
	write("empty.sql", "")
	commitWithLink(t, dir, run, write, "old", "same", "conflict", "rm-index", "rm-work", "readd-ita", "later-deleted")
	run("tag", "old")
	write("later.sql", "later\n")
	run("add", "db/later.sql")
	run("rm", "-q", "db/later-deleted.sql")
	run("commit", "-q", "-m", "later")
	unmerge(run, write, "conflict.sql")
	write("staged-new.sql", "n\n")
	run("add", "db/staged-new.sql")
	run("rm", "-q", "--cached", "db/rm-index.sql", "db/readd-ita.sql")
	run("add", "--intent-to-add", "db/readd-ita.sql")
	if err := os.Remove(filepath.Join(dir, "db", "rm-work.sql")); err != nil {
		t.Fatal(err)
	}
	write("ita.sql", "i\n")
	run("add", "--intent-to-add", "db/ita.sql")
	write("untracked.sql", "u\n")

	ctx := context.Background()
	repo, err := gitlog.Locate(ctx, dir)
	if err != nil || repo == nil {
		t.Fatal(err)
	}
	dirs := []string{"db"}
	ix, err := repo.ReadIndex(ctx, dirs)
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rev := range []string{"old", head} {
		set, err := repo.At(ctx, rev, dirs)
		if err != nil {
			t.Fatal(err)
		}
		if rev == "old" && (!set["db/later-deleted.sql"] || set["db/later.sql"]) || rev == head && (set["db/later-deleted.sql"] || !set["db/later.sql"]) {
			t.Fatalf("%s has %v: not the states this test sets up", rev, set)
		}
		staged, err := repo.StagedStatus(ctx, rev, dirs)
		if err != nil {
			t.Fatal(err)
		}
		if rev == head && !reflect.DeepEqual(staged, ix.Staged()) {
			t.Errorf("what the index changed since HEAD: %v from ReadIndex, %v from StagedStatus", ix.Staged(), staged)
		}
		for _, max := range []int{1000, 1} {
			restore := gitlog.SetMaxNamed(max)
			got, err := repo.AtFromIndex(ctx, ix, rev, staged, dirs)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			all := map[string]bool{}
			for p := range got.All() {
				if all[p] {
					t.Errorf("%s (naming at most %d): %s yielded twice", rev, max, p)
				}
				all[p] = true
			}
			if !reflect.DeepEqual(all, set) {
				t.Errorf("%s (naming at most %d): from the index %v, git ls-tree says %v", rev, max, slices.Sorted(maps.Keys(all)), slices.Sorted(maps.Keys(set)))
			}
			for _, p := range []string{"db/same.sql", "db/later.sql", "db/later-deleted.sql", "db/staged-new.sql", "db/rm-index.sql", "db/rm-work.sql", "db/readd-ita.sql", "db/ita.sql", "db/conflict.sql", "db/empty.sql", "db/link.sql", "db/untracked.sql", "db/none.sql"} {
				if got.Has(p) != set[p] {
					t.Errorf("%s (naming at most %d): Has(%s) is %t, git ls-tree says %t", rev, max, p, got.Has(p), set[p])
				}
			}
		}
	}
}

// commitWithLink writes a file of db for each name (the name its
// content) and db/link.sql, a link to same.sql, and commits db as msg.
func commitWithLink(t *testing.T, dir string, run func(args ...string), write func(name, text string), msg string, names ...string) {
	t.Helper()
	for _, n := range names {
		write(n+".sql", n+"\n")
	}
	if err := os.Symlink("same.sql", filepath.Join(dir, "db", "link.sql")); err != nil {
		t.Fatal(err)
	}
	run("add", "db")
	run("commit", "-q", "-m", msg)
}
