package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/report"
)

// BuildRun turns a run's journal into what rollout/report draws: the
// steps with their times, the canary's weight, the gates' verdicts and
// measurements, and what the rollback did.
func BuildRun(events []journal.Event) report.Run {
	var r report.Run
	weight := 0
	steps := map[int]*report.Step{}
	var order []int
	get := func(e journal.Event) *report.Step {
		s, ok := steps[e.Step]
		if !ok {
			kind, _, _ := strings.Cut(e.Name, " ")
			s = &report.Step{Kind: kind, Name: e.Name, Started: e.At, Weight: weight}
			steps[e.Step] = s
			order = append(order, e.Step)
		}
		return s
	}
	for _, e := range events {
		if r.Started.IsZero() || e.At.Before(r.Started) {
			r.Started = e.At
		}
		if e.At.After(r.Ended) {
			r.Ended = e.At
		}
		switch {
		case e.Kind == journal.RunStarted:
			r.ID, r.Service, r.Plan, r.Stable, r.Canary = e.RunID, e.Service, e.PlanFile, e.Stable, e.Canary
			r.Started = e.At
			r.Outcome = "running"
		case e.Kind == journal.Promoted:
			r.Outcome = "succeeded"
		case e.Kind == journal.RolledBack:
			if r.Outcome != "rollback_failed" {
				r.Outcome = "rolled_back"
			}
		case e.Kind == journal.Paused:
			r.Outcome = "paused"
		case e.Kind == journal.Unpaused || e.Kind == journal.Resumed:
			if r.Outcome == "paused" {
				r.Outcome = "running"
			}
		case e.Rollback:
			switch e.Kind {
			case journal.StepDone:
				a := report.Action{At: e.At, What: e.Name}
				if strings.HasPrefix(e.Reason, "FAILED") || strings.HasPrefix(e.Reason, "GAVE UP") {
					a.Err = e.Reason
					r.Outcome = "rollback_failed"
				}
				r.Rollback = append(r.Rollback, a)
			case journal.RollbackRetry:
				r.Rollback = append(r.Rollback, report.Action{At: e.At, What: e.Name, Err: e.Reason})
			}
		case e.Step < 0:
		case e.Kind == journal.StepIntent:
			s := get(e)
			if e.Weight != nil {
				s.Weight = *e.Weight
			}
		case e.Kind == journal.Weight:
			weight = *e.Weight
			get(e).Weight = weight
		case e.Kind == journal.GateResult:
			s := get(e)
			s.Phase, s.Message = e.Gate.Phase, e.Gate.Message
			s.Measurements = append(s.Measurements, e.Gate.Measurements...)
			s.Ended = e.At
		case e.Kind == journal.StepFailed:
			s := get(e)
			s.Phase, s.Message, s.Ended = gate.Failed, e.Reason, e.At
		case e.Kind == journal.StepDone:
			s := get(e)
			s.Ended = e.At
			if s.Message == "" {
				s.Message = e.Reason
			}
		}
	}
	sort.Ints(order)
	for _, i := range order {
		r.Steps = append(r.Steps, *steps[i])
	}
	return r
}

// LoadRun reads run id of the plan's service (the last run when id is
// empty) and builds it, with the post-rollback checklist's report when
// one was written next to the journal.
func LoadRun(o Options, id string) (report.Run, error) {
	p, err := Load(o)
	if err != nil {
		return report.Run{}, err
	}
	store, err := journal.Open(o.StateDir, p.Service)
	if err != nil {
		return report.Run{}, err
	}
	if id == "" {
		id, err = lastRun(store)
		if err != nil {
			return report.Run{}, err
		}
	}
	events, err := store.ReadEvents(id)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(events) == 0 {
		return report.Run{}, fmt.Errorf("service %s has no run %q in %s", p.Service, id, filepath.Join(store.Dir, "runs"))
	}
	if err != nil {
		return report.Run{}, err
	}
	r := BuildRun(events)
	if r.ID == "" {
		r.ID = id
	}
	r.PostRollback = readPostRollback(store, id)
	return r, nil
}

func lastRun(store *journal.Store) (string, error) {
	names, _ := filepath.Glob(filepath.Join(store.Dir, "runs", "*.jsonl"))
	var runs []string
	for _, n := range names {
		if !strings.HasSuffix(n, ".control.jsonl") {
			runs = append(runs, strings.TrimSuffix(filepath.Base(n), ".jsonl"))
		}
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("service %s has no runs in %s", store.Service, filepath.Join(store.Dir, "runs"))
	}
	sort.Strings(runs)
	return runs[len(runs)-1], nil
}
