package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/migsafe/migsafe/rollout/backend"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
)

// Driver performs what Decide says.
type Driver struct {
	Plan    *plan.Plan
	Store   *journal.Store
	Backend backend.Backend
	// Observe sees every event as it is written (the CLI prints them).
	Observe func(journal.Event)
	// Loud receives the rollback's retry warnings (stderr).
	Loud io.Writer
	// Self is the migsafe executable, for check steps ("migsafe" in the
	// plan's argv).
	Self  string
	Actor string
	// Poll is how often a wait looks for control requests (200ms).
	Poll time.Duration
	// Backoff is the wait before retry n (1-based) of a failed rollback
	// action; nil means 1s, 2s, 4s … capped at 30s.
	Backoff func(n int) time.Duration
	// RollbackAttempts bounds the attempts of rollback steps after the
	// first (route_stable, which is retried until it works or the
	// process is stopped). 0 means 5.
	RollbackAttempts int
	// Tick, when set, is called on every poll of a wait (a bake, a timed
	// pause): for a live view.
	Tick func(s State, now time.Time)
	// DB runs the check and migrate steps on the plan's migrations
	// section (rollout/dbstep); nil makes such a step fail.
	DB DBSteps
	// Mirror, when set, gets a copy of every event after it is in the
	// journal (a table in the target database), from a goroutine of its
	// own: it never delays the run, and its failures are said on Loud.
	Mirror Mirror
	// Lock, when set, guards a new run beyond this machine (the target
	// database's lock, with migrations.journal_table), held for as long
	// as this process drives it: an error with a Busy() true method
	// refuses the run; any other is said on Loud, and the run goes on
	// with the local lock only. Replace names an unfinished run of the
	// service that a new run may replace (its machine is gone).
	Lock    Locker
	Replace string
	// Flags is the plan's flag service (flag and flag_off steps; see
	// flags.go); nil makes a flag step fail.
	Flags FlagService
	// CrashAtSeq, for the crash tests only: the process kills itself
	// with SIGKILL right after writing the event with this number.
	CrashAtSeq int

	j      *journal.Journal
	st     State
	redact *backend.Redactor
	runID  string
	mq     *mirrorQueue
	// replaced: the new run replaces d.Replace (Lock found it unfinished)
	replaced bool
}

func (d *Driver) mirror(events []journal.Event) {
	if d.mq == nil {
		return
	}
	d.mq.add(events)
	d.mq.say(d.Loud)
}

// Locker guards the start of a new run beyond this machine: Lock takes the
// service's lock, naming this process (who), and refuses while another
// process holds it or while the newest run it knows of is unfinished,
// unless that run is replace. Only a new run takes it: a run this
// machine's state folder holds is resumed without it, so that a rollback
// never waits for, or is refused by, another machine's lock.
type Locker interface {
	Lock(who, replace string) (release func(), replaced bool, err error)
}

// lockElsewhere takes the Lock for a new run.
func (d *Driver) lockElsewhere() (func(), error) {
	if d.Lock == nil {
		return func() {}, nil
	}
	host, _ := os.Hostname()
	who := fmt.Sprintf("migsafe rollout %s (pid %d on %s)", d.Plan.Service, os.Getpid(), host)
	release, replaced, err := d.Lock.Lock(who, d.Replace)
	if run := unfinishedRun(err); run != "" && d.Mirror != nil {
		// a run of this state folder that ended while the database did
		// not answer: its copy lacks the end, which the journal has
		if events := d.finishedHere(run); events != nil && d.Mirror.Record(run, events) == nil {
			release, replaced, err = d.Lock.Lock(who, d.Replace)
		}
	}
	d.replaced = replaced
	if d.Replace != "" && !replaced && err == nil && d.Loud != nil {
		fmt.Fprintf(d.Loud, "migsafe: --replace %s: not the newest unfinished run of the journal table; nothing to replace\n", d.Replace)
	}
	var busy interface{ Busy() bool }
	if errors.As(err, &busy) && busy.Busy() {
		return nil, err
	}
	if err != nil {
		if d.Loud != nil {
			fmt.Fprintf(d.Loud, "migsafe: warning: %v; the run goes on with this machine's lock only\n", oneLine(err.Error()))
		}
		return func() {}, nil
	}
	return release, nil
}

// unfinishedRun is the run of the journal table that refused a start
// (err has an UnfinishedRun method), or "".
func unfinishedRun(err error) string {
	var u interface{ UnfinishedRun() string }
	if errors.As(err, &u) {
		return u.UnfinishedRun()
	}
	return ""
}

