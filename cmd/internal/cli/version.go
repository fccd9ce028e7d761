package cli

import (
	"context"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/internal/buildinfo"
)

// rootVersionFlag is the root's --version, which prints what `migsafe
// version` prints. A flag holds its parsed value: one per command line.
func rootVersionFlag() ucli.Flag {
	return &ucli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version, commit, build date, Go version and PostgreSQL grammar version"}
}

// rootAction runs for `migsafe` without a command: --version, else the help.
func rootAction(env Env) ucli.ActionFunc {
	return func(ctx context.Context, cmd *ucli.Command) error {
		if cmd.Bool("version") {
			return writeVersion(env)
		}
		return ucli.DefaultShowRootCommandHelp(cmd)
	}
}

func versionCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print the version, commit, build date, Go version and PostgreSQL grammar version",
		Description: `Prints the version of this binary (a release tag, the module version of a
go install, or "devel" for a build from a checkout), the commit and build
date a release stamps (or the commit Go recorded, or "unknown"), the Go
toolchain and platform, and the PostgreSQL release whose grammar the
bundled parser implements. migsafe --version prints the same.`,
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageErr("version takes no arguments")
			}
			return writeVersion(env)
		},
	}
}

func writeVersion(env Env) error {
	return buildinfo.Read().Write(env.Stdout, postgres.GrammarVersion())
}
