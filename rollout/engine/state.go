// Package engine runs a rollout plan. The state machine is pure: State is
// a fold of the journal's events (Apply), and Decide says what to do next
// from the plan, the state and the time. The Driver performs what Decide
// says, writing an intent to the journal before each effect and the
// result after, so a run killed at any point resumes from its journal:
// an interrupted action runs again only when it is idempotent or a check
// says it has not taken effect, and a rollback in progress finishes.
package engine

import (
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
)

// Status is where a run is.
type Status string

// Statuses.
const (
	New         Status = "new"
	Running     Status = "running"
	Paused      Status = "paused"
	RollingBack Status = "rolling_back"
	Promoted    Status = "promoted"
	RolledBack  Status = "rolled_back"
)

// Phase of the current step.
const (
	PhaseNone    = ""
	PhaseIntent  = "intent"  // recorded before acting; not known to be done
	PhaseWaiting = "waiting" // a bake or timed pause with an absolute deadline
)

// State is a run as its journal tells it.
type State struct {
	RunID    string    `json:"run_id"`
	PlanHash string    `json:"plan_hash"`
	PlanFile string    `json:"plan_file"`
	Service  string    `json:"service"`
	Stable   string    `json:"stable"`
	Canary   string    `json:"canary"`
	Status   Status    `json:"status"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`

	Step     int       `json:"step"` // the next or current step
	Phase    string    `json:"phase"`
	Attempt  int       `json:"attempt"`
	Until    time.Time `json:"until,omitzero"`
	Weight   int       `json:"weight"`
	WeightAt time.Time `json:"weight_at,omitzero"`
	// Confirmed: a person resumed after an interrupted action whose
	// effect could not be checked; it may run again.
	Confirmed   bool         `json:"confirmed,omitempty"`
	Errors      int          `json:"consecutive_errors,omitempty"`
	PauseReason string       `json:"pause_reason,omitempty"`
	LastGate    *gate.Result `json:"last_gate,omitempty"`

	Rollback        int    `json:"rollback_step"`
	RollbackPhase   string `json:"rollback_phase,omitempty"`
	RollbackAttempt int    `json:"rollback_attempt,omitempty"`
	Reason          string `json:"reason,omitempty"` // why it rolled back
	// RollbackDecided is when the rollback was decided; RolledBackAt when
	// its first action (all traffic to stable) was done.
	RollbackDecided time.Time `json:"rollback_decided,omitzero"`
	StableAt        time.Time `json:"stable_at,omitzero"`
	// Unfinished lists the rollback steps that gave up after their
	// attempts: a person must finish them.
	Unfinished []string `json:"unfinished_rollback,omitempty"`

	ControlSeen int `json:"control_seen"`
}

// Apply folds one event into the state. It is pure.
func Apply(s State, e journal.Event) State {
	s.Updated = e.At
	switch e.Kind {
	case journal.RunStarted:
		s = State{RunID: e.RunID, PlanHash: e.PlanHash, PlanFile: e.PlanFile, Service: e.Service,
			Stable: e.Stable, Canary: e.Canary, Status: Running, Started: e.At, Updated: e.At}
	case journal.StepIntent:
		if e.Rollback {
			s.Rollback, s.RollbackPhase, s.RollbackAttempt = e.Step, PhaseIntent, e.Attempt
		} else {
			if e.Step != s.Step {
				s.Errors = 0
			}
			s.Step, s.Phase, s.Attempt = e.Step, PhaseIntent, e.Attempt
		}
	case journal.Deadline:
		if e.Until != nil {
			s.Until, s.Phase = *e.Until, PhaseWaiting
		}
	case journal.StepDone:
		if e.Rollback {
			if e.GaveUp {
				s.Unfinished = append(s.Unfinished, e.Name)
			}
			s.Rollback, s.RollbackPhase, s.RollbackAttempt = e.Step+1, PhaseNone, 0
			if e.Step == 0 {
				s.StableAt = e.At
			}
		} else {
			s.Step, s.Phase, s.Attempt, s.Until, s.Errors, s.Confirmed = e.Step+1, PhaseNone, 0, time.Time{}, 0, false
		}
	case journal.Weight:
		if e.Weight != nil {
			s.Weight, s.WeightAt = *e.Weight, e.At
		}
	case journal.GateResult:
		if e.Gate != nil {
			g := *e.Gate
			s.LastGate = &g
			if g.Phase == gate.Error {
				s.Errors++
			} else {
				s.Errors = 0
			}
		}
	case journal.Paused:
		if s.Status == Running {
			s.Status, s.PauseReason = Paused, e.Reason
		}
	case journal.Unpaused:
		if s.Status == Paused {
			s.Status, s.PauseReason = Running, ""
			if s.Phase == PhaseIntent {
				s.Confirmed = true
			}
		}
	case journal.RollbackStarted:
		if s.Status == Running || s.Status == Paused {
			s.Status, s.Reason, s.Rollback, s.RollbackPhase, s.RollbackDecided = RollingBack, e.Reason, 0, PhaseNone, e.At
		}
	case journal.Promoted:
		s.Status = Promoted
	case journal.RolledBack:
		s.Status = RolledBack
	case journal.ControlReceived:
		s.ControlSeen++
	}
	return s
}

// Replay folds a journal.
func Replay(events []journal.Event) State {
	s := State{Status: New}
	for _, e := range events {
		s = Apply(s, e)
	}
	return s
}

// What a Decision asks for.
type What string

// Decisions.
const (
	DoStart      What = "start"       // record run_started
	DoStep       What = "step"        // perform plan step Step
	DoWait       What = "wait"        // wait until Until, then DoneWaiting
	DoneWaiting  What = "done_wait"   // the deadline passed: the step is done
	DoRollback   What = "rollback"    // perform rollback step Step
	DoFinishBack What = "rolled_back" // all rollback steps done
	DoPromoted   What = "promoted"    // all steps done
	DoExit       What = "exit"        // nothing to do until a person acts (paused) or the run ended
)

// Decision is the next thing to do.
type Decision struct {
	What What
	Step int
	// Again: an intent for this step is already in the journal without a
	// result (the runner was killed while acting).
	Again bool
	Until time.Time
}

// Decide is the state machine: given the plan, the state and the time, the
// next thing to do. It is pure.
func Decide(p *plan.Plan, s State, now time.Time) Decision {
	switch s.Status {
	case New:
		return Decision{What: DoStart}
	case Paused, Promoted, RolledBack:
		return Decision{What: DoExit}
	case RollingBack:
		if s.Rollback >= len(p.Rollback) {
			return Decision{What: DoFinishBack}
		}
		return Decision{What: DoRollback, Step: s.Rollback, Again: s.RollbackPhase == PhaseIntent}
	}
	if s.Step >= len(p.Steps) {
		return Decision{What: DoPromoted}
	}
	if s.Phase == PhaseWaiting {
		if !now.Before(s.Until) {
			return Decision{What: DoneWaiting, Step: s.Step}
		}
		return Decision{What: DoWait, Step: s.Step, Until: s.Until}
	}
	return Decision{What: DoStep, Step: s.Step, Again: s.Phase == PhaseIntent}
}
