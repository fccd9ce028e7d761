// Package execgate is the analysis gate that runs a command: exit 0 is
// Successful, 1 Failed, any other exit, a command that cannot start or
// one that outlives its timeout is Error. The command gets the window in
// its environment (MIGSAFE_WINDOW_START/END as RFC 3339, MIGSAFE_WEIGHT,
// MIGSAFE_STABLE, MIGSAFE_CANARY) and runs without a shell.
package execgate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/migsafe/migsafe/rollout/backend"
	"github.com/migsafe/migsafe/rollout/gate"
)

// Gate runs Argv.
type Gate struct {
	Label   string
	Argv    []string
	Timeout time.Duration
}

// Name is the gate's label, or its command.
func (g *Gate) Name() string {
	if g.Label != "" {
		return g.Label
	}
	return "exec " + strings.Join(g.Argv, " ")
}

// Evaluate runs the command once.
func (g *Gate) Evaluate(ctx context.Context, w gate.Window) gate.Result {
	env := []string{
		"MIGSAFE_WINDOW_START=" + w.Start.UTC().Format(time.RFC3339Nano),
		"MIGSAFE_WINDOW_END=" + w.End.UTC().Format(time.RFC3339Nano),
		"MIGSAFE_WEIGHT=" + strconv.Itoa(w.Weight),
		"MIGSAFE_STABLE=" + w.Stable,
		"MIGSAFE_CANARY=" + w.Canary,
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	code, out, err := backend.RunCommand(ctx, g.Argv, env, timeout)
	last := lastLine(out)
	switch {
	case err != nil:
		return gate.Result{Phase: gate.Error, Message: fmt.Sprintf("%s: %v %s", g.Name(), err, last)}
	case code == 0:
		return gate.Result{Phase: gate.Successful, Message: fmt.Sprintf("%s exited 0 %s", g.Name(), last)}
	case code == 1:
		return gate.Result{Phase: gate.Failed, Message: fmt.Sprintf("%s exited 1 %s", g.Name(), last)}
	default:
		return gate.Result{Phase: gate.Error, Message: fmt.Sprintf("%s exited %d %s", g.Name(), code, last)}
	}
}

func lastLine(out string) string {
	out = strings.TrimSpace(out)
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if out == "" {
		return ""
	}
	return "(" + backend.Tail(out, 200) + ")"
}
