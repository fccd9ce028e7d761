// Package gitlog answers the history questions migsafe asks git: which
// commit of the first-parent history added each migration (and when),
// which files are not committed, and which a reference already had. It
// runs the git command (argv, never a shell) and dates the deploys of
// migration histories.
package gitlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Repo is a git work tree.
type Repo struct {
	Root string // the work tree's top directory, absolute
	// Shallow: a shallow clone (CI checkouts often are: actions/checkout
	// fetches one commit, GitLab 20), missing the commits that added the
	// older migrations, so git cannot date them
	Shallow bool
	// Store, when set, keeps AddedModified's walks between runs.
	Store Store

	resolved sync.Map // directory → its symbolic links resolved, for Rel

	headOnce sync.Once
	head     string // HEAD's commit (Head)
	headErr  error
}

// Head returns HEAD's commit, asked of git once; an error when HEAD has
// no commit yet.
func (g *Repo) Head(ctx context.Context) (string, error) {
	g.headOnce.Do(func() {
		out, err := runGit(ctx, g.Root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
		g.head, g.headErr = strings.TrimSpace(string(out)), err
	})
	return g.head, g.headErr
}

// Find returns the repository containing dir, or nil when git is not
// installed, dir is not in a work tree or git refuses the repository
// (Locate says why).
func Find(ctx context.Context, dir string) *Repo {
	r, _ := Locate(ctx, dir)
	return r
}

// Locate returns the repository containing dir; nil and no error when git
// is not installed or dir is not in a work tree. A repository git refuses
// to read (owned by another user: git's "dubious ownership" check) is an
// error: treating it as no history would change the verdicts silently.
func Locate(ctx context.Context, dir string) (*Repo, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, nil
	}
	out, err := runGit(ctx, dir, "rev-parse", "--show-toplevel", "--is-shallow-repository")
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "dubious ownership") {
			at := dir
			if _, after, ok := strings.Cut(msg, "repository at '"); ok {
				at, _, _ = strings.Cut(after, "'")
			}
			return nil, &RefusedError{Dir: at}
		}
		if strings.Contains(msg, "not a git repository") {
			return nil, nil
		}
		return nil, err
	}
	root, shallow, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	return &Repo{Root: root, Shallow: strings.TrimSpace(shallow) == "true"}, nil
}

// RefusedError is a repository git will not read because another user
// owns it.
type RefusedError struct {
	Dir string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("git refuses to read the repository at %s: it is owned by another user (git's \"dubious ownership\" check), so the deploys cannot be dated; if you trust it, run git config --global --add safe.directory %s, or pass --no-git to count every migration version as its own deploy", e.Dir, e.Dir)
}

