package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Lock is a lock a migration is predicted to take, from the lint engine's
// model of the server (the same physics `migsafe check` reports).
type Lock struct {
	Mode   string `json:"lock"`           // "ACCESS EXCLUSIVE", "SHARE", "metadata lock (exclusive, brief)"
	On     string `json:"on"`             // the table (or type) it is taken on
	Blocks string `json:"blocks"`         // "reads and writes", "writes", "nothing"
	Work   string `json:"work,omitempty"` // what it does while holding it, when more than the catalog
	Line   int    `json:"line"`           // the statement's line in the file
}

func (l Lock) String() string {
	s := fmt.Sprintf("%s on %s (blocks %s", l.Mode, l.On, l.Blocks)
	if l.Work != "" {
		s += "; " + l.Work
	}
	return s + ")"
}

// Predictor is a Gate that can also say which locks each reviewed
// migration takes. The runner asks it after Review, for the migrations
// it is about to apply.
type Predictor interface {
	Locks(m *Migration, direction string) []Lock
}

// Progress is what a long migration is doing, as the server shows it.
type Progress struct {
	// Statement is the statement running (MySQL/MariaDB: the processlist;
	// PostgreSQL runs the whole file as one query, so it is the file's
	// statement the lock wait points at, or "" when nothing says which).
	Statement string `json:"statement,omitempty"`
	// State is the server's word for what the session does: MySQL's
	// processlist state ("Waiting for table metadata lock", "copy to tmp
	// table"), PostgreSQL's wait event ("Lock/relation", "IO/DataFileRead").
	State string `json:"state,omitempty"`
	// Waiting names a lock the session waits for and who holds it.
	Waiting string `json:"waiting,omitempty"`
	// Phase is an index build's phase and progress (PostgreSQL
	// pg_stat_progress_create_index, MariaDB's ALTER TABLE progress).
	Phase string `json:"phase,omitempty"`
}

func (p *Progress) String() string {
	var parts []string
	if p.Waiting != "" {
		parts = append(parts, "waiting for "+p.Waiting)
	} else if p.State != "" {
		parts = append(parts, p.State)
	}
	if p.Phase != "" {
		parts = append(parts, p.Phase)
	}
	if p.Statement != "" {
		parts = append(parts, clip(oneLine(p.Statement), 100))
	}
	return strings.Join(parts, ": ")
}

// monitor emits a "progress" event every Options.ProgressEvery while a
// migration runs, with what the server shows of it, until stop is closed.
func (r *Runner) monitor(m *Migration, dir string, attempt int, started time.Time, locks []Lock, stop <-chan struct{}) {
	every := r.opt.ProgressEvery
	if every <= 0 || r.opt.Events == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		p := r.progress(ctx, fileOf(m, dir), locks)
		cancel()
		select {
		case <-stop:
			return // finished meanwhile: the done event says it
		default:
		}
		r.emit(Event{Kind: "progress", Version: m.Version, Name: m.Name, Direction: dir, Attempt: attempt,
			Duration: time.Since(started), Progress: p, Message: p.String()})
	}
}

// progress reads what the migration's session is doing.
func (r *Runner) progress(ctx context.Context, f *File, locks []Lock) *Progress {
	p := &Progress{}
	if r.t.kind == Postgres {
		var state, query sql.NullString
		if err := r.ctl.QueryRowContext(ctx, `SELECT COALESCE(wait_event_type || '/' || wait_event, state), query FROM pg_stat_activity WHERE pid = $1`, r.backend).Scan(&state, &query); err == nil {
			p.State = state.String
			if q := strings.TrimSpace(query.String); q != "" && !strings.Contains(strings.TrimRight(q, "; \n\t"), ";") {
				p.Statement = q // a file of one statement: that is the one
			}
		}
		var mode, rel, holders sql.NullString
		if err := r.ctl.QueryRowContext(ctx, `SELECT l.mode, COALESCE(l.relation::regclass::text, l.locktype), array_to_string(pg_blocking_pids($1), ', ')
			FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted LIMIT 1`, r.backend).Scan(&mode, &rel, &holders); err == nil {
			p.Waiting = fmt.Sprintf("%s on %s", strings.ToUpper(strings.TrimSuffix(splitCamel(mode.String), " Lock")), rel.String)
			if holders.String != "" {
				p.Waiting += " (held by pid " + holders.String + ")"
			}
			if p.Statement == "" {
				p.Statement = statementOn(f, locks, rel.String)
			}
		}
		var phase sql.NullString
		var done, total sql.NullInt64
		if err := r.ctl.QueryRowContext(ctx, `SELECT phase, blocks_done, blocks_total FROM pg_stat_progress_create_index WHERE pid = $1`, r.backend).Scan(&phase, &done, &total); err == nil {
			p.Phase = "index build: " + phase.String
			if total.Int64 > 0 {
				p.Phase += fmt.Sprintf(" (%d%% of the blocks)", done.Int64*100/total.Int64)
			}
		}
		return p
	}
	q := `SELECT COALESCE(INFO, ''), COALESCE(STATE, ''), '' FROM information_schema.PROCESSLIST WHERE ID = ?`
	if r.mariadb {
		q = `SELECT COALESCE(INFO, ''), COALESCE(STATE, ''), IF(MAX_STAGE > 0, CONCAT('stage ', STAGE, ' of ', MAX_STAGE, ', ', ROUND(PROGRESS), '%'), '') FROM information_schema.PROCESSLIST WHERE ID = ?`
	}
	var info, state, phase string
	if err := r.ctl.QueryRowContext(ctx, q, r.backend).Scan(&info, &state, &phase); err == nil {
		p.Statement, p.State, p.Phase = info, state, phase
		if strings.Contains(strings.ToLower(state), "waiting for") && strings.Contains(strings.ToLower(state), "lock") {
			p.Waiting, p.State = strings.TrimPrefix(strings.ToLower(state), "waiting for "), ""
		}
	}
	return p
}

// splitCamel turns "AccessExclusiveLock" into "Access Exclusive Lock".
func splitCamel(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// statementOn is the file's line whose predicted lock is on rel.
func statementOn(f *File, locks []Lock, rel string) string {
	if f == nil {
		return ""
	}
	rel = strings.Trim(rel, `"`)
	lines := strings.Split(string(f.Body), "\n")
	for _, l := range locks {
		on := l.On
		if i := strings.LastIndex(on, "."); i >= 0 && !strings.Contains(rel, ".") {
			on = on[i+1:]
		}
		// l.Line is a line of the file, the body may be a section of it
		if i := l.Line - max(f.Line, 1); on == rel && i >= 0 && i < len(lines) {
			return fmt.Sprintf("line %d: %s", l.Line, strings.TrimSpace(lines[i]))
		}
	}
	return ""
}
