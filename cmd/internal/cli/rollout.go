package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/rollout/dbstep"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/export"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
	"github.com/migsafe/migsafe/rollout/runner"
)

// Rollout exit codes beside ExitOK, ExitFindings (rolled back) and
// ExitError.
const ExitPaused = 3

// rolloutCompiler builds the plan's analysis gates: a body with metrics:
// is an Argo-style analysis (rollout/analysis), anything else an exec
// gate.
func rolloutCompiler() plan.Compiler { return runner.Compile }

func rolloutCommand(env Env) *ucli.Command {
	common := func() []ucli.Flag {
		return []ucli.Flag{
			&ucli.StringFlag{Name: "plan", Aliases: []string{"p"}, Value: "rollout.yaml", Usage: "the rollout plan `FILE`", Sources: ucli.EnvVars("MIGSAFE_ROLLOUT_PLAN")},
			&ucli.StringFlag{Name: "state-dir", Usage: "where runs are journaled (`DIR`; default .migsafe/rollout beside the plan, whatever the working directory)", Sources: ucli.EnvVars("MIGSAFE_ROLLOUT_STATE")},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: text, or json (one event a line)"},
		}
	}
	drive := func(name, usage, desc string) *ucli.Command {
		flags := common()
		if name != "start" {
			flags = append(flags, &ucli.StringFlag{Name: "reason", Usage: "why (recorded in the journal)"})
		} else {
			flags = append(flags, &ucli.StringFlag{Name: "replace", Usage: "start although run `RUN` is unfinished in the plan's journal table (its machine is gone)"})
		}
		return &ucli.Command{Name: name, Usage: usage, Description: desc, Flags: flags,
			Action: func(ctx context.Context, cmd *ucli.Command) error { return runRollout(ctx, cmd, env, name) }}
	}
	c := &ucli.Command{
		Name:  "rollout",
		Usage: "ship a release in steps (1% → 5% → 25% → 100%) that halts and rolls back by itself",
		Description: `Runs a rollout plan (rollout.yaml; docs/rollout.md describes it). Every step is
journaled before it acts, so a run killed at any point continues with
"migsafe rollout start" or "resume". Exit codes: 0 promoted, 1 rolled back,
2 error or unusable plan, 3 paused waiting for a person.`,
		Commands: []*ucli.Command{
			drive("start", "start a run of the plan (or continue the unfinished one)", "Validates the plan, then runs it step by step until it is promoted, rolled back or paused."),
			drive("resume", "continue a paused run (approve, or measure again)", ""),
			drive("pause", "pause a run at the current step", ""),
			drive("abort", "roll a run back now", ""),
			drive("promote", "count the current pause, bake or inconclusive analysis as passed", ""),
			{Name: "status", Usage: "show where the run is", Flags: append(common(),
				&ucli.BoolFlag{Name: "from-database", Usage: "read the run from the plan's migrations.journal_table (a run another machine drives)"}),
				Action: func(ctx context.Context, cmd *ucli.Command) error { return runRolloutStatus(cmd, env) }},
			{Name: "validate", Usage: "check the plan and print its steps", Flags: common(),
				Action: func(ctx context.Context, cmd *ucli.Command) error { return runRolloutValidate(cmd, env) }},
			{Name: "export", Usage: "write the plan as Argo Rollouts resources", Flags: append(common(),
				&ucli.BoolFlag{Name: "argo", Usage: "a Rollout canary strategy and AnalysisTemplates (required)"}),
				Action: func(ctx context.Context, cmd *ucli.Command) error { return runRolloutExport(cmd, env) }},
			rolloutReportCommand(env, common()),
		},
	}
	for _, sub := range c.Commands {
		sub.OnUsageError = onUsageError
	}
	return c
}

// rolloutPaths makes the plan's path absolute, and the state folder: the
// one given (relative to the working directory), else .migsafe/rollout at
// the top of the plan's git work tree (beside the plan outside one), so
// that every plan of a repository shares its state and its per-service
// lock, from whichever directory it is started.
func rolloutPaths(env Env, o *runner.Options) {
	if env.Dir != "" && !filepath.IsAbs(o.PlanFile) {
		o.PlanFile = filepath.Join(env.Dir, o.PlanFile)
	}
	switch {
	case o.StateDir == "":
		o.StateDir = filepath.Join(stateRoot(filepath.Dir(o.PlanFile)), ".migsafe", "rollout")
	case env.Dir != "" && !filepath.IsAbs(o.StateDir):
		o.StateDir = filepath.Join(env.Dir, o.StateDir)
	}
}

