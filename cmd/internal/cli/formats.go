package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/analyzer/report/github"
	"github.com/migsafe/migsafe/analyzer/report/gitlab"
	"github.com/migsafe/migsafe/analyzer/report/jsonfmt"
	"github.com/migsafe/migsafe/analyzer/report/sarif"
	"github.com/migsafe/migsafe/analyzer/report/text"
)

// formatNames are the values of --format, in the order help lists them.
var formatNames = []string{"text", "concise", "json", "sarif", "github", "gitlab"}

const formatUsage = "output format: text, concise, json, sarif, github (workflow commands) or gitlab (Code Quality report); NAME=FILE writes that format to FILE (repeatable)"

// colorMode resolves --color for one writer: always, never, or auto (a
// terminal, NO_COLOR unset or empty, TERM not dumb).
func colorMode(cmd *ucli.Command, env Env, w io.Writer, toFile bool) (bool, error) {
	switch mode := cmd.String("color"); mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		return !toFile && env.Getenv("NO_COLOR") == "" && env.Getenv("TERM") != "dumb" && env.IsTerminal != nil && env.IsTerminal(w), nil
	default:
		msg := fmt.Sprintf("--color %q: want auto, always or never", mode)
		if sug := analyzer.Suggest(mode, []string{"auto", "always", "never"}); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
		return false, usageErr("%s", msg)
	}
}

func writeFormat(w io.Writer, o output, run *report.Run, cmd *ucli.Command, env Env) error {
	color := false
	if o.format == "text" || o.format == "concise" {
		var err error
		if color, err = colorMode(cmd, env, w, o.toFile()); err != nil {
			return err
		}
	}
	// reporters write piece by piece: one system call per piece costs
	// more than the formatting on a large run
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch o.format {
	case "concise":
		err = text.WriteConcise(bw, run, text.Options{Color: color})
	case "text":
		err = text.Write(bw, run, text.Options{Color: color})
	case "json":
		err = jsonfmt.Write(bw, run)
	case "sarif":
		err = sarif.Write(bw, run)
	case "github":
		err = github.Write(bw, run)
	case "gitlab":
		err = gitlab.Write(bw, run)
	default:
		return errUnknownFormat
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// githubAnnotations reports whether the GitHub annotations are added to
// standard output after the human output: when running in GitHub Actions
// (GITHUB_ACTIONS=true), text or concise goes to standard output, no github
// format was asked for, and MIGSAFE_GITHUB_ANNOTATIONS is not "false" or "0".
func githubAnnotations(outs []output, env Env) bool {
	if env.Getenv("GITHUB_ACTIONS") != "true" {
		return false
	}
	switch strings.ToLower(env.Getenv("MIGSAFE_GITHUB_ANNOTATIONS")) {
	case "false", "0", "no", "off":
		return false
	}
	human := false
	for _, o := range outs {
		if o.format == "github" {
			return false
		}
		if (o.format == "text" || o.format == "concise") && !o.toFile() {
			human = true
		}
	}
	return human
}

// repoRoot returns the repository root that SARIF and GitHub paths are
// relative to: the nearest directory at or above dir that holds .git (a
// directory, or a file in worktrees and submodules), else dir itself.
func repoRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return abs
		}
		d = parent
	}
}
