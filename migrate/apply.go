package migrate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// ErrInterrupted is returned when the run stopped between migrations
// because its context was cancelled (the first SIGINT/SIGTERM).
var ErrInterrupted = errors.New("interrupted: stopped between migrations")

// Refusal is a check that failed before anything ran, with the fix.
type Refusal struct {
	What string
	Fix  string
}

func (r Refusal) Error() string { return r.What + "\n  fix: " + r.Fix }

// Refusals are all the checks that failed.
type Refusals []Refusal

func (rs Refusals) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refusing to run: %d problem", len(rs))
	if len(rs) > 1 {
		b.WriteString("s")
	}
	for _, r := range rs {
		b.WriteString("\n- " + strings.ReplaceAll(r.Error(), "\n", "\n  "))
	}
	return b.String()
}

// StepError is a migration that failed.
type StepError struct {
	Version   uint
	Name      string
	Direction string
	Message   string // the server's message, classified
	// Clean: the database is not dirty (nothing was applied and the
	// version was reset); false: it is dirty and repair must look at it.
	Clean   bool
	Runbook string
}

func (e *StepError) Error() string {
	s := fmt.Sprintf("migration %d_%s (%s) failed: %s", e.Version, e.Name, e.Direction, e.Message)
	if e.Runbook != "" {
		s += "\n" + e.Runbook
	}
	return s
}

// DirtyError is a database that an earlier run left dirty and that the
// runner cannot prove safe to continue from.
type DirtyError struct {
	Version int64
	Reason  string
}

func (e *DirtyError) Error() string {
	return fmt.Sprintf("the database is dirty at version %s: %s\n  fix: run `migsafe migrate repair`: it compares the live schema with the schema before and after that migration and says which it is (it changes nothing without --apply)", versionString(e.Version), e.Reason)
}

// state is what the preflight found.
type state struct {
	cur     int64
	dirty   bool
	rows    []Row
	applied *applied
}

