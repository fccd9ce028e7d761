// Package gate is the contract between the rollout engine and the checks
// that judge a step: an analysis gate measures something (Prometheus, an
// HTTP health check, a log file, a command) during a window and says
// whether the rollout may go on. The engine knows only this package; the
// providers and the statistics live in their own packages and implement
// Gate.
//
// The outcomes are Argo Rollouts' AnalysisRun phases: Successful and
// Failed are verdicts; Inconclusive means the data cannot decide yet (too
// little traffic, say) and the rollout pauses for a person; Error means
// the measurement itself failed (a query that did not answer) and counts
// towards a consecutive-error limit before the rollout rolls back.
package gate

import (
	"context"
	"time"
)

// Phase is the outcome of one gate evaluation.
type Phase string

// The phases, as Argo Rollouts names them.
const (
	Successful   Phase = "Successful"
	Failed       Phase = "Failed"
	Inconclusive Phase = "Inconclusive"
	Error        Phase = "Error"
)

// Window is what a gate judges: the time span of the step and the two
// versions being compared. Stable and Canary name the versions as the
// plan's labels do (for example the value of a Prometheus label).
type Window struct {
	Start, End time.Time
	Stable     string
	Canary     string
	// Weight is the canary's share of traffic in percent during the window.
	Weight int
}

// Measurement is one value a gate read, kept for the report: which metric,
// for which version, at what time, and the threshold it was held against.
type Measurement struct {
	Metric    string    `json:"metric"`
	Version   string    `json:"version,omitempty"` // "canary", "stable" or empty
	At        time.Time `json:"at"`
	Value     float64   `json:"value"`
	Threshold *float64  `json:"threshold,omitempty"`
}

// Result is one evaluation: the phase, one sentence saying why (with the
// numbers), and the measurements behind it.
type Result struct {
	Phase        Phase         `json:"phase"`
	Message      string        `json:"message"`
	Measurements []Measurement `json:"measurements,omitempty"`
}

// Gate judges a window. Evaluate never panics and never blocks past ctx's
// deadline; a measurement that cannot be taken is a Result with Phase
// Error, not a Go error.
type Gate interface {
	Name() string
	Evaluate(ctx context.Context, w Window) Result
}
