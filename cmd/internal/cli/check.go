package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/rules"
)

func checkCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:      "check",
		Usage:     "lint migrations",
		ArgsUsage: "[PATH...]",
		Description: `Lints SQL migrations: files, or directories searched recursively for *.sql
(default: the current directory). Each migration directory is a history in its
tool's order (golang-migrate, goose, dbmate, Flyway, popx or plain files,
detected or set with --layout); migrations are replayed in order into a schema
model, so that objects created earlier are known. A file argument is linted
with the rest of its directory replayed as history (for pre-commit).

In a git work tree, deploys come from git: the migrations one first-parent
commit added are one deploy, dated by it; with --since REF only the migrations
added or changed since REF are linted (an edited one is
edited-applied-migration). Without git every version is its own deploy.

Exit status: 0 when no finding reaches --fail-on, 1 when one does, 2 on a
usage, configuration, I/O or internal error.`,
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "dialect", Usage: "SQL dialect: postgres, mysql or mariadb (mysql with a MariaDB target, mariadb-10.11 unless --target-version says) (default: from the configuration, else from the file names (*.mysql.up.sql, a mysql/ folder), else postgres)", Sources: ucli.EnvVars("MIGSAFE_DIALECT")},
			&ucli.StringFlag{Name: "target-version", Usage: targetVersionUsage, Sources: ucli.EnvVars("MIGSAFE_TARGET_VERSION")},
			&ucli.StringSliceFlag{Name: "format", Aliases: []string{"f"}, Usage: formatUsage, Sources: ucli.EnvVars("MIGSAFE_FORMAT")},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the (first) format to `FILE` instead of standard output"},
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (default: .migsafe.yaml found upward from the working directory)", Sources: ucli.EnvVars("MIGSAFE_CONFIG")},
			&ucli.StringFlag{Name: "fail-on", Usage: "lowest severity that makes the exit status 1: error, warning or never (default error)", Sources: ucli.EnvVars("MIGSAFE_FAIL_ON")},
			&ucli.StringFlag{Name: "color", Value: "auto", Usage: "colour the text output: auto, always or never (NO_COLOR is respected)"},
			&ucli.Int64Flag{Name: "max-file-size", Value: lint.MaxFileSize, Usage: "largest file to read, in bytes"},
			&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print notices (empty files) on standard error"},
			&ucli.BoolFlag{Name: "fix", Usage: "apply the exact fixes (missing lock_timeout, CONCURRENTLY, …) to migrations that have not shipped (git says which), then report what is left"},
			&ucli.BoolFlag{Name: "diff", Usage: "print the exact fixes as a unified diff instead of the report, and exit 1 if there is any (nothing is written)"},
			&ucli.StringSliceFlag{Name: "template-var", Usage: "`NAME=VALUE` of a Go template placeholder in templated migrations ({{ index .Options \"Namespace\" }} is Namespace), repeatable; placeholders without a value are linted as names"},
		}, append(historyFlags(), cacheFlags()...)...),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			return runCheck(ctx, cmd, env)
		},
	}
}

const targetVersionUsage = "server version advice is given for: a PostgreSQL major such as 14 (default " + postgres.DefaultVersion +
	"), a MySQL version such as 5.7, 8.0.28 or 8.4 (default " + mysql.DefaultVersion + ", taken as 8.0.11), or mariadb-10.11, mariadb-11.4"

// historyFlags are the check/status flags about migration histories.
func historyFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "layout", Usage: "migration layout: auto, golang-migrate, goose, dbmate, flyway, popx or plain (default: migrations.layout in the configuration, else detected)", Sources: ucli.EnvVars("MIGSAFE_LAYOUT")},
		&ucli.StringFlag{Name: "since", Usage: "lint only the migrations added or changed since the git `REF` (origin/main, a tag, HEAD~3); the others are replayed as history and date the deploys", Sources: ucli.EnvVars("MIGSAFE_SINCE")},
		&ucli.BoolFlag{Name: "no-git", Usage: "do not read deploy dates from git: every migration version counts as its own deploy"},
		&ucli.BoolFlag{Name: "follow-symlinks", Usage: "read files and directories that symbolic links point to outside the repository (or the directory given); without it such a link is an error"},
		&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also list the statements the schema model could not follow and the files the layout leaves out"},
	}
}