// load reads the version and the history.
func (r *Runner) load(ctx context.Context) (*state, error) {
	cur, dirty, err := r.version(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := r.History(ctx, 0)
	if err != nil {
		return nil, err
	}
	return &state{cur: cur, dirty: dirty, rows: rows, applied: replay(rows)}, nil
}

// checks are the refusals for a clean database at st.cur.
func (r *Runner) checks(st *state) Refusals {
	var out Refusals
	src := r.opt.Source
	dir := src.Dir
	if st.cur >= 0 && src.Get(uint(st.cur)) == nil {
		r := Refusal{
			What: fmt.Sprintf("the database is at version %d, which has no file in %s (the newest there is %s)", st.cur, dir, newest(src)),
			Fix:  "run from a checkout that has it (git log --all -- '*" + fmt.Sprint(st.cur) + "_*'), or restore the file; an older release must not migrate a newer database",
		}
		if src.Positional {
			r.What = fmt.Sprintf("the database is at version %d, and %s numbers its %d files by position (the %s layout), so none has that version", st.cur, dir, len(src.Migrations), src.Layout)
			r.Fix = "run from a checkout that has every applied file; if the database was migrated while the directory's Flyway versions were all integers, a dotted version has renumbered it: rename that file with an integer version"
		}
		out = append(out, r)
	}
	for v, sha := range st.applied.sha {
		m := src.Get(uint(v))
		if m == nil {
			if v != st.cur {
				out = append(out, Refusal{
					What: fmt.Sprintf("version %d was applied (%s) but has no file in %s", v, st.applied.at[v].Format(time.RFC3339), dir),
					Fix:  "restore the file from version control: applied migrations are never deleted",
				})
			}
			continue
		}
		if src.Positional && st.applied.name[v] != "" && st.applied.name[v] != m.Name {
			// the versions are positions: another file now has this one
			out = append(out, Refusal{
				What: fmt.Sprintf("%s is now migration %d of %s, where %s was applied on %s: a file was inserted before (or removed from among) the applied ones, and the %s layout numbers its files by position", filepath.Base(m.Up.Path), v, dir, st.applied.name[v], st.applied.at[v].Format(time.RFC3339), src.Layout),
				Fix:  "restore the applied files as they were, and name a new migration so that it sorts after the last applied one (" + lastApplied(st) + ")",
			})
			continue
		}
		if sha != "" && m.Up.SHA256 != sha {
			out = append(out, Refusal{
				What: fmt.Sprintf("%s changed since it was applied on %s (sha256 %s then, %s now)", filepath.Base(m.Up.Path), st.applied.at[v].Format(time.RFC3339), sha[:12], m.Up.SHA256[:12]),
				Fix:  "restore the file as it was applied (git log -p -- " + m.Up.Path + ") and put the change in a new migration",
			})
		}
	}
	for _, m := range src.Migrations {
		if int64(m.Version) <= st.cur && !st.applied.has(int64(m.Version)) {
			out = append(out, Refusal{
				What: fmt.Sprintf("%s (version %d) is older than the database's version %d and was never applied: golang-migrate would skip it forever", filepath.Base(m.Up.Path), m.Version, st.cur),
				Fix:  fmt.Sprintf("renumber it above %d (rename the up and down files), so that it runs after what is applied", st.cur),
			})
		}
	}
	sortRefusals(out)
	return out
}

// lastApplied names the newest applied migration of a positional source
// by the name it was applied under.
func lastApplied(st *state) string {
	best, name := int64(-1), "none"
	for v, n := range st.applied.name {
		if v > best {
			best, name = v, n
		}
	}
	return name
}

func newest(s *Source) string {
	if len(s.Migrations) == 0 {
		return "none"
	}
	return fmt.Sprint(s.Migrations[len(s.Migrations)-1].Version)
}

func sortRefusals(rs Refusals) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].What < rs[j-1].What; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// preflight runs under the lock: it settles rows of dead runs, recovers
// a dirty database when that is provably safe, records the baseline and
// runs the checks.
func (r *Runner) preflight(ctx context.Context) (*state, error) {
	st, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	// rows still "running" belong to runs that died: the lock is ours
	var stale *Row
	for i := range st.rows {
		if st.rows[i].Outcome == OutcomeRunning {
			stale = &st.rows[i]
		}
	}
	if st.dirty {
		if err := r.recoverDirty(ctx, st, stale); err != nil {
			return nil, err
		}
		if st, err = r.load(ctx); err != nil {
			return nil, err
		}
	} else if stale != nil {
		// died after golang-migrate cleared dirty, before the outcome was written
		outcome, msg := OutcomeInterrupted, fmt.Sprintf("the run stopped before recording the outcome; found by run %s with the database clean at version %s", r.opt.RunID, versionString(st.cur))
		if st.cur == stale.Version && stale.Direction == "up" || stale.Direction == "down" && st.cur == r.prevOf(uint(stale.Version)) {
			outcome = OutcomeApplied
		}
		if err := r.markRow(ctx, stale.ID, outcome, msg); err != nil {
			return nil, err
		}
		if st, err = r.load(ctx); err != nil {
			return nil, err
		}
	}
	if st.cur < 0 && len(st.applied.sha) == 0 {
		if err := r.foreignTool(ctx); err != nil {
			return nil, err
		}
	}
	if st.cur >= 0 && st.applied.baseline < 0 && len(st.applied.sha) == 0 {
		// the first run on a database migrated before migsafe
		_, err := r.insertRow(ctx, Row{Version: st.cur, Name: "(applied before migsafe)", Direction: "baseline", Started: time.Now(), Outcome: OutcomeBaseline})
		if err != nil {
			return nil, err
		}
		if st, err = r.load(ctx); err != nil {
			return nil, err
		}
	}
	if rs := r.checks(st); len(rs) > 0 {
		return nil, rs
	}
	return st, nil
}

