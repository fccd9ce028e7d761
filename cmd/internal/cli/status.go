package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/lint"
)

func statusCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:      "status",
		Usage:     "show the expand-contract changes in flight",
		ArgsUsage: "[PATH...]",
		Description: `Replays the migration histories (default: the current directory) and lists
every expand-contract change in flight: columns and tables deprecated with
-- migsafe:deprecate but not dropped yet, and columns or tables filled from one
that still exists (a replacement). For each it shows the step reached and, with
deploy dates from git, when the contract step (the drop) becomes allowed.

It also counts the statements the schema model could not follow; --verbose
lists them.`,
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "dialect", Usage: "SQL dialect: postgres, mysql or mariadb (mysql with a MariaDB target, mariadb-10.11 unless --target-version says) (default: from the configuration, else postgres)", Sources: ucli.EnvVars("MIGSAFE_DIALECT")},
			&ucli.StringFlag{Name: "target-version", Usage: targetVersionUsage, Sources: ucli.EnvVars("MIGSAFE_TARGET_VERSION")},
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (default: .migsafe.yaml found upward from the working directory)", Sources: ucli.EnvVars("MIGSAFE_CONFIG")},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: text or json"},
			&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print notices on standard error"},
		}, append(historyFlags(), cacheFlags()...)...),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			return runStatus(ctx, cmd, env)
		},
	}
}

func runStatus(ctx context.Context, cmd *ucli.Command, env Env) error {
	s, err := resolve(cmd, env)
	if err != nil {
		return err
	}
	format := cmd.String("format")
	if format != "text" && format != "json" {
		return usageErr("--format %q: want text or json", format)
	}
	rep, err := lint.Status(ctx, s, cmd.Args().Slice())
	if rep == nil {
		return &exitError{ExitError, err}
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(env.Stderr, "migsafe: error: %v\n", e)
	}
	if err != nil {
		return &exitError{ExitError, err}
	}
	if !cmd.Bool("verbose") {
		for i := range rep.Histories {
			rep.Histories[i].Details = nil
		}
	}
	if !cmd.Bool("quiet") {
		for _, n := range rep.Notes {
			fmt.Fprintf(env.Stderr, "migsafe: note: %s\n", strings.TrimPrefix(n, "warning: "))
		}
	}
	var werr error
	if format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(struct {
			Version   int                  `json:"version"`
			Now       string               `json:"now"`
			Histories []lint.StatusHistory `json:"histories"`
		}{1, rep.Now.UTC().Format(time.RFC3339), rep.Histories})
	} else {
		werr = writeStatusText(env.Stdout, rep.Histories, rep.Now)
	}
	if werr != nil {
		return &exitError{ExitError, fmt.Errorf("writing the status: %w", werr)}
	}
	if len(rep.Errors) > 0 {
		return &exitError{code: ExitError}
	}
	return nil
}

func writeStatusText(w io.Writer, report []lint.StatusHistory, now time.Time) error {
	var b strings.Builder
	for i, h := range report {
		if i > 0 {
			b.WriteString("\n")
		}
		dates := "deploy dates from git"
		if !h.Dated {
			dates = "no git history: every version is its own deploy, dates unknown"
		}
		fmt.Fprintf(&b, "%s: %s, %d migrations, %d deploys (%s)\n", h.Path, h.Layout, h.Migrations, h.Deploys, dates)
		var confirmed, possible []lint.StatusChange
		for _, c := range h.Changes {
			if c.Confirmed {
				confirmed = append(confirmed, c)
			} else {
				possible = append(possible, c)
			}
		}
		if len(confirmed) == 0 {
			b.WriteString("  no expand-contract change in flight (no object deprecated with -- migsafe:deprecate and not dropped yet)\n")
		}
		for _, c := range confirmed {
			title := c.Object
			if c.Replacement != "" {
				title += " → " + c.Replacement
			}
			fmt.Fprintf(&b, "\n  %s (%s): step %d of 6\n", title, c.Kind, c.Step)
			width := 0
			for _, st := range c.Steps {
				if st.State != migrations.StepNotApply {
					width = max(width, utf8.RuneCountInString(st.What))
				}
			}
			for _, st := range c.Steps {
				if st.State == migrations.StepNotApply {
					continue
				}
				fmt.Fprintf(&b, "    %d %-*s  %s\n", st.Step, width, st.What, stepNote(st, c, h))
			}
		}
		if len(possible) > 0 {
			b.WriteString("\n  Possibly in flight: columns filled with a copy of another column that is still there\n  (a rename or type change in progress, or a column derived once and kept; mark the old\n  column with -- migsafe:deprecate once the application stops writing it):\n")
			for _, c := range possible {
				fill := c.Steps[2]
				fmt.Fprintf(&b, "    %s → %s: step %d of 6, filled at %s:%d", c.Object, c.Replacement, c.Step, path.Base(fill.Path), fill.Line)
				if fill.Deploy != "" {
					fmt.Fprintf(&b, ", %s", fill.Deploy)
				}
				b.WriteString("\n")
			}
		}
		if h.Unmodeled > 0 {
			noun := "statements"
			if h.Unmodeled == 1 {
				noun = "statement"
			}
			fmt.Fprintf(&b, "\n  %d %s the schema model could not follow", h.Unmodeled, noun)
			if len(h.Details) == 0 {
				b.WriteString(" (--verbose lists them)\n")
			} else {
				b.WriteString(":\n")
				for _, u := range h.Details {
					fmt.Fprintf(&b, "    %s:%d: %s: %s\n", u.Path, u.Line, u.Kind, u.Reason)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// moment is when the change's drop becomes allowed, with the time of day
// when it is not midnight (UTC).
func moment(c lint.StatusChange) string {
	t, err := time.Parse(time.RFC3339, c.ContractAt)
	if err != nil {
		return c.ContractFrom
	}
	return analyzer.FormatMoment(t)
}

func stepNote(st lint.StatusStep, c lint.StatusChange, h lint.StatusHistory) string {
	switch st.State {
	case migrations.StepDone:
		if st.Path == "" {
			return "done (before the migrations read)"
		}
		s := fmt.Sprintf("done: %s:%d", path.Base(st.Path), st.Line)
		if st.Pending {
			s = fmt.Sprintf("written: %s:%d", path.Base(st.Path), st.Line)
		}
		if st.Deploy != "" {
			s += ", " + st.Deploy
		}
		return s
	case migrations.StepApp:
		if c.Step >= 5 {
			return "application (done before the deprecation)"
		}
		return "application: not visible in SQL"
	case migrations.StepAllowed:
		return "allowed now (deprecated at least " + fmt.Sprint(h.MinAgeDays) + " days ago, since " + moment(c) + ")"
	case migrations.StepNotYet:
		if st.Pending {
			return fmt.Sprint(h.MinAgeDays) + " days after step 5 ships: " + moment(c) + " if it ships now"
		}
		return "allowed from " + moment(c)
	case migrations.StepWritten:
		s := "written, " + st.Deploy
		switch {
		case c.Allowed:
			return s + ": allowed (since " + moment(c) + ")"
		case c.ContractFrom != "":
			return s + ": too soon, allowed from " + moment(c)
		}
		return s
	case migrations.StepUnknown:
		return "allowed in a deploy after the deprecation's (dates unknown)"
	}
	if st.Step == 6 {
		return "not before step 5 ships"
	}
	return "pending"
}
