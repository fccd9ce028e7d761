package dbstep

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
)

// Mirror copies a run's journal events into a table of the target
// database (PostgreSQL), so that another machine sees the run. The local
// journal stays the truth the runner resumes from: a copy that cannot be
// written does not stop the run (a rollback must not wait for the
// database), and a resumed run copies every event again (an event is
// keyed by run and sequence number, so a copy is written once).
type Mirror struct {
	table, service, url string

	mu      sync.Mutex
	db      *sql.DB
	created bool
}

// mirrorTimeout bounds each write of the copy.
const mirrorTimeout = 5 * time.Second

// NewMirror is the mirror of m's journal_table for a service; getenv reads
// the database URL (nil: os.Getenv). It connects on first use.
func NewMirror(m *plan.Migrations, service string, getenv func(string) string) (*Mirror, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	url := getenv(m.DatabaseEnv)
	if url == "" {
		return nil, fmt.Errorf("migrations.journal_table: the database URL is read from $%s, which is empty", m.DatabaseEnv)
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, errors.New("migrations.journal_table: the journal is copied to PostgreSQL databases only")
	}
	return &Mirror{table: m.JournalTable, service: service, url: url}, nil
}

func (m *Mirror) open(ctx context.Context) (*sql.DB, error) {
	if m.db == nil {
		db, err := sql.Open("pgx", m.url)
		if err != nil {
			return nil, scrub(err, m.url)
		}
		db.SetMaxOpenConns(1)
		m.db = db
	}
	if !m.created {
		if err := m.ensureTable(ctx); err != nil {
			return nil, scrub(err, m.url)
		}
		m.created = true
	}
	return m.db, nil
}

