package migrate

import (
	"context"
	"fmt"
	"time"
)

// What --statement-timeout is on each server:
//
//   - PostgreSQL: statement_timeout on the migration session; since
//     PostgreSQL 13 it applies to each statement of a multi-statement file.
//   - MariaDB: max_statement_time on the session, which stops any
//     statement (DDL included), not only SELECT.
//   - MySQL: max_execution_time applies only to read-only SELECT, so it
//     would not stop an ALTER TABLE. migsafe enforces the timeout itself:
//     it watches the session in the processlist and runs KILL QUERY on a
//     statement that has run longer, checking every watchEvery (or a
//     quarter of the timeout, if shorter).
const watchEvery = 250 * time.Millisecond

// nativeTimeout reports whether the server enforces --statement-timeout
// on every statement by itself.
func (r *Runner) nativeTimeout() bool {
	return r.t.kind == Postgres || r.mariadb && !r.forceWatchdog
}

// TimeoutNote says how --statement-timeout is enforced on this server
// ("" when there is none).
func (r *Runner) TimeoutNote() string {
	d := r.opt.StatementTimeout
	switch {
	case d <= 0:
		return ""
	case r.t.kind == Postgres:
		return fmt.Sprintf("--statement-timeout %s: PostgreSQL's statement_timeout on the migration session, for each statement", d)
	case r.nativeTimeout():
		return fmt.Sprintf("--statement-timeout %s: MariaDB's max_statement_time on the migration session, for every statement (DDL included)", d)
	}
	return fmt.Sprintf("--statement-timeout %s: MySQL's max_execution_time applies only to SELECT, so migsafe enforces it: KILL QUERY on a statement that has run longer (checked every %s)", d, min(watchEvery, d/4).Round(time.Millisecond))
}

// watch follows the migration session in the processlist while a
// migration runs (MySQL and MariaDB, with --statement-timeout): it
// remembers the statement running, and when the server does not enforce
// the timeout itself it kills a statement that runs longer. It returns
// the last statement seen and whether it killed it.
func (r *Runner) watch(stop <-chan struct{}) (stmt string, killed bool) {
	d := r.opt.StatementTimeout
	if r.t.kind != MySQL || d <= 0 {
		return "", false
	}
	every := min(watchEvery, d/4)
	t := time.NewTicker(every)
	defer t.Stop()
	var since time.Time
	for {
		select {
		case <-stop:
			return stmt, false
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		var info string
		var secs int64
		err := r.ctl.QueryRowContext(ctx, "SELECT COALESCE(INFO, ''), COALESCE(TIME, 0) FROM information_schema.PROCESSLIST WHERE ID = ?", r.backend).Scan(&info, &secs)
		cancel()
		if err != nil || info == "" {
			continue
		}
		if info != stmt {
			// a new statement: it started at most secs ago
			stmt, since = info, time.Now().Add(-time.Duration(secs)*time.Second)
		}
		if !r.nativeTimeout() && time.Since(since) >= d {
			_ = r.cancelRunning()
			return stmt, true
		}
	}
}
