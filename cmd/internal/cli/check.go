package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/config"
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
			&ucli.StringFlag{Name: "dialect", Usage: "SQL dialect: postgres or mysql (default: from the configuration, else from the file names (*.mysql.up.sql, a mysql/ folder), else postgres)", Sources: ucli.EnvVars("MIGSAFE_DIALECT")},
			&ucli.StringFlag{Name: "target-version", Usage: targetVersionUsage, Sources: ucli.EnvVars("MIGSAFE_TARGET_VERSION")},
			&ucli.StringSliceFlag{Name: "format", Aliases: []string{"f"}, Usage: formatUsage, Sources: ucli.EnvVars("MIGSAFE_FORMAT")},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the (first) format to `FILE` instead of standard output"},
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (default: .migsafe.yaml found upward from the working directory)", Sources: ucli.EnvVars("MIGSAFE_CONFIG")},
			&ucli.StringFlag{Name: "fail-on", Usage: "lowest severity that makes the exit status 1: error, warning or never (default error)", Sources: ucli.EnvVars("MIGSAFE_FAIL_ON")},
			&ucli.StringFlag{Name: "color", Value: "auto", Usage: "colour the text output: auto, always or never (NO_COLOR is respected)"},
			&ucli.Int64Flag{Name: "max-file-size", Value: MaxFileSize, Usage: "largest file to read, in bytes"},
			&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print notices (empty files) on standard error"},
		}, historyFlags()...),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			return runCheck(ctx, cmd, env)
		},
	}
}

// settings are the resolved options of a check run.
type settings struct {
	dir     string
	cfg     *config.Config
	dialect analyzer.Dialect
	rules   []engine.RuleConfig
	failOn  string
}

func workDir(env Env) (string, error) {
	if env.Dir != "" {
		return env.Dir, nil
	}
	return os.Getwd()
}

func isRule(s string) bool { return rules.Lookup(s) != nil }

func ruleWords() []string {
	var out []string
	for _, r := range rules.All() {
		out = append(out, r.Name, r.Code)
	}
	return out
}

func loadConfig(cmd *ucli.Command, dir string) (*config.Config, error) {
	path := cmd.String("config")
	if path == "" {
		found, err := config.Find(dir)
		if err != nil {
			return nil, &exitError{ExitError, err}
		}
		if found == "" {
			return &config.Config{Dir: dir}, nil
		}
		path = found
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	c, err := config.Load(path, isRule, ruleWords())
	if err != nil {
		return nil, &exitError{ExitError, err}
	}
	return c, nil
}

func resolve(cmd *ucli.Command, env Env) (*settings, error) {
	dir, err := workDir(env)
	if err != nil {
		return nil, &exitError{ExitError, err}
	}
	cfg, err := loadConfig(cmd, dir)
	if err != nil {
		return nil, err
	}
	s := &settings{dir: dir, cfg: cfg}
	name, err := dialectName(cmd, cfg, dir)
	if err != nil {
		return nil, err
	}
	d, err := newDialect(name, firstOf(cmd.String("target-version"), cfg.TargetVersion))
	if err != nil {
		return nil, err
	}
	s.dialect = d
	s.failOn = firstOf(cmd.String("fail-on"), cfg.FailOn, "error")
	switch s.failOn {
	case "error", "warning", "never":
	default:
		return nil, usageErr("--fail-on %q: want error, warning or never", s.failOn)
	}
	s.rules = enabledRules(cfg, d.Name())
	return s, nil
}

// enabledRules applies the configuration to the rules' defaults.
func enabledRules(cfg *config.Config, dialect string) []engine.RuleConfig {
	var out []engine.RuleConfig
	for _, r := range rules.All() {
		if !r.AppliesTo(dialect) {
			continue
		}
		on, sev := !r.Off, r.Severity
		for _, rs := range cfg.Rules {
			if rules.Lookup(rs.Key) != r {
				continue
			}
			on = !rs.Off
			if rs.Severity != 0 {
				sev = rs.Severity
			}
		}
		if on {
			out = append(out, engine.RuleConfig{Rule: r, Severity: sev})
		}
	}
	return out
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// excluder returns whether a path (relative to dir) matches an exclude
// pattern of the configuration (relative to the configuration's directory).
func excluder(cfg *config.Config, dir string) func(string) bool {
	return func(p string) bool {
		if len(cfg.Exclude) == 0 {
			return false
		}
		full := p
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, filepath.FromSlash(p))
		}
		rel, err := filepath.Rel(cfg.Dir, full)
		if err != nil || strings.HasPrefix(rel, "..") {
			return false
		}
		rel = filepath.ToSlash(rel)
		for _, pat := range cfg.Exclude {
			if config.Match(pat, rel) {
				return true
			}
		}
		return false
	}
}

