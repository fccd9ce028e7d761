// Package migrate applies SQL migrations with golang-migrate underneath and
// keeps the database in a state somebody understands: its own history
// table (migsafe_history) with checksums, a bounded lock that names its
// holder, failure classification with safe automatic retries on
// PostgreSQL, refusals with the fix (checksum drift, missing files,
// out-of-order versions, downs over irreversible migrations), a repair
// command for dirty databases and verify-rollback on scratch databases.
//
// The command line (migsafe migrate, migsafe verify-rollback) and the
// rollout runner both call it. The lint gate is injected (Gate), so this
// package does not depend on how the linter is configured.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gm "github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	gmmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	gmpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
)

// Defaults.
const (
	DefaultLockWait    = time.Minute
	DefaultLockTimeout = 10 * time.Second
	DefaultRetries     = 3
	DefaultBackoff     = time.Second
)

// Gate reviews the pending migrations before anything is applied (the lint
// gate). It returns how many of them, from the first, may be applied (all
// of them, or fewer when a phase stops before a contract step) and a
// reason when it stops early; an error refuses the whole run (its message
// is printed as the refusal).
type Gate interface {
	Review(ctx context.Context, pending []*Migration) (allow int, stopReason string, err error)
}

// HistoryGate is a Gate that also judges by when each applied migration
// was applied to this database (from migsafe_history): the contract phase
// measures a deprecation's age from it. The runner calls ReviewApplied
// instead of Review.
type HistoryGate interface {
	Gate
	ReviewApplied(ctx context.Context, pending []*Migration, applied map[uint]time.Time) (allow int, stopReason string, err error)
}

// Options configure a Runner.
type Options struct {
	// DatabaseURL is postgres://… or mysql://…; its password never appears
	// in any message, row or event.
	DatabaseURL string
	Source      *Source
	// LockWait bounds the wait for the runner's lock (default 1m).
	LockWait time.Duration
	// LockTimeout is the session's lock_timeout (PostgreSQL) or
	// lock_wait_timeout (MySQL) while migrations run (default 10s).
	LockTimeout time.Duration
	// StatementTimeout bounds each statement (0: none).
	StatementTimeout time.Duration
	// Retries and Backoff steer the retries of transient PostgreSQL
	// failures that provably applied nothing (defaults 3 and 1s, doubled
	// each time).
	Retries int
	Backoff time.Duration
	Gate    Gate
	// Events receives progress (one event per migration started, retried,
	// finished or failed). Nil: none.
	Events func(Event)
	// ProgressEvery is how often a running migration reports what the
	// server shows of it (a "progress" event); 0: never.
	ProgressEvery time.Duration
	// Version is migsafe's version, recorded in the history.
	Version string
	// RunID identifies this run in the history (default: generated).
	RunID string
	// VerifyWithData makes VerifyRollback seed every table with a few
	// generated rows before each up and report what the down loses.
	VerifyWithData bool
}