// recoverDirty clears dirty when the migration that left it provably
// applied nothing: PostgreSQL, the run died during it (its implicit
// transaction was rolled back by the server) and the schema is exactly
// what it was before. Anything else is for repair.
func (r *Runner) recoverDirty(ctx context.Context, st *state, stale *Row) error {
	var last *Row
	for i := range st.rows {
		o := st.rows[i].Outcome
		if o == OutcomeRunning || o == OutcomeFailed || o == OutcomeInterrupted {
			last = &st.rows[i]
		}
	}
	if last == nil {
		return &DirtyError{Version: st.cur, Reason: "migsafe's history has no record of the migration that left it so (it ran outside migsafe)"}
	}
	what := fmt.Sprintf("migration %d_%s (%s) of run %s on %s", last.Version, last.Name, last.Direction, last.RunID, last.Host)
	if last.Outcome == OutcomeFailed {
		return &DirtyError{Version: st.cur, Reason: fmt.Sprintf("%s failed: %s", what, last.Error)}
	}
	if r.t.kind != Postgres {
		if stale != nil {
			_ = r.markRow(ctx, stale.ID, OutcomeInterrupted, "the run stopped during the migration; MySQL/MariaDB commit each DDL statement, so part of it may have run")
		}
		return &DirtyError{Version: st.cur, Reason: what + " did not finish (the process stopped during it); on MySQL/MariaDB each DDL statement commits by itself, so part of it may have run"}
	}
	m := r.opt.Source.Get(uint(last.Version))
	if m == nil || fileOf(m, last.Direction) == nil || !atomicPG(string(fileOf(m, last.Direction).Body)) {
		if stale != nil {
			_ = r.markRow(ctx, stale.ID, OutcomeInterrupted, "the run stopped during the migration; its file does not run all or nothing (transaction control or a statement that cannot run in a transaction)")
		}
		return &DirtyError{Version: st.cur, Reason: what + " did not finish (the process stopped during it), and its file does not run all or nothing, so part of it may have run"}
	}
	// the file runs all or nothing: the schema shows which
	ins, err := r.inspectLocked(ctx, m, last.Direction)
	if err != nil {
		return err
	}
	before, after := r.fromVersion(m, last.Direction), int64(m.Version)
	if last.Direction == "down" {
		after = r.prevOf(m.Version)
	}
	var back int64
	var outcome, msg string
	switch ins.Verdict {
	case VerdictBefore:
		back, outcome = before, OutcomeInterrupted
		msg = fmt.Sprintf("the run stopped during the migration; run %s found none of its changes in the schema (PostgreSQL ran the file in one transaction and rolled it back), reset the version to %s and runs it again", r.opt.RunID, versionString(before))
	case VerdictAfter:
		back, outcome = after, OutcomeApplied
		msg = fmt.Sprintf("the run stopped after the migration committed, before golang-migrate recorded it; run %s found all of its changes in the schema and set the version to %s", r.opt.RunID, versionString(after))
	default:
		if stale != nil {
			_ = r.markRow(ctx, stale.ID, OutcomeInterrupted, "the run stopped during the migration; its changes cannot be seen in the schema model")
		}
		return &DirtyError{Version: st.cur, Reason: what + " did not finish (the process stopped during it); the file runs all or nothing, but the schema does not show whether it committed (" + ins.Verdict + ")"}
	}
	if err := r.force(back); err != nil {
		return err
	}
	if err := r.markRow(ctx, last.ID, outcome, msg); err != nil {
		return err
	}
	r.emit(Event{Kind: "recovered", Version: uint(last.Version), Name: last.Name, Direction: last.Direction, Message: msg})
	return nil
}

func (r *Runner) force(v int64) error {
	if err := r.m.Force(int(v)); err != nil {
		return r.t.scrub(fmt.Errorf("resetting golang-migrate's version to %s: %w", versionString(v), err))
	}
	return nil
}

