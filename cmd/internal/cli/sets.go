package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
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
}

// historySet is one migration history to replay: a directory (several for
// Flyway and popx) in its tool's order, with deploys.
type historySet struct {
	root  string // the directory, as displayed
	set   *migrations.Set
	parts []*analyzer.File // replay order, up to the last part to lint
	hist  *analyzer.History
	git   bool // deploys come from git
}

// loaded is what loadHistories found.
type loaded struct {
	sets  []*historySet
	errs  []error  // files that could not be read or found: exit status 2
	notes []string // notices for standard error
	empty []string // linted files with nothing in them
}

// group is the files one argument contributes, by directory.
type group struct {
	arg   string
	dirs  map[string][]string // display dir → display paths
	named map[string]bool     // file arguments: only these are linted
	// listed are the paths in dirs, for file arguments
	listed map[string]bool
}

// loadHistories turns the command-line paths into migration histories.
// A directory argument is searched recursively; each directory in it is a
// history of its own, except for Flyway and popx layouts, whose tools read
// one history from several directories. A file argument is linted with
// the rest of its directory read as its history (pre-commit passes only
// the staged files).
func loadHistories(ctx context.Context, args []string, dir string, excluded func(string) bool, opt histOptions) *loaded {
	l := &loaded{}
	var groups []*group
	byDir := map[string]*group{} // file arguments, by directory
	for _, arg := range args {
		full := arg
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, arg)
		}
		if st, err := os.Stat(full); err == nil && !st.IsDir() {
			name := display(dir, full)
			if excluded(name) {
				continue
			}
			d := path.Dir(name)
			g := byDir[d]
			if g == nil {
				g = &group{arg: d, dirs: map[string][]string{}, named: map[string]bool{}, listed: map[string]bool{}}
				byDir[d] = g
				groups = append(groups, g)
				g.dirs[d] = sqlFiles(filepath.Dir(full), dir, excluded)
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
		// discover reports missing paths, unreadable directories and
		// directories without .sql files
		files, errs := discover([]string{arg}, dir, excluded)
		l.errs = append(l.errs, errs...)
		if len(files) == 0 {
			continue
		}
		g := &group{arg: display(dir, full), dirs: map[string][]string{}}
		for _, name := range files {
			g.dirs[path.Dir(name)] = append(g.dirs[path.Dir(name)], name)
		}
		groups = append(groups, g)
	}
	for _, g := range groups {
		l.loadGroup(ctx, g, dir, opt)
	}
	return l
}

// readResult is one file as readSQL returned it.
type readResult struct {
	src []byte
	bom bool
	err error
}

// readAll reads names with readSQL on every core: on a history of
// thousands of small files the system calls are a fifth of a run.
func readAll(dir string, names []string, max int64) []readResult {
	out := make([]readResult, len(names))
	workers := min(runtime.GOMAXPROCS(0)*2, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				r := &out[i]
				r.src, r.bom, r.err = readSQL(dir, names[i], max)
			}
		})
	}
	wg.Wait()
	return out
}

// sqlFiles lists the .sql files of one directory (not recursive).
func sqlFiles(full, dir string, excluded func(string) bool) []string {
	ents, err := os.ReadDir(full)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.EqualFold(filepath.Ext(e.Name()), ".sql") {
			name := display(dir, filepath.Join(full, e.Name()))
			if !excluded(name) {
				out = append(out, name)
			}
		}
	}
	return out
}

