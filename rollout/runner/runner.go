// Package runner is what `migsafe rollout` calls: it loads the plan, opens
// the service's state and drives the engine, so that the command line
// only parses flags and prints.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/migsafe/migsafe/rollout/backend"
	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/dbstep"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
)

// Options configure a command.
type Options struct {
	PlanFile string
	StateDir string
	// Compile builds analysis gates; nil is Compile (analysis metrics or
	// exec).
	Compile plan.Compiler
	Observe func(journal.Event)
	Tick    func(engine.State, time.Time)
	Loud    io.Writer
	Self    string // the migsafe executable
	Actor   string
	// Poll, Backoff and CrashAtSeq: see engine.Driver.
	Poll       time.Duration
	Backoff    func(int) time.Duration
	CrashAtSeq int
	// DB runs the check and migrate steps on the plan's migrations; nil
	// is a dbstep.Runner reading the process's environment.
	DB engine.DBSteps
	// Getenv reads the database URL for the journal table; nil is
	// os.Getenv.
	Getenv func(string) string
	// Replace: a new run may replace this unfinished run of the journal
	// table (its machine is gone); see engine.Driver.Replace.
	Replace string
	// FromDatabase: Status reads the run from the plan's journal table
	// instead of the local state (another machine's run).
	FromDatabase bool
	// Readiness sees the readiness checklist Start runs before a new
	// run; AfterRollback what followed a rollback this process finished
	// (checklists.go).
	Readiness     func(checklist.Report)
	AfterRollback func(*AfterRollback)
}

// Load reads and validates the plan.
func Load(o Options) (*plan.Plan, error) {
	c := o.Compile
	if c == nil {
		c = Compile
	}
	return plan.Load(o.PlanFile, plan.Options{Compile: c})
}

func driver(o Options) (*engine.Driver, error) {
	p, err := Load(o)
	if err != nil {
		return nil, err
	}
	if o.Replace != "" && (p.Migrations == nil || p.Migrations.JournalTable == "") {
		return nil, fmt.Errorf("%s: --replace %s: runs are replaced in the journal table, and the plan has no migrations.journal_table", p.File, o.Replace)
	}
	store, err := journal.Open(o.StateDir, p.Service)
	if err != nil {
		return nil, err
	}
	b, err := backend.New(p.Backend)
	if err != nil {
		return nil, fmt.Errorf("%s: backend: %w", p.File, err)
	}
	db := o.DB
	if db == nil {
		db = &dbstep.Runner{Getenv: o.Getenv}
	}
	d := &engine.Driver{Plan: p, Store: store, Backend: b, Observe: observe(o, p), Loud: o.Loud, Self: o.Self,
		Actor: o.Actor, Tick: o.Tick, Poll: o.Poll, Backoff: o.Backoff, CrashAtSeq: o.CrashAtSeq, DB: db}
	if p.Flags != nil {
		fs, err := compileFlags(p)
		if err != nil {
			return nil, err
		}
		d.Flags = fs
	}
	if p.Migrations != nil && p.Migrations.JournalTable != "" {
		m, err := dbstep.NewMirror(p.Migrations, p.Service, o.Getenv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.File, err)
		}
		d.Mirror, d.Lock, d.Replace = m, m, o.Replace
	}
	return d, nil
}

func closeMirror(d *engine.Driver) {
	if m, ok := d.Mirror.(*dbstep.Mirror); ok {
		_ = m.Close()
	}
}

// Start starts a run, or continues the service's unfinished run of the
// same plan. A new run starts only when the plan's rollback readiness
// checklist passes (NotReadyError otherwise).
func Start(ctx context.Context, o Options) (*plan.Plan, engine.State, error) {
	d, err := driver(o)
	if err != nil {
		return nil, engine.State{}, err
	}
	defer closeMirror(d)
	a, err := d.Store.Active()
	if err != nil {
		return d.Plan, engine.State{}, err
	}
	if a == nil {
		_, r, err := Readiness(ctx, o)
		if err != nil {
			return d.Plan, engine.State{}, err
		}
		if o.Readiness != nil {
			o.Readiness(r)
		}
		if !r.Passed {
			return d.Plan, engine.State{}, &NotReadyError{Report: r}
		}
	}
	st, err := d.Start(ctx)
	return d.Plan, st, after(ctx, o, d.Plan, st, err)
}