// stateRoot is the top of the git work tree that holds dir (the nearest
// folder up with a .git entry), or dir itself, as an absolute path (a
// relative dir such as "." has no parents to look in).
func stateRoot(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		dir = a
	}
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return dir
		}
		d = up
	}
}

func rolloutOptions(cmd *ucli.Command, env Env) (runner.Options, error) {
	o := runner.Options{PlanFile: cmd.String("plan"), StateDir: cmd.String("state-dir"), Compile: rolloutCompiler(), Loud: env.Stderr}
	switch cmd.String("format") {
	case "text", "json":
	default:
		return o, usageErr("--format %q: text or json", cmd.String("format"))
	}
	rolloutPaths(env, &o)
	o.Actor = env.Getenv("USER")
	o.DB = &dbstep.Runner{Getenv: env.Getenv, Dir: env.Dir, Version: Version()}
	o.Getenv = env.Getenv
	o.FromDatabase = cmd.Bool("from-database")
	if cmd.Name == "start" {
		o.Replace = cmd.String("replace")
	}
	if self, err := os.Executable(); err == nil {
		o.Self = self
	}
	if n, err := strconv.Atoi(env.Getenv("MIGSAFE_ROLLOUT_CRASH_AT_SEQ")); err == nil {
		o.CrashAtSeq = n // crash tests only
	}
	if ms, err := strconv.Atoi(env.Getenv("MIGSAFE_ROLLOUT_BACKOFF_MS")); err == nil {
		o.Backoff = func(int) time.Duration { return time.Duration(ms) * time.Millisecond }
	}
	return o, nil
}

func runRollout(ctx context.Context, cmd *ucli.Command, env Env, action string) error {
	o, err := rolloutOptions(cmd, env)
	if err != nil {
		return err
	}
	jsonOut := cmd.String("format") == "json"
	var steps, rollback int
	live := !jsonOut && env.IsTerminal != nil && env.IsTerminal(env.Stdout)
	var p *plan.Plan
	statusShown := false
	o.Observe = func(e journal.Event) {
		if jsonOut {
			data, _ := json.Marshal(e)
			fmt.Fprintf(env.Stdout, "%s\n", data)
			return
		}
		if statusShown {
			fmt.Fprint(rawOut(env.Stdout), "\r\033[K") // the live line gives way to the event
			statusShown = false
		}
		writeEvent(env.Stdout, e, steps, rollback)
	}
	if live {
		// On a terminal, a line under the events shows the step, the
		// weight, the time left and the last gate result while waiting.
		o.Tick = func(st engine.State, now time.Time) {
			fmt.Fprintf(rawOut(env.Stdout), "\r\033[K%s", safeLine(liveLine(p, st, now)))
			statusShown = true
		}
	}
	gateHooks(&o, env, jsonOut)
	p, err = runner.Load(o)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	steps, rollback = len(p.Steps), len(p.Rollback)
	for _, w := range p.Warnings {
		fmt.Fprintf(env.Stderr, "migsafe: warning: %s: %s\n", p.File, w)
	}
	var st engine.State
	if action == "start" {
		_, st, err = runner.Start(ctx, o)
	} else {
		var sent bool
		st, sent, err = runner.Control(ctx, o, action, cmd.String("reason"))
		if err == nil && sent {
			if !jsonOut {
				fmt.Fprintf(env.Stdout, "%s sent to the process driving the run\n", action)
			}
			return nil
		}
	}
	if e := notReady(env, err); e != nil {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return &exitError{code: ExitError, err: fmt.Errorf("interrupted at step %d; the run %s is journaled: migsafe rollout start (or resume) continues it", st.Step+1, st.RunID)}
	}
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	code := int(engine.OutcomeOf(st))
	if !jsonOut {
		fmt.Fprintf(env.Stdout, "run %s: %s\n", st.RunID, summary(st))
	}
	if code == 0 {
		return nil
	}
	return &exitError{code: code}
}