func (l *loaded) loadGroup(ctx context.Context, g *group, dir string, opt histOptions) {
	srcs := map[string][]migrations.Source{}
	var all []migrations.Source
	dirs := make([]string, 0, len(g.dirs))
	for d := range g.dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var names []string
	for _, d := range dirs {
		names = append(names, g.dirs[d]...)
	}
	read := readAll(dir, names, opt.maxSize)
	k := 0
	for _, d := range dirs {
		for _, name := range g.dirs[d] {
			src, bom, err := read[k].src, read[k].bom, read[k].err
			k++
			if err != nil {
				if g.named == nil || g.named[name] {
					l.errs = append(l.errs, err)
				} else {
					l.notes = append(l.notes, fmt.Sprintf("left out of the history of %s: %v", d, err))
				}
				continue
			}
			s := migrations.Source{Path: name, Src: src, BOM: bom}
			srcs[d] = append(srcs[d], s)
			all = append(all, s)
		}
	}
	if len(all) == 0 {
		return
	}
	layout := opt.layout
	multi := layout.MultiDirectory()
	if layout == migrations.Auto {
		det := migrations.Detect(all)
		multi = det.Layout.MultiDirectory() && len(det.Ambiguous) == 0
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
		ly := layout
		if ly == migrations.Auto {
			det := migrations.Detect(u)
			if len(det.Ambiguous) > 0 {
				var names []string
				for _, a := range det.Ambiguous {
					names = append(names, string(a))
				}
				l.errs = append(l.errs, fmt.Errorf("%s: cannot tell which migration tool this directory is for (files look like %s); set migrations.layout in .migsafe.yaml or pass --layout", roots[i], strings.Join(names, " and ")))
				continue
			}
		}
		set := migrations.Build(u, migrations.Options{Layout: ly, Dialect: opt.dialect, Sibling: func(p string) ([]byte, bool) {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			return b, err == nil
		}})
		for _, p := range set.Problems {
			l.notes = append(l.notes, "warning: "+p.Error())
		}
		hs := &historySet{root: roots[i], set: set, parts: set.Parts()}
		if err := l.assignDeploys(ctx, hs, g, dir, opt); err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		// only what comes before the last part to lint matters
		last := -1
		for j, f := range hs.parts {
			if f.Lint {
				last = j
				if blank(f) {
					l.empty = append(l.empty, f.Path)
				}
			}
		}
		if g.named != nil {
			hs.parts = hs.parts[:last+1]
		}
		l.sets = append(l.sets, hs)
	}
}

func blank(f *analyzer.File) bool {
	return len(strings.TrimSpace(string(f.Src[f.Range.Start:f.Range.End]))) == 0
}