// resolve turns the flags (those a command has) and the environment into
// lint settings.
func resolve(cmd *ucli.Command, env Env) (*lint.Settings, error) {
	o := lint.Options{
		Dir: env.Dir, Config: cmd.String("config"), Dialect: cmd.String("dialect"), TargetVersion: cmd.String("target-version"),
		FailOn: cmd.String("fail-on"), Layout: cmd.String("layout"), Since: cmd.String("since"), NoGit: cmd.Bool("no-git"),
		FollowSymlinks: cmd.Bool("follow-symlinks"),
		Paths:          cmd.Args().Slice(), Cache: cacheOptions(cmd),
	}
	for _, kv := range cmd.StringSlice("template-var") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageErr("--template-var %q: want NAME=VALUE (--template-var Namespace=auth)", kv)
		}
		if o.TemplateVars == nil {
			o.TemplateVars = map[string]string{}
		}
		o.TemplateVars[strings.TrimSpace(k)] = v
	}
	if cmd.IsSet("max-file-size") {
		o.MaxFileSize = cmd.Int64("max-file-size")
	}
	if v := env.Getenv("MIGSAFE_NOW"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, usageErr("MIGSAFE_NOW=%q: want an RFC 3339 time such as 2024-06-10T12:00:00Z", v)
		}
		o.Now = t
	}
	s, err := lint.Resolve(o)
	if err != nil {
		return nil, &exitError{ExitError, err}
	}
	return s, nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func runCheck(ctx context.Context, cmd *ucli.Command, env Env) error {
	s, err := resolve(cmd, env)
	if err != nil {
		return err
	}
	defer s.Done()
	outs, err := parseFormats(cmd.StringSlice("format"), cmd.String("output"))
	if err != nil {
		return err
	}
	if _, err := colorMode(cmd, env, nil, true); err != nil {
		return err
	}
	if cmd.Bool("fix") && cmd.Bool("diff") {
		return usageErr("--fix writes the fixes and --diff only prints them: give one")
	}
	if cmd.Bool("diff") {
		return runDiff(ctx, cmd, env, s)
	}
	// each migration directory is a history: the files to lint are
	// replayed after the migrations before them
	var res *lint.Result
	if cmd.Bool("fix") {
		var fixed []lint.FileFix
		var skipped []string
		res, fixed, skipped, err = lint.Fix(ctx, s, cmd.Args().Slice())
		for _, sk := range skipped {
			fmt.Fprintf(env.Stderr, "migsafe: note: %s\n", sk)
		}
		n := 0
		for _, f := range fixed {
			n += f.Applied
		}
		if len(fixed) > 0 {
			fmt.Fprintf(env.Stderr, "migsafe: fixed %s in %s\n", report.Plural(n, "finding"), report.Plural(len(fixed), "file"))
		}
	} else {
		res, err = lint.Check(ctx, s, cmd.Args().Slice())
	}
	if res == nil {
		return &exitError{ExitError, err}
	}
	errs := res.Errors
	if !cmd.Bool("quiet") {
		switch len(res.Empty) {
		case 0:
		case 1:
			fmt.Fprintf(env.Stderr, "migsafe: note: %s is empty; nothing to check\n", res.Empty[0])
		default:
			fmt.Fprintf(env.Stderr, "migsafe: note: %d files are empty (%s and %d more); nothing to check in them\n", len(res.Empty), res.Empty[0], len(res.Empty)-1)
		}
	}
	for _, e := range errs {
		fmt.Fprintf(env.Stderr, "migsafe: error: %v\n", e)
	}
	if err != nil {
		return &exitError{ExitError, err}
	}
	writeNotes(env.Stderr, cmd, res)
	for _, e := range res.Engine.Errors {
		fmt.Fprintf(env.Stderr, "migsafe: internal error: %v\n", e)
	}
	// only SARIF carries each rule's description (its page, rendered for
	// every rule: a tenth of the pre-commit run's own work)
	full := slices.ContainsFunc(outs, func(o output) bool { return o.format == "sarif" })
	run := buildRun(s, res.Engine, res.Statements, len(errs)+len(res.Engine.Errors), full)
	if (len(errs) > 0 || len(res.Engine.Errors) > 0) && len(res.Engine.Files) == 0 {
		// nothing was checked: no "Checked 0 files: 0 errors" that reads
		// like a pass (the errors above say what went wrong)
		outs = slices.DeleteFunc(outs, func(o output) bool { return !o.toFile() && (o.format == "text" || o.format == "concise") })
	}
	if err := writeOutputs(outs, run, cmd, env, s.Dir); err != nil {
		return err
	}
	if len(errs) > 0 || len(res.Engine.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	if lint.Failing(res.Engine.Findings, s.FailOn) {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// writeNotes writes the loader's and the rules' notices, and with
// --verbose what the layouts left out and what the model could not follow.
func writeNotes(w io.Writer, cmd *ucli.Command, res *lint.Result) {
	if cmd.Bool("quiet") {
		return
	}
	for _, n := range res.Notes {
		if strings.HasPrefix(n, "warning: ") {
			fmt.Fprintf(w, "migsafe: %s\n", n)
		} else {
			fmt.Fprintf(w, "migsafe: note: %s\n", n)
		}
	}
	for _, n := range res.Engine.Notes {
		fmt.Fprintf(w, "migsafe: note: %s\n", n)
	}
	if !cmd.Bool("verbose") {
		return
	}
	for i, hs := range res.Histories {
		fmt.Fprintf(w, "migsafe: %s: %s layout (%s), %d migrations\n", hs.Root, hs.Set.Layout, hs.Set.Why, len(hs.Set.Migrations))
		for _, sk := range hs.Set.Skipped {
			fmt.Fprintf(w, "migsafe: note: %s left out: %s\n", sk.Path, sk.Reason)
		}
		if i < len(res.Each) {
			for _, u := range res.Each[i].Catalog.Unmodeled {
				fmt.Fprintf(w, "migsafe: note: %s:%d: not modelled: %s: %s\n", u.Origin.Path, u.Origin.Line, u.Kind, u.Reason)
			}
		}
	}
}

func buildRun(s *lint.Settings, res *engine.Result, stmts, nerr int, full bool) *report.Run {
	enabled := map[string]bool{}
	for _, rc := range s.Rules {
		enabled[rc.Rule.Code] = true
	}
	run := &report.Run{
		Tool:     report.Tool{Name: "migsafe", Version: Version(), InformationURI: "https://github.com/migsafe/migsafe"},
		Target:   s.Dialect.Target().String(),
		Findings: res.Findings,
		Stats:    report.Stats{Files: len(res.Files), Statements: stmts, Errors: nerr},
	}
	for _, r := range rules.All() {
		if r.AppliesTo(s.Dialect.Name()) {
			run.Rules = append(run.Rules, report.DescribeAt(r, enabled[r.Code], Version(), full))
		}
	}
	lines := map[string]*analyzer.LineIndex{}
	for _, f := range res.Files {
		lines[f.Path] = f.Lines
	}
	run.Sources = func(p string) *analyzer.LineIndex { return lines[p] }
	if abs, err := filepath.Abs(s.Dir); err == nil {
		run.WorkDir = abs
		run.Root = repoRoot(abs)
	}
	return run
}

// output is one requested format and where it goes ("" or "-" = stdout).
type output struct {
	format string
	path   string
}

func (o output) toFile() bool { return o.path != "" && o.path != "-" }

func parseFormats(specs []string, outPath string) ([]output, error) {
	var outs []output
	for _, spec := range specs {
		for _, one := range strings.Split(spec, ",") {
			name, path, _ := strings.Cut(strings.TrimSpace(one), "=")
			found := false
			for _, f := range formatNames {
				if f == name {
					found = true
				}
			}
			if !found {
				msg := fmt.Sprintf("unknown format %q (want %s)", name, strings.Join(formatNames, ", "))
				if sug := analyzer.Suggest(name, formatNames); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
				return nil, usageErr("--format: %s", msg)
			}
			outs = append(outs, output{format: name, path: path})
		}
	}
	if len(outs) == 0 {
		outs = []output{{format: "text"}}
	}
	if outPath != "" {
		if outs[0].path != "" {
			return nil, usageErr("--output and --format %s=%s both name a file", outs[0].format, outs[0].path)
		}
		outs[0].path = outPath
	}
	stdout := 0
	files := map[string]string{}
	for _, o := range outs {
		if !o.toFile() {
			stdout++
			continue
		}
		key := filepath.Clean(o.path)
		if prev, ok := files[key]; ok {
			return nil, usageErr("--format %s and --format %s both write to %s: give each its own file", prev, o.format, o.path)
		}
		files[key] = o.format
	}
	if stdout > 1 {
		return nil, usageErr("only one format can go to standard output; give the others a file (--format sarif=migsafe.sarif)")
	}
	return outs, nil
}

// writeOutputs writes every format. The files are created first (their
// directories too), so that a path that cannot be written fails the run
// before anything is printed.
func writeOutputs(outs []output, run *report.Run, cmd *ucli.Command, env Env, dir string) error {
	if githubAnnotations(outs, env) {
		outs = append(outs, output{format: "github"})
	}
	files := make([]*os.File, len(outs))
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				_ = f.Close()
			}
		}
	}
	for i, o := range outs {
		if !o.toFile() {
			continue
		}
		p := o.path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		if err == nil {
			files[i], err = os.Create(p)
		}
		if err != nil {
			closeAll()
			return &exitError{ExitError, lint.PathError(o.path, err)}
		}
	}
	for i, o := range outs {
		w := env.Stdout
		if files[i] != nil {
			w = files[i]
		}
		err := writeFormat(w, o, run, cmd, env)
		if files[i] != nil {
			if cerr := files[i].Close(); err == nil {
				err = cerr
			}
			files[i] = nil
		}
		if err != nil {
			closeAll()
			return &exitError{ExitError, fmt.Errorf("writing %s output to %s: %w", o.format, firstOf(o.path, "standard output"), err)}
		}
	}
	return nil
}