// liveLine is the terminal's status line while a run waits.
func liveLine(p *plan.Plan, st engine.State, now time.Time) string {
	var b strings.Builder
	if st.Step < len(p.Steps) {
		fmt.Fprintf(&b, "  step %d/%d %s", st.Step+1, len(p.Steps), p.Steps[st.Step])
	}
	fmt.Fprintf(&b, " · canary %d%%", st.Weight)
	if !st.Until.IsZero() {
		fmt.Fprintf(&b, " · %s left", max(st.Until.Sub(now), 0).Round(100*time.Millisecond))
	}
	if st.LastGate != nil {
		fmt.Fprintf(&b, " · last gate %s", st.LastGate.Phase)
	}
	return b.String()
}

func summary(st engine.State) string {
	switch st.Status {
	case engine.Promoted:
		return "promoted: " + st.Canary + " is stable"
	case engine.RolledBack:
		s := "rolled back: " + st.Reason
		if !st.StableAt.IsZero() {
			s += fmt.Sprintf(" (all traffic on stable %s after the decision)", st.StableAt.Sub(st.RollbackDecided).Round(time.Millisecond))
		}
		if len(st.Unfinished) > 0 {
			s += "; ROLLBACK INCOMPLETE: " + strings.Join(st.Unfinished, ", ") + " gave up after its attempts: finish by hand (the journal has each attempt's output)"
		}
		return s
	case engine.Paused:
		return "paused: " + st.PauseReason
	}
	return string(st.Status)
}

func writeEvent(w io.Writer, e journal.Event, steps, rollback int) {
	at := e.At.Local().Format("15:04:05")
	where := fmt.Sprintf("step %d/%d %s", e.Step+1, steps, e.Name)
	if e.Rollback {
		where = fmt.Sprintf("rollback %d/%d %s", e.Step+1, rollback, e.Name)
	}
	switch e.Kind {
	case journal.RunStarted:
		fmt.Fprintf(w, "%s run %s of %s: %s → %s\n", at, e.RunID, e.Service, e.Stable, e.Canary)
	case journal.Resumed:
		fmt.Fprintf(w, "%s resuming (%s)\n", at, e.Reason)
	case journal.StepIntent:
		again := ""
		if e.Attempt > 1 {
			again = fmt.Sprintf(" (attempt %d)", e.Attempt)
		}
		fmt.Fprintf(w, "%s %s%s\n", at, where, again)
	case journal.StepDone:
		extra := ""
		if e.Reason != "" {
			extra = ": " + e.Reason
		}
		fmt.Fprintf(w, "%s %s: done%s\n", at, where, extra)
	case journal.StepFailed:
		fmt.Fprintf(w, "%s %s: FAILED: %s\n", at, where, e.Reason)
	case journal.Command:
		c := e.Command
		switch {
		case c.Skipped:
			fmt.Fprintf(w, "           skip %s (%s)\n", strings.Join(c.Argv, " "), c.Note)
		default:
			fmt.Fprintf(w, "           $ %s → exit %d (%s)\n", strings.Join(c.Argv, " "), c.Exit, c.Duration.Round(time.Millisecond))
		}
	case journal.Weight:
		fmt.Fprintf(w, "           canary weight %d%%\n", *e.Weight)
	case journal.GateResult:
		fmt.Fprintf(w, "           gate: %s: %s\n", e.Gate.Phase, e.Gate.Message)
	case journal.Deadline:
		fmt.Fprintf(w, "           waiting until %s\n", e.Until.Local().Format("15:04:05"))
	case journal.Paused:
		fmt.Fprintf(w, "%s PAUSED: %s\n", at, e.Reason)
	case journal.Unpaused:
		fmt.Fprintf(w, "%s %s\n", at, e.Reason)
	case journal.RollbackStarted:
		fmt.Fprintf(w, "%s ROLLING BACK: %s\n", at, e.Reason)
	case journal.RollbackRetry:
		fmt.Fprintf(w, "%s %s: FAILED (attempt %d), retrying: %s\n", at, where, e.Attempt, e.Reason)
	case journal.Promoted:
		fmt.Fprintf(w, "%s promoted\n", at)
	case journal.RolledBack:
		fmt.Fprintf(w, "%s rolled back\n", at)
	case journal.ControlReceived:
		by := e.Actor
		if by == "" {
			by = "someone at the command line ($USER unset)"
		}
		fmt.Fprintf(w, "%s request: %s by %s\n", at, e.Reason, by)
	case journal.Warning:
		fmt.Fprintf(w, "%s warning: %s\n", at, e.Reason)
	case journal.Migration:
		fmt.Fprintf(w, "           %s\n", e.Reason)
	}
}