// assignDeploys decides what is linted and which deploy each part belongs
// to: from git when the files are in a work tree, else every migration
// version is its own undated deploy.
func (l *loaded) assignDeploys(ctx context.Context, hs *historySet, g *group, dir string, opt histOptions) error {
	for _, f := range hs.parts {
		f.Lint = g.named == nil || g.named[f.Path]
	}
	hs.hist = analyzer.Undated(len(hs.set.Migrations))
	hs.hist.Now, hs.hist.MinAge, hs.hist.MinAgeSet = opt.now, opt.minAge, opt.minAgeSet
	var repo *gitRepo
	if !opt.noGit {
		repo = findGit(ctx, filepath.Join(dir, filepath.FromSlash(hs.root)))
	}
	if repo == nil {
		if opt.since != "" {
			return fmt.Errorf("--since %s: %s is not in a git work tree (or git is not installed)", opt.since, hs.root)
		}
		return nil
	}
	if repo.shallow {
		// One grafted commit would seem to have added every migration: one
		// deploy, in which every table is new and nothing is a finding.
		const fetch = "fetch the whole history (actions/checkout with fetch-depth: 0, GIT_DEPTH: 0 on GitLab, or git fetch --unshallow)"
		if opt.since != "" {
			return fmt.Errorf("--since %s: %s is in a shallow git clone, which lacks the commits that date the migrations; %s", opt.since, hs.root, fetch)
		}
		l.notes = append(l.notes, fmt.Sprintf("warning: %s is in a shallow git clone: deploys cannot be dated, so every migration version counts as its own deploy and the time rules are skipped; %s", hs.root, fetch))
		return nil
	}
	// repository paths of the parts and of the directories
	rel := map[*analyzer.File]string{}
	var dirs []string
	for _, f := range hs.parts {
		r, ok := repo.rel(absPath(dir, f.Path))
		if !ok {
			return nil // outside the work tree: no history from git
		}
		rel[f] = r
		if d := path.Dir(r); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	added, err := repo.added(ctx, dirs)
	if err != nil {
		return err
	}
	uncommitted, err := repo.uncommitted(ctx, dirs)
	if err != nil {
		return err
	}
	var inRef, changed map[string]bool
	if opt.since != "" {
		rev, err := repo.verify(ctx, opt.since)
		if err != nil {
			return err
		}
		if inRef, err = repo.at(ctx, rev, dirs); err != nil {
			return err
		}
		// what this branch changed is measured from where it left REF; a
		// migration REF has and the fork point had the same is not an
		// edit of this branch (REF changed it since)
		base := repo.mergeBase(ctx, rev)
		inBase := inRef
		if base != rev {
			if inBase, err = repo.at(ctx, base, dirs); err != nil {
				return err
			}
		}
		changedRef, err := repo.changedSince(ctx, rev, dirs)
		if err != nil {
			return err
		}
		changedBase := changedRef
		if base != rev {
			if changedBase, err = repo.changedSince(ctx, base, dirs); err != nil {
				return err
			}
		}
		changed = map[string]bool{}
		for p := range changedRef {
			if !inBase[p] || changedBase[p] {
				changed[p] = true
			}
		}
		var behind []string
		for p := range inRef {
			if !strings.HasSuffix(p, ".sql") || slices.ContainsFunc(hs.parts, func(f *analyzer.File) bool { return rel[f] == p }) {
				continue
			}
			if _, err := os.Stat(filepath.Join(repo.root, filepath.FromSlash(p))); err == nil {
				continue
			}
			if inBase[p] {
				l.notes = append(l.notes, fmt.Sprintf("warning: %s was in %s and has been deleted since: databases that applied it keep its changes", p, opt.since))
			} else {
				behind = append(behind, p)
			}
		}
		if len(behind) > 0 {
			sort.Strings(behind)
			l.notes = append(l.notes, fmt.Sprintf("%s has %d migration files this branch does not (%s): they are not part of the history linted; merge or rebase onto %s to lint against them", opt.since, len(behind), strings.Join(behind, ", "), opt.since))
		}
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
	for _, f := range hs.parts {
		r := rel[f]
		c, committed := added[r]
		pending := uncommitted[r] || !committed
		if opt.since != "" {
			pending = !inRef[r]
			if inRef[r] && changed[r] {
				f.Edited = opt.since
			}
		}
		if pending {
			f.Deploy = deploy("pending", analyzer.Deploy{Pending: true, Ref: pendingRef})
		} else {
			f.Deploy = deploy(c.hash, analyzer.Deploy{Time: c.time, Ref: "commit " + c.hash[:min(7, len(c.hash))]})
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
	for _, f := range hs.parts {
		if hist.Deploy(f.Deploy).Pending {
			continue
		}
		marks := markerLines(f)
		if len(marks) == 0 {
			continue
		}
		shipped := repo.show(ctx, ref, rel[f])
		for _, m := range marks {
			d := 0
			if !strings.Contains(shipped, m.text) {
				d = deploy("pending", analyzer.Deploy{Pending: true, Ref: pendingRef})
			} else {
				c, err := repo.lastChange(ctx, ref, rel[f], m.text)
				if err != nil {
					return err
				}
				if c.hash == "" {
					continue
				}
				d = deploy(c.hash, analyzer.Deploy{Time: c.time, Ref: "commit " + c.hash[:min(7, len(c.hash))]})
			}
			if d != f.Deploy {
				if f.MarkerDeploys == nil {
					f.MarkerDeploys = map[int]int{}
				}
				f.MarkerDeploys[m.line] = d
			}
		}
	}
	hs.hist, hs.git = hist, true
	return nil
}

// markerLine is a line of a part that holds a -- migsafe:deprecate or
// -- migsafe:backfill marker.
type markerLine struct {
	line int    // in the file, from 1
	text string // the line, trimmed
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

// historyFlags are the check/status flags about migration histories.
func historyFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "layout", Usage: "migration layout: auto, golang-migrate, goose, dbmate, flyway, popx or plain (default: migrations.layout in the configuration, else detected)", Sources: ucli.EnvVars("MIGSAFE_LAYOUT")},
		&ucli.StringFlag{Name: "since", Usage: "lint only the migrations added or changed since the git `REF` (origin/main, a tag, HEAD~3); the others are replayed as history and date the deploys", Sources: ucli.EnvVars("MIGSAFE_SINCE")},
		&ucli.BoolFlag{Name: "no-git", Usage: "do not read deploy dates from git: every migration version counts as its own deploy"},
		&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also list the statements the schema model could not follow and the files the layout leaves out"},
	}
}

// historyOptions resolves the history flags and configuration.
func historyOptions(cmd *ucli.Command, env Env, s *settings) (histOptions, error) {
	opt := histOptions{dialect: s.dialect.Name(), since: cmd.String("since"), noGit: cmd.Bool("no-git"), maxSize: MaxFileSize, minAge: s.cfg.Migrations.MinDeprecationAge, minAgeSet: s.cfg.Migrations.MinDeprecationAgeText != ""}
	if cmd.IsSet("max-file-size") {
		opt.maxSize = cmd.Int64("max-file-size")
	}
	name := firstOf(cmd.String("layout"), s.cfg.Migrations.Layout)
	l, err := migrations.ParseLayout(name)
	if err != nil {
		msg := err.Error() + " (want " + strings.Join(migrations.LayoutNames(), ", ") + ")"
		if sug := analyzer.Suggest(name, migrations.LayoutNames()); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
		return opt, usageErr("--layout: %s", msg)
	}
	opt.layout = l
	if opt.since != "" && opt.noGit {
		return opt, usageErr("--since needs git; it cannot be used with --no-git")
	}
	opt.now = time.Now()
	if v := env.Getenv("MIGSAFE_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return opt, usageErr("MIGSAFE_NOW=%q: want an RFC 3339 time such as 2024-06-10T12:00:00Z", v)
		}
		opt.now = t
	}
	return opt, nil
}

// lintSets replays and lints every history and merges the results.
func lintSets(ctx context.Context, s *settings, sets []*historySet) (*engine.Result, []*engine.Result, error) {
	merged := &engine.Result{}
	var each []*engine.Result
	seen := map[string]bool{}
	noteSeen := map[string]bool{}
	for _, hs := range sets {
		// one history at a time: each run already parses on every core
		res, err := engine.Run(ctx, hs.parts, engine.Options{Dialect: s.dialect, Rules: s.rules, Known: rules.All(), History: hs.hist})
		if err != nil {
			return nil, nil, err
		}
		each = append(each, res)
		for _, f := range res.Files {
			if f.Lint && !seen[f.Path] {
				seen[f.Path] = true
				merged.Files = append(merged.Files, f)
			}
		}
		merged.Findings = append(merged.Findings, res.Findings...)
		merged.Errors = append(merged.Errors, res.Errors...)
		for _, n := range res.Notes {
			if !noteSeen[n] {
				noteSeen[n] = true
				merged.Notes = append(merged.Notes, n)
			}
		}
	}
	return merged, each, nil
}

// writeNotes writes the loader's and the rules' notices, and with
// --verbose what the layouts left out and what the model could not follow.
func writeNotes(w io.Writer, cmd *ucli.Command, ld *loaded, res *engine.Result, each []*engine.Result) {
	if cmd.Bool("quiet") {
		return
	}
	for _, n := range ld.notes {
		if strings.HasPrefix(n, "warning: ") {
			fmt.Fprintf(w, "migsafe: %s\n", n)
		} else {
			fmt.Fprintf(w, "migsafe: note: %s\n", n)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "migsafe: note: %s\n", n)
	}
	if !cmd.Bool("verbose") {
		return
	}
	for i, hs := range ld.sets {
		fmt.Fprintf(w, "migsafe: %s: %s layout (%s), %d migrations\n", hs.root, hs.set.Layout, hs.set.Why, len(hs.set.Migrations))
		for _, sk := range hs.set.Skipped {
			fmt.Fprintf(w, "migsafe: note: %s left out: %s\n", sk.Path, sk.Reason)
		}
		if i < len(each) {
			for _, u := range each[i].Catalog.Unmodeled {
				fmt.Fprintf(w, "migsafe: note: %s:%d: not modelled: %s: %s\n", u.Origin.Path, u.Origin.Line, u.Kind, u.Reason)
			}
		}
	}
}
