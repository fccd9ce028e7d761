package lint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/internal/readfile"
	"github.com/migsafe/migsafe/lint/gitlog"
	"github.com/migsafe/migsafe/rules"
)

// histOptions steer how migration histories are loaded.
type histOptions struct {
	layout  migrations.Layout // Auto: detect
	dialect string
	since   string // git reference: lint only what changed since
	noGit   bool
	now     time.Time
	minAge  time.Duration
	// minAgeSet: the configuration sets minAge (0d: no wait)
	minAgeSet bool
	maxSize   int64
	follow    bool // follow symbolic links out of the boundary
	// templateVars fill Go template placeholders
	templateVars map[string]string
	// gitStore keeps git's answers between runs (the cache)
	gitStore gitlog.Store
	// sources keeps what was read from the files (readStamped)
	sources *parsecache.Cache
	// found is what Resolve discovered already (nil: discover)
	found *discovered
}

// History is one migration history to replay: a directory (several for
// Flyway and popx) in its tool's order, with deploys.
type History struct {
	Root  string // the directory, as displayed
	Set   *migrations.Set
	Parts []*analyzer.File // replay order, up to the last part to lint
	// Deploys group the parts into deploys (from git, else one per
	// version); each part's Deploy indexes it.
	Deploys *analyzer.History
	Git     bool // deploys come from git
	// Notes are LoadHistory's warnings about the directory (Load keeps
	// them in Loaded.Notes).
	Notes []string
	// NotSQL are the files whose real name is not *.sql (see notSQL):
	// their findings carry no source text beyond a syntax error's token.
	NotSQL map[string]bool
}

// Loaded is what Load found.
type Loaded struct {
	Histories []*History
	// Errors are the files that could not be read or found (exit status
	// 2 on the command line).
	Errors []error
	// Notes are notices for standard error; a warning starts with
	// "warning: ".
	Notes []string
	Empty []string // linted files with nothing in them
	// noGit are the histories whose deploys git could not date (not in a
	// work tree, or git missing), for one note
	noGit []string
	// loaded, when set, is given each history as it is added (Check
	// lints it while the next directory is read)
	loaded func(*History)
}

// add appends a loaded history.
func (l *Loaded) add(hs *History) {
	l.Histories = append(l.Histories, hs)
	if l.loaded != nil {
		l.loaded(hs)
	}
}

// group is the files one argument contributes, by directory.
type group struct {
	arg   string
	dirs  map[string][]string // display dir → display paths
	named map[string]bool     // file arguments: only these are linted
	// listed are the paths in dirs, for file arguments; regular are
	// those the directory listing showed as regular files
	listed, regular map[string]bool
	// root is the directory the files must stay inside once symbolic
	// links are resolved (see boundary)
	root string
	// kept: the sources kept from an earlier run, looked up while the
	// directory was listed (nil: looked up when read)
	kept *keptLookup
}

// loadHistories turns the command-line paths into migration histories.
// A directory argument is searched recursively; each directory in it is a
// history of its own, except for Flyway and popx layouts, whose tools read
// one history from several directories. A file argument is linted with
// the rest of its directory read as its history (pre-commit passes only
// the staged files).
func loadHistories(ctx context.Context, args []string, dir string, excluded func(string) bool, opt histOptions) *Loaded {
	return loadHistoriesTo(ctx, args, dir, excluded, opt, nil)
}