// Event is a progress report.
type Event struct {
	Kind      string        `json:"kind"` // "start", "progress", "done", "retry", "failed", "recovered", "note"
	Version   uint          `json:"version,omitempty"`
	Name      string        `json:"name,omitempty"`
	Direction string        `json:"direction,omitempty"`
	Duration  time.Duration `json:"duration_ns,omitempty"` // of the migration so far (progress) or in all (done, failed)
	Attempt   int           `json:"attempt,omitempty"`
	Message   string        `json:"message,omitempty"`
	// Index and Total place the migration in the run: migration Index of
	// Total (from 1); Elapsed is the run's time so far.
	Index   int           `json:"index,omitempty"`
	Total   int           `json:"total,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Locks are the locks the migration is predicted to take (start, done).
	Locks []Lock `json:"locks,omitempty"`
	// Progress is what the server shows of a long migration (progress).
	Progress *Progress `json:"progress,omitempty"`
}

// Step is one migration the run applied or tried.
type Step struct {
	Version   uint          `json:"version"`
	Name      string        `json:"name"`
	Direction string        `json:"direction"`
	Duration  time.Duration `json:"duration_ns"`
	Outcome   string        `json:"outcome"`
	Attempts  int           `json:"attempts"`
	Error     string        `json:"error,omitempty"`
	Locks     []Lock        `json:"locks,omitempty"` // predicted
}

// Result is what Up or Down did.
type Result struct {
	RunID   string `json:"run_id"`
	From    int64  `json:"from"` // -1: no version
	To      int64  `json:"to"`
	Steps   []Step `json:"steps"`
	Stopped string `json:"stopped,omitempty"` // why the run stopped before its target
}

// Runner applies migrations to one database.
type Runner struct {
	opt     Options
	t       *target
	ctl     *sql.DB // control pool: lock, history, snapshots, cancels
	serverV int     // PostgreSQL server_version_num / 0 for MySQL
	mariadb bool
	host    string

	lockConn *sql.Conn
	migDB    *sql.DB
	m        *gm.Migrate
	backend  int64 // golang-migrate's session: pid / connection id
	deferred *finish
	// hook runs once, concurrently with golang-migrate's next
	// SetVersion(dirty): it writes the intent row
	hook atomic.Pointer[func() error]
	// PostgreSQL: the row setVersionPG writes with the dirty version, and
	// whether it did, and whether it recorded the success
	intent        *Row
	running       *Row
	intentWritten bool
	finishedInTx  bool
	// the run's position, for events: migration index of total
	pos struct {
		index, total int
		start        time.Time
	}
	emitMu sync.Mutex
	// the last statement the watchdog saw, and whether it killed it for
	// --statement-timeout (MySQL); forceWatchdog makes it enforce the
	// timeout on MariaDB too (tests)
	lastStmt      string
	timedOut      bool
	forceWatchdog bool
}

// Open connects to the database (without taking any lock).
func Open(ctx context.Context, opt Options) (*Runner, error) {
	t, err := parseTarget(opt.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if opt.LockWait <= 0 {
		opt.LockWait = DefaultLockWait
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = DefaultLockTimeout
	}
	if opt.Retries == 0 {
		opt.Retries = DefaultRetries
	}
	if opt.Backoff <= 0 {
		opt.Backoff = DefaultBackoff
	}
	if opt.Version == "" {
		opt.Version = "dev"
	}
	if opt.RunID == "" {
		opt.RunID = newRunID()
	}
	host, _ := os.Hostname()
	r := &Runner{opt: opt, t: t, host: host}
	settings := map[string]string{}
	if t.kind == Postgres {
		settings["application_name"] = r.appName("control")
	}
	r.ctl, err = t.pool(settings, 4)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.ctl.PingContext(pctx); err != nil {
		r.ctl.Close()
		return nil, r.t.scrub(fmt.Errorf("connecting to %s: %w", t.redacted, err))
	}
	if t.kind == Postgres {
		if err := r.ctl.QueryRowContext(pctx, "SELECT current_setting('server_version_num')::int").Scan(&r.serverV); err != nil {
			r.ctl.Close()
			return nil, r.t.scrub(fmt.Errorf("reading the server version: %w", err))
		}
	} else {
		var v string
		if err := r.ctl.QueryRowContext(pctx, "SELECT VERSION()").Scan(&v); err != nil {
			r.ctl.Close()
			return nil, r.t.scrub(fmt.Errorf("reading the server version: %w", err))
		}
		r.mariadb = strings.Contains(strings.ToLower(v), "mariadb")
	}
	return r, nil
}

// Engine is Postgres or MySQL.
func (r *Runner) Engine() string { return r.t.kind }

// Database is the database URL with the password masked.
func (r *Runner) Database() string { return r.t.redacted }

// RunID identifies this run in the history.
func (r *Runner) RunID() string { return r.opt.RunID }

// Close releases everything the runner holds.
func (r *Runner) Close() error {
	r.release()
	return r.ctl.Close()
}

func (r *Runner) appName(role string) string {
	n := fmt.Sprintf("migsafe %s %s pid %d", role, r.opt.RunID, os.Getpid())
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

func (r *Runner) emit(e Event) {
	if r.opt.Events == nil {
		return
	}
	e.Message = r.t.scrubString(e.Message)
	if e.Progress != nil {
		p := *e.Progress
		p.Statement, p.Waiting = r.t.scrubString(p.Statement), r.t.scrubString(p.Waiting)
		e.Progress = &p
	}
	if r.pos.total > 0 && e.Kind != "recovered" {
		e.Index, e.Total, e.Elapsed = r.pos.index, r.pos.total, time.Since(r.pos.start)
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	r.opt.Events(e)
}

// locksOf asks the gate which locks a migration takes (nil when it cannot say).
func (r *Runner) locksOf(m *Migration, dir string) []Lock {
	if p, ok := r.opt.Gate.(Predictor); ok {
		return p.Locks(m, dir)
	}
	return nil
}

// q turns ? placeholders into PostgreSQL's $n.
func (r *Runner) q(s string) string {
	if r.t.kind != Postgres {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// acquire takes the runner's lock, creates the history table and opens
// golang-migrate on a dedicated session. Everything is bounded by
// LockWait.
func (r *Runner) acquire(ctx context.Context) error {
	if r.m != nil {
		return nil
	}
	deadline := time.Now().Add(r.opt.LockWait)
	if err := r.lock(ctx, deadline); err != nil {
		return err
	}
	if err := r.ensureTables(ctx); err != nil {
		r.release()
		return err
	}
	if err := r.waitStale(ctx, deadline); err != nil {
		r.release()
		return err
	}
	if err := r.openMigrate(ctx); err != nil {
		r.release()
		return err
	}
	return nil
}

func (r *Runner) release() {
	_ = r.flush()
	if r.m != nil {
		// Close closes the migrate pool too (golang-migrate #578)
		r.m.Close()
		r.m = nil
	}
	if r.migDB != nil {
		r.migDB.Close()
		r.migDB = nil
	}
	if r.lockConn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if r.t.kind == Postgres {
			_, _ = r.lockConn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", pgLockKey)
		} else {
			_, _ = r.lockConn.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", r.myLockName())
		}
		cancel()
		r.lockConn.Close()
		r.lockConn = nil
	}
}

// openMigrate opens golang-migrate on a pool of one session that carries
// the timeouts; the runner's lock is held, so golang-migrate's own lock is
// uncontended (and bounded by lock_timeout when it is not).
func (r *Runner) openMigrate(ctx context.Context) error {
	settings := map[string]string{}
	if r.t.kind == Postgres {
		settings["application_name"] = r.appName("apply")
		settings["lock_timeout"] = pgDuration(r.opt.LockTimeout)
		if r.opt.StatementTimeout > 0 {
			settings["statement_timeout"] = pgDuration(r.opt.StatementTimeout)
		}
		if r.serverV >= 140000 {
			// a killed runner's statement is stopped within a second
			// instead of running on (and committing) unattended
			settings["client_connection_check_interval"] = "1000"
		}
	} else {
		settings["lock_wait_timeout"] = seconds(r.opt.LockTimeout, 1)
		settings["innodb_lock_wait_timeout"] = seconds(r.opt.LockTimeout, 1)
		if r.opt.StatementTimeout > 0 && r.nativeTimeout() {
			settings["max_statement_time"] = fmt.Sprintf("%.3f", r.opt.StatementTimeout.Seconds())
		}
	}
	db, err := r.t.pool(settings, 1)
	if err != nil {
		return err
	}
	r.migDB = db
	// the pool has one session: note its id for cancelling, then hand it
	// to golang-migrate
	idq := "SELECT pg_backend_pid()"
	if r.t.kind == MySQL {
		idq = "SELECT CONNECTION_ID()"
	}
	if err := db.QueryRowContext(ctx, idq).Scan(&r.backend); err != nil {
		return r.t.scrub(fmt.Errorf("connecting to %s: %w", r.t.redacted, err))
	}
	var drv database.Driver
	if r.t.kind == Postgres {
		drv, err = gmpgx.WithInstance(db, &gmpgx.Config{})
	} else {
		drv, err = gmmysql.WithInstance(db, &gmmysql.Config{DatabaseName: r.t.database})
	}
	if err != nil {
		return r.t.scrub(fmt.Errorf("opening golang-migrate on %s: %w", r.t.redacted, pgDetail(err)))
	}
	m, err := gm.NewWithInstance("migsafe", &driver{s: r.opt.Source}, r.t.kind, &heldDriver{Driver: drv, hook: &r.hook, setVersion: r.setVersionFunc()})
	if err != nil {
		drv.Close()
		return r.t.scrub(fmt.Errorf("opening golang-migrate: %w", err))
	}
	m.LockTimeout = r.opt.LockWait
	r.m = m
	return nil
}

// version reads golang-migrate's version without golang-migrate (which
// would lock): -1 when there is none.
func (r *Runner) version(ctx context.Context) (int64, bool, error) {
	var v int64
	var dirty bool
	err := r.ctl.QueryRowContext(ctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&v, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, false, nil
	}
	if err != nil {
		if missingTable(err) {
			return -1, false, nil
		}
		if strings.Contains(err.Error(), "dirty") {
			return 0, false, errors.New("schema_migrations has no dirty column: it is another tool's (dbmate keeps its versions in a table of that name); migsafe migrate runs golang-migrate, whose schema_migrations is (version bigint, dirty boolean): migrate a database that dbmate does not manage, or rename dbmate's table once the versions are recorded for golang-migrate")
		}
		return 0, false, r.t.scrub(fmt.Errorf("reading schema_migrations: %w", err))
	}
	return v, dirty, nil
}

func versionString(v int64) string {
	if v < 0 {
		return "none"
	}
	return fmt.Sprint(v)
}

// prevOf is the version before v in the source (-1 for the first).
func (r *Runner) prevOf(v uint) int64 {
	p, ok := r.opt.Source.Prev(v)
	if !ok {
		return -1
	}
	return int64(p)
}

// heldDriver keeps golang-migrate's own lock for the whole run (taken on
// first use, released on Close) and remembers the version it set: the
// runner applies one migration per golang-migrate call, and without it
// every call would lock, read the version and unlock again.
type heldDriver struct {
	database.Driver
	hook       *atomic.Pointer[func() error]
	setVersion func(v int, dirty bool) error // nil: golang-migrate's
	held       bool
	known      bool
	v          int
	dirty      bool
}

func (d *heldDriver) Lock() error {
	if d.held {
		return nil
	}
	if err := d.Driver.Lock(); err != nil {
		return err
	}
	d.held = true
	return nil
}

func (d *heldDriver) Unlock() error { return nil }

func (d *heldDriver) SetVersion(v int, dirty bool) error {
	var hookErr chan error
	if dirty && d.hook != nil {
		if h := d.hook.Swap(nil); h != nil {
			hookErr = make(chan error, 1)
			go func() { hookErr <- (*h)() }()
		}
	}
	var err error
	if d.setVersion != nil {
		err = d.setVersion(v, dirty)
	} else {
		err = d.Driver.SetVersion(v, dirty)
	}
	if hookErr != nil {
		if herr := <-hookErr; herr != nil && err == nil {
			err = herr
		}
	}
	d.known, d.v, d.dirty = err == nil, v, dirty
	return err
}

func (d *heldDriver) Version() (int, bool, error) {
	if d.known {
		return d.v, d.dirty, nil
	}
	v, dirty, err := d.Driver.Version()
	d.known, d.v, d.dirty = err == nil, v, dirty
	return v, dirty, err
}

func (d *heldDriver) Close() error {
	if d.held {
		_ = d.Driver.Unlock()
		d.held = false
	}
	return d.Driver.Close()
}

func (r *Runner) setVersionFunc() func(int, bool) error {
	if r.t.kind != Postgres {
		return nil
	}
	return r.setVersionPG
}

// setVersionPG does what golang-migrate's pgx driver does (truncate
// schema_migrations, insert the version) in one round trip instead of
// four, and commits the history with it: the intent row with the dirty
// version, the success with the clean one. The statements run as one
// simple query, which PostgreSQL runs in one implicit transaction.
func (r *Runner) setVersionPG(v int, dirty bool) error {
	var b strings.Builder
	b.WriteString("TRUNCATE schema_migrations;\n")
	if v >= 0 || (v == database.NilVersion && dirty) {
		fmt.Fprintf(&b, "INSERT INTO schema_migrations (version, dirty) VALUES (%d, %t);\n", v, dirty)
	}
	var wrote, finished *Row
	if dirty && r.intent != nil {
		w := r.intent
		fmt.Fprintf(&b, "INSERT INTO migsafe_history (run_id, version, name, direction, sha256, started_at, outcome, error, host, migsafe_version) VALUES (%s, %d, %s, %s, %s, %s::timestamptz, 'running', '', %s, %s);\n",
			sqlLit(r.opt.RunID), w.Version, sqlLit(w.Name), sqlLit(w.Direction), sqlLit(w.SHA256), sqlLit(w.Started.UTC().Format(time.RFC3339Nano)), sqlLit(r.host), sqlLit(r.opt.Version))
		wrote = w
	}
	if !dirty && r.running != nil {
		now := time.Now().UTC()
		fmt.Fprintf(&b, "UPDATE migsafe_history SET finished_at = %s::timestamptz, duration_ms = %d, outcome = 'applied' WHERE id = (SELECT max(id) FROM migsafe_history WHERE run_id = %s);\n",
			sqlLit(now.Format(time.RFC3339Nano)), now.Sub(r.running.Started).Milliseconds(), sqlLit(r.opt.RunID))
		finished = r.running
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.ctl.ExecContext(ctx, b.String()); err != nil {
		return &database.Error{OrigErr: err, Err: "recording the version and the history", Query: []byte(b.String())}
	}
	if wrote != nil {
		r.running, r.intent, r.intentWritten = wrote, nil, true
	}
	if finished != nil {
		r.running, r.finishedInTx = nil, true
	}
	return nil
}

// sqlLit quotes a string for PostgreSQL whatever standard_conforming_strings says.
func sqlLit(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}
