package gitlog_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/lint/gitlog"
)

// TestAddedModifiedStored builds a history step by step (adds, edits, a
// merge of a side branch, a delete and a re-add, a checkout of an older
// commit) and after each step compares AddedModified with a store (which
// walks only the commits since the last run, or everything when that run
// is not on the first-parent history) with a fresh walk of the whole
// history.
func TestAddedModifiedStored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	n := 0
	commit := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, "db", name)
		if text == "" {
			git("rm", "-q", p)
		} else {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			git("add", p)
		}
		n++
		git("commit", "-q", "-m", "c", "--date", "2024-01-01T00:00:00Z")
	}
	git("init", "-q", "-b", "main")
	store, err := parsecache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(step string, wantWrites int64) {
		t.Helper()
		plain, err := gitlog.Locate(ctx, dir)
		if err != nil || plain == nil {
			t.Fatal(err)
		}
		wantLog, err := plain.AddedModified(ctx, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		wantA, wantM := wantLog.Maps()
		stored, err := gitlog.Locate(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		stored.Store = store
		before := store.Stats().Writes
		gotLog, err := stored.AddedModified(ctx, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		gotA, gotM := gotLog.Maps()
		if !reflect.DeepEqual(wantA, gotA) || !reflect.DeepEqual(wantM, gotM) {
			t.Fatalf("%s: with the store\nadded %v\nmodified %v\nwant\nadded %v\nmodified %v", step, gotA, gotM, wantA, wantM)
		}
		if w := store.Stats().Writes - before; w != wantWrites {
			t.Errorf("%s: %d walks stored, want %d", step, w, wantWrites)
		}
	}
	commit("001.sql", "a\n")
	check("first walk", 1)
	check("nothing new", 0)
	commit("002.sql", "b\n")
	commit("001.sql", "a2\n")
	check("an add and an edit", 1)
	git("checkout", "-q", "-b", "side")
	commit("003.sql", "c\n")
	commit("002.sql", "b2\n")
	git("checkout", "-q", "main")
	commit("004.sql", "d\n")
	git("merge", "-q", "--no-ff", "-m", "merge", "side")
	check("a merge", 1)
	commit("002.sql", "")
	commit("002.sql", "b again\n")
	commit("003.sql", "c2\n")
	check("a delete and a re-add", 1)
	git("checkout", "-q", "HEAD~3")
	check("an older commit", 1)
	git("checkout", "-q", "main")
	check("back", 1)
}

// TestStatus: one git status says what is not committed (untracked, or
// new in the index) and what the index or the work tree changes (not
// untracked files).
func TestStatus(t *testing.T) {
	dir, run, write := dbRepo(t)
	write("1.sql", "a\n")
	write("2.sql", "b\n")
	write("3.sql", "c\n")
	run("add", "db")
	run("commit", "-q", "-m", "c")
	write("1.sql", "a2\n") // modified in the work tree
	write("2.sql", "b2\n") // modified in the index
	run("add", "db/2.sql")
	write("4.sql", "d\n") // new in the index
	run("add", "db/4.sql")
	write("5.sql", "e\n") // untracked
	repo, err := gitlog.Locate(context.Background(), dir)
	if err != nil || repo == nil {
		t.Fatal(err)
	}
	uncommitted, changed, unstaged, err := repo.Status(context.Background(), []string{"db"})
	if err != nil {
		t.Fatal(err)
	}
	wantU := map[string]bool{"db/4.sql": true, "db/5.sql": true}
	wantC := map[string]bool{"db/1.sql": true, "db/2.sql": true, "db/4.sql": true}
	wantW := map[string]bool{"db/1.sql": true}
	if !reflect.DeepEqual(uncommitted, wantU) || !reflect.DeepEqual(changed, wantC) || !reflect.DeepEqual(unstaged, wantW) {
		t.Fatalf("uncommitted %v, changed %v, unstaged %v; want %v, %v, %v", uncommitted, changed, unstaged, wantU, wantC, wantW)
	}
}

// TestChangedSinceFromStatus: ChangedSince with git status's unstaged
// files (which stats none) says what git diff against the work tree says,
// in every state a file can be in: staged, unstaged, staged and put back
// in the work tree, staged and changed again, deleted from the work tree
// or the index, added with --intent-to-add, untracked, unmerged, and
// named like a pathspec with magic and a glob character.
func TestChangedSinceFromStatus(t *testing.T) {
	dir, run, write := dbRepo(t)
	names := []string{"same", "staged", "unstaged", "putback", "twice", "rm-work", "rm-index", "conflict", ":(exclude)magic*"}
	for _, n := range names {
		write(n+".sql", n+"\n")
	}
	run("add", "db")
	run("commit", "-q", "-m", "base")
	run("tag", "ref")
	unmerge(run, write, "conflict.sql")
	write("staged.sql", "s2\n")
	write("putback.sql", "p2\n")
	write("twice.sql", "t2\n")
	write(":(exclude)magic*.sql", "m2\n")
	run("add", "db/staged.sql", "db/putback.sql", "db/twice.sql", "db/:(exclude)magic*.sql")
	write(":(exclude)magic*.sql", "m3\n")
	write("putback.sql", "putback\n") // as in ref again
	write("twice.sql", "t3\n")
	write("unstaged.sql", "u2\n")
	if err := os.Remove(filepath.Join(dir, "db", "rm-work.sql")); err != nil {
		t.Fatal(err)
	}
	run("rm", "-q", "--cached", "db/rm-index.sql")
	write("ita.sql", "new\n")
	run("add", "--intent-to-add", "db/ita.sql")
	write("untracked.sql", "u\n")
	repo, err := gitlog.Locate(context.Background(), dir)
	if err != nil || repo == nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		rev      string
		maxNamed int // 1: the files changed both ways are asked by their directory
	}{{"ref", 1000}, {"HEAD", 1000}, {"ref", 1}} {
		rev := c.rev
		want, err := repo.ChangedSince(ctx, rev, []string{"db"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, unstaged, err := repo.Status(ctx, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		restore := gitlog.SetMaxNamed(c.maxNamed)
		got, err := repo.ChangedSince(ctx, rev, []string{"db"}, unstaged)
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("since %s (naming at most %d): from git status %v, git diff says %v", rev, c.maxNamed, got, want)
		}
		if !want["db/twice.sql"] || !want["db/conflict.sql"] || want["db/putback.sql"] || want["db/same.sql"] {
			t.Errorf("since %s: git diff says %v", rev, want)
		}
	}
}

// unmerge leaves the committed file name of db unmerged: a side branch
// and main change it, then main merges the side branch (git exits 1). It
// comes before anything is staged: git merge refuses an index that
// differs from HEAD.
func unmerge(run func(args ...string), write func(name, text string), name string) {
	run("checkout", "-q", "-b", "side")
	write(name, "side\n")
	run("commit", "-q", "-am", "side")
	run("checkout", "-q", "main")
	write(name, "main\n")
	run("commit", "-q", "-am", "main")
	run("merge", "-q", "side")
}

// dbRepo is a new repository with a db folder: run runs git in it (a
// failure fails the test, except a merge's, whose conflicts are the
// point), write writes a file of db.
func dbRepo(t *testing.T) (dir string, run func(args ...string), write func(name, text string)) {
	return dbRepoInit(t, "init", "-q", "-b", "main")
}

// dbRepoInit is dbRepo, the repository made by git with args.
func dbRepoInit(t *testing.T, args ...string) (dir string, run func(args ...string), write func(name, text string)) {
	dir = t.TempDir()
	run = func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := cmd.CombinedOutput(); err != nil && args[0] != "merge" {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write = func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "db", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(args...)
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, run, write
}

// TestWalkSplit: a whole walk cut into parts walked at once (two to four,
// as many as the cores) answers as one walk does, on a history whose
// files are added in one part and modified, deleted, re-added or merged
// in from a side branch in later ones.
func TestWalkSplit(t *testing.T) {
	dir, run, write := dbRepo(t)
	for i := 1; i <= 24; i++ {
		if i == 18 {
			// a side branch, merged in the next commit
			run("checkout", "-q", "-b", "side")
			write("side.sql", "side\n")
			write("004.sql", "side edit\n")
			run("add", "db")
			run("commit", "-q", "-m", "side", "--date", "2024-01-02T00:00:00Z")
			run("checkout", "-q", "main")
		}
		write(fmt.Sprintf("%03d.sql", i), fmt.Sprintf("add %d\n", i))
		if i > 3 {
			// an older file changed, each time another
			write(fmt.Sprintf("%03d.sql", i/3), fmt.Sprintf("edit %d\n", i))
		}
		switch i {
		case 9:
			run("rm", "-q", "db/002.sql")
		case 15:
			write("002.sql", "again\n")
		case 19:
			run("merge", "-q", "--no-ff", "-m", "merge", "side")
		}
		run("add", "-A")
		run("commit", "-q", "-m", "c", "--date", fmt.Sprintf("2024-01-%02dT00:00:00Z", i+2))
		if i%5 == 0 {
			// a commit that does not touch the folder
			if err := os.WriteFile(filepath.Join(dir, "app.go"), []byte(fmt.Sprint(i)), 0o644); err != nil {
				t.Fatal(err)
			}
			run("add", "app.go")
			run("commit", "-q", "-m", "app", "--date", fmt.Sprintf("2024-01-%02dT12:00:00Z", i+2))
		}
	}
	ctx := context.Background()
	// with a store, a first walk is of the whole history from HEAD's
	// commit; without, from HEAD
	stored := false
	walk := func() (map[string]gitlog.Commit, map[string]bool) {
		t.Helper()
		repo, err := gitlog.Locate(ctx, dir)
		if err != nil || repo == nil {
			t.Fatal(err)
		}
		if stored {
			store, err := parsecache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			repo.Store = store
		}
		l, err := repo.AddedModified(ctx, []string{"db"})
		if err != nil {
			t.Fatal(err)
		}
		return l.Maps()
	}
	wantA, wantM := walk() // under splitFrom: one walk
	if _, ok := wantA["db/side.sql"]; !ok || len(wantA) < 25 || len(wantM) < 5 {
		t.Fatalf("the history is not what the test means: %d added, %d modified", len(wantA), len(wantM))
	}
	defer gitlog.SetSplitFrom(2)()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, stored = range []bool{false, true} {
		for _, procs := range []int{2, 3, 4} {
			runtime.GOMAXPROCS(procs)
			before := gitlog.Walks()
			gotA, gotM := walk()
			if w := gitlog.Walks() - before; w != int64(procs) {
				t.Errorf("%d cores (stored %v): %d git log walks, want %d", procs, stored, w, procs)
			}
			if !reflect.DeepEqual(wantA, gotA) || !reflect.DeepEqual(wantM, gotM) {
				t.Errorf("%d cores (stored %v), split:\nadded %v\nmodified %v\nwant\nadded %v\nmodified %v", procs, stored, gotA, gotM, wantA, wantM)
			}
		}
	}
}
