package lint

import (
	"context"
	"path"
	"slices"
	"sync"

	"github.com/migsafe/migsafe/lint/gitlog"
)

// gitAnswers are git's answers about the directories of a group of files,
// asked while the files are read: git status and the walk of the log take
// about as long as the reading (a pre-commit run in a repository of 5,000
// migration commits waited 20 ms for them after 30 ms of reading), and need
// none of it. assignDeploys uses them when it asks the same questions of
// the same repository, and asks again otherwise.
type gitAnswers struct {
	root string // the absolute directory git was located from
	done chan struct{}

	repo *gitlog.Repo
	dirs []string // the repository's directories asked about, sorted
	git  gitReplies
}

// gitReplies are the answers assignDeploys reads.
type gitReplies struct {
	log *gitlog.Log // the files added, and modified since
	// status: git status's answers, for a history of fewer than
	// indexFrom files
	status *workTree
	// index: the index's entries, for gitlog.Repo.WorkStatus, for a
	// larger one; nil when it could not be read (assignDeploys asks git
	// status then)
	index                         *gitlog.Index
	refs                          sinceRefs
	errAdded, errStatus, errSince error
}

// workTree is what git status says of a history's files (see
// gitlog.Repo.Status).
type workTree struct {
	uncommitted, dirty, unstaged map[string]bool
}

// indexFrom is the number of files from which a history's files are
// compared with git's index (gitlog.Repo.WorkStatus) rather than asked
// of git status: git status stats and lists the files again, but its one
// process costs less than the two of the index on a few hundred files
// (a history of 557 files, one of them edited: 25.7 ms with git status
// against 28.8 from the index).
// A variable for the tests.
var indexFrom = 2000

// askGitEarly starts asking git about g's directory; nil when the run does
// not read git, or when g has several directories (each may be a history
// of its own, whose questions differ).
func askGitEarly(ctx context.Context, g *group, dir string, opt histOptions) *gitAnswers {
	if opt.noGit || len(g.dirs) != 1 {
		return nil
	}
	a := &gitAnswers{root: absPath(dir, g.arg), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		repo, err := gitlog.Locate(ctx, a.root)
		if err != nil || repo == nil || repo.Shallow {
			return // assignDeploys says why, from its own question
		}
		repo.Store = opt.gitStore
		var dirs []string
		for _, names := range g.dirs {
			if len(names) == 0 {
				continue
			}
			r, ok := repo.Rel(absPath(dir, names[0])) // resolves the directory only
			if !ok {
				return
			}
			if rd := path.Dir(r); !slices.Contains(dirs, rd) {
				dirs = append(dirs, rd)
			}
		}
		slices.Sort(dirs)
		a.repo, a.dirs = repo, dirs
		files := 0
		for _, names := range g.dirs {
			files += len(names)
		}
		a.git = askGit(ctx, repo, dirs, opt.since, files)
	}()
	return a
}

// askGit asks git's questions about a history of so many files at once,
// while the files are read: the slowest sets the wait, not their sum. On
// a large history, none looks at the work tree: assignDeploys compares
// the files read with the index (workStatus).
func askGit(ctx context.Context, repo *gitlog.Repo, dirs []string, since string, files int) gitReplies {
	var r gitReplies
	var wg sync.WaitGroup
	wg.Go(func() { r.log, r.errAdded = repo.AddedModified(ctx, dirs) })
	indexRead := make(chan struct{}) // r.index is set
	if files < indexFrom {
		close(indexRead)
		wg.Go(func() {
			var w workTree
			w.uncommitted, w.dirty, w.unstaged, r.errStatus = repo.Status(ctx, dirs)
			r.status = &w
		})
	} else {
		wg.Go(func() {
			defer close(indexRead)
			r.index, _ = readIndex(repo, ctx, dirs)
		})
	}
	if since != "" {
		wg.Go(func() {
			r.refs, r.errSince = askSince(ctx, repo, since, dirs, func() *gitlog.Index { <-indexRead; return r.index })
		})
	}
	wg.Wait()
	return r
}

// readIndex reads the index (a variable for the tests, which compare the
// answers with git status's).
var readIndex = (*gitlog.Repo).ReadIndex

// locate is the repository of root: the one found early when root is the
// directory it was located from.
func (a *gitAnswers) locate(ctx context.Context, root string) (*gitlog.Repo, error) {
	if a != nil && a.root == root {
		<-a.done
		if a.repo != nil {
			return a.repo, nil
		}
	}
	return gitlog.Locate(ctx, root)
}

// replies are the answers about dirs of repo (a history of so many
// files), asked early when they were the same questions, else now.
func (a *gitAnswers) replies(ctx context.Context, repo *gitlog.Repo, dirs []string, since string, files int) gitReplies {
	if a != nil && a.repo == repo {
		sorted := slices.Sorted(slices.Values(dirs))
		if slices.Equal(sorted, a.dirs) {
			return a.git // done: locate waited
		}
	}
	a.wait() // no two walks of one repository at once
	return askGit(ctx, repo, dirs, since, files)
}

// wait waits for the answers, used or not. git is not killed: a git status
// killed while it refreshes the index would leave .git/index.lock behind.
func (a *gitAnswers) wait() {
	if a != nil {
		<-a.done
	}
}
