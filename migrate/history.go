package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Outcomes of a history row.
const (
	OutcomeRunning     = "running"     // written before the migration runs
	OutcomeApplied     = "applied"     // it ran and golang-migrate's version moved
	OutcomeFailed      = "failed"      // it failed; the database may be dirty
	OutcomeRetried     = "retried"     // it failed transiently, applied nothing, and was tried again
	OutcomeInterrupted = "interrupted" // the process stopped while it ran (found by a later run)
	OutcomeBaseline    = "baseline"    // versions up to this one were applied before migsafe
	OutcomeRepaired    = "repaired"    // repair set the version after checking the schema
)

// Row is a row of migsafe_history.
type Row struct {
	ID        int64      `json:"id"`
	RunID     string     `json:"run_id"`
	Version   int64      `json:"version"`
	Name      string     `json:"name"`
	Direction string     `json:"direction"`
	SHA256    string     `json:"sha256"`
	Started   time.Time  `json:"started"`
	Finished  *time.Time `json:"finished,omitempty"`
	Duration  *int64     `json:"duration_ms,omitempty"`
	Outcome   string     `json:"outcome"`
	Error     string     `json:"error,omitempty"`
	Host      string     `json:"host"`
	Migsafe   string     `json:"migsafe_version"`
}

const historyPG = `CREATE TABLE IF NOT EXISTS migsafe_history (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  version bigint NOT NULL,
  name text NOT NULL,
  direction text NOT NULL,
  sha256 text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms bigint,
  outcome text NOT NULL,
  error text NOT NULL DEFAULT '',
  host text NOT NULL,
  migsafe_version text NOT NULL)`

const historyMySQL = `CREATE TABLE IF NOT EXISTS migsafe_history (
  id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
  run_id varchar(64) NOT NULL,
  version bigint NOT NULL,
  name varchar(255) NOT NULL,
  direction varchar(16) NOT NULL,
  sha256 char(64) NOT NULL,
  started_at datetime(6) NOT NULL,
  finished_at datetime(6) NULL,
  duration_ms bigint NULL,
  outcome varchar(32) NOT NULL,
  error text NOT NULL,
  host varchar(255) NOT NULL,
  migsafe_version varchar(64) NOT NULL)`

func (r *Runner) ensureTables(ctx context.Context) error {
	ddl := historyPG
	if r.t.kind == MySQL {
		ddl = historyMySQL
	}
	if _, err := r.ctl.ExecContext(ctx, ddl); err != nil {
		return r.t.scrub(fmt.Errorf("creating migsafe_history: %w", err))
	}
	return nil
}

// finish is the outcome of a row not written yet: a success is recorded
// with the next row's intent, in one round trip.
type finish struct {
	id       int64
	started  time.Time
	finished time.Time
	outcome  string
}