// loadHistoriesTo is loadHistories, giving each history to loaded (when
// not nil) as soon as it is loaded.
func loadHistoriesTo(ctx context.Context, args []string, dir string, excluded func(string) bool, opt histOptions, loaded func(*History)) *Loaded {
	l := &Loaded{loaded: loaded}
	var groups []*group
	byDir := map[string]*group{} // file arguments, by directory
	joiner := newArgJoiner(dir)
	for _, arg := range args {
		full, name := joiner.join(arg)
		// a file of a directory listed for an earlier argument is known
		// to be a regular file (pre-commit names many in one directory)
		isFile := false
		if g := byDir[path.Dir(name)]; g != nil && g.regular[name] {
			isFile = true
		} else if st, err := os.Stat(full); err == nil && !st.IsDir() {
			isFile = true
		}
		if isFile {
			if excluded(name) {
				// the configuration's choice, but never silent
				l.Notes = append(l.Notes, fmt.Sprintf("warning: %s is excluded by the configuration (exclude): not linted", name))
				continue
			}
			d := path.Dir(name)
			g := byDir[d]
			if g == nil {
				ls := opt.found.listed(filepath.Dir(full), dir, excluded)
				g = &group{arg: d, dirs: map[string][]string{d: ls.files}, named: map[string]bool{}, listed: map[string]bool{}, regular: ls.regular, root: boundary(dir, full, false)}
				byDir[d] = g
				groups = append(groups, g)
				if err := ls.err; err != nil {
					// the file is linted, but without the migrations before
					// it the verdict may be wrong: say so and fail
					l.Errors = append(l.Errors, fmt.Errorf("%s: cannot list the directory to read the history of %s: %w", d, name, err))
				}
				for _, n := range g.dirs[d] {
					g.listed[n] = true
				}
			}
			g.named[name] = true
			if !g.listed[name] {
				g.listed[name] = true
				g.dirs[d] = append(g.dirs[d], name)
			}
			continue
		}
		// the sources an earlier run kept are looked up while the
		// directory is listed
		root := boundary(dir, full, true)
		kept := lookUpKept(opt.sources, dir, readfile.Options{Max: opt.maxSize, Root: root, FollowOutside: opt.follow})
		// discover reports missing paths, unreadable directories and
		// directories without .sql files
		d := opt.found.discover(arg, dir, excluded, opt.follow)
		files := d.files
		l.Errors = append(l.Errors, d.errs...)
		if len(files) == 0 {
			continue
		}
		g := &group{arg: Display(dir, full), dirs: map[string][]string{}, root: root, kept: kept}
		for _, name := range files {
			g.dirs[path.Dir(name)] = append(g.dirs[path.Dir(name)], name)
		}
		groups = append(groups, g)
	}
	for _, g := range groups {
		l.loadGroup(ctx, g, dir, opt)
	}
	if len(l.noGit) > 0 {
		why := "not in a git work tree"
		if _, err := exec.LookPath("git"); err != nil {
			why = "git is not installed"
		}
		where := l.noGit[0]
		if len(l.noGit) > 1 {
			where += fmt.Sprintf(" and %d more", len(l.noGit)-1)
		}
		l.Notes = append(l.Notes, fmt.Sprintf("deploys not dated by git (%s: %s): every migration version counts as its own deploy", where, why))
	}
	return l
}

// maxSiblingSize is the largest settings file next to a migration (a
// Flyway .sql.conf) that is read.
const maxSiblingSize = 1 << 20

// readResult is one file as readSQL returned it.
type readResult struct {
	src    []byte
	bom    bool
	err    error
	notSQL bool // see notSQL
	exec   bool // its owner may execute it (for workStatus)
}

// readAll reads names with readSQL on every core: on a history of
// thousands of small files the system calls are a fifth of a run.
func readAll(dir string, names []string, o readfile.Options) []readResult {
	out := make([]readResult, len(names))
	eachParallel(len(names), func(i int) {
		out[i] = readSQL(dir, names[i], o)
	})
	return out
}

// eachCore calls f with the bounds of one part of 0…n per core: for cheap
// work on each of many items (a counter shared per item would cost more
// than the item).
func eachCore(n int, f func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), max(n/1000, 1))
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() { f(k*n/parts, (k+1)*n/parts) })
	}
	wg.Wait()
}

// eachParallel calls f for 0 ≤ i < n on two goroutines per core: reading
// files, the system calls are the cost and overlap.
func eachParallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0)*2, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// readDir lists a directory (a variable for the tests: as root, a
// directory with mode 711 can still be listed).
var readDir = os.ReadDir

// isNotSQL reports whether a file read as a migration is not named as
// SQL once symbolic links are resolved (a file named on the command line,
// a link followed with --follow-symlinks to ~/.aws/credentials): its
// syntax errors show the offending token only, and no excerpt of it is
// printed.
func isNotSQL(full string) bool {
	if r, err := filepath.EvalSymlinks(full); err == nil {
		full = r
	}
	return !strings.EqualFold(filepath.Ext(full), ".sql")
}