// noEvents reports whether the journal of run id has no event.
func (d *Driver) noEvents(id string) bool {
	events, err := d.Store.ReadEvents(id)
	return err != nil || len(events) == 0
}

// finishedHere returns the events of run id when this state folder's
// journal has it promoted or rolled back, else nil.
func (d *Driver) finishedHere(id string) []journal.Event {
	events, err := d.Store.ReadEvents(id)
	if err != nil || len(events) == 0 {
		return nil
	}
	if st := Replay(events); st.Status != Promoted && st.Status != RolledBack {
		return nil
	}
	return events
}

// DBSteps runs the steps that work on the plan's migrations: Check lints
// the pending ones, Migrate applies them (expand phase). Both return a
// one-line summary and send progress lines to note. A Migrate interrupted
// at any point may simply run again: what is applied is the database's
// own history's business.
type DBSteps interface {
	Check(ctx context.Context, m *plan.Migrations, note func(string)) (string, error)
	Migrate(ctx context.Context, m *plan.Migrations, runID string, note func(string)) (string, error)
}

// Outcome is how a drive ended, as an exit code.
type Outcome int

// Outcomes.
const (
	OutcomePromoted   Outcome = 0
	OutcomeRolledBack Outcome = 1
	OutcomeError      Outcome = 2
	OutcomePaused     Outcome = 3
)

// OutcomeOf maps a state to its exit code.
func OutcomeOf(s State) Outcome {
	switch s.Status {
	case Promoted:
		return OutcomePromoted
	case RolledBack:
		return OutcomeRolledBack
	case Paused:
		return OutcomePaused
	}
	return OutcomeError
}

// ErrPlanChanged means the plan file differs from the one the run started
// with.
var ErrPlanChanged = errors.New("the plan changed since the run started")

// Start begins a run of the plan, or continues the service's unfinished
// run of the same plan (start again after a crash is resume). It refuses
// while another process drives a run of the service, naming it.
func (d *Driver) Start(ctx context.Context) (State, error) {
	lock, err := d.Store.TryLock()
	if err != nil {
		return State{}, err
	}
	defer func() { _ = lock.Unlock() }()
	a, err := d.Store.Active()
	if err != nil {
		return State{}, err
	}
	if a == nil || d.noEvents(a.RunID) {
		// a new run (or one whose process died before its first event:
		// it has not started anywhere yet)
		release, err := d.lockElsewhere()
		if err != nil {
			return State{}, err
		}
		defer release()
	}
	var id string
	if a != nil {
		if a.PlanHash != d.Plan.Hash {
			return State{}, fmt.Errorf("service %s: %s is unfinished and %w (plan sha256 %s, now %s): resume it with that plan, or abort it", d.Plan.Service, a, ErrPlanChanged, short(a.PlanHash), short(d.Plan.Hash))
		}
		id = a.RunID
		// this process drives it now
		if err := d.Store.SetActive(journal.Active{RunID: a.RunID, PlanFile: a.PlanFile, PlanHash: a.PlanHash, Started: a.Started}); err != nil {
			return State{}, err
		}
	} else {
		id = journal.NewRunID(time.Now())
		if err := d.Store.SetActive(journal.Active{RunID: id, PlanFile: d.Plan.File, PlanHash: d.Plan.Hash, Started: time.Now().UTC()}); err != nil {
			return State{}, err
		}
	}
	return d.drive(ctx, id)
}

