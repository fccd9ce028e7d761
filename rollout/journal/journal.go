// Package journal is a rollout run's durable state: an append-only file
// of JSON lines, one event per line, each written and fsynced before the
// runner goes on. The runner writes an intent before it acts and a done
// after, so a run killed at any point is resumed from its journal. One
// run at a time drives a service: the driver holds an exclusive lock
// (flock, released by the kernel when the process dies) and the active
// run is named in a file replaced by atomic renames.
//
// Layout under the state directory:
//
//	<service>/lock                     flock of the process driving a run
//	<service>/active.json              the unfinished run (atomic rename)
//	<service>/runs/<id>.jsonl          the run's events
//	<service>/runs/<id>.control.jsonl  pause/resume/abort/promote requests
package journal

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/migsafe/migsafe/rollout/backend"
	"github.com/migsafe/migsafe/rollout/gate"
)

// Event kinds.
const (
	RunStarted      = "run_started"
	Resumed         = "resumed"
	StepIntent      = "step_intent"
	StepDone        = "step_done"
	StepFailed      = "step_failed"
	Command         = "command"
	Weight          = "weight"
	GateResult      = "gate"
	Deadline        = "deadline"
	Paused          = "paused"
	Unpaused        = "unpaused"
	RollbackStarted = "rollback_started"
	RollbackRetry   = "rollback_retry"
	Promoted        = "promoted"
	RolledBack      = "rolled_back"
	ControlReceived = "control"
	Warning         = "warning"
	// Migration is a line of a check or migrate step's progress (a
	// migration started, applied, recovered; a note of the lint gate).
	Migration = "migration"
)

// Event is one line of the journal.
type Event struct {
	Seq  int       `json:"seq"`
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Step is the index in the plan's steps, or in its rollback list when
	// Rollback is set; -1 when the event is not about a step.
	Step     int    `json:"step"`
	Rollback bool   `json:"rollback,omitempty"`
	Name     string `json:"name,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
	// GaveUp, on the step_done of a rollback step after the first: its
	// attempts ran out; a person must finish it (Reason says why).
	GaveUp  bool            `json:"gave_up,omitempty"`
	Weight  *int            `json:"weight,omitempty"`
	Command *backend.Record `json:"command,omitempty"`
	Gate    *gate.Result    `json:"gate,omitempty"`
	Until   *time.Time      `json:"until,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Actor   string          `json:"actor,omitempty"`
	// Run facts, on run_started.
	RunID    string `json:"run_id,omitempty"`
	PlanFile string `json:"plan_file,omitempty"`
	PlanHash string `json:"plan_hash,omitempty"`
	Service  string `json:"service,omitempty"`
	Stable   string `json:"stable,omitempty"`
	Canary   string `json:"canary,omitempty"`
}

// Store is the state of one service.
type Store struct {
	Dir     string
	Service string
}

// Open returns the store of a service under stateDir, creating it.
func Open(stateDir, service string) (*Store, error) {
	dir := filepath.Join(stateDir, service)
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		return nil, fmt.Errorf("rollout state: %w", err)
	}
	return &Store{Dir: dir, Service: service}, nil
}