// sqlFiles lists the .sql files of one directory (not recursive), symbolic
// links included (the reader checks where they lead).
func sqlFiles(full, dir string, excluded func(string) bool, regular map[string]bool) ([]string, error) {
	ents, err := readDir(full)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	var out []string
	dp := Display(dir, full) // once: the files are named under it
	for _, e := range ents {
		if (e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0) && strings.EqualFold(filepath.Ext(e.Name()), ".sql") {
			name := joinName(dp, e.Name())
			if !excluded(name) {
				out = append(out, name)
				if regular != nil && e.Type().IsRegular() {
					regular[name] = true
				}
			}
		}
	}
	return out, nil
}

func (l *Loaded) loadGroup(ctx context.Context, g *group, dir string, opt histOptions) {
	dirs := make([]string, 0, len(g.dirs))
	for d := range g.dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var names []string
	for _, d := range dirs {
		names = append(names, g.dirs[d]...)
	}
	early := askGitEarly(ctx, g, dir, opt)
	defer early.wait()
	ro := readfile.Options{Max: opt.maxSize, Root: g.root, FollowOutside: opt.follow, Dirs: &readfile.Dirs{}}
	read := readStamped(opt.sources, dir, names, ro, g.kept)
	var notSQLFiles map[string]bool
	var executable map[string]bool // the files read whose owner may execute them
	all := make([]migrations.Source, 0, len(names))
	srcs := map[string][]migrations.Source{} // each directory's part of all
	k := 0
	for _, d := range dirs {
		start := len(all)
		for _, name := range g.dirs[d] {
			src, bom, err := read[k].src, read[k].bom, read[k].err
			k++
			if err != nil {
				var outside *readfile.OutsideError
				switch {
				case g.named == nil || g.named[name]:
					l.Errors = append(l.Errors, err)
				case errors.As(err, &outside):
					// a link the run refuses to follow: the history of the
					// files named is incomplete, and the user must decide
					l.Errors = append(l.Errors, fmt.Errorf("%w (it belongs to the history of %s, which is incomplete without it)", err, d))
				default:
					l.Notes = append(l.Notes, fmt.Sprintf("left out of the history of %s: %v", d, err))
				}
				continue
			}
			if read[k-1].notSQL {
				if notSQLFiles == nil {
					notSQLFiles = map[string]bool{}
				}
				notSQLFiles[name] = true
			}
			if read[k-1].exec {
				if executable == nil {
					executable = map[string]bool{}
				}
				executable[name] = true
			}
			src, note := renderTemplate(name, src, opt.templateVars)
			if note != "" && (g.named == nil || g.named[name]) {
				l.Notes = append(l.Notes, note)
			}
			all = append(all, migrations.Source{Path: name, Src: src, BOM: bom})
		}
		srcs[d] = all[start:len(all):len(all)]
	}
	if len(all) == 0 {
		return
	}
	layout := opt.layout
	multi := layout.MultiDirectory()
	var detAll *migrations.Detection // Detect(all), when it was needed
	if layout == migrations.Auto && len(dirs) > 1 {
		detAll = new(migrations.Detect(all))
		multi = detAll.Layout.MultiDirectory() && len(detAll.Ambiguous) == 0
	}
	var units [][]migrations.Source
	var roots []string
	if multi || len(dirs) == 1 {
		units, roots = [][]migrations.Source{all}, []string{g.arg}
	} else {
		for _, d := range dirs {
			if len(srcs[d]) > 0 {
				units, roots = append(units, srcs[d]), append(roots, d)
			}
		}
	}
	for i, u := range units {
		var det *migrations.Detection
		if layout == migrations.Auto {
			det = detAll
			if det == nil || len(u) != len(all) { // (units partition all)
				det = new(migrations.Detect(u))
			}
			if len(det.Ambiguous) > 0 {
				var names []string
				for _, a := range det.Ambiguous {
					names = append(names, string(a))
				}
				l.Errors = append(l.Errors, fmt.Errorf("%s: cannot tell which migration tool this directory is for (files look like %s); set migrations.layout in .migsafe.yaml or pass --layout", roots[i], strings.Join(names, " and ")))
				continue
			}
		}
		set := migrations.Build(u, migrations.Options{Layout: layout, Detected: det, Dialect: opt.dialect, Sibling: func(p string) ([]byte, bool) {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
				return nil, false
			}
			// a settings file: small, and read like every other file
			b, err := readfile.Read(full, p, readfile.Options{Max: maxSiblingSize, Root: g.root, FollowOutside: opt.follow})
			if err != nil {
				l.Errors = append(l.Errors, err)
				return nil, false
			}
			return b, true
		}})
		for _, p := range set.Problems {
			l.Notes = append(l.Notes, "warning: "+p.Error())
		}
		var lone []migrations.Source
		var left []string
		for _, sk := range set.Skipped {
			if g.named[sk.Path] {
				// a file named on the command line is always linted: alone,
				// when its directory's tool would not run it
				for _, src := range u {
					if src.Path == sk.Path {
						lone = append(lone, src)
					}
				}
				l.Notes = append(l.Notes, fmt.Sprintf("warning: %s is not a migration of %s (%s): linted alone, without the directory's history", sk.Path, roots[i], lowerFirst(sk.Reason)))
			} else if g.named == nil {
				left = append(left, sk.Path)
			}
		}
		if len(left) > 0 {
			l.Notes = append(l.Notes, leftOutNote(roots[i], set.Layout, left))
		}
		for _, src := range lone {
			one := migrations.Build([]migrations.Source{src}, migrations.Options{Layout: migrations.Plain, Dialect: opt.dialect})
			hs := &History{Root: src.Path, Set: one, Parts: one.Parts(), Deploys: analyzer.Undated(len(one.Migrations))}
			hs.Deploys.Now, hs.Deploys.MinAge, hs.Deploys.MinAgeSet = opt.now, opt.minAge, opt.minAgeSet
			for _, f := range hs.Parts {
				f.Lint = true
				if blank(f) {
					l.Empty = append(l.Empty, f.Path)
				}
			}
			l.add(hs)
		}
		if g.named != nil && !slices.ContainsFunc(set.Migrations, func(m *migrations.Migration) bool { return named(g, m) }) {
			continue // every named file of the directory was linted alone
		}
		hs := &History{Root: roots[i], Set: set, Parts: set.Parts(), NotSQL: notSQLFiles}
		if err := l.assignDeploys(ctx, hs, g, dir, opt, early, executable); err != nil {
			l.Errors = append(l.Errors, err)
			continue
		}
		// only what comes before the last part to lint matters
		last := -1
		for j, f := range hs.Parts {
			if f.Lint {
				last = j
				if blank(f) {
					l.Empty = append(l.Empty, f.Path)
				}
			}
		}
		if g.named != nil {
			hs.Parts = hs.Parts[:last+1]
		}
		l.add(hs)
	}
}

