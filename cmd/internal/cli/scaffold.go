package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/scaffold"
)

func scaffoldCommand(env Env) *ucli.Command {
	flags := func() []ucli.Flag {
		return []ucli.Flag{
			&ucli.StringFlag{Name: "dir", Aliases: []string{"d"}, Value: ".", Usage: "the migration `DIRECTORY` to write into (its layout and history are read)"},
			&ucli.StringFlag{Name: "dialect", Usage: "SQL dialect: postgres, mysql or mariadb (mysql with a MariaDB target, mariadb-10.11 unless --target-version says) (default: from the configuration, else postgres)", Sources: ucli.EnvVars("MIGSAFE_DIALECT")},
			&ucli.StringFlag{Name: "target-version", Usage: targetVersionUsage, Sources: ucli.EnvVars("MIGSAFE_TARGET_VERSION")},
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE`", Sources: ucli.EnvVars("MIGSAFE_CONFIG")},
			&ucli.StringFlag{Name: "layout", Usage: "migration layout when the directory is empty or ambiguous (default golang-migrate)"},
			&ucli.StringFlag{Name: "type", Usage: "the column's current `TYPE`, when the migrations do not say"},
			&ucli.IntFlag{Name: "batch-size", Value: 1000, Usage: "rows per committed batch of the backfill"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print the files instead of writing them"},
		}
	}
	sub := func(name, usage, args string) *ucli.Command {
		return &ucli.Command{
			Name: name, Usage: usage, ArgsUsage: args, Flags: flags(),
			Action: func(ctx context.Context, cmd *ucli.Command) error {
				if cmd.Args().Len() != scaffold.Changes[name] {
					return usageErr("scaffold %s takes %s", name, args)
				}
				return runScaffold(ctx, cmd, env, name, cmd.Args().Slice())
			},
		}
	}
	return &ucli.Command{
		Name:  "scaffold",
		Usage: "write the migrations of an expand-contract change",
		Description: `Writes, in the layout the directory already uses, the migrations of the SQL
steps of an expand-contract change, each with its down migration, and prints
the application steps as a checklist between them. The six steps, each once:

  1. SQL: add the new column (nullable); on PostgreSQL a trigger keeps both
     columns in step while old and new application versions run side by side
  2. application: write the new column (both columns)
  3. SQL: backfill old rows in committed batches (on MySQL, without a trigger,
     in a deploy of its own once the application writes both columns)
  4. application: read the new column
  5. application: stop writing the old column; then SQL: the deprecation
     marker (a NOT NULL column without a default is made nullable in a deploy
     before, where no trigger fills it, so that inserts can leave it out)
  6. SQL: drop the old column, in a later deploy, at least
     migrations.min-deprecation-age after the deprecation's`,
		Commands: []*ucli.Command{
			sub("rename-column", "rename a column in six steps", "TABLE OLD NEW"),
			sub("change-column-type", "change a column's type through a new column", "TABLE COLUMN TYPE"),
			sub("drop-column", "drop a column in two deploys (three for a NOT NULL column without a default)", "TABLE COLUMN"),
		},
	}
}

func runScaffold(ctx context.Context, cmd *ucli.Command, env Env, name string, args []string) error {
	s, err := resolve(cmd, env)
	if err != nil {
		return err
	}
	p, err := scaffold.Build(ctx, s, scaffold.Options{Dir: cmd.String("dir"), Change: name, Args: args, Type: cmd.String("type"), BatchSize: cmd.Int("batch-size")})
	if err != nil {
		return &exitError{ExitError, err}
	}
	for _, f := range p.Files {
		path := filepath.Join(p.Dir, f.Name)
		if cmd.Bool("dry-run") {
			fmt.Fprintf(env.Stdout, "-- %s --\n%s\n", lint.Display(s.Dir, path), f.Content)
			continue
		}
		if _, err := os.Stat(path); err == nil {
			return &exitError{ExitError, fmt.Errorf("%s already exists; nothing written", lint.Display(s.Dir, path))}
		}
	}
	if !cmd.Bool("dry-run") {
		for _, f := range p.Files {
			path := filepath.Join(p.Dir, f.Name)
			if err := os.WriteFile(path, []byte(f.Content), 0o644); err != nil {
				return &exitError{ExitError, lint.PathError(lint.Display(s.Dir, path), err)}
			}
			fmt.Fprintf(env.Stdout, "wrote %s\n", lint.Display(s.Dir, path))
		}
	}
	// the checklist: which files ship in which deploy, and the
	// application's steps between them
	fmt.Fprintf(env.Stdout, "\nShip it in %d deploys (%s layout), in this order:\n", p.Deploys(), p.Layout)
	n := 0
	for _, st := range p.Steps {
		if st.Files == nil {
			fmt.Fprintf(env.Stdout, "  [ ] %s\n", st.App)
			continue
		}
		n++
		fmt.Fprintf(env.Stdout, "\n  Deploy %d: %s\n", n, strings.Join(st.Files, ", "))
	}
	fmt.Fprintf(env.Stdout, "\nmigsafe check lints these files; migsafe status shows the change in flight.\n")
	return nil
}