// insertRow writes a row (and the deferred outcome of the previous one)
// and returns its id.
func (r *Runner) insertRow(ctx context.Context, row Row) (int64, error) {
	row.Error = r.t.scrubString(row.Error)
	args := []any{r.opt.RunID, row.Version, row.Name, row.Direction, row.SHA256, row.Started.UTC(), row.Finished, row.Duration, row.Outcome, row.Error, r.host, r.opt.Version}
	const cols = `(run_id, version, name, direction, sha256, started_at, finished_at, duration_ms, outcome, error, host, migsafe_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if r.t.kind == Postgres {
		query := "INSERT INTO migsafe_history " + cols + " RETURNING id"
		if f := r.deferred; f != nil {
			query = "WITH f AS (UPDATE migsafe_history SET finished_at = ?, duration_ms = ?, outcome = ?, error = '' WHERE id = ?) " + query
			args = append([]any{f.finished.UTC(), f.finished.Sub(f.started).Milliseconds(), f.outcome, f.id}, args...)
		}
		var id int64
		err := r.ctl.QueryRowContext(ctx, r.q(query), args...).Scan(&id)
		if err == nil {
			r.deferred = nil
		}
		return id, r.t.scrub(err)
	}
	if err := r.flush(); err != nil {
		return 0, err
	}
	res, err := r.ctl.ExecContext(ctx, "INSERT INTO migsafe_history "+cols, args...)
	if err != nil {
		return 0, r.t.scrub(err)
	}
	id, err := res.LastInsertId()
	return id, r.t.scrub(err)
}

// flush writes a deferred outcome.
func (r *Runner) flush() error {
	f := r.deferred
	if f == nil {
		return nil
	}
	r.deferred = nil
	return r.finishAt(f.id, f.started, f.finished, f.outcome, "")
}

// finishRow records how a migration ended. It uses a fresh context: the
// outcome must be written even when the run is being cancelled.
func (r *Runner) finishRow(id int64, started time.Time, outcome, msg string) error {
	if err := r.flush(); err != nil {
		return err
	}
	return r.finishAt(id, started, time.Now(), outcome, msg)
}

func (r *Runner) finishAt(id int64, started, now time.Time, outcome, msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now = now.UTC()
	d := now.Sub(started).Milliseconds()
	where, arg := "id = ?", any(id)
	if id == 0 {
		// the newest row of this run (written in golang-migrate's transaction)
		where, arg = "id = (SELECT max(id) FROM migsafe_history WHERE run_id = ?)", r.opt.RunID
		if r.t.kind == MySQL {
			where = "id = (SELECT max_id FROM (SELECT max(id) AS max_id FROM migsafe_history WHERE run_id = ?) m)"
		}
	}
	_, err := r.ctl.ExecContext(ctx, r.q("UPDATE migsafe_history SET finished_at = ?, duration_ms = ?, outcome = ?, error = ? WHERE "+where),
		now, d, outcome, r.t.scrubString(msg), arg)
	if err != nil {
		return r.t.scrub(fmt.Errorf("recording the outcome in migsafe_history: %w", err))
	}
	return nil
}

// markRow changes the outcome of an earlier row (an interrupted run).
func (r *Runner) markRow(ctx context.Context, id int64, outcome, msg string) error {
	if err := r.flush(); err != nil {
		return err
	}
	_, err := r.ctl.ExecContext(ctx, r.q("UPDATE migsafe_history SET outcome = ?, error = ? WHERE id = ?"), outcome, r.t.scrubString(msg), id)
	return r.t.scrub(err)
}

// History returns the rows, oldest first (limit <= 0: all).
func (r *Runner) History(ctx context.Context, limit int) ([]Row, error) {
	query := "SELECT id, run_id, version, name, direction, sha256, started_at, finished_at, duration_ms, outcome, error, host, migsafe_version FROM migsafe_history ORDER BY id"
	if limit > 0 {
		query = fmt.Sprintf("SELECT * FROM (SELECT id, run_id, version, name, direction, sha256, started_at, finished_at, duration_ms, outcome, error, host, migsafe_version FROM migsafe_history ORDER BY id DESC LIMIT %d) h ORDER BY id", limit)
	}
	rows, err := r.ctl.QueryContext(ctx, query)
	if err != nil {
		if missingTable(err) {
			return nil, nil
		}
		return nil, r.t.scrub(fmt.Errorf("reading migsafe_history: %w", err))
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var w Row
		var fin sql.NullTime
		var dur sql.NullInt64
		if err := rows.Scan(&w.ID, &w.RunID, &w.Version, &w.Name, &w.Direction, &w.SHA256, &w.Started, &fin, &dur, &w.Outcome, &w.Error, &w.Host, &w.Migsafe); err != nil {
			return nil, r.t.scrub(fmt.Errorf("reading migsafe_history: %w", err))
		}
		w.Started = w.Started.UTC()
		if fin.Valid {
			t := fin.Time.UTC()
			w.Finished = &t
		}
		if dur.Valid {
			d := dur.Int64
			w.Duration = &d
		}
		out = append(out, w)
	}
	return out, r.t.scrub(rows.Err())
}

// applied is what the history says is applied.
type applied struct {
	baseline int64            // versions <= baseline were applied before migsafe (-1: none)
	sha      map[int64]string // version → sha256 of the up file that ran
	at       map[int64]time.Time
	name     map[int64]string // version → the migration's name when it ran
}

func (a *applied) has(v int64) bool {
	_, ok := a.sha[v]
	return ok || v <= a.baseline
}

func replay(rows []Row) *applied {
	a := &applied{baseline: -1, sha: map[int64]string{}, at: map[int64]time.Time{}, name: map[int64]string{}}
	for _, w := range rows {
		switch {
		case w.Outcome == OutcomeBaseline:
			a.baseline = max(a.baseline, w.Version)
		case w.Direction == "up" && (w.Outcome == OutcomeApplied || w.Outcome == OutcomeRepaired):
			a.sha[w.Version], a.at[w.Version], a.name[w.Version] = w.SHA256, w.Started, w.Name
		case w.Direction == "down" && (w.Outcome == OutcomeApplied || w.Outcome == OutcomeRepaired):
			delete(a.sha, w.Version)
			delete(a.name, w.Version)
			if w.Version <= a.baseline {
				// reverting a version of the baseline: the ones below it
				// stay applied
				a.baseline = w.Version - 1
			}
		}
	}
	return a
}