// named reports whether a file of m was named on the command line.
func named(g *group, m *migrations.Migration) bool {
	for _, f := range append(append([]*analyzer.File(nil), m.Up...), m.Down...) {
		if g.named[f.Path] {
			return true
		}
	}
	return false
}

// leftOutNote says in one line which .sql files of a directory its
// layout leaves out (--verbose says why for each).
func leftOutNote(root string, layout migrations.Layout, paths []string) string {
	const show = 3
	names := make([]string, 0, show)
	for _, p := range paths[:min(show, len(paths))] {
		names = append(names, path.Base(p))
	}
	list := strings.Join(names, ", ")
	if len(paths) > show {
		list += fmt.Sprintf(" and %d more", len(paths)-show)
	}
	files := "file"
	if len(paths) > 1 {
		files = "files"
	}
	return fmt.Sprintf("%s: %d .sql %s left out, not %s migrations (%s); name a file to lint it alone, -v says why", root, len(paths), files, layout, list)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func blank(f *analyzer.File) bool {
	return len(bytes.TrimSpace(f.Src[f.Range.Start:f.Range.End])) == 0
}

// assignDeploys decides what is linted and which deploy each part belongs
// to: from git when the files are in a work tree, else every migration
// version is its own undated deploy. executable names the parts' files
// whose owner may execute them (git status sees a change of mode).
func (l *Loaded) assignDeploys(ctx context.Context, hs *History, g *group, dir string, opt histOptions, early *gitAnswers, executable map[string]bool) error {
	for _, f := range hs.Parts {
		f.Lint = g.named == nil || g.named[f.Path]
	}
	hs.Deploys = analyzer.Undated(len(hs.Set.Migrations))
	hs.Deploys.Now, hs.Deploys.MinAge, hs.Deploys.MinAgeSet = opt.now, opt.minAge, opt.minAgeSet
	var repo *gitlog.Repo
	if !opt.noGit {
		var err error
		if repo, err = early.locate(ctx, absPath(dir, hs.Root)); err != nil {
			return fmt.Errorf("%s: %w", hs.Root, err)
		}
		if repo != nil {
			repo.Store = opt.gitStore
		}
	}
	if repo == nil {
		if opt.since != "" {
			return fmt.Errorf("--since %s: %s is not in a git work tree (or git is not installed)", opt.since, hs.Root)
		}
		if !opt.noGit && len(hs.Set.Migrations) > 1 {
			// (one migration is one deploy either way)
			l.noGit = append(l.noGit, hs.Root)
		}
		return nil
	}
	if repo.Shallow {
		// One grafted commit would seem to have added every migration: one
		// deploy, in which every table is new and nothing is a finding.
		const fetch = "fetch the whole history (actions/checkout with fetch-depth: 0, GIT_DEPTH: 0 on GitLab, or git fetch --unshallow)"
		if opt.since != "" {
			return fmt.Errorf("--since %s: %s is in a shallow git clone, which lacks the commits that date the migrations; %s", opt.since, hs.Root, fetch)
		}
		l.Notes = append(l.Notes, fmt.Sprintf("warning: %s is in a shallow git clone: deploys cannot be dated, so every migration version counts as its own deploy and the time rules are skipped; %s", hs.Root, fetch))
		return nil
	}
	// repository paths of the parts and of the directories
	rel := make([]string, len(hs.Parts)) // by part
	var dirs []string
	relDir := map[string]string{} // a part's directory, in the repository
	lastDir, lastRel := "", ""    // the previous part's (most share it)
	for i, f := range hs.Parts {
		// Rel resolves the directory, not the file: once per directory
		fd := path.Dir(f.Path)
		d, ok := lastRel, fd == lastDir && i > 0
		if !ok {
			if d, ok = relDir[fd]; !ok {
				r, ok := repo.Rel(absPath(dir, f.Path))
				if !ok {
					return nil // outside the work tree: no history from git
				}
				d = path.Dir(r)
				relDir[fd] = d
			}
			lastDir, lastRel = fd, d
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
		switch d {
		case fd:
			rel[i] = f.Path // named from the repository's top already
		case ".":
			rel[i] = path.Base(f.Path)
		default:
			rel[i] = d + "/" + path.Base(f.Path) // both clean
		}
	}
	git := early.replies(ctx, repo, dirs, opt.since, len(hs.Parts))
	log, refs := git.log, git.refs
	for _, err := range []error{git.errAdded, git.errStatus, git.errSince} {
		if err != nil {
			return err
		}
	}
	uncommitted, dirty, unstaged, err := workStatus(ctx, repo, git, dirs, hs.Parts, rel, executable)
	if err != nil {
		return err
	}
	var inRef gitlog.Paths
	var changed map[string]bool
	var deleted, behind []string
	var wg sync.WaitGroup
	defer wg.Wait()
	if opt.since != "" {
		inRef = refs.inRef
		inBase := refs.inBase
		changedRef, changedBase, err := refs.changed(ctx, repo, dirs, unstaged)
		if err != nil {
			return err
		}
		changed = map[string]bool{}
		for p := range changedRef {
			if !inBase.Has(p) || changedBase[p] {
				changed[p] = true
			}
		}
		// (while the parts are dated: it reads the same maps)
		wg.Go(func() { deleted, behind = notParts(repo.Root, inRef, inBase, rel, wholeFiles(hs.Parts)) })
	}
	hist := &analyzer.History{Dated: true, Now: opt.now, MinAge: opt.minAge, MinAgeSet: opt.minAgeSet}
	number := map[string]int{}
	deploy := func(key string, d analyzer.Deploy) int {
		if n, ok := number[key]; ok {
			return n
		}
		d.N = len(hist.Deploys) + 1
		hist.Deploys = append(hist.Deploys, d)
		number[key] = d.N
		return d.N
	}
	pendingRef := "not committed"
	if opt.since != "" {
		pendingRef = "since " + opt.since
	}
	// what git said of each part, looked up on every core: git's log and
	// the index have as many entries as the history has files (100,000
	// and more)
	type answer struct {
		c                                 gitlog.Commit
		committed, pending, edited, marks bool
	}
	answers := make([]answer, len(hs.Parts))
	eachCore(len(hs.Parts), func(lo, hi int) {
		// the parts come in about the order of their names
		var inLog, inIndex gitlog.Cursor
		for i := lo; i < hi; i++ {
			r, a := rel[i], &answers[i]
			a.c, a.committed = log.Added(r, &inLog)
			a.pending = uncommitted[r] || !a.committed
			if opt.since != "" {
				in := inRef.HasFrom(&inIndex, r)
				a.pending = !in
				a.edited = in && changed[r]
			}
			a.marks = hasMarker(hs.Parts[i])
		}
	})
	for i, f := range hs.Parts {
		a := &answers[i]
		c, pending := a.c, a.pending
		if a.edited {
			f.Edited = opt.since
		}
		if pending {
			f.Deploy = deploy("pending", analyzer.Deploy{Pending: true, Ref: pendingRef})
		} else if n, ok := number[c.Hash]; ok {
			f.Deploy = n // (most parts: no Deploy built to be dropped)
		} else {
			f.Deploy = deploy(c.Hash, analyzer.Deploy{Time: c.Time, Ref: "commit " + c.Hash[:min(7, len(c.Hash))]})
		}
		if g.named == nil && opt.since != "" {
			f.Lint = pending || f.Edited != ""
		}
	}
	// a marker written into a migration after it shipped is as old as the
	// commit that added it, not as the migration
	ref := "HEAD"
	if opt.since != "" {
		ref = opt.since
	}
	for i, f := range hs.Parts {
		if !answers[i].marks || hist.Deploy(f.Deploy).Pending {
			continue
		}
		marks := markerLines(f)
		if len(marks) == 0 {
			continue
		}
		if !log.Modified(rel[i]) && !dirty[rel[i]] && !changed[rel[i]] {
			continue // its markers shipped with it (with REF's, under --since)
		}
		shipped := repo.Show(ctx, ref, rel[i])
		for _, m := range marks {
			d := 0
			if !strings.Contains(shipped, m.text) {
				d = deploy("pending", analyzer.Deploy{Pending: true, Ref: pendingRef})
			} else {
				c, err := repo.LastChange(ctx, ref, rel[i], m.text)
				if err != nil {
					return err
				}
				if c.Hash == "" {
					continue
				}
				d = deploy(c.Hash, analyzer.Deploy{Time: c.Time, Ref: "commit " + c.Hash[:min(7, len(c.Hash))]})
			}
			if d != f.Deploy {
				if f.MarkerDeploys == nil {
					f.MarkerDeploys = map[int]int{}
				}
				f.MarkerDeploys[m.line] = d
			}
		}
	}
	wg.Wait()
	for _, p := range deleted {
		l.Notes = append(l.Notes, fmt.Sprintf("warning: %s was in %s and has been deleted since: databases that applied it keep its changes", p, opt.since))
	}
	if len(behind) > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf("%s has %d migration files this branch does not (%s): they are not part of the history linted; merge or rebase onto %s to lint against them", opt.since, len(behind), strings.Join(behind, ", "), opt.since))
	}
	hs.Deploys, hs.Git = hist, true
	return nil
}

