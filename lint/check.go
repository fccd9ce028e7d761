package lint

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/rules"
)

// Load turns paths (files and directories, relative to s.Dir) into
// migration histories. A directory is searched recursively; each directory
// in it is a history of its own, except for Flyway and popx layouts, whose
// tools read one history from several directories. A file is linted with
// the rest of its directory read as its history (pre-commit passes only the
// staged files). Files the configuration excludes are left out.
//
// The error is a usage error (a bad layout, Since without git); files that
// cannot be read are in Loaded.Errors.
func Load(ctx context.Context, s *Settings, paths []string) (*Loaded, error) {
	return s.load(ctx, paths, nil)
}

// load is Load, giving each history to loaded (when not nil) as soon as
// it is loaded.
func (s *Settings) load(ctx context.Context, paths []string, loaded func(*History)) (*Loaded, error) {
	opt, err := s.historyOptions()
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	return loadHistoriesTo(ctx, paths, s.Dir, excluder(s.Config, s.Dir), opt, loaded), nil
}

// Result is what Check found.
type Result struct {
	*Loaded
	// Engine merges the histories' results: the linted files (once each),
	// every finding, the rules' internal errors (exit status 2) and notes.
	Engine *engine.Result
	// Each is the result of each history, in the order of Histories.
	Each []*engine.Result
	// Statements is the number of statements in Engine.Files. (A history
	// whose result came from the result cache, CacheOptions.Results, was
	// not replayed: its files have no Stmts, and its Each catalog holds
	// only the unmodelled statements.)
	Statements int
}

// Check loads the histories of paths (as Load does) and lints them with
// s's dialect and rules: `migsafe check`. Whether the findings fail the
// run is Failing(res.Engine.Findings, s.FailOn).
//
// A usage error returns a nil Result. When the engine fails (the context
// is cancelled), Check returns what was loaded with the error.
func Check(ctx context.Context, s *Settings, paths []string) (*Result, error) {
	// a history is linted while the next directory is read: reading is
	// mostly system calls, which leave a core to the parse (the corpus's
	// ten directories: 8% less wall time)
	loaded := make(chan *History, 16)
	res := &Result{}
	var lintErr error
	linted := make(chan struct{})
	go func() {
		defer close(linted)
		res.Engine, res.Each, res.Statements, lintErr = lintSets(ctx, s, receive(loaded))
	}()
	ld, err := s.load(ctx, paths, func(hs *History) { loaded <- hs })
	close(loaded)
	<-linted
	if err != nil {
		return nil, err
	}
	res.Loaded = ld
	return res, lintErr
}

// receive yields what ch sends until it is closed. When the loop over it
// stops early, it takes the rest, so that the sender is never blocked.
func receive[T any](ch <-chan T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range ch {
			if !yield(v) {
				for range ch {
				}
				return
			}
		}
	}
}

// SeveralHistoriesError is LoadHistory's error for a directory that holds
// more than one migration history (subdirectories of their own).
type SeveralHistoriesError struct {
	Dir string
	N   int
}

func (e *SeveralHistoriesError) Error() string {
	return fmt.Sprintf("%s holds %d migration histories; point at one directory", e.Dir, e.N)
}

// LoadHistory loads one migration directory (relative to s.Dir) as a
// history in its layout (s's Layout option, else the configuration's,
// else detected), with deploys dated from git unless the NoGit option is
// set. Every .sql file of the directory is part of it: the configuration's
// excludes say what not to lint, not what a database does not apply. All
// of its migrations are marked to be linted; CheckMigrations chooses.
//
// It returns nil and no error when dir holds no .sql file, the first file
// that cannot be read as an error, and a *SeveralHistoriesError when dir
// holds several histories. Warnings about the layout (a duplicate
// version) are in the history's Notes.
func LoadHistory(ctx context.Context, s *Settings, dir string) (*History, error) {
	opt, err := s.historyOptions()
	if err != nil {
		return nil, err
	}
	full := dir
	if !filepath.IsAbs(full) {
		full = filepath.Join(s.Dir, dir)
	}
	st, err := os.Stat(full)
	if err != nil {
		return nil, PathError(dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	none := func(string) bool { return false }
	files, err := sqlFiles(full, s.Dir, none, nil)
	if err != nil {
		return nil, PathError(dir, err)
	}
	if len(files) == 0 {
		return nil, nil
	}
	ld := loadHistories(ctx, []string{dir}, s.Dir, none, opt)
	if len(ld.Errors) > 0 {
		return nil, ld.Errors[0]
	}
	if len(ld.Histories) != 1 {
		return nil, &SeveralHistoriesError{Dir: dir, N: len(ld.Histories)}
	}
	h := ld.Histories[0]
	h.Notes = ld.Notes
	return h, nil
}

// CheckMigrations lints the migrations of h that pick selects (for a
// runner: the pending ones), with every migration before them replayed as
// history, using s's dialect and rules: what `migsafe check` would report
// on them. Migrations after the last selected one are left out. h is not
// modified, so that it can be checked again with another selection.
//
// Whether the findings should stop the run is
// Failing(res.Findings, s.FailOn).
func CheckMigrations(ctx context.Context, s *Settings, h *History, pick func(*migrations.Migration) bool) (*engine.Result, error) {
	if h == nil {
		return nil, errors.New("lint.CheckMigrations: no history")
	}
	selected := map[*analyzer.File]bool{}
	for _, m := range h.Set.Migrations {
		if pick(m) {
			for _, f := range append(append([]*analyzer.File(nil), m.Up...), m.Down...) {
				selected[f] = true
			}
		}
	}
	var parts []*analyzer.File
	last := -1
	for i, f := range h.Parts {
		c := *f
		c.Lint = selected[f]
		if c.Lint {
			last = i
		}
		parts = append(parts, &c)
	}
	parts = parts[:last+1]
	return engine.Run(ctx, parts, engine.Options{Dialect: s.Dialect, Rules: s.Rules, Known: rules.All(), History: h.Deploys})
}
