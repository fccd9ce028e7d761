package cli

import (
	"context"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/rollout/runner"
)

// flagsCommand is `migsafe flags check`.
func flagsCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:  "flags",
		Usage: "check the rollout plan's feature flags against the flag service",
		Commands: []*ucli.Command{{
			Name:  "check",
			Usage: "check that each flag the plan uses exists, can be turned off, and is off when the flag service is down",
			Description: `For each flag the plan's steps and rollback use: it exists in the flag
service (read through OFREP, as the application reads it, when the plan's
flags: section has ofrep:), the rollback could turn it off now (the admin API
answers with the plan's token, or the set command is installed), and an
OpenFeature client whose flag service is down answers the plan's
safe_default, which must be false (the old behaviour). Nothing is changed.
Exit codes: 0 all pass, 1 a check failed, 2 unusable plan.`,
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "plan", Aliases: []string{"p"}, Value: "rollout.yaml", Usage: "the rollout plan `FILE`", Sources: ucli.EnvVars("MIGSAFE_ROLLOUT_PLAN")},
				&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: text, json or markdown"},
			},
			OnUsageError: onUsageError,
			Action: func(ctx context.Context, cmd *ucli.Command) error {
				if cmd.NArg() > 0 {
					return usageErr("flags check takes no arguments (the plan is --plan FILE)")
				}
				return checklistAction(ctx, cmd, env, runner.FlagsCheck)
			},
		}},
	}
}
