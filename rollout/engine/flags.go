package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
)

// FlagService turns a feature flag on for a share of users, or off with
// 0 (rollout/flags.Backend satisfies it). Set is idempotent.
type FlagService interface {
	Set(ctx context.Context, key string, percent int) error
}

// FlagOffTimeout bounds turning a flag off during a rollback: the flag
// service is outside the deployment, and a slow or dead one must not hold
// the rest of the rollback.
var FlagOffTimeout = 10 * time.Second

// flagStep turns the step's flag on for its share of users. A flag
// service that fails fails the step, which rolls back.
func (d *Driver) flagStep(ctx context.Context, s plan.Step, ev func(string) journal.Event, failed func(error) error) error {
	if d.Flags == nil {
		return failed(errors.New("this runner has no flag service (the plan's flags: section)"))
	}
	if err := d.Flags.Set(ctx, s.FlagKey, s.Weight); err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // stopped: Set is idempotent, the resumed run sets it again
		}
		return failed(fmt.Errorf("flag %s: %w", s.FlagKey, err))
	}
	done := ev(journal.StepDone)
	done.Reason = fmt.Sprintf("flag %s on for %d%% of users", s.FlagKey, s.Weight)
	if s.Weight == 0 {
		done.Reason = "flag " + s.FlagKey + " off"
	}
	return d.append(done)
}

// flagOff turns a flag off in a rollback: one attempt within
// FlagOffTimeout. Traffic is already on stable (route_stable comes
// first); a failure is recorded loudly and the rollback goes on.
func (d *Driver) flagOff(ctx context.Context, s plan.Step, attempt int, ev func(string, int) journal.Event) error {
	if err := d.append(ev(journal.StepIntent, attempt)); err != nil {
		return err
	}
	err := errors.New("this runner has no flag service")
	if d.Flags != nil {
		fctx, cancel := context.WithTimeout(ctx, FlagOffTimeout)
		err = d.Flags.Set(fctx, s.FlagKey, 0)
		cancel()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	done := ev(journal.StepDone, attempt)
	if err == nil {
		done.Reason = "flag " + s.FlagKey + " off"
		return d.append(done)
	}
	w := ev(journal.Warning, attempt)
	w.Reason = fmt.Sprintf("could not turn flag %s off: %v; traffic is on stable; turn it off in the flag service by hand", s.FlagKey, oneLine(err.Error()))
	if aerr := d.append(w); aerr != nil {
		return aerr
	}
	if d.Loud != nil {
		fmt.Fprintf(d.Loud, "migsafe: ROLLBACK: %s\n", w.Reason)
	}
	done.Reason = "FAILED: " + w.Reason
	return d.append(done)
}