// notParts returns, sorted, the migrations of REF (inRef) that are not
// parts (rel) and not in the work tree (root): those the fork point had
// (inBase) were deleted since, the others are behind (REF has them, this
// branch does not). When each part is a whole file (whole: no two parts
// share a path) and as many parts as REF has migrations are among them,
// there are none, and no set of the parts is built (a history of 100,000
// that one branch adds to).
func notParts(root string, inRef, inBase gitlog.Paths, rel []string, whole bool) (deleted, behind []string) {
	if whole {
		inRefSQL, found := 0, 0
		for p := range inRef.All() {
			if strings.HasSuffix(p, ".sql") {
				inRefSQL++
			}
		}
		var c gitlog.Cursor
		for _, r := range rel {
			if inRef.HasFrom(&c, r) && strings.HasSuffix(r, ".sql") {
				found++
			}
		}
		if found == inRefSQL {
			return nil, nil
		}
	}
	parts := make(map[string]bool, len(rel))
	for _, r := range rel {
		parts[r] = true
	}
	for p := range inRef.All() {
		if !strings.HasSuffix(p, ".sql") || parts[p] {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err == nil {
			continue
		}
		if inBase.Has(p) {
			deleted = append(deleted, p)
		} else {
			behind = append(behind, p)
		}
	}
	sort.Strings(deleted)
	sort.Strings(behind)
	return deleted, behind
}

// wholeFiles reports whether each part is a whole file (goose and dbmate
// files hold an up and a down part).
func wholeFiles(parts []*analyzer.File) bool {
	for _, f := range parts {
		if f.Range.Start != 0 || f.Range.End != len(f.Src) {
			return false
		}
	}
	return true
}

// sinceRefs is what git says about --since REF: the migrations REF and
// the fork point from it have, and those the index changed since each
// (the work tree is compared once it has been read: changed).
type sinceRefs struct {
	rev, base             string
	inRef, inBase         gitlog.Paths
	stagedRef, stagedBase map[string]byte // (StagedStatus)
}

// askSince asks git about --since what needs no file of the work tree.
// index is the index as ReadIndex read it for a large history (waiting
// for it), else nil: from it, what a commit has is the index's entries
// with what the index changed since (gitlog.Repo.AtFromIndex), and what
// it changed since HEAD is known, where the commits' trees are listed
// otherwise (two processes and as many paths as the index for each).
func askSince(ctx context.Context, repo *gitlog.Repo, since string, dirs []string, index func() *gitlog.Index) (sinceRefs, error) {
	var r sinceRefs
	rev, err := repo.Verify(ctx, since)
	if err != nil {
		return r, err
	}
	r.rev = rev
	// what this branch changed is measured from where it left REF; a
	// migration REF has and the fork point had the same is not an edit of
	// this branch (REF changed it since)
	r.base = repo.MergeBase(ctx, rev)
	head, _ := repo.Head(ctx) // "" before the first commit
	// what commit c has, and how the index changed since c
	ask := func(c string) (in gitlog.Paths, staged map[string]byte, err error) {
		ix := index()
		if ix != nil && c == head {
			staged = ix.Staged()
		} else if staged, err = repo.StagedStatus(ctx, c, dirs); err != nil {
			return in, nil, err
		}
		if ix != nil {
			in, err = repo.AtFromIndex(ctx, ix, c, staged, dirs)
			return in, staged, err
		}
		set, err := repo.At(ctx, c, dirs)
		return gitlog.PathSet(set), staged, err
	}
	if r.inRef, r.stagedRef, err = ask(rev); err != nil {
		return r, err
	}
	r.inBase, r.stagedBase = r.inRef, r.stagedRef
	if r.base != rev {
		if r.inBase, r.stagedBase, err = ask(r.base); err != nil {
			return r, err
		}
	}
	return r, nil
}

// changed returns the files the work tree changed since REF and since the
// fork point, from unstaged: the files whose work tree differs from the
// index (gitlog.Repo.ChangedFrom).
func (r sinceRefs) changed(ctx context.Context, repo *gitlog.Repo, dirs []string, unstaged map[string]bool) (changedRef, changedBase map[string]bool, err error) {
	if changedRef, err = repo.ChangedFrom(ctx, r.rev, dirs, r.stagedRef, unstaged); err != nil {
		return nil, nil, err
	}
	changedBase = changedRef
	if r.base != r.rev {
		if changedBase, err = repo.ChangedFrom(ctx, r.base, dirs, r.stagedBase, unstaged); err != nil {
			return nil, nil, err
		}
	}
	return changedRef, changedBase, nil
}

// workStatus is what git status says of the parts' files (rel: their
// repository paths): its answer on a small history; on a large one, from
// the index read early and the parts' contents (gitlog.Repo.WorkStatus;
// git is asked about a templated file, whose part is not the file's
// content); git status itself when the index could not be read (a
// repository without a commit yet).
func workStatus(ctx context.Context, repo *gitlog.Repo, git gitReplies, dirs []string, parts []*analyzer.File, rel []string, executable map[string]bool) (uncommitted, dirty, unstaged map[string]bool, err error) {
	if w := git.status; w != nil {
		return w.uncommitted, w.dirty, w.unstaged, nil
	}
	if git.index == nil {
		return repo.Status(ctx, dirs)
	}
	files := make([]gitlog.WorkFile, 0, len(parts))
	bom := []byte("\xef\xbb\xbf")
	for i, f := range parts {
		if i > 0 && rel[i] == rel[i-1] {
			continue // the next part of the same file
		}
		w := gitlog.WorkFile{Path: rel[i], Content: [][]byte{f.Src}, Exec: executable[f.Path]}
		if f.BOM {
			w.Content = [][]byte{bom, f.Src}
		}
		files = append(files, w)
	}
	return repo.WorkStatus(ctx, git.index, dirs, files)
}

// markerLine is a line of a part that holds a -- migsafe:deprecate or
// -- migsafe:backfill marker.
type markerLine struct {
	line int    // in the file, from 1
	text string // the line, trimmed
}

// hasMarker reports whether a part may hold a marker line: whether
// markerLines needs to look.
func hasMarker(f *analyzer.File) bool {
	return bytes.Contains(f.Src[f.Range.Start:f.Range.End], []byte("migsafe:"))
}

// markerLines finds the marker lines of a part (a cheap look at the text;
// the engine reads the markers from the parsed comments).
func markerLines(f *analyzer.File) []markerLine {
	src := f.Src[f.Range.Start:f.Range.End]
	if !bytes.Contains(src, []byte("migsafe:deprecate")) && !bytes.Contains(src, []byte("migsafe:backfill")) {
		return nil
	}
	first := bytes.Count(f.Src[:f.Range.Start], []byte("\n")) + 1
	var out []markerLine
	for i, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		if strings.Contains(t, "migsafe:deprecate") || strings.Contains(t, "migsafe:backfill") {
			out = append(out, markerLine{line: first + i, text: t})
		}
	}
	return out
}

func absPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	a, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		return p
	}
	return a
}

// lintSets replays and lints every history and merges the results; n is
// the number of statements of the merged files.
func lintSets(ctx context.Context, s *Settings, sets iter.Seq[*History]) (merged *engine.Result, each []*engine.Result, n int, err error) {
	merged = &engine.Result{}
	seen := map[string]bool{}
	noteSeen := map[string]bool{}
	findings := 0
	for hs := range sets {
		// one history at a time: each run already parses on every core
		res, stmts, err := lintHistory(ctx, s, hs)
		if err != nil {
			return nil, nil, 0, err
		}
		if len(hs.NotSQL) > 0 {
			redact(res, hs.NotSQL)
		}
		each = append(each, res)
		for i, f := range res.Files {
			if f.Lint && !seen[f.Path] {
				seen[f.Path] = true
				merged.Files = append(merged.Files, f)
				merged.Stmts = append(merged.Stmts, stmts[i])
				n += stmts[i]
			}
		}
		findings += len(res.Findings)
		merged.Errors = append(merged.Errors, res.Errors...)
		for _, n := range res.Notes {
			if !noteSeen[n] {
				noteSeen[n] = true
				merged.Notes = append(merged.Notes, n)
			}
		}
	}
	// the findings are copied once, into a slice of their number (a
	// history after another regrew it: about 3 MB of 50 on the corpus)
	if findings > 0 {
		merged.Findings = make([]analyzer.Finding, 0, findings)
	}
	for _, res := range each {
		merged.Findings = append(merged.Findings, res.Findings...)
	}
	return merged, each, n, nil
}

