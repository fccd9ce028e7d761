// Package report writes what a rollout run did for people: the run report
// (one self-contained HTML file: the timeline, and for each analysis step
// the canary's and stable's measurements over time as charts with the
// thresholds drawn, the decision and why) and, after a rollback, the
// post-mortem draft (markdown).
//
// Both are written from a Run, which the engine fills from its journal.
package report

import (
	"time"

	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/gate"
)

// Run is one rollout run as the report needs it.
type Run struct {
	ID      string
	Service string
	Plan    string // the plan file
	Stable  string // version labels
	Canary  string
	Started time.Time
	Ended   time.Time
	// Outcome: succeeded, rolled_back, rollback_failed, paused, running.
	Outcome string
	Steps   []Step
	// Rollback is what the rollback did, in order (empty when there was
	// none).
	Rollback []Action
	// PostRollback is the post-rollback checklist's report, if it ran.
	PostRollback *checklist.Report
}

// Step is one step of the plan as it ran.
type Step struct {
	Kind    string // set_weight, analysis, bake, flag, deploy, exec, …
	Name    string // what the plan calls it, e.g. "set_weight 5" or the gate's name
	Started time.Time
	Ended   time.Time
	Weight  int // the canary's weight during the step
	// Phase and Message are the gate's verdict for analysis steps, and
	// empty or an error for actions.
	Phase        gate.Phase
	Message      string
	Measurements []gate.Measurement
}

// Action is one thing the rollback did.
type Action struct {
	At   time.Time
	What string // e.g. "set_weight 0", "flag checkout.new_path off"
	Err  string // empty when it worked
}

// failedStep is the step whose gate failed the run, or nil.
func (r Run) failedStep() *Step {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if p := r.Steps[i].Phase; p == gate.Failed || p == gate.Error {
			return &r.Steps[i]
		}
	}
	return nil
}

// rolledBackAt is when the rollback began (its first action), or the end
// of the run.
func (r Run) rolledBackAt() time.Time {
	if len(r.Rollback) > 0 {
		return r.Rollback[0].At
	}
	return r.Ended
}
