// Package lintgate is where the migration runner meets the linter: a
// migrate.Gate that lints the pending migrations the way `migsafe check`
// does (the same configuration, rules, git history and fail-on, through
// lint.LoadHistory and lint.CheckMigrations), refuses them when a finding
// reaches fail-on, and for the expand phase stops before the first
// contract step. The rollout runner's check and migrate steps use it.
package lintgate

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/migrate"
)

// Refused is the gate's refusal: the findings at or above fail-on.
type Refused struct {
	FailOn   string
	Findings []analyzer.Finding // the unsuppressed ones
}

func (e *Refused) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the lint gate refuses the pending migrations (findings at or above --fail-on %s; fix them, or suppress one with a -- migsafe:ignore comment that says why):", e.FailOn)
	for _, f := range e.Findings {
		fmt.Fprintf(&b, "\n  %s:%d:%d: %s %s: %s", f.Path, f.Start.Line, f.Start.Column, f.Severity, f.Name, f.Message)
	}
	return b.String()
}

// Gate lints the pending migrations of a source directory.
type Gate struct {
	Settings *lint.Settings
	Dir      string // the migrations directory (the source's)
	Phase    string // migrate.PhaseExpand stops before a contract step

	last   *lintResult // the last review's, for Locks
	source *migrate.Source
}

// New is the gate of src under s for a phase (migrate.PhaseAll,
// PhaseExpand or PhaseContract).
func New(s *lint.Settings, src *migrate.Source, phase string) *Gate {
	return &Gate{Settings: s, Dir: src.Dir, Phase: phase, source: src}
}