// redact removes the source text of the files that are not SQL from a
// result: no excerpt (the files' line index is withheld from reporters),
// no statement text, no fix, and a syntax error names its offending token
// only. Such a file may be a secret reached through a link; its findings
// still say where the problem is.
func redact(res *engine.Result, notSQL map[string]bool) {
	for i, f := range res.Files {
		if notSQL[f.Path] {
			c := *f
			c.Lines = nil
			res.Files[i] = &c
		}
	}
	for i := range res.Findings {
		f := &res.Findings[i]
		if !notSQL[f.Path] {
			continue
		}
		f.StmtText, f.Fixes = "", nil
		if f.Code == rules.SyntaxError.Code {
			f.Message = tokenOnly(f.Message)
		}
	}
}

// tokenOnly cuts the quoted source in a parser's message to its first
// token: `syntax error near "aws_secret_access_key = …"` becomes
// `syntax error near "aws_secret_access_key"`.
func tokenOnly(msg string) string {
	i := strings.IndexByte(msg, '"')
	if i < 0 {
		return msg
	}
	j := strings.LastIndexByte(msg, '"')
	if j <= i {
		return msg[:i] + `"…"`
	}
	quoted := msg[i+1 : j]
	tok := quoted
	if k := strings.IndexFunc(quoted, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '=' || r == ':' }); k >= 0 {
		tok = quoted[:k]
	}
	if r := []rune(tok); len(r) > 40 {
		tok = string(r[:40]) + "…"
	}
	return msg[:i+1] + tok + `"` + msg[j+1:]
}
