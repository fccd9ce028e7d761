// Package cli is migsafe's command line: it wires configuration, dialects,
// the engine and the output formats together. It holds no global state; the
// environment comes in through Env.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/internal/buildinfo"
)

// Exit codes.
const (
	ExitOK       = 0 // nothing at or above the --fail-on threshold
	ExitFindings = 1 // findings at or above the threshold
	ExitError    = 2 // usage, configuration, I/O or internal error
)

// Env is what the command line gets from the process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// IsTerminal reports whether a writer is a terminal (for colour); nil
	// means never.
	IsTerminal func(io.Writer) bool
	// Dir is the working directory; "" means the process's.
	Dir string
}

// exitError carries an exit code; a nil err means nothing more to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitError, err: fmt.Errorf(format, args...)}
}

// Version is migsafe's version (internal/buildinfo): the one stamped at
// link time, else the module version when installed with go install, else
// "devel".
func Version() string { return buildinfo.Read().Version }

// onUsageError turns urfave/cli's usage errors (an unknown flag, a missing
// value) into one line with a suggestion, instead of the whole help text.
func onUsageError(_ context.Context, cmd *ucli.Command, err error, _ bool) error {
	msg := err.Error()
	const unknown = "flag provided but not defined: "
	if name, ok := strings.CutPrefix(msg, unknown); ok {
		name = strings.TrimLeft(name, "-")
		var names []string
		for _, f := range cmd.Flags {
			names = append(names, f.Names()...)
		}
		dash := func(n string) string {
			if len(n) == 1 {
				return "-" + n
			}
			return "--" + n
		}
		msg = "unknown flag " + dash(name)
		if sug := analyzer.Suggest(name, names); sug != "" {
			msg += fmt.Sprintf("; did you mean %s?", dash(sug))
		}
	}
	return usageErr("%s (%s --help lists the options)", msg, cmd.FullName())
}

// unknownCommand reports a command or subcommand name that does not exist,
// with the closest one.
func unknownCommand(app *ucli.Command, args []string) error {
	cur, path := app, "migsafe"
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") || len(cur.Commands) == 0 {
			return nil
		}
		next := cur.Command(a)
		if next == nil {
			var names []string
			for _, c := range cur.VisibleCommands() {
				names = append(names, c.Name)
			}
			msg := fmt.Sprintf("unknown command %q", strings.TrimPrefix(path+" "+a, "migsafe "))
			if sug := analyzer.Suggest(a, names); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			}
			return fmt.Errorf("%s (%s --help lists them: %s)", msg, path, strings.Join(names, ", "))
		}
		cur, path = next, path+" "+a
	}
	return nil
}

// namedCommand is a command and its name, built on demand.
type namedCommand struct {
	name  string
	build func() *ucli.Command
}

// commands are migsafe's commands, in the order the help lists them.
func commands(env, statusEnv Env) []namedCommand {
	return []namedCommand{
		{"check", func() *ucli.Command { return checkCommand(env) }},
		{"rules", func() *ucli.Command { return rulesCommand(env) }},
		{"explain", func() *ucli.Command { return explainCommand(env) }},
		{"status", func() *ucli.Command { return statusCommand(statusEnv) }},
		{"scaffold", func() *ucli.Command { return scaffoldCommand(env) }},
		{"rollout", func() *ucli.Command { return rolloutCommand(statusEnv) }},
		{"readiness", func() *ucli.Command { return readinessCommand(statusEnv) }},
		{"flags", func() *ucli.Command { return flagsCommand(statusEnv) }},
		{"migrate", func() *ucli.Command { return migrateCommand(statusEnv) }},
		{"verify-rollback", func() *ucli.Command { return verifyRollbackCommand(statusEnv) }},
		{"version", func() *ucli.Command { return versionCommand(env) }},
	}
}

// reachable builds the commands a run can reach: only the one args name
// when they name one, else all of them (the root's help lists them, and
// an unknown name is compared with them). urfave/cli sets up every
// command it is given on each run, their flags and help: building only
// check took its set-up in process from 0.77 to 0.37 ms. With every set,
// all are built (tests compare the two).
func reachable(cmds []namedCommand, args []string, every bool) []*ucli.Command {
	if len(args) > 1 && !every {
		for _, c := range cmds {
			if c.name == args[1] {
				return []*ucli.Command{c.build()}
			}
		}
	}
	all := make([]*ucli.Command, len(cmds))
	for i, c := range cmds {
		all[i] = c.build()
	}
	return all
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	return run(ctx, args, env, false)
}

// run is Main, building every command when every is set.
func run(ctx context.Context, args []string, env Env, every bool) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	stderr := newSafeWriter(env.Stderr)
	defer stderr.Flush()
	env.Stderr = stderr
	// status prints paths and marker text from the repository as they
	// are; its text and JSON are both safe to pass through safeWriter
	statusEnv := env
	statusOut := newSafeWriter(env.Stdout)
	defer statusOut.Flush()
	statusEnv.Stdout = statusOut
	// the runner commands print what servers and services answered (a
	// database error quotes the migration, a flag service its values, a
	// metric its labels): their output goes through safeWriter too; a
	// terminal behind it is still a terminal
	if env.IsTerminal != nil {
		isTerm := env.IsTerminal
		statusEnv.IsTerminal = func(w io.Writer) bool {
			if s, ok := w.(*safeWriter); ok {
				w = s.w
			}
			return isTerm(w)
		}
	}
	app := &ucli.Command{
		Name:                  "migsafe",
		Usage:                 "make schema changes safe to ship and cheap to undo",
		HideVersion:           true, // --version is rootVersionFlag: more than urfave/cli's one line
		Flags:                 []ucli.Flag{rootVersionFlag()},
		Action:                rootAction(env),
		Writer:                env.Stdout,
		ErrWriter:             env.Stderr,
		Suggest:               true,
		HideHelpCommand:       true,
		EnableShellCompletion: false,
		ExitErrHandler:        func(context.Context, *ucli.Command, error) {},
	}
	if len(args) > 1 && args[1] == "help" {
		// "migsafe help check" is "migsafe check --help"
		args = append(append([]string{args[0]}, args[2:]...), "--help")
	}
	app.Commands = reachable(commands(env, statusEnv), args, every)
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
	}
	app.OnUsageError = onUsageError
	if err := unknownCommand(app, args); err != nil {
		// urfave/cli would say "No help topic for …"
		fmt.Fprintf(env.Stderr, "migsafe: %v\n", err)
		return ExitError
	}
	err := app.Run(ctx, args)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(env.Stderr, "migsafe: %v\n", ee.err)
		}
		return ee.code
	}
	// urfave/cli usage errors (unknown flag, missing value, …)
	fmt.Fprintf(env.Stderr, "migsafe: %v\n", err)
	return ExitError
}