func runCheck(ctx context.Context, cmd *ucli.Command, env Env) error {
	s, err := resolve(cmd, env)
	if err != nil {
		return err
	}
	outs, err := parseFormats(cmd.StringSlice("format"), cmd.String("output"))
	if err != nil {
		return err
	}
	if _, err := colorMode(cmd, env, nil, true); err != nil {
		return err
	}
	paths := cmd.Args().Slice()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	hopt, err := historyOptions(cmd, env, s)
	if err != nil {
		return err
	}
	// each migration directory is a history: the files to lint are
	// replayed after the migrations before them
	ld := loadHistories(ctx, paths, s.dir, excluder(s.cfg, s.dir), hopt)
	errs := ld.errs
	if !cmd.Bool("quiet") {
		for _, name := range ld.empty {
			fmt.Fprintf(env.Stderr, "migsafe: note: %s is empty; nothing to check\n", name)
		}
	}
	for _, e := range errs {
		fmt.Fprintf(env.Stderr, "migsafe: error: %v\n", e)
	}
	res, each, err := lintSets(ctx, s, ld.sets)
	if err != nil {
		return &exitError{ExitError, err}
	}
	writeNotes(env.Stderr, cmd, ld, res, each)
	for _, e := range res.Errors {
		fmt.Fprintf(env.Stderr, "migsafe: internal error: %v\n", e)
	}
	run := buildRun(s, res, len(errs)+len(res.Errors))
	if err := writeOutputs(outs, run, cmd, env, s.dir); err != nil {
		return err
	}
	if len(errs) > 0 || len(res.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	if failing(res.Findings, s.failOn) {
		return &exitError{code: ExitFindings}
	}
	return nil
}

func failing(fs []analyzer.Finding, failOn string) bool {
	if failOn == "never" {
		return false
	}
	min := analyzer.SeverityError
	if failOn == "warning" {
		min = analyzer.SeverityWarning
	}
	for _, f := range fs {
		if f.Suppressed == nil && f.Severity >= min {
			return true
		}
	}
	return false
}

func buildRun(s *settings, res *engine.Result, nerr int) *report.Run {
	enabled := map[string]bool{}
	for _, rc := range s.rules {
		enabled[rc.Rule.Code] = true
	}
	run := &report.Run{
		Tool:     report.Tool{Name: "migsafe", Version: Version(), InformationURI: "https://github.com/migsafe/migsafe"},
		Target:   s.dialect.Target().String(),
		Findings: res.Findings,
		Stats:    report.Stats{Files: len(res.Files), Errors: nerr},
	}
	for _, r := range rules.All() {
		if r.AppliesTo(s.dialect.Name()) {
			run.Rules = append(run.Rules, report.DescribeAt(r, enabled[r.Code], Version()))
		}
	}
	lines := map[string]*analyzer.LineIndex{}
	for _, f := range res.Files {
		run.Stats.Statements += len(f.Stmts)
		lines[f.Path] = f.Lines
	}
	run.Sources = func(p string) *analyzer.LineIndex { return lines[p] }
	if abs, err := filepath.Abs(s.dir); err == nil {
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
	for _, o := range outs {
		if !o.toFile() {
			stdout++
		}
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
			return &exitError{ExitError, pathError(o.path, err)}
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