// lintPending lints the pending migrations and returns the result (nil when the
// directory holds no .sql file). It does not judge the findings.
func (g *Gate) lintPending(ctx context.Context, pending []*migrate.Migration) (*lintResult, error) {
	s := g.Settings
	want := map[string]bool{}
	for _, m := range pending {
		want[fullPath(s.Dir, m.Up.Path)] = true
	}
	h, err := lint.LoadHistory(ctx, s, g.Dir)
	if err != nil || h == nil {
		return nil, err
	}
	res, err := lint.CheckMigrations(ctx, s, h, func(m *migrations.Migration) bool {
		for _, f := range m.Up {
			if want[fullPath(s.Dir, f.Path)] {
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	return &lintResult{Findings: res.Findings, Files: res.Files, history: h}, nil
}

type lintResult struct {
	Findings []analyzer.Finding
	Files    []*analyzer.File
	history  *lint.History
	byPath   map[fileKey]*analyzer.File // built on first use
}

type fileKey struct {
	dir  analyzer.Direction
	path string // fullPath
}

// file is the parsed part of a migration file in a direction, or nil.
func (r *lintResult) file(dir string, d analyzer.Direction, p string) *analyzer.File {
	if r.byPath == nil {
		r.byPath = map[fileKey]*analyzer.File{}
		for _, f := range r.Files {
			r.byPath[fileKey{f.Direction, fullPath(dir, f.Path)}] = f
		}
	}
	return r.byPath[fileKey{d, fullPath(dir, p)}]
}

// Review implements migrate.Gate. In the expand phase it stops before the
// first contract step, and only the migrations it lets through (their up
// and down files) have to pass fail-on: a contract step waits for its own
// later run. In the contract phase it refuses a drop whose deprecation is
// not old enough by git's deploy dates (ReviewApplied also asks the
// database).
func (g *Gate) Review(ctx context.Context, pending []*migrate.Migration) (int, string, error) {
	return g.ReviewApplied(ctx, pending, nil)
}

// ReviewApplied implements migrate.HistoryGate: Review, where the contract
// phase also measures a deprecation's age from when this database applied
// it (applied: version → time, from migsafe_history).
func (g *Gate) ReviewApplied(ctx context.Context, pending []*migrate.Migration, applied map[uint]time.Time) (int, string, error) {
	res, err := g.lintPending(ctx, pending)
	if err != nil {
		return 0, "", err
	}
	if res == nil {
		return len(pending), "", nil
	}
	g.last = res
	if g.Phase == migrate.PhaseContract {
		if err := g.tooEarly(ctx, res, pending, applied); err != nil {
			return 0, "", err
		}
	}
	allow, why := len(pending), ""
	if g.Phase == migrate.PhaseExpand {
		for i, m := range pending {
			if r := g.contract(res, m); r != "" {
				allow, why = i, fmt.Sprintf("--phase expand stops before %s, a contract step (%s)", m.Label(), r)
				break
			}
		}
	}
	dir := g.Settings.Dir
	judged := map[string]bool{}
	for _, m := range pending[:allow] {
		judged[fullPath(dir, m.Up.Path)] = true
		if m.Down != nil {
			judged[fullPath(dir, m.Down.Path)] = true
		}
	}
	var judgedFindings []analyzer.Finding
	for _, f := range res.Findings {
		if judged[fullPath(dir, f.Path)] {
			judgedFindings = append(judgedFindings, f)
		}
	}
	if err := g.judge(&lintResult{Findings: judgedFindings}); err != nil {
		return 0, "", err
	}
	return allow, why, nil
}

// Check lints the pending migrations without applying anything: the
// refusal Review would give, and a note per contract step the expand
// phase would stop before.
func (g *Gate) Check(ctx context.Context, pending []*migrate.Migration) (findings int, notes []string, err error) {
	res, err := g.lintPending(ctx, pending)
	if err != nil || res == nil {
		return 0, nil, err
	}
	for _, f := range res.Findings {
		if f.Suppressed == nil {
			findings++
		}
	}
	if err := g.judge(res); err != nil {
		return findings, nil, err
	}
	for _, m := range pending {
		if why := g.contract(res, m); why != "" {
			notes = append(notes, fmt.Sprintf("%s is a contract step (%s): the expand phase stops before it", m.Label(), why))
		}
	}
	return findings, notes, nil
}

func (g *Gate) judge(res *lintResult) error {
	if !lint.Failing(res.Findings, g.Settings.FailOn) {
		return nil
	}
	e := &Refused{FailOn: g.Settings.FailOn}
	for _, f := range res.Findings {
		if f.Suppressed == nil {
			e.Findings = append(e.Findings, f)
		}
	}
	return e
}

func (g *Gate) contract(res *lintResult, m *migrate.Migration) string {
	if f := res.file(g.Settings.Dir, analyzer.Up, m.Up.Path); f != nil {
		return migrate.ContractReason(f)
	}
	return ""
}

// fullPath is p made absolute against dir and cleaned, so that the
// runner's paths and the linter's displayed paths compare.
func fullPath(dir, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

// Locks implements migrate.Predictor: the locks the last reviewed
// migrations take, statement by statement, as the linter's model of the
// server predicts them (the physics behind `migsafe check`'s findings).
// The same lock on the same object is listed once, at its first
// statement; a table the file creates is nobody else's yet, so its locks
// are left out.
func (g *Gate) Locks(m *migrate.Migration, direction string) []migrate.Lock {
	f := m.Up
	want := analyzer.Up
	if direction == "down" {
		f, want = m.Down, analyzer.Down
	}
	if g.last == nil || f == nil {
		return nil
	}
	var out []migrate.Lock
	seen := map[migrate.Lock]bool{}
	if af := g.last.file(g.Settings.Dir, want, f.Path); af != nil {
		created := map[string]bool{}
		for _, st := range af.Stmts {
			for _, c := range st.Changes {
				if ct, ok := c.(*change.CreateTable); ok && ct.PartitionOf == nil {
					created[ct.Table.String()] = true
				}
				e := c.Base().Effect
				if e.Lock == "" || created[e.On] {
					continue
				}
				l := migrate.Lock{Mode: e.Lock, On: e.On, Blocks: e.Blocks.String()}
				var work []string
				if e.Algorithm != "" {
					work = append(work, "ALGORITHM="+e.Algorithm)
				}
				if e.Work != change.WorkNone {
					work = append(work, e.Work.String())
				}
				l.Work = strings.Join(work, ", ")
				if seen[l] {
					continue
				}
				seen[l] = true
				l.Line = af.Lines.Position(st.Span.Start).Line
				out = append(out, l)
			}
		}
	}
	return out
}