// Active names the unfinished run of a service.
type Active struct {
	RunID    string    `json:"run_id"`
	PlanFile string    `json:"plan_file"`
	PlanHash string    `json:"plan_hash"`
	Started  time.Time `json:"started"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
}

func (a *Active) String() string {
	return fmt.Sprintf("run %s (plan %s, started %s by pid %d on %s)", a.RunID, a.PlanFile, a.Started.UTC().Format(time.RFC3339), a.PID, a.Host)
}

// Active returns the unfinished run, or nil.
func (s *Store) Active() (*Active, error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, "active.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var a Active
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(s.Dir, "active.json"), err)
	}
	return &a, nil
}

// SetActive records the unfinished run (atomically) with this process as
// its driver.
func (s *Store) SetActive(a Active) error {
	a.PID = os.Getpid()
	a.Host, _ = os.Hostname()
	data, _ := json.MarshalIndent(a, "", "  ")
	return backend.WriteFileAtomic(filepath.Join(s.Dir, "active.json"), append(data, '\n'))
}

// ClearActive says the run is finished (promoted or rolled back).
func (s *Store) ClearActive(runID string) error {
	a, err := s.Active()
	if err != nil || a == nil || a.RunID != runID {
		return err
	}
	// Rename first (atomic), then remove: a crash leaves either the old
	// pointer or none.
	old := filepath.Join(s.Dir, "active.json")
	done := filepath.Join(s.Dir, "runs", runID+".finished.json")
	if err := os.Rename(old, done); err != nil {
		return err
	}
	return syncDir(s.Dir)
}

// ErrBusy means another process drives a run of the service.
var ErrBusy = errors.New("another migsafe process drives a run of this service")

// Lock is the exclusive right to drive a service's run.
type Lock struct{ f *os.File }

// TryLock takes the service's lock without waiting. When another process
// holds it, the error names the run it drives.
func (s *Store) TryLock() (*Lock, error) {
	f, err := os.OpenFile(filepath.Join(s.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			a, _ := s.Active()
			if a != nil {
				return nil, fmt.Errorf("%w: service %s: %s is in progress (migsafe rollout status shows it)", ErrBusy, s.Service, a)
			}
			return nil, fmt.Errorf("%w: service %s", ErrBusy, s.Service)
		}
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}

// NewRunID is a sortable, unique run id: the time and 4 random bytes.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Journal is one run's event file.
type Journal struct {
	f    *os.File
	path string
	seq  int
}

// Path is the journal file of a run.
func (s *Store) Path(runID string) string {
	return filepath.Join(s.Dir, "runs", runID+".jsonl")
}

// OpenJournal opens (or creates) a run's journal for appending and
// returns the events already in it. A last line cut short by a crash is
// dropped (the file is truncated to the last complete line): its write
// never finished, so the runner never acted on it.
func (s *Store) OpenJournal(runID string) (*Journal, []Event, error) {
	path := s.Path(runID)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, nil, err
	}
	events, good, err := readEvents(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, nil, err
	}
	j := &Journal{f: f, path: path}
	if n := len(events); n > 0 {
		j.seq = events[n-1].Seq
	}
	return j, events, nil
}

// ReadEvents reads a run's journal without opening it for writing.
func (s *Store) ReadEvents(runID string) ([]Event, error) {
	f, err := os.Open(s.Path(runID))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	events, _, err := readEvents(f)
	return events, err
}

func readEvents(r io.Reader) ([]Event, int64, error) {
	var events []Event
	br := bufio.NewReader(r)
	var good int64
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return events, good, nil // a partial last line is dropped
		}
		if err != nil {
			return nil, 0, err
		}
		line++
		var e Event
		if err := json.Unmarshal(bytes.TrimSpace(b), &e); err != nil {
			return nil, 0, fmt.Errorf("line %d: %w", line, err)
		}
		events = append(events, e)
		good += int64(len(b))
	}
}

// Append writes one event and fsyncs it. It fills Seq and At.
func (j *Journal) Append(e Event) (Event, error) {
	j.seq++
	e.Seq = j.seq
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	data, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	if _, err := j.f.Write(append(data, '\n')); err != nil {
		return e, fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return e, fmt.Errorf("journal %s: %w", j.path, err)
	}
	return e, nil
}

// Close closes the journal.
func (j *Journal) Close() error { return j.f.Close() }

// Control is a request from another terminal.
type Control struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // pause, resume, abort, promote
	Actor  string    `json:"actor,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// SendControl appends a request for a run's driver (O_APPEND, one write,
// fsync).
func (s *Store) SendControl(runID string, c Control) error {
	if c.At.IsZero() {
		c.At = time.Now().UTC()
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "runs", runID+".control.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(c)
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(werr, serr, cerr)
}

// ReadControl returns the requests after the first skip ones.
func (s *Store) ReadControl(runID string, skip int) ([]Control, error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, "runs", runID+".control.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Control
	n := 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c Control
		if json.Unmarshal(line, &c) != nil {
			continue // a request cut short by a crash of its sender
		}
		n++
		if n > skip {
			out = append(out, c)
		}
	}
	return out, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