var errUnknownFormat = errors.New("unknown format")

// runDiff prints the fixes as a unified diff: exit status 1 when there is
// one, as ruff check --diff.
func runDiff(ctx context.Context, cmd *ucli.Command, env Env, s *lint.Settings) error {
	res, err := lint.Check(ctx, s, cmd.Args().Slice())
	if res == nil || err != nil {
		return &exitError{ExitError, err}
	}
	for _, e := range res.Errors {
		fmt.Fprintf(env.Stderr, "migsafe: error: %v\n", e)
	}
	fx := lint.Fixes(s, res)
	if !cmd.Bool("quiet") {
		for _, sk := range fx.Skipped {
			fmt.Fprintf(env.Stderr, "migsafe: note: %s\n", sk)
		}
	}
	n := 0
	for _, f := range fx.Files {
		fmt.Fprint(env.Stdout, lint.UnifiedDiff(f.Path, f.Old, f.New))
		n += f.Applied
	}
	if len(res.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	if len(fx.Files) > 0 {
		fmt.Fprintf(env.Stderr, "migsafe: %s would fix %s in %s (--fix applies them)\n", "--diff", report.Plural(n, "finding"), report.Plural(len(fx.Files), "file"))
		return &exitError{code: ExitFindings}
	}
	return nil
}
