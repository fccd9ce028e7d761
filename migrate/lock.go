package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// pgLockKey is the runner's advisory lock (per database), distinct from
// golang-migrate's.
const pgLockKey int64 = 0x6d6967736166 // "migsaf"

func (r *Runner) myLockName() string {
	n := "migsafe:" + r.t.database
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// LockError is a lock that was not free within the wait.
type LockError struct {
	Waited time.Duration
	Holder string // who holds it, as the server says
}

func (e *LockError) Error() string {
	h := e.Holder
	if h == "" {
		h = "a session that has ended since"
	}
	return fmt.Sprintf("another migration run holds the lock (waited %s): held by %s; wait for it to finish, or raise --lock-wait", e.Waited.Round(time.Millisecond), h)
}

// lock polls a try-lock until deadline on a dedicated session (polling,
// never a blocking lock: a blocking advisory lock can deadlock with
// CREATE INDEX CONCURRENTLY, golang-migrate #960).
func (r *Runner) lock(ctx context.Context, deadline time.Time) error {
	start := time.Now()
	conn, err := r.ctl.Conn(ctx)
	if err != nil {
		return r.t.scrub(fmt.Errorf("connecting to %s: %w", r.t.redacted, err))
	}
	for {
		var ok sql.NullBool
		if r.t.kind == Postgres {
			err = conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", pgLockKey).Scan(&ok)
		} else {
			err = conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", r.myLockName()).Scan(&ok)
		}
		if err != nil {
			conn.Close()
			return r.t.scrub(fmt.Errorf("taking the migration lock: %w", err))
		}
		if ok.Valid && ok.Bool {
			r.lockConn = conn
			return nil
		}
		if !time.Now().Before(deadline) {
			holder := r.lockHolder(ctx, conn)
			conn.Close()
			return &LockError{Waited: time.Since(start), Holder: r.t.scrubString(holder)}
		}
		wait := min(200*time.Millisecond, time.Until(deadline))
		select {
		case <-ctx.Done():
			conn.Close()
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// LockHolder says who holds the runner's lock now ("" when nobody).
func (r *Runner) LockHolder(ctx context.Context) string {
	conn, err := r.ctl.Conn(ctx)
	if err != nil {
		return ""
	}
	defer conn.Close()
	return r.t.scrubString(r.lockHolder(ctx, conn))
}

func (r *Runner) lockHolder(ctx context.Context, conn *sql.Conn) string {
	if r.t.kind == Postgres {
		var pid int64
		var user, app, addr, state, query, since string
		err := conn.QueryRowContext(ctx, `
SELECT a.pid, COALESCE(a.usename, ''), COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'local socket'),
       COALESCE(a.state, ''), COALESCE(left(a.query, 200), ''), COALESCE(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1
LIMIT 1`, pgLockKey>>32, pgLockKey&0xffffffff).Scan(&pid, &user, &app, &addr, &state, &query, &since)
		if err != nil {
			return ""
		}
		s := fmt.Sprintf("PostgreSQL backend pid %d (user %s, application %q, from %s, connected since %s, %s", pid, user, app, addr, since, state)
		if query != "" {
			s += fmt.Sprintf(", last query %q", oneLine(query))
		}
		return s + ")"
	}
	var id sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", r.myLockName()).Scan(&id); err != nil || !id.Valid {
		return ""
	}
	var user, host, info, state string
	var secs int64
	err := conn.QueryRowContext(ctx, "SELECT COALESCE(USER,''), COALESCE(HOST,''), COALESCE(LEFT(INFO, 200),''), COALESCE(STATE,''), COALESCE(TIME,0) FROM information_schema.PROCESSLIST WHERE ID = ?", id.Int64).
		Scan(&user, &host, &info, &state, &secs)
	if err != nil {
		return fmt.Sprintf("connection %d", id.Int64)
	}
	s := fmt.Sprintf("connection %d (user %s from %s, %ds in its current state %q", id.Int64, user, host, secs, state)
	if info != "" {
		s += fmt.Sprintf(", running %q", oneLine(info))
	}
	return s + ")"
}

// waitStale waits until no session of an earlier migsafe run is still
// running a migration (a killed runner's statement runs on until the
// server notices): golang-migrate would otherwise wait on its lock.
func (r *Runner) waitStale(ctx context.Context, deadline time.Time) error {
	if r.t.kind != Postgres {
		return nil
	}
	start := time.Now()
	for {
		var pid int64
		var app, query string
		err := r.ctl.QueryRowContext(ctx, `
SELECT pid, application_name, COALESCE(left(query, 200), '') FROM pg_stat_activity
WHERE datname = current_database() AND application_name LIKE 'migsafe apply %' AND state <> 'idle' AND pid <> pg_backend_pid()
LIMIT 1`).Scan(&pid, &app, &query)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return r.t.scrub(fmt.Errorf("looking for sessions of earlier runs: %w", err))
		}
		if !time.Now().Before(deadline) {
			return &LockError{Waited: time.Since(start), Holder: r.t.scrubString(fmt.Sprintf("the session of an earlier run that is still executing (pid %d, %q, query %q); it ends when its statement does, or cancel it with SELECT pg_cancel_backend(%d)", pid, app, oneLine(query), pid))}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(200*time.Millisecond, time.Until(deadline))):
		}
	}
}

// cancelRunning cancels golang-migrate's running statement on the server.
func (r *Runner) cancelRunning() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if r.t.kind == Postgres {
		_, err = r.ctl.ExecContext(ctx, "SELECT pg_cancel_backend($1)", r.backend)
	} else {
		_, err = r.ctl.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", r.backend))
	}
	return r.t.scrub(err)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