func runRolloutStatus(cmd *ucli.Command, env Env) error {
	o, err := rolloutOptions(cmd, env)
	if err != nil {
		return err
	}
	r, err := runner.Status(o)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	if cmd.String("format") == "json" {
		data, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", data)
		return nil
	}
	if r.State.RunID == "" {
		fmt.Fprintf(env.Stdout, "service %s: no run yet\n", r.Service)
		return nil
	}
	st := r.State
	active := "finished"
	if r.Active {
		active = "unfinished"
	}
	fmt.Fprintf(env.Stdout, "service %s, run %s (%s): %s\n", r.Service, st.RunID, active, st.Status)
	fmt.Fprintf(env.Stdout, "  %s → %s, canary weight %d%%\n", st.Stable, st.Canary, st.Weight)
	for i, s := range r.Steps {
		mark := "  "
		switch {
		case i < st.Step:
			mark = "ok"
		case i == st.Step && st.Status != engine.Promoted && st.Status != engine.RolledBack:
			mark = "->"
		}
		fmt.Fprintf(env.Stdout, "  %s %d. %s\n", mark, i+1, s)
	}
	if !st.Until.IsZero() && st.Phase == engine.PhaseWaiting {
		fmt.Fprintf(env.Stdout, "  waiting until %s (%s left)\n", st.Until.Local().Format("15:04:05"), time.Until(st.Until).Round(time.Second))
	}
	if st.LastGate != nil {
		fmt.Fprintf(env.Stdout, "  last gate: %s: %s\n", st.LastGate.Phase, st.LastGate.Message)
	}
	if st.PauseReason != "" {
		fmt.Fprintf(env.Stdout, "  paused: %s\n", st.PauseReason)
	}
	if st.Reason != "" {
		fmt.Fprintf(env.Stdout, "  rollback: %s (step %d of %d)\n", st.Reason, min(st.Rollback+1, len(r.Rollback)), len(r.Rollback))
	}
	if len(st.Unfinished) > 0 {
		fmt.Fprintf(env.Stdout, "  ROLLBACK INCOMPLETE: %s gave up after its attempts: finish by hand (the journal has each attempt's output)\n", strings.Join(st.Unfinished, ", "))
	}
	return nil
}

func runRolloutValidate(cmd *ucli.Command, env Env) error {
	o, err := rolloutOptions(cmd, env)
	if err != nil {
		return err
	}
	p, err := runner.Load(o)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(env.Stderr, "migsafe: warning: %s: %s\n", p.File, w)
	}
	fmt.Fprintf(env.Stdout, "%s: %s (service %s, %s → %s, backend %s)\n", p.File, p.Name, p.Service, p.Stable, p.Canary, p.Backend.Preset)
	for i, s := range p.Steps {
		fmt.Fprintf(env.Stdout, "  %d. %s\n", i+1, s)
	}
	fmt.Fprintln(env.Stdout, "  rollback:")
	for i, s := range p.Rollback {
		fmt.Fprintf(env.Stdout, "  %d. %s\n", i+1, s)
	}
	return nil
}

func runRolloutExport(cmd *ucli.Command, env Env) error {
	if !cmd.Bool("argo") {
		return usageErr("rollout export needs --argo (the only format so far)")
	}
	o, err := rolloutOptions(cmd, env)
	if err != nil {
		return err
	}
	p, err := runner.Load(o)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	out, err := export.Argo(p)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	_, err = env.Stdout.Write(out)
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
