// Package flags turns feature flags on for a share of users, ramps them
// and turns them off at once on rollback, through the flag service's own
// API: Unleash's admin API, OFREP (OpenFeature remote evaluation, which
// reads flags; a command changes them), or any command (exec).
//
// The flag service is external to the deployment: the rollback never
// depends on it (the engine rolls traffic back first and records a flag
// error), and the application must fall back to the safe default when the
// service is unreachable. The safe default is false: false is the old
// behaviour, which is what an Unleash client returns for a flag it cannot
// find and what an OpenFeature client returns when its provider is not
// ready (runner.md TL;DR 10).
package flags

import (
	"context"
	"fmt"
)

// State is a flag as the flag service holds it.
type State struct {
	// Exists is false when the service does not know the flag.
	Exists bool `json:"exists"`
	// Enabled is whether the flag is on in the environment at all.
	Enabled bool `json:"enabled"`
	// Percent is the share of users it is on for (0 when disabled).
	Percent int `json:"percent"`
}

func (s State) String() string {
	switch {
	case !s.Exists:
		return "missing"
	case !s.Enabled:
		return "off"
	}
	return fmt.Sprintf("on for %d%%", s.Percent)
}

// Backend is a flag service.
type Backend interface {
	// Set turns key on for percent % of users (1..100), or off (0). It is
	// idempotent: setting the state the flag has changes nothing.
	Set(ctx context.Context, key string, percent int) error
	// Get reads key's state.
	Get(ctx context.Context, key string) (State, error)
}

func checkPercent(p int) error {
	if p < 0 || p > 100 {
		return fmt.Errorf("a flag's share is a percentage from 0 to 100, not %d", p)
	}
	return nil
}

// KillSwitch is a backend that can tell, without changing anything,
// whether it could turn a flag off now: the service answers the calls a
// rollback makes, the flag is there, and the command or credentials are
// in place.
type KillSwitch interface {
	CanTurnOff(ctx context.Context, key string) error
}
