// Package dbstep runs the rollout steps that work on the plan's
// migrations section: check lints the pending migrations with the same
// engine as `migsafe check` (lint.LoadHistory, lint.CheckMigrations), and
// migrate applies them with the migrate runner's expand phase (the lint
// gate first, stopping before the first contract step).
//
// The database URL comes from the environment variable the plan names,
// never from the plan; it is not journaled or printed (the migrate
// package scrubs its password from every message). A migrate step is
// idempotent by construction: the migrate package's lock and history
// decide what is already applied, so after a kill -9 the step simply runs
// again and applies only what is pending (a migration that was cut short
// is recovered by the migrate package or refused with the repair to run).
package dbstep

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/migrate"
	"github.com/migsafe/migsafe/migrate/lintgate"
	"github.com/migsafe/migsafe/rollout/plan"
)

// Runner runs check and migrate steps.
type Runner struct {
	// Getenv reads the database URL's variable; nil is os.Getenv.
	Getenv func(string) string
	// Dir is the working directory of the lint settings (where
	// .migsafe.yaml is looked for, upward); "" is the process's.
	Dir string
	// Version is migsafe's version, recorded in migsafe_history.
	Version string
}

func (r *Runner) open(ctx context.Context, m *plan.Migrations, runID string, note func(string)) (*migrate.Runner, *lintgate.Gate, error) {
	getenv := r.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	url := getenv(m.DatabaseEnv)
	if url == "" {
		return nil, nil, fmt.Errorf("migrations: the database URL is read from $%s, which is empty: set it (postgres://… or mysql://…)", m.DatabaseEnv)
	}
	dialect := m.Dialect
	if dialect == "" { // the database says
		if strings.HasPrefix(url, "mysql") {
			dialect = analyzer.MySQL
		} else {
			dialect = analyzer.Postgres
		}
	}
	src, err := migrate.Load(m.Dir, dialect)
	if err != nil {
		return nil, nil, err
	}
	s, err := lint.Resolve(lint.Options{Dir: r.Dir, Config: m.Config, Dialect: dialect, TargetVersion: m.TargetVersion, FailOn: m.FailOn, Paths: []string{m.Dir}})
	if err != nil {
		return nil, nil, err
	}
	g := lintgate.New(s, src, migrate.PhaseExpand)
	opt := migrate.Options{DatabaseURL: url, Source: src, LockWait: m.LockWait, LockTimeout: m.LockTimeout,
		StatementTimeout: m.StatementTimeout, Gate: g, Version: r.Version, RunID: runID}
	if note != nil {
		opt.Events = func(e migrate.Event) {
			if s := describe(e); s != "" {
				note(s)
			}
		}
	}
	mr, err := migrate.Open(ctx, opt)
	if err != nil {
		return nil, nil, err
	}
	return mr, g, nil
}

func describe(e migrate.Event) string {
	name := fmt.Sprintf("%d_%s", e.Version, e.Name)
	switch e.Kind {
	case "start":
		if e.Attempt > 1 {
			return fmt.Sprintf("%s %s: attempt %d", e.Direction, name, e.Attempt)
		}
		return fmt.Sprintf("%s %s: started", e.Direction, name)
	case "done":
		s := fmt.Sprintf("%s %s: applied (%s)", e.Direction, name, e.Duration.Round(time.Millisecond))
		for i, l := range e.Locks {
			sep := "; "
			if i == 0 {
				sep = "; predicted locks: "
			}
			s += sep + l.String()
		}
		return s
	case "retry":
		return fmt.Sprintf("%s %s: attempt %d failed, nothing applied; retrying: %s", e.Direction, name, e.Attempt, e.Message)
	case "failed":
		return fmt.Sprintf("%s %s: FAILED after %s", e.Direction, name, e.Duration.Round(time.Millisecond))
	case "recovered":
		return fmt.Sprintf("recovered %s (%s): %s", name, e.Direction, e.Message)
	case "note":
		return e.Message
	}
	return ""
}

// Migrate applies the pending migrations of m with the expand phase and
// returns a summary. runID names the run in migsafe_history. note
// receives progress lines (each migration started, applied, retried,
// failed, recovered).
func (r *Runner) Migrate(ctx context.Context, m *plan.Migrations, runID string, note func(string)) (string, error) {
	mr, _, err := r.open(ctx, m, runID, note)
	if err != nil {
		return "", err
	}
	defer mr.Close()
	res, err := mr.Up(ctx, -1, nil)
	if err != nil {
		return "", err
	}
	n := 0
	for _, s := range res.Steps {
		if s.Outcome == migrate.OutcomeApplied {
			n++
		}
	}
	sum := fmt.Sprintf("%s: version %s → %s, %d migration(s) applied", mr.Database(), version(res.From), version(res.To), n)
	if res.Stopped != "" {
		sum += "; " + res.Stopped + " (the contract phase runs after the release)"
	}
	return sum, nil
}

// Check lints the migrations the database has not applied yet, with the
// lint gate's settings, and fails on a finding at or above fail-on, on a
// dirty database and on what the next migrate would refuse (checksum
// drift, missing files, out-of-order versions). It changes nothing.
func (r *Runner) Check(ctx context.Context, m *plan.Migrations, note func(string)) (string, error) {
	mr, g, err := r.open(ctx, m, "", nil)
	if err != nil {
		return "", err
	}
	defer mr.Close()
	st, err := mr.Status(ctx)
	if err != nil {
		return "", err
	}
	if st.Dirty {
		return "", fmt.Errorf("%s is dirty at version %s: run migsafe migrate repair", st.Database, version(st.Version))
	}
	if len(st.Problems) > 0 {
		return "", st.Problems
	}
	if len(st.Pending) == 0 {
		return fmt.Sprintf("%s is at version %s: nothing pending", st.Database, version(st.Version)), nil
	}
	findings, notes, err := g.Check(ctx, st.Pending)
	if err != nil {
		return "", err
	}
	for _, n := range notes {
		if note != nil {
			note(n)
		}
	}
	return fmt.Sprintf("%d pending migration(s) linted: %d finding(s), none at or above fail-on %s", len(st.Pending), findings, g.Settings.FailOn), nil
}

func version(v int64) string {
	if v < 0 {
		return "none"
	}
	return fmt.Sprint(v)
}

// Pending reads, from the database's records (its migration version and
// migsafe_history), the migrations of m that the next migrate would apply.
// It changes nothing.
func (r *Runner) Pending(ctx context.Context, m *plan.Migrations) (database string, pending []*migrate.Migration, err error) {
	mr, _, err := r.open(ctx, m, "", nil)
	if err != nil {
		return "", nil, err
	}
	defer mr.Close()
	st, err := mr.Status(ctx)
	if err != nil {
		return "", nil, err
	}
	if st.Dirty {
		return "", nil, fmt.Errorf("%s is dirty at version %s: run migsafe migrate repair", st.Database, version(st.Version))
	}
	return st.Database, st.Pending, nil
}

// Verifications reads what verify-rollback recorded in the scratch
// database at url (migsafe_rollback_verifications), for the migrations
// of m.
func (r *Runner) Verifications(ctx context.Context, m *plan.Migrations, url string) (map[uint]migrate.Verified, error) {
	src, err := migrate.LoadDir(m.Dir)
	if err != nil {
		return nil, err
	}
	mr, err := migrate.Open(ctx, migrate.Options{DatabaseURL: url, Source: src})
	if err != nil {
		return nil, err
	}
	defer mr.Close()
	return mr.Verifications(ctx)
}
