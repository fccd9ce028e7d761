package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/dbstep"
	"github.com/migsafe/migsafe/rollout/plan"
	"github.com/migsafe/migsafe/rollout/report"
	"github.com/migsafe/migsafe/rollout/runner"
)

// readinessCommand is `migsafe readiness`: the plan's rollback readiness
// checklist, which `rollout start` also runs before a new run.
func readinessCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:  "readiness",
		Usage: "check that a rollout can be rolled back before it starts (the plan's readiness checklist)",
		Description: `Runs the rollback readiness checklist of a rollout plan: the items of its
readiness: section and, when the plan has flag steps, that each flag exists
and is off. Every failed item comes with how to fix it. Exit codes: 0 ready,
1 an item failed, 2 unusable plan.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "plan", Aliases: []string{"p"}, Value: "rollout.yaml", Usage: "the rollout plan `FILE`", Sources: ucli.EnvVars("MIGSAFE_ROLLOUT_PLAN")},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: text, json or markdown (for a pull request comment)"},
			&ucli.StringFlag{Name: "state-dir", Usage: "where runs are journaled (`DIR`; default .migsafe/rollout beside the plan): the run history the revert commit is read from", Sources: ucli.EnvVars("MIGSAFE_ROLLOUT_STATE")},
		},
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			return checklistAction(ctx, cmd, env, runner.Readiness)
		},
	}
}

// checklistAction runs a checklist of the plan (readiness, flags check)
// and prints it: exit 1 when an item failed, 2 for an unusable plan.
func checklistAction(ctx context.Context, cmd *ucli.Command, env Env, run func(context.Context, runner.Options) (*plan.Plan, checklist.Report, error)) error {
	format := cmd.String("format")
	if format != "text" && format != "json" && format != "markdown" {
		return usageErr("--format %q: text, json or markdown", format)
	}
	o := runner.Options{PlanFile: cmd.String("plan"), StateDir: cmd.String("state-dir"), Compile: rolloutCompiler(), Loud: env.Stderr,
		Getenv: env.Getenv, DB: &dbstep.Runner{Getenv: env.Getenv, Dir: env.Dir, Version: Version()}}
	rolloutPaths(env, &o)
	_, r, err := run(ctx, o)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	if err := writeChecklist(env, r, format); err != nil {
		return err
	}
	if !r.Passed {
		return &exitError{code: ExitFindings}
	}
	return nil
}

func writeChecklist(env Env, r checklist.Report, format string) error {
	switch format {
	case "json":
		return r.WriteJSON(env.Stdout)
	case "markdown":
		return r.WriteMarkdown(env.Stdout)
	}
	return r.WriteText(env.Stdout)
}

// gateHooks prints, in text output, the readiness checklist before a run
// and what followed a rollback.
func gateHooks(o *runner.Options, env Env, jsonOut bool) {
	if jsonOut {
		return
	}
	o.Readiness = func(r checklist.Report) {
		if len(r.Outcomes) > 0 && r.Passed { // a failure is printed by notReady
			_ = r.WriteText(env.Stdout)
		}
	}
	o.AfterRollback = func(a *runner.AfterRollback) {
		if a.Checklist != nil {
			_ = a.Checklist.WriteText(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "post-mortem draft: %s\n", a.Postmortem)
	}
}

// notReady turns Start's refusal into exit 1 with the failed items.
func notReady(env Env, err error) error {
	var nr *runner.NotReadyError
	if !errors.As(err, &nr) {
		return nil
	}
	_ = nr.Report.WriteText(env.Stderr)
	return &exitError{code: ExitFindings, err: err}
}

func rolloutReportCommand(env Env, flags []ucli.Flag) *ucli.Command {
	return &ucli.Command{
		Name:      "report",
		Usage:     "write a run's report: one self-contained HTML file (or the post-mortem draft)",
		ArgsUsage: "[RUN]",
		Description: `Builds the report of run RUN (the last run when omitted) from its journal:
the timeline of steps and, for each analysis step, the canary's and stable's
measurements over time as charts with the thresholds, the decision and why.
The file needs nothing from the network to open.`,
		Flags: append(flags,
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (default: stdout)"},
			&ucli.BoolFlag{Name: "postmortem", Usage: "write the post-mortem draft (markdown) instead"}),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if cmd.NArg() > 1 {
				return usageErr("rollout report takes one run id")
			}
			o, err := rolloutOptions(cmd, env)
			if err != nil {
				return err
			}
			run, err := runner.LoadRun(o, cmd.Args().First())
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			w := env.Stdout
			if out := cmd.String("output"); out != "" {
				if env.Dir != "" && !filepath.IsAbs(out) {
					out = filepath.Join(env.Dir, out)
				}
				f, err := os.Create(out)
				if err != nil {
					return &exitError{code: ExitError, err: err}
				}
				defer f.Close()
				w = f
			}
			if cmd.Bool("postmortem") {
				err = report.Postmortem(w, run)
			} else {
				err = report.HTML(w, run)
			}
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			return nil
		},
	}
}