// after runs what follows a rollback this process finished.
func after(ctx context.Context, o Options, p *plan.Plan, st engine.State, err error) error {
	if err != nil || st.Status != engine.RolledBack {
		return err
	}
	a, aerr := afterRollback(ctx, o, p, st)
	if aerr != nil {
		// the rollback is done; what follows it failing is reported, not fatal
		if o.Loud != nil {
			fmt.Fprintf(o.Loud, "migsafe: warning: after the rollback: %v\n", aerr)
		}
		return nil
	}
	if a != nil && o.AfterRollback != nil {
		o.AfterRollback(a)
	}
	return nil
}

// Actions a person can send.
var Actions = []string{"pause", "resume", "abort", "promote"}

// Control sends a request to the service's unfinished run. When no
// process drives the run, this one does (and returns its state, driven
// to the next pause or to the end); otherwise sent is true and the
// running process acts on it.
func Control(ctx context.Context, o Options, action, reason string) (st engine.State, sent bool, err error) {
	d, err := driver(o)
	if err != nil {
		return st, false, err
	}
	defer closeMirror(d)
	a, err := d.Store.Active()
	if err != nil {
		return st, false, err
	}
	if a == nil {
		return st, false, fmt.Errorf("service %s has no unfinished run", d.Plan.Service)
	}
	if err := d.Store.SendControl(a.RunID, journal.Control{Action: action, Actor: o.Actor, Reason: reason}); err != nil {
		return st, false, err
	}
	st, err = d.Continue(ctx)
	if errors.Is(err, journal.ErrBusy) {
		return st, true, nil
	}
	return st, false, after(ctx, o, d.Plan, st, err)
}

// Report is a run's status.
type Report struct {
	Service  string          `json:"service"`
	Active   bool            `json:"active"`
	Driver   *journal.Active `json:"driver,omitempty"`
	State    engine.State    `json:"state"`
	Steps    []string        `json:"steps"`
	Rollback []string        `json:"rollback"`
	Events   []journal.Event `json:"-"`
}

// Status reports the unfinished run of the plan's service, or the last
// one.
func Status(o Options) (*Report, error) {
	p, err := Load(o)
	if err != nil {
		return nil, err
	}
	if o.Replace != "" && (p.Migrations == nil || p.Migrations.JournalTable == "") {
		return nil, fmt.Errorf("%s: --replace %s: runs are replaced in the journal table, and the plan has no migrations.journal_table", p.File, o.Replace)
	}
	store, err := journal.Open(o.StateDir, p.Service)
	if err != nil {
		return nil, err
	}
	r := &Report{Service: p.Service}
	for _, s := range p.Steps {
		r.Steps = append(r.Steps, s.String())
	}
	for _, s := range p.Rollback {
		r.Rollback = append(r.Rollback, s.String())
	}
	if o.FromDatabase {
		return statusFromDatabase(p, r, o)
	}
	a, err := store.Active()
	if err != nil {
		return nil, err
	}
	id := ""
	if a != nil {
		r.Active, r.Driver, id = true, a, a.RunID
	} else {
		names, _ := filepath.Glob(filepath.Join(store.Dir, "runs", "*.jsonl"))
		var runs []string
		for _, n := range names {
			if !strings.HasSuffix(n, ".control.jsonl") {
				runs = append(runs, strings.TrimSuffix(filepath.Base(n), ".jsonl"))
			}
		}
		sort.Strings(runs)
		if len(runs) == 0 {
			return r, nil
		}
		id = runs[len(runs)-1]
	}
	events, err := store.ReadEvents(id)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	r.Events = events
	r.State = engine.Replay(events)
	if r.State.RunID == "" {
		r.State.RunID = id
	}
	return r, nil
}

// statusFromDatabase reads the service's newest run from the plan's
// journal table: what another machine drives or drove.
func statusFromDatabase(p *plan.Plan, r *Report, o Options) (*Report, error) {
	if p.Migrations == nil || p.Migrations.JournalTable == "" {
		return nil, fmt.Errorf("%s: --from-database needs migrations.journal_table in the plan", p.File)
	}
	m, err := dbstep.NewMirror(p.Migrations, p.Service, o.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.File, err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, events, err := m.Latest(ctx)
	if err != nil || id == "" {
		return r, err
	}
	r.Events = events
	r.State = engine.Replay(events)
	if r.State.RunID == "" {
		r.State.RunID = id
	}
	r.Active = r.State.Status != engine.Promoted && r.State.Status != engine.RolledBack
	return r, nil
}