// Continue drives the service's unfinished run (after resume, abort,
// promote or pause requests were sent with Store.SendControl).
func (d *Driver) Continue(ctx context.Context) (State, error) {
	lock, err := d.Store.TryLock()
	if err != nil {
		return State{}, err
	}
	defer func() { _ = lock.Unlock() }()
	a, err := d.Store.Active()
	if err != nil {
		return State{}, err
	}
	if a == nil {
		return State{}, fmt.Errorf("service %s has no unfinished run", d.Plan.Service)
	}
	if a.PlanHash != d.Plan.Hash {
		return State{}, fmt.Errorf("service %s: %s: %w (plan sha256 %s, now %s)", d.Plan.Service, a, ErrPlanChanged, short(a.PlanHash), short(d.Plan.Hash))
	}
	if err := d.Store.SetActive(journal.Active{RunID: a.RunID, PlanFile: a.PlanFile, PlanHash: a.PlanHash, Started: a.Started}); err != nil {
		return State{}, err
	}
	return d.drive(ctx, a.RunID)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func (d *Driver) now() time.Time { return time.Now().UTC() }

func (d *Driver) append(e journal.Event) error {
	if e.Step == 0 && e.Kind == journal.RunStarted {
		e.Step = -1
	}
	// Secrets never reach the journal or the terminal.
	if d.redact == nil {
		d.redact = backend.NewRedactor(nil)
	}
	e.Reason = d.redact.String(e.Reason)
	if e.Command != nil {
		r := d.redact.Record(*e.Command)
		e.Command = &r
	}
	if e.Gate != nil {
		g := *e.Gate
		g.Message = d.redact.String(g.Message)
		e.Gate = &g
	}
	e, err := d.j.Append(e)
	if err != nil {
		return err
	}
	d.mirror([]journal.Event{e})
	d.st = Apply(d.st, e)
	if d.Observe != nil {
		d.Observe(e)
	}
	if d.CrashAtSeq > 0 && e.Seq == d.CrashAtSeq {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	return nil
}

func (d *Driver) drive(ctx context.Context, id string) (State, error) {
	j, events, err := d.Store.OpenJournal(id)
	if err != nil {
		return State{}, err
	}
	defer j.Close()
	d.j, d.runID = j, id
	if d.Mirror != nil {
		d.mq = startMirror(d.Mirror, id)
		defer func() { d.mq.close(d.Loud); d.mq = nil }()
	}
	d.mirror(events) // what a crash kept from the copy
	d.st = Replay(events)
	if d.st.Status != New {
		if d.st.PlanHash != d.Plan.Hash {
			return d.st, fmt.Errorf("run %s: %w", id, ErrPlanChanged)
		}
		if err := d.append(journal.Event{Kind: journal.Resumed, Step: d.st.Step, Actor: d.Actor, Reason: "status " + string(d.st.Status)}); err != nil {
			return d.st, err
		}
	}
	if d.Poll <= 0 {
		d.Poll = 200 * time.Millisecond
	}
	for {
		if err := d.controls(id); err != nil {
			return d.st, err
		}
		dec := Decide(d.Plan, d.st, d.now())
		switch dec.What {
		case DoStart:
			err = d.append(journal.Event{Kind: journal.RunStarted, RunID: id, PlanFile: d.Plan.File, PlanHash: d.Plan.Hash,
				Service: d.Plan.Service, Stable: d.Plan.Stable, Canary: d.Plan.Canary, Actor: d.Actor})
			if err == nil && d.replaced {
				err = d.append(journal.Event{Kind: journal.Warning, Step: -1, Actor: d.Actor,
					Reason: "this run replaces run " + d.Replace + ", unfinished in the journal table (--replace)"})
			}
		case DoExit:
			return d.st, nil
		case DoPromoted:
			if err := d.append(journal.Event{Kind: journal.Promoted, Step: -1}); err != nil {
				return d.st, err
			}
			return d.st, d.Store.ClearActive(id)
		case DoFinishBack:
			if err := d.append(journal.Event{Kind: journal.RolledBack, Step: -1, Reason: d.st.Reason}); err != nil {
				return d.st, err
			}
			return d.st, d.Store.ClearActive(id)
		case DoWait:
			if d.Tick != nil {
				d.Tick(d.st, d.now())
			}
			wait := min(time.Until(dec.Until), d.Poll)
			if err := sleep(ctx, wait); err != nil {
				return d.st, err
			}
		case DoneWaiting:
			err = d.append(journal.Event{Kind: journal.StepDone, Step: dec.Step, Name: d.Plan.Steps[dec.Step].String()})
		case DoStep:
			err = d.step(ctx, dec)
		case DoRollback:
			err = d.rollback(ctx, dec)
		}
		if err != nil {
			return d.st, err
		}
		if ctx.Err() != nil {
			return d.st, ctx.Err()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// controls applies the requests sent from other terminals.
func (d *Driver) controls(id string) error {
	cs, err := d.Store.ReadControl(id, d.st.ControlSeen)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := d.append(journal.Event{Kind: journal.ControlReceived, Step: d.st.Step, Actor: c.Actor, Reason: c.Action}); err != nil {
			return err
		}
		by := "by " + c.Actor
		if c.Actor == "" {
			by = "from the command line"
		}
		if c.Reason != "" {
			by += ": " + c.Reason
		}
		if d.st.Status == RollingBack {
			if err := d.append(journal.Event{Kind: journal.Warning, Step: -1, Reason: c.Action + " ignored: a rollback in progress finishes"}); err != nil {
				return err
			}
			continue
		}
		cur := journal.Event{Step: d.st.Step}
		if d.st.Step < len(d.Plan.Steps) {
			cur.Name = d.Plan.Steps[d.st.Step].String()
		}
		switch c.Action {
		case "pause":
			if d.st.Status == Running {
				cur.Kind, cur.Reason = journal.Paused, "paused "+by
				err = d.append(cur)
			}
		case "resume":
			if d.st.Status == Paused {
				cur.Kind, cur.Reason = journal.Unpaused, "resumed "+by
				err = d.append(cur)
			}
		case "abort":
			if d.st.Status == Running || d.st.Status == Paused {
				err = d.append(journal.Event{Kind: journal.RollbackStarted, Step: -1, Reason: "aborted " + by})
			}
		case "promote":
			// Argo's promote: the current pause, approval, bake or
			// inconclusive analysis counts as passed.
			if d.st.Status == Paused {
				cur.Kind, cur.Reason = journal.Unpaused, "promoted "+by
				if err = d.append(cur); err != nil {
					return err
				}
			}
			if d.st.Status == Running && d.st.Step < len(d.Plan.Steps) && d.st.Phase != PhaseNone {
				switch d.Plan.Steps[d.st.Step].Kind {
				case plan.Pause, plan.Approve, plan.Bake, plan.Analysis:
					cur.Kind, cur.Reason = journal.StepDone, "promoted "+by
					err = d.append(cur)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *Driver) params(step string) backend.Params {
	return backend.Params{Stable: d.Plan.Stable, Canary: d.Plan.Canary, RunID: d.st.RunID, Step: step}
}

func (d *Driver) recorder(step int, rollback bool) backend.Recorder {
	return func(r backend.Record) {
		// A journal that cannot be written stops the run at the next
		// append; the command already ran, so its record is best effort.
		_ = d.append(journal.Event{Kind: journal.Command, Step: step, Rollback: rollback, Command: &r})
	}
}

func (d *Driver) rollBack(reason string) error {
	return d.append(journal.Event{Kind: journal.RollbackStarted, Step: -1, Reason: reason})
}

func (d *Driver) step(ctx context.Context, dec Decision) error {
	s := d.Plan.Steps[dec.Step]
	ev := func(kind string) journal.Event {
		return journal.Event{Kind: kind, Step: dec.Step, Name: s.String(), Attempt: d.st.Attempt}
	}
	if dec.Again {
		switch s.Kind {
		case plan.Pause, plan.Approve:
			if d.st.Confirmed {
				return d.append(ev(journal.StepDone))
			}
		case plan.Exec, plan.Migrate:
			if !s.Idempotent && !d.st.Confirmed {
				if s.CheckArgv == nil {
					e := ev(journal.Paused)
					e.Reason = fmt.Sprintf("step %d (%s) was interrupted while it ran and has no check: it may or may not have taken effect; look, then migsafe rollout resume runs it again (or abort rolls back)", dec.Step+1, s)
					return d.append(e)
				}
				code, err := d.command(ctx, s.CheckArgv, s.Timeout, dec.Step, false, "check")
				if err == nil && code == 0 {
					e := ev(journal.StepDone)
					e.Reason = "its check says it already took effect"
					return d.append(e)
				}
			}
		}
	}
	intent := ev(journal.StepIntent)
	intent.Attempt = 1
	if dec.Again {
		intent.Attempt = d.st.Attempt + 1
	}
	if s.Kind == plan.SetWeight {
		w := s.Weight
		intent.Weight = &w
	}
	if err := d.append(intent); err != nil {
		return err
	}
	failed := func(err error) error {
		e := ev(journal.StepFailed)
		e.Reason = err.Error()
		if aerr := d.append(e); aerr != nil {
			return aerr
		}
		return d.rollBack(fmt.Sprintf("step %d (%s) failed: %v", dec.Step+1, s, err))
	}
	weightDone := func(w int) error {
		e := ev(journal.Weight)
		e.Weight = &w
		if err := d.append(e); err != nil {
			return err
		}
		return d.append(ev(journal.StepDone))
	}
	switch s.Kind {
	case plan.Deploy:
		if err := d.Backend.Do(ctx, backend.Deploy, d.params(s.String()), d.recorder(dec.Step, false)); err != nil {
			return failed(err)
		}
		return d.append(ev(journal.StepDone))
	case plan.SetWeight:
		p := d.params(s.String())
		p.Weight = s.Weight
		if err := d.Backend.Do(ctx, backend.SetWeight, p, d.recorder(dec.Step, false)); err != nil {
			return failed(err)
		}
		return weightDone(s.Weight)
	case plan.Promote:
		p := d.params(s.String())
		p.Weight = 100
		if err := d.Backend.Do(ctx, backend.Promote, p, d.recorder(dec.Step, false)); err != nil {
			return failed(err)
		}
		return weightDone(100)
	case plan.Bake, plan.Pause:
		if s.Duration == 0 { // pause until resume
			e := ev(journal.Paused)
			e.Reason = fmt.Sprintf("step %d: pause until migsafe rollout resume", dec.Step+1)
			return d.append(e)
		}
		until := d.now().Add(s.Duration)
		e := ev(journal.Deadline)
		e.Until = &until
		return d.append(e)
	case plan.Approve:
		e := ev(journal.Paused)
		e.Reason = fmt.Sprintf("step %d: waiting for a person to approve (migsafe rollout resume, or abort)", dec.Step+1)
		return d.append(e)
	case plan.Analysis:
		return d.analysis(ctx, dec.Step, s, ev)
	case plan.Flag:
		return d.flagStep(ctx, s, ev, failed)
	case plan.Migrate:
		return d.dbStep(ctx, dec.Step, s, ev, failed)
	case plan.Check:
		if s.Argv == nil {
			return d.dbStep(ctx, dec.Step, s, ev, failed)
		}
		fallthrough
	case plan.Exec:
		code, err := d.command(ctx, s.Argv, s.Timeout, dec.Step, false, "")
		if err != nil {
			return failed(err)
		}
		if code != 0 {
			return failed(fmt.Errorf("exit %d", code))
		}
		return d.append(ev(journal.StepDone))
	}
	return fmt.Errorf("step kind %s is not known to the engine", s.Kind)
}

func (d *Driver) analysis(ctx context.Context, i int, s plan.Step, ev func(string) journal.Event) error {
	start := d.st.WeightAt
	if start.IsZero() {
		start = d.st.Started
	}
	w := gate.Window{Start: start, End: d.now(), Stable: d.Plan.Stable, Canary: d.Plan.Canary, Weight: d.st.Weight}
	res := s.Gate.Evaluate(ctx, w)
	if ctx.Err() != nil {
		return ctx.Err() // stopped, not judged: the resumed run evaluates again
	}
	e := ev(journal.GateResult)
	e.Gate = &res
	if err := d.append(e); err != nil {
		return err
	}
	switch res.Phase {
	case gate.Successful:
		return d.append(ev(journal.StepDone))
	case gate.Failed:
		return d.rollBack(fmt.Sprintf("step %d: %s: Failed: %s", i+1, s.Gate.Name(), res.Message))
	case gate.Inconclusive:
		p := ev(journal.Paused)
		p.Reason = fmt.Sprintf("step %d: %s is inconclusive (%s): a person decides: migsafe rollout resume measures again, promote accepts, abort rolls back", i+1, s.Gate.Name(), res.Message)
		return d.append(p)
	default: // Error, or a phase this engine does not know
		if d.st.Errors > d.Plan.Limits.ConsecutiveErrorLimit {
			return d.rollBack(fmt.Sprintf("step %d: %s: Error (%d in a row): %s", i+1, s.Gate.Name(), d.st.Errors, res.Message))
		}
		iv := d.Plan.Limits.ErrorInterval
		if iv <= 0 {
			iv = 5 * time.Second
		}
		return sleep(ctx, iv)
	}
}

// dbStep runs a check or migrate step on the plan's migrations. The
// intent is journaled before (by step); each migration's progress is
// journaled as it happens.
func (d *Driver) dbStep(ctx context.Context, i int, s plan.Step, ev func(string) journal.Event, failed func(error) error) error {
	if d.DB == nil || s.Migrations == nil {
		return failed(errors.New("this runner has no database steps"))
	}
	note := func(msg string) {
		e := ev(journal.Migration)
		e.Reason = msg
		// a journal that cannot be written stops the run at the next append
		_ = d.append(e)
	}
	var sum string
	var err error
	if s.Kind == plan.Migrate {
		sum, err = d.DB.Migrate(ctx, s.Migrations, fmt.Sprintf("%s-step%d", d.st.RunID, i+1), note)
	} else {
		sum, err = d.DB.Check(ctx, s.Migrations, note)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopped: the resumed run runs the step again
	}
	if err != nil {
		return failed(err)
	}
	done := ev(journal.StepDone)
	done.Reason = sum
	return d.append(done)
}

// command runs a step's argv ("migsafe" first means this executable).
func (d *Driver) command(ctx context.Context, tmpl []string, timeout time.Duration, step int, rollback bool, note string) (int, error) {
	data := map[string]any{"RunID": d.st.RunID, "Stable": d.Plan.Stable, "Canary": d.Plan.Canary, "Step": fmt.Sprint(step + 1)}
	argv, err := backend.Expand(tmpl, data)
	if err != nil {
		return -1, err
	}
	if argv[0] == "migsafe" && d.Self != "" {
		argv[0] = d.Self
	}
	env := []string{"MIGSAFE_RUN_ID=" + d.st.RunID, fmt.Sprintf("MIGSAFE_STEP=%d", step+1), fmt.Sprintf("MIGSAFE_IDEMPOTENCY_KEY=%s/%d", d.st.RunID, step+1)}
	if rollback {
		env[1] = fmt.Sprintf("MIGSAFE_STEP=rollback-%d", step+1)
	}
	start := time.Now()
	code, out, err := backend.RunCommand(ctx, argv, env, timeout)
	d.recorder(step, rollback)(backend.Record{Argv: argv, Exit: code, Output: out, Duration: time.Since(start), Note: note})
	return code, err
}

func (d *Driver) backoff(n int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(n)
	}
	b := time.Second << min(n-1, 5)
	return min(b, 30*time.Second)
}

// rollback performs one rollback step, retrying with backoff. The first
// step (all traffic to stable) is retried until it works: a rollback
// never gives up on it silently.
func (d *Driver) rollback(ctx context.Context, dec Decision) error {
	s := d.Plan.Rollback[dec.Step]
	ev := func(kind string, attempt int) journal.Event {
		return journal.Event{Kind: kind, Step: dec.Step, Rollback: true, Name: s.String(), Attempt: attempt}
	}
	if s.Kind == plan.FlagOff {
		return d.flagOff(ctx, s, d.st.RollbackAttempt+1, ev)
	}
	limit := d.RollbackAttempts
	if limit <= 0 {
		limit = 5
	}
	attempt := d.st.RollbackAttempt
	if dec.Again && s.Kind == plan.Exec && !s.Idempotent && s.CheckArgv != nil {
		code, err := d.command(ctx, s.CheckArgv, s.Timeout, dec.Step, true, "check")
		if err == nil && code == 0 {
			e := ev(journal.StepDone, attempt)
			e.Reason = "its check says it already took effect"
			return d.append(e)
		}
	}
	for {
		attempt++
		if err := d.append(ev(journal.StepIntent, attempt)); err != nil {
			return err
		}
		var err error
		p := d.params("rollback " + s.String())
		switch s.Kind {
		case plan.RouteStable:
			err = d.Backend.Do(ctx, backend.RouteStable, p, d.recorder(dec.Step, true))
			if err == nil {
				w := 0
				e := ev(journal.Weight, attempt)
				e.Weight = &w
				if err := d.append(e); err != nil {
					return err
				}
			}
		case plan.Undo:
			err = d.Backend.Do(ctx, backend.Undo, p, d.recorder(dec.Step, true))
		case plan.Exec:
			var code int
			code, err = d.command(ctx, s.Argv, s.Timeout, dec.Step, true, "")
			if err == nil && code != 0 {
				err = fmt.Errorf("exit %d", code)
			}
		}
		if err == nil {
			return d.append(ev(journal.StepDone, attempt))
		}
		if dec.Step > 0 && attempt >= limit {
			e := ev(journal.StepDone, attempt)
			e.GaveUp = true
			e.Reason = fmt.Sprintf("GAVE UP after %d attempts: %v; traffic is on stable; a person must finish this step", attempt, err)
			if d.Loud != nil {
				fmt.Fprintf(d.Loud, "migsafe: ROLLBACK STEP %d (%s) FAILED, attempt %d: %v; GAVE UP after %d attempts; traffic is on stable; finish it by hand\n", dec.Step+1, s, attempt, oneLine(err.Error()), attempt)
			}
			return d.append(e)
		}
		wait := d.backoff(attempt)
		e := ev(journal.RollbackRetry, attempt)
		e.Reason = err.Error()
		if aerr := d.append(e); aerr != nil {
			return aerr
		}
		if d.Loud != nil {
			fmt.Fprintf(d.Loud, "migsafe: ROLLBACK STEP %d (%s) FAILED, attempt %d: %v; retrying in %s\n", dec.Step+1, s, attempt, oneLine(err.Error()), wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