// ensureTable creates the journal table when it is missing (a user that
// may only read and write an existing table needs no CREATE right), and
// adds the recorded column to a table from before it. recorded is the
// database's own time of each row's first copy: the newest run is the one
// whose first event the database received last, whatever the clocks of
// the machines that drove the runs say.
func (m *Mirror) ensureTable(ctx context.Context) error {
	var reg sql.NullString
	if err := m.db.QueryRowContext(ctx, `SELECT to_regclass($1)::text`, m.table).Scan(&reg); err != nil {
		return err
	}
	if !reg.Valid {
		_, err := m.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+m.table+` (
  run_id text NOT NULL,
  seq integer NOT NULL,
  service text NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  event jsonb NOT NULL,
  recorded timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (run_id, seq))`)
		return err
	}
	var has bool
	if err := m.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'recorded' AND NOT attisdropped)`, m.table).Scan(&has); err != nil || has {
		return err
	}
	_, err := m.db.ExecContext(ctx, `ALTER TABLE `+m.table+` ADD COLUMN IF NOT EXISTS recorded timestamptz NOT NULL DEFAULT clock_timestamp()`)
	return err
}

// Record copies events of run id (each at most once).
func (m *Mirror) Record(id string, events []journal.Event) error {
	if len(events) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), mirrorTimeout)
	defer cancel()
	db, err := m.open(ctx)
	if err != nil {
		return fmt.Errorf("journal table %s: %w", m.table, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal table %s: %w", m.table, scrub(err, m.url))
	}
	defer func() { _ = tx.Rollback() }()
	for _, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO `+m.table+` (run_id, seq, service, at, kind, event) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			id, e.Seq, m.service, e.At, e.Kind, string(data))
		if err != nil {
			return fmt.Errorf("journal table %s: %w", m.table, scrub(err, m.url))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal table %s: %w", m.table, scrub(err, m.url))
	}
	return nil
}

// Latest reads the newest run of the service from the table: its id and
// events in order; "" when the table has none.
func (m *Mirror) Latest(ctx context.Context) (string, []journal.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	db, err := m.open(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("journal table %s: %w", m.table, err)
	}
	var id string
	err = db.QueryRowContext(ctx, `SELECT run_id FROM `+m.table+` WHERE service = $1 AND seq = 1 ORDER BY recorded DESC, run_id DESC LIMIT 1`, m.service).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("journal table %s: %w", m.table, scrub(err, m.url))
	}
	rows, err := db.QueryContext(ctx, `SELECT event FROM `+m.table+` WHERE run_id = $1 ORDER BY seq`, id)
	if err != nil {
		return "", nil, fmt.Errorf("journal table %s: %w", m.table, scrub(err, m.url))
	}
	defer rows.Close()
	var events []journal.Event
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return "", nil, err
		}
		var e journal.Event
		if err := json.Unmarshal(data, &e); err != nil {
			return "", nil, fmt.Errorf("journal table %s: run %s: %w", m.table, id, err)
		}
		events = append(events, e)
	}
	return id, events, rows.Err()
}

// Close closes the connection; it does not wait for a copy in flight
// (whose context ends within mirrorTimeout), so a database that does not
// answer cannot hold up the end of a run.
func (m *Mirror) Close() error {
	if !m.mu.TryLock() {
		return nil
	}
	defer m.mu.Unlock()
	if m.db == nil {
		return nil
	}
	return m.db.Close()
}

// scrub removes the URL (and its password) from a driver's message.
func scrub(err error, url string) error {
	msg := err.Error()
	if strings.Contains(msg, url) {
		msg = strings.ReplaceAll(msg, url, "$DATABASE_URL")
	}
	if i := strings.Index(url, "://"); i >= 0 {
		if at := strings.Index(url[i+3:], "@"); at >= 0 {
			if _, pw, ok := strings.Cut(url[i+3:i+3+at], ":"); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "***")
			}
		}
	}
	return errors.New(msg)
}

// lockClass is the first key of the advisory lock a run of a service
// holds in the target database ("ms", for migsafe); the second is the
// service's hash.
const lockClass = 0x6d73

// BusyError refuses a new run of a service: another process, perhaps on
// another machine, drives one, or the newest run in the journal table is
// unfinished.
type BusyError struct {
	Service, What string
	// Run is the unfinished run of the journal table that refused the
	// start; empty when another session holds the lock.
	Run string
}

// UnfinishedRun is the run of the table that refused the start, if any.
func (e *BusyError) UnfinishedRun() string { return e.Run }

// Busy marks the error for the engine, which refuses to start on it.
func (e *BusyError) Busy() bool { return true }

func (e *BusyError) Error() string { return "service " + e.Service + ": " + e.What }

// Lock guards the start of a new run: it takes the service's advisory
// lock in the target database, on a connection of its own held until
// release, naming this process (who) in its application_name, and refuses
// with a *BusyError while another session holds it, or while the newest
// run of the service in the journal table is unfinished (paused, or
// driven by a machine that is gone) unless that run is replace. Any other
// error means the database did not answer within mirrorTimeout.
func (m *Mirror) Lock(who, replace string) (release func(), replaced bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), mirrorTimeout)
	defer cancel()
	db, err := sql.Open("pgx", m.url)
	if err != nil {
		return nil, false, scrub(err, m.url)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, false, fmt.Errorf("the database lock of service %s: %w", m.service, scrub(err, m.url))
	}
	fail := func(err error) (func(), bool, error) {
		conn.Close()
		db.Close()
		return nil, false, fmt.Errorf("the database lock of service %s: %w", m.service, scrub(err, m.url))
	}
	// the name, and keepalives short enough that a lock whose host died
	// is released within about a minute, not TCP's two hours
	if _, err := conn.ExecContext(ctx, `SELECT set_config('application_name', $1, false), set_config('tcp_keepalives_idle', '30', false),
  set_config('tcp_keepalives_interval', '10', false), set_config('tcp_keepalives_count', '3', false)`, who); err != nil {
		return fail(err)
	}
	h := fnv.New32a()
	h.Write([]byte(m.service))
	key := int32(h.Sum32() & 0x7fffffff)
	// A runner killed a moment ago may still hold it until its server
	// process sees the closed connection: ask again for a little while.
	var got bool
	for try := 0; ; try++ {
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(lockClass), key).Scan(&got); err != nil {
			return fail(err)
		}
		if got || try == 10 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !got {
		holder := "another session"
		var name sql.NullString
		err := conn.QueryRowContext(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 LIMIT 1`, int64(lockClass), int64(key)).Scan(&name)
		if err == nil && name.String != "" {
			holder = fmt.Sprintf("%q", name.String)
		}
		conn.Close()
		db.Close()
		return nil, false, &BusyError{Service: m.service, What: "a run is in progress elsewhere: the database's lock for it is held by " + holder + "; wait for it, or act on it where it runs (migsafe rollout status --from-database shows it)"}
	}
	unlock := func() {
		ctx, cancel := context.WithTimeout(context.Background(), mirrorTimeout)
		defer cancel()
		_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, int32(lockClass), key)
		conn.Close()
		db.Close()
	}
	replaced, err = m.unfinished(ctx, replace)
	if err != nil {
		unlock()
		return nil, false, err
	}
	return unlock, replaced, nil
}

// unfinished refuses (*BusyError) when the newest run of the service in
// the table has neither promoted nor rolled back, unless it is replace
// (then replaced is true).
func (m *Mirror) unfinished(ctx context.Context, replace string) (replaced bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	db, err := m.open(ctx)
	if err != nil {
		return false, fmt.Errorf("journal table %s: %w", m.table, err)
	}
	var id, last string
	var at time.Time
	var ended bool
	err = db.QueryRowContext(ctx, `SELECT run_id, bool_or(kind IN ('promoted', 'rolled_back')), max(at),
  (array_agg(kind ORDER BY seq DESC))[1]
FROM `+m.table+` WHERE service = $1 AND run_id = (SELECT run_id FROM `+m.table+` WHERE service = $1 AND seq = 1 ORDER BY recorded DESC, run_id DESC LIMIT 1)
GROUP BY run_id`, m.service).Scan(&id, &ended, &at, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("journal table %s: %w", m.table, scrub(err, m.url))
	case ended:
		return false, nil
	case id == replace:
		return true, nil
	}
	return false, &BusyError{Service: m.service, Run: id, What: fmt.Sprintf("run %s is unfinished in the journal table %s (its last event: %s at %s): finish it where it runs (resume, promote or abort with that machine's state folder); if that machine is gone, start with --replace %s", id, m.table, last, at.UTC().Format(time.RFC3339), id)}
}