// runGit runs git in dir. Paths are literal: a migrations directory named
// like a glob or with pathspec magic (":(exclude)…") is the directory.
func runGit(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--literal-pathspecs", "-c", "core.quotePath=false"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if msg == "" || !errors.As(err, &ee) {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// Rel converts an absolute path to the repository's slash-separated form.
func (g *Repo) Rel(abs string) (string, bool) {
	dir := filepath.Dir(abs)
	real, ok := g.resolved.Load(dir)
	if !ok {
		// once per directory: a history of thousands of files has one
		if e, err := filepath.EvalSymlinks(dir); err == nil {
			real = e
		} else {
			real = dir
		}
		g.resolved.Store(dir, real)
	}
	abs = filepath.Join(real.(string), filepath.Base(abs))
	r, err := filepath.Rel(g.Root, abs)
	if err != nil || strings.HasPrefix(r, "..") {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// Commit is a commit of the first-parent history.
type Commit struct {
	Hash string
	Time time.Time
}

// Added returns, for each file under dirs (repository paths), the latest
// first-parent commit that added it: the deploy that shipped it. A merged
// branch is one commit of the first-parent history, so it is one deploy.
func (g *Repo) Added(ctx context.Context, dirs []string) (map[string]Commit, error) {
	args := []string{"log", "--first-parent", "--no-renames", "--diff-filter=A", "--name-only", "-z", "--format=%x1e%H %cI", "--"}
	out, err := runGit(ctx, g.Root, append(args, dirs...)...)
	if err != nil {
		if strings.Contains(err.Error(), "does not have any commits") {
			return map[string]Commit{}, nil
		}
		return nil, err
	}
	res := map[string]Commit{}
	for _, rec := range strings.Split(string(out), "\x1e") {
		rec = strings.TrimLeft(rec, "\x00\n")
		if rec == "" {
			continue
		}
		fields := strings.FieldsFunc(rec, func(r rune) bool { return r == 0 || r == '\n' })
		if len(fields) == 0 {
			continue
		}
		hash, date, _ := strings.Cut(fields[0], " ")
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(date))
		if err != nil {
			return nil, fmt.Errorf("git log: bad date %q", date)
		}
		for _, n := range fields[1:] {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if _, seen := res[n]; !seen { // newest first: the latest add wins
				res[n] = Commit{Hash: hash, Time: t}
			}
		}
	}
	return res, nil
}

// Uncommitted returns the files under dirs that HEAD does not have (new,
// untracked, or staged but not committed).
func (g *Repo) Uncommitted(ctx context.Context, dirs []string) (map[string]bool, error) {
	u, _, _, err := g.Status(ctx, dirs)
	return u, err
}

// Status is Uncommitted and Changed from one git status (a process less
// for a pre-commit hook), and the tracked files whose content in the work
// tree differs from the index's, or that are unmerged (for ChangedSince).
func (g *Repo) Status(ctx context.Context, dirs []string) (uncommitted, changed, unstaged map[string]bool, err error) {
	out, err := runGit(ctx, g.Root, append([]string{"status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--"}, dirs...)...)
	if err != nil {
		return nil, nil, nil, err
	}
	uncommitted, changed, unstaged = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range strings.Split(string(out), "\x00") {
		if len(e) >= 4 {
			statusEntry(e, uncommitted, changed, unstaged)
		}
	}
	return uncommitted, changed, unstaged, nil
}

// Verify resolves a reference to a commit, with a helpful error.
func (g *Repo) Verify(ctx context.Context, ref string) (string, error) {
	out, err := runGit(ctx, g.Root, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("--since %s: not a commit in %s (a branch, tag or commit such as origin/main, HEAD~3)", ref, g.Root)
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeBase returns the commit where the work tree's branch left rev:
// what the branch changed is measured from there, so that migrations rev
// gained since (another branch merged) are not taken for deletions or
// edits of this one. It returns rev when there is no common ancestor.
func (g *Repo) MergeBase(ctx context.Context, rev string) string {
	out, err := runGit(ctx, g.Root, "merge-base", rev, "HEAD")
	if err != nil {
		return rev
	}
	if b := strings.TrimSpace(string(out)); b != "" {
		return b
	}
	return rev
}

// Show returns a file's content at rev ("" when rev does not have it).
func (g *Repo) Show(ctx context.Context, rev, p string) string {
	out, err := runGit(ctx, g.Root, "show", rev+":"+p)
	if err != nil {
		return ""
	}
	return string(out)
}

// LastChange returns the latest first-parent commit (up to rev) that
// changed how often text occurs in the file: for a text the file has at
// rev, the commit that added it. A merge counts with its first parent.
func (g *Repo) LastChange(ctx context.Context, rev, p, text string) (Commit, error) {
	out, err := runGit(ctx, g.Root, "log", "-1", "--first-parent", "--diff-merges=first-parent", "--no-patch", "--no-renames", "--format=%H %cI", "-S"+text, rev, "--", p)
	if err != nil {
		return Commit{}, err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	hash, date, ok := strings.Cut(first, " ")
	if !ok {
		return Commit{}, nil
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return Commit{}, fmt.Errorf("git log: bad date %q", date)
	}
	return Commit{Hash: hash, Time: t}, nil
}

// At returns the files under dirs that commit had.
func (g *Repo) At(ctx context.Context, rev string, dirs []string) (map[string]bool, error) {
	out, err := runGit(ctx, g.Root, append([]string{"ls-tree", "-r", "-z", "--name-only", rev, "--"}, dirs...)...)
	if err != nil {
		return nil, err
	}
	return nameSet(out), nil
}

// ChangedSince returns the files under dirs whose content in the work tree
// differs from rev's (committed or not). With unstaged, what Status says
// of the same dirs, it stats no file: a file differs from rev when the
// index does and the work tree has the index's content, or when the work
// tree differs from the index and the index has rev's; a file that
// differs in both ways may have been put back, and only those are asked
// of the work tree. Without, git diff stats every tracked file under dirs
// again, as git status just did (0.4 s on 200,000 files).
func (g *Repo) ChangedSince(ctx context.Context, rev string, dirs []string, unstaged map[string]bool) (map[string]bool, error) {
	if unstaged == nil {
		out, err := runGit(ctx, g.Root, append([]string{"diff", "--name-only", "-z", "--no-renames", rev, "--"}, dirs...)...)
		if err != nil {
			return nil, err
		}
		return nameSet(out), nil
	}
	staged, err := g.StagedStatus(ctx, rev, dirs)
	if err != nil {
		return nil, err
	}
	return g.ChangedFrom(ctx, rev, dirs, staged, unstaged)
}

// ChangedFrom is ChangedSince from StagedStatus's answer (asked while the
// work tree is read) and unstaged.
func (g *Repo) ChangedFrom(ctx context.Context, rev string, dirs []string, staged map[string]byte, unstaged map[string]bool) (map[string]bool, error) {
	res := map[string]bool{}
	var both []string
	for p := range staged {
		if unstaged[p] {
			both = append(both, p)
		} else {
			res[p] = true
		}
	}
	for p := range unstaged {
		if staged[p] == 0 {
			res[p] = true
		}
	}
	if len(both) == 0 {
		return res, nil
	}
	slices.Sort(both)
	if len(both) > maxNamed {
		both = dirs // (a command line has its limits)
	}
	out, err := runGit(ctx, g.Root, append([]string{"diff", "--name-only", "-z", "--no-renames", rev, "--"}, both...)...)
	if err != nil {
		return nil, err
	}
	for p := range nameSet(out) {
		res[p] = true
	}
	return res, nil
}

// maxNamed is the most files ChangedSince names to git diff; beyond, it
// asks about the directories (a variable for the tests).
var maxNamed = 1000

func nameSet(out []byte) map[string]bool {
	res := map[string]bool{}
	for _, n := range strings.Split(string(out), "\x00") {
		if n = strings.TrimSpace(n); n != "" {
			res[n] = true
		}
	}
	return res
}