// Up applies the pending migrations up to version to (-1: all). A
// cancelled ctx stops between migrations; closing kill cancels the
// running statement on the server.
func (r *Runner) Up(ctx context.Context, to int64, kill <-chan struct{}) (*Result, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.release()
	st, err := r.preflight(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{RunID: r.opt.RunID, From: st.cur, To: st.cur}
	if to >= 0 {
		if r.opt.Source.Get(uint(to)) == nil {
			return res, fmt.Errorf("--to %d: no such version in %s", to, r.opt.Source.Dir)
		}
		if to < st.cur {
			return res, fmt.Errorf("--to %d is below the database's version %d: use `migsafe migrate down --to %d`", to, st.cur, to)
		}
	}
	var pending []*Migration
	for _, m := range r.opt.Source.Migrations {
		if int64(m.Version) > st.cur && (to < 0 || int64(m.Version) <= to) {
			pending = append(pending, m)
		}
	}
	if r.opt.Gate != nil && len(pending) > 0 {
		var allow int
		var why string
		var err error
		if hg, ok := r.opt.Gate.(HistoryGate); ok {
			at := map[uint]time.Time{}
			for v, t := range st.applied.at {
				at[uint(v)] = t
			}
			allow, why, err = hg.ReviewApplied(ctx, pending, at)
		} else {
			allow, why, err = r.opt.Gate.Review(ctx, pending)
		}
		if err != nil {
			return res, err
		}
		if allow < len(pending) {
			res.Stopped = why
			pending = pending[:max(allow, 0)]
		}
	}
	return res, r.apply(ctx, res, pending, "up", kill)
}

// Down reverts the migrations above version to (-1: before the first
// one; there is no unbounded down). It refuses when one of them has no
// down file.
func (r *Runner) Down(ctx context.Context, to int64, kill <-chan struct{}) (*Result, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.release()
	st, err := r.preflight(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{RunID: r.opt.RunID, From: st.cur, To: st.cur}
	if to >= 0 && r.opt.Source.Get(uint(to)) == nil {
		return res, fmt.Errorf("--to %d: no such version in %s", to, r.opt.Source.Dir)
	}
	if to > st.cur {
		return res, fmt.Errorf("--to %d is above the database's version %s: use `migsafe migrate up --to %d`", to, versionString(st.cur), to)
	}
	var list []*Migration
	var rs Refusals
	for i := len(r.opt.Source.Migrations) - 1; i >= 0; i-- {
		m := r.opt.Source.Migrations[i]
		if int64(m.Version) > st.cur || int64(m.Version) <= to {
			continue
		}
		if m.Down == nil {
			rs = append(rs, Refusal{
				What: fmt.Sprintf("%s is irreversible: it has no down file, and golang-migrate would move the version below it without running anything, leaving its changes in place", m.Label()),
				Fix:  fmt.Sprintf("%s (and check it with migsafe verify-rollback), or go down only to --to %d", r.writeDown(m), m.Version),
			})
		}
		list = append(list, m)
	}
	if len(rs) > 0 {
		return res, rs
	}
	return res, r.apply(ctx, res, list, "down", kill)
}

func (r *Runner) apply(ctx context.Context, res *Result, list []*Migration, dir string, kill <-chan struct{}) error {
	defer func() { _ = r.flush() }()
	if n := r.TimeoutNote(); n != "" && r.t.kind == MySQL && len(list) > 0 {
		r.emit(Event{Kind: "note", Message: n})
	}
	r.pos.total, r.pos.start = len(list), time.Now()
	defer func() { r.pos.total = 0 }()
	for i, m := range list {
		r.pos.index = i + 1
		if ctx.Err() != nil {
			res.Stopped = fmt.Sprintf("interrupted before %s: %d migration(s) not run; the database is clean at version %s", m.Label(), len(list)-i, versionString(res.To))
			return ErrInterrupted
		}
		step, err := r.runStep(ctx, m, dir, kill)
		res.Steps = append(res.Steps, step)
		if err != nil {
			var se *StepError
			if errors.As(err, &se) && se.Clean {
				res.To = r.fromVersion(m, dir)
			}
			return err
		}
		res.To = int64(m.Version)
		if dir == "down" {
			res.To = r.prevOf(m.Version)
		}
	}
	return nil
}

// fromVersion is golang-migrate's version before a step.
func (r *Runner) fromVersion(m *Migration, dir string) int64 {
	if dir == "down" {
		return int64(m.Version)
	}
	return r.prevOf(m.Version)
}

// runStep runs one migration with its history rows, and retries it when
// it failed transiently and provably applied nothing.
func (r *Runner) runStep(ctx context.Context, m *Migration, dir string, kill <-chan struct{}) (Step, error) {
	file := fileOf(m, dir)
	step := Step{Version: m.Version, Name: m.Name, Direction: dir, Locks: r.locksOf(m, dir)}
	// a started migration is finished even when ctx is cancelled: only
	// kill stops it
	bg := context.WithoutCancel(ctx)
	backoff := r.opt.Backoff
	from := r.fromVersion(m, dir)
	total := time.Duration(0)
	for attempt := 1; ; attempt++ {
		step.Attempts = attempt
		started := time.Now()
		r.emit(Event{Kind: "start", Version: m.Version, Name: m.Name, Direction: dir, Attempt: attempt, Locks: step.Locks})
		// the intent row is written while golang-migrate marks the
		// version dirty, and is committed before the file runs
		intent := Row{Version: int64(m.Version), Name: m.Name, Direction: dir, SHA256: file.SHA256, Started: started, Outcome: OutcomeRunning}
		var id int64 // 0 with written: the newest row of this run
		var written bool
		var runErr error
		var cancelled bool
		if r.t.kind == Postgres {
			// the intent row is committed with golang-migrate's dirty
			// version, the outcome with its clean one (setVersionPG)
			r.intent, r.intentWritten, r.finishedInTx = &intent, false, false
			runErr, cancelled = r.exec(m, dir, attempt, started, step.Locks, kill)
			// a failed row is finished below, never by a later clean version
			r.intent, r.running = nil, nil
			written = r.intentWritten
		} else {
			// the intent row is written while golang-migrate marks the
			// version dirty, and is committed before the file runs
			var intentErr error
			writeIntent := func() error {
				id, intentErr = r.insertRow(bg, intent)
				return intentErr
			}
			r.hook.Store(&writeIntent)
			runErr, cancelled = r.exec(m, dir, attempt, started, step.Locks, kill)
			r.hook.Store(nil)
			if intentErr != nil {
				return step, intentErr
			}
			written = id != 0
		}
		if !written {
			// golang-migrate failed before marking the version dirty
			if id, err := r.insertRow(bg, intent); err == nil {
				_ = r.finishRow(id, started, OutcomeFailed, r.t.scrubString(pgDetail(runErr).Error()))
			}
			return step, r.t.scrub(fmt.Errorf("golang-migrate: %w", pgDetail(runErr)))
		}
		d := time.Since(started)
		total += d
		step.Duration = total
		if runErr == nil {
			step.Outcome = OutcomeApplied
			if r.t.kind != Postgres {
				// written with the next row, or when the run ends
				r.deferred = &finish{id: id, started: started, finished: time.Now(), outcome: OutcomeApplied}
			} else if !r.finishedInTx {
				if err := r.finishRow(id, started, OutcomeApplied, ""); err != nil {
					return step, err
				}
			}
			r.emit(Event{Kind: "done", Version: m.Version, Name: m.Name, Direction: dir, Duration: d, Attempt: attempt, Locks: step.Locks})
			return step, nil
		}
		f := classify(runErr, r.t.kind, cancelled)
		if r.timedOut {
			f.timeout = true // migsafe's KILL QUERY (MySQL)
		}
		if f.timeout && f.line == 0 && r.lastStmt != "" {
			f.statement = r.lastStmt
		}
		msg := r.t.scrubString(r.describe(f, file, d, cancelled))
		step.Error = msg
		// PostgreSQL answered with an error for a file that runs all or
		// nothing: its transaction was rolled back, nothing is applied
		unchanged := r.t.kind == Postgres && atomicPG(string(file.Body)) && failedOnServer(runErr)
		if cancelled && unchanged {
			// cancelled on request: nothing applied, nothing to retry
			if err := r.force(from); err != nil {
				_ = r.finishRow(id, started, OutcomeFailed, msg)
				return step, err
			}
			step.Outcome = OutcomeFailed
			note := fmt.Sprintf(" (nothing applied: the file runs in one transaction, which failed, so the version was reset to %s and the database is clean)", versionString(from))
			_ = r.finishRow(id, started, OutcomeFailed, msg+note)
			r.emit(Event{Kind: "failed", Version: m.Version, Name: m.Name, Direction: dir, Duration: d, Attempt: attempt, Message: msg, Locks: step.Locks})
			return step, &StepError{Version: m.Version, Name: m.Name, Direction: dir, Message: msg + note, Clean: true}
		}
		if f.transient && unchanged {
			if err := r.force(from); err != nil {
				_ = r.finishRow(id, started, OutcomeFailed, msg)
				return step, err
			}
			if attempt <= r.opt.Retries && ctx.Err() == nil {
				_ = r.finishRow(id, started, OutcomeRetried, msg+fmt.Sprintf(" (nothing applied: its transaction was rolled back; retrying in %s)", backoff))
				r.emit(Event{Kind: "retry", Version: m.Version, Name: m.Name, Direction: dir, Duration: d, Attempt: attempt, Message: msg})
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				backoff *= 2
				if ctx.Err() == nil {
					continue
				}
			}
			step.Outcome = OutcomeFailed
			note := fmt.Sprintf(" (attempt %d; nothing applied: the file runs in one transaction, which failed, so the version was reset to %s and the database is clean)", attempt, versionString(from))
			_ = r.finishRow(id, started, OutcomeFailed, msg+note)
			r.emit(Event{Kind: "failed", Version: m.Version, Name: m.Name, Direction: dir, Duration: d, Attempt: attempt, Message: msg, Locks: step.Locks})
			return step, &StepError{Version: m.Version, Name: m.Name, Direction: dir, Message: msg + note, Clean: true}
		}
		step.Outcome = OutcomeFailed
		_ = r.finishRow(id, started, OutcomeFailed, msg)
		r.emit(Event{Kind: "failed", Version: m.Version, Name: m.Name, Direction: dir, Duration: d, Attempt: attempt, Message: msg, Locks: step.Locks})
		se := &StepError{Version: m.Version, Name: m.Name, Direction: dir, Message: msg}
		se.Runbook = r.t.scrubString(r.runbook(bg, m, dir, f, unchanged))
		return step, se
	}
}

// exec runs one golang-migrate step; closing kill cancels the running
// statement on the server.
func (r *Runner) exec(m *Migration, dir string, attempt int, started time.Time, locks []Lock, kill <-chan struct{}) (error, bool) {
	n := 1
	if dir == "down" {
		n = -1
	}
	done := make(chan error, 1)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() { defer close(watched); r.monitor(m, dir, attempt, started, locks, stop) }()
	type seen struct {
		stmt   string
		killed bool
	}
	watchdog := make(chan seen, 1)
	go func() { s, k := r.watch(stop); watchdog <- seen{s, k} }()
	defer func() {
		close(stop)
		<-watched
		w := <-watchdog
		r.lastStmt, r.timedOut = w.stmt, w.killed
	}()
	go func() { done <- r.m.Steps(n) }()
	select {
	case err := <-done:
		return err, false
	case <-kill:
		_ = r.cancelRunning()
		return <-done, true
	}
}

// describe says what went wrong, with the statement and the time for a
// timeout.
func (r *Runner) describe(f failure, file *File, d time.Duration, cancelled bool) string {
	where := " in " + filepath.Base(file.Path)
	if f.line > 0 {
		where = fmt.Sprintf(" at %s:%d", filepath.Base(file.Path), file.fileLine(int(f.line)))
		lines := strings.Split(string(file.Body), "\n")
		if int(f.line) <= len(lines) {
			where += fmt.Sprintf(" (%s)", clip(strings.TrimSpace(lines[f.line-1]), 120))
		}
	}
	switch {
	case cancelled:
		return fmt.Sprintf("cancelled on request after %s%s: %s", d.Round(time.Millisecond), where, f.describe())
	case f.timeout:
		if f.line == 0 && f.statement != "" && r.t.kind == MySQL {
			where += fmt.Sprintf(" (%s)", clip(oneLine(f.statement), 120))
		}
		how := ""
		if r.timedOut {
			how = ", killed by migsafe"
		}
		return fmt.Sprintf("hit the statement timeout (%s%s) after %s%s: %s", r.opt.StatementTimeout, how, d.Round(time.Millisecond), where, f.describe())
	}
	return f.describe() + where
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// runbook says what to do about a failure that left the database dirty.
func (r *Runner) runbook(ctx context.Context, m *Migration, dir string, f failure, unchanged bool) string {
	var b strings.Builder
	b.WriteString("  the database is dirty; migsafe did not force anything.\n")
	if r.t.kind == Postgres {
		if unchanged {
			b.WriteString("  PostgreSQL ran the file in one transaction, which failed: nothing was applied.\n")
			b.WriteString("  next: fix the migration, then `migsafe migrate repair --apply` (it will find the schema as before the migration and reset the version), then `migsafe migrate up` again.\n")
		} else {
			b.WriteString("  the file does not run all or nothing (transaction control, or a statement that cannot run in a transaction such as CREATE INDEX CONCURRENTLY): part of it may be applied.\n")
			b.WriteString("  next: `migsafe migrate repair` shows which of its changes are in the database.\n")
		}
		return strings.TrimRight(b.String(), "\n")
	}
	b.WriteString("  MySQL/MariaDB commit every DDL statement by itself: the statements before the failing one are applied.\n")
	if rep, err := r.inspectLocked(ctx, m, dir); err == nil && rep != nil {
		b.WriteString(indent(rep.Text(), "  "))
	} else {
		b.WriteString("  next: `migsafe migrate repair` compares the live schema with the migration's before and after.\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// foreignTool refuses a database that another migration tool keeps the
// version of (goose, Flyway): golang-migrate's schema_migrations is empty
// there, and the runner would apply every migration again.
func (r *Runner) foreignTool(ctx context.Context) error {
	q := "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()"
	if r.t.kind == MySQL {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = DATABASE()"
	}
	for _, t := range []struct{ table, tool string }{{"goose_db_version", "goose"}, {"flyway_schema_history", "Flyway"}} {
		var n int
		if err := r.ctl.QueryRowContext(ctx, r.q(q), t.table).Scan(&n); err != nil {
			return r.t.scrub(err)
		}
		if n > 0 {
			return Refusals{{
				What: fmt.Sprintf("the database's migrations were applied by %s (its table %s is there) and golang-migrate's schema_migrations has no version: migsafe would apply every migration again", t.tool, t.table),
				Fix:  fmt.Sprintf("record the version %s reached once: `migrate force VERSION` with golang-migrate's CLI (or INSERT INTO schema_migrations (version, dirty) VALUES (VERSION, false)); migsafe then takes it as its baseline", t.tool),
			}}
		}
	}
	return nil
}

// writeDown says how to give m a down migration in its layout.
func (r *Runner) writeDown(m *Migration) string {
	switch r.opt.Source.Layout {
	case "goose":
		return "add a -- +goose Down section to " + filepath.Base(m.Up.Path)
	case "dbmate":
		return "add a -- migrate:down section to " + filepath.Base(m.Up.Path)
	case "popx":
		return "write " + strings.Replace(filepath.Base(m.Up.Path), ".up.sql", ".down.sql", 1)
	case "flyway":
		return "write its undo file " + "U" + strings.TrimPrefix(filepath.Base(m.Up.Path), "V") + " (Flyway Teams' convention, which migsafe runs as the down)"
	case "plain":
		return "plain .sql files have no down migrations: convert the directory to golang-migrate's VERSION_NAME.up.sql and VERSION_NAME.down.sql files"
	}
	return "write " + m.Label() + ".down.sql"
}
