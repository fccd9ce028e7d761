package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
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
			&ucli.StringFlag{Name: "dialect", Usage: "SQL dialect: postgres or mysql (default: from the configuration, else postgres)", Sources: ucli.EnvVars("MIGSAFE_DIALECT")},
			&ucli.StringFlag{Name: "target-version", Usage: targetVersionUsage, Sources: ucli.EnvVars("MIGSAFE_TARGET_VERSION")},
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (default: .migsafe.yaml found upward from the working directory)", Sources: ucli.EnvVars("MIGSAFE_CONFIG")},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output format: text or json"},
			&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print notices on standard error"},
		}, historyFlags()...),
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			return runStatus(ctx, cmd, env)
		},
	}
}

// statusHistory is one history in the status report.
type statusHistory struct {
	Path       string          `json:"path"`
	Layout     string          `json:"layout"`
	Migrations int             `json:"migrations"`
	Deploys    int             `json:"deploys"`
	Dated      bool            `json:"dated"`
	MinAgeDays float64         `json:"min_deprecation_age_days"`
	Changes    []statusChange  `json:"changes"`
	Unmodeled  int             `json:"unmodeled"`
	Details    []statusUnknown `json:"unmodeled_statements,omitempty"`
}

type statusChange struct {
	Kind         string       `json:"kind"`
	Object       string       `json:"object"`
	Replacement  string       `json:"replacement,omitempty"`
	Step         int          `json:"step"`
	ContractFrom string       `json:"contract_allowed_from,omitempty"`
	ContractAt   string       `json:"contract_allowed_at,omitempty"` // RFC 3339: the moment, not only the day
	Allowed      bool         `json:"contract_allowed"`
	Confirmed    bool         `json:"confirmed"`
	Steps        []statusStep `json:"steps"`
}

type statusStep struct {
	Step   int    `json:"step"`
	What   string `json:"what"`
	State  string `json:"state"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
	Deploy string `json:"deploy,omitempty"`
	Date   string `json:"date,omitempty"`
	// Pending: written in a migration not deployed yet; on step 6, the
	// date holds if the deprecation ships now
	Pending bool `json:"pending,omitempty"`
}

type statusUnknown struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
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
	hopt, err := historyOptions(cmd, env, s)
	if err != nil {
		return err
	}
	paths := cmd.Args().Slice()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	ld := loadHistories(ctx, paths, s.dir, excluder(s.cfg, s.dir), hopt)
	for _, e := range ld.errs {
		fmt.Fprintf(env.Stderr, "migsafe: error: %v\n", e)
	}
	var report []statusHistory
	var notes []string // the replay's, once each
	for _, hs := range ld.sets {
		for _, f := range hs.parts {
			f.Lint = false // replay only
		}
		res, err := engine.Run(ctx, hs.parts, engine.Options{Dialect: s.dialect, History: hs.hist})
		if err != nil {
			return &exitError{ExitError, err}
		}
		changes := migrations.InFlight(res.Catalog, hs.hist)
		// a drop not deployed yet (not committed, or new since --since)
		// ends its change only once it ships: the change stays listed,
		// with its drop written
		var shipped []*analyzer.File
		var pending *analyzer.Deploy
		for _, f := range hs.parts {
			if d := hs.hist.Deploy(f.Deploy); d != nil && d.Pending {
				pending = d
			} else {
				shipped = append(shipped, f)
			}
		}
		if pending != nil && len(shipped) > 0 {
			before, err := engine.Run(ctx, shipped, engine.Options{Dialect: s.dialect, History: hs.hist})
			if err != nil {
				return &exitError{ExitError, err}
			}
			changes = append(changes, migrations.DroppedInPending(migrations.InFlight(before.Catalog, hs.hist), changes, pending)...)
			slices.SortStableFunc(changes, func(a, b migrations.Change) int { return strings.Compare(a.Object, b.Object) })
		}
		report = append(report, statusOf(hs, res, changes, cmd.Bool("verbose")))
		for _, n := range res.Notes {
			if !slices.Contains(notes, n) {
				notes = append(notes, n)
			}
		}
	}
	if !cmd.Bool("quiet") {
		for _, n := range append(ld.notes, notes...) {
			fmt.Fprintf(env.Stderr, "migsafe: note: %s\n", strings.TrimPrefix(n, "warning: "))
		}
	}
	var werr error
	if format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		werr = enc.Encode(struct {
			Version   int             `json:"version"`
			Now       string          `json:"now"`
			Histories []statusHistory `json:"histories"`
		}{1, hopt.now.UTC().Format(time.RFC3339), report})
	} else {
		werr = writeStatusText(env.Stdout, report, hopt.now)
	}
	if werr != nil {
		return &exitError{ExitError, fmt.Errorf("writing the status: %w", werr)}
	}
	if len(ld.errs) > 0 {
		return &exitError{code: ExitError}
	}
	return nil
}

func statusOf(hs *historySet, res *engine.Result, changes []migrations.Change, verbose bool) statusHistory {
	h := hs.hist
	sh := statusHistory{Path: hs.root, Layout: string(hs.set.Layout), Migrations: len(hs.set.Migrations), Deploys: len(h.Deploys), Dated: h.Dated,
		MinAgeDays: h.MinimumAge().Hours() / 24, Unmodeled: len(res.Catalog.Unmodeled), Changes: []statusChange{}}
	for _, c := range changes {
		sc := statusChange{Kind: c.Kind, Object: c.Object, Replacement: c.Replacement, Step: c.Step, Allowed: c.Allowed, Confirmed: c.Deprecated}
		if !c.ContractFrom.IsZero() {
			sc.ContractFrom = day(c.ContractFrom)
			sc.ContractAt = c.ContractFrom.UTC().Format(time.RFC3339)
		}
		for _, st := range c.Steps {
			ss := statusStep{Step: st.N, What: st.What, State: st.State, Deploy: st.Ref, Pending: st.Pending}
			if st.At != nil {
				ss.Path, ss.Line = st.At.Path, st.At.Line
			}
			if !st.When.IsZero() {
				ss.Date = day(st.When)
			}
			sc.Steps = append(sc.Steps, ss)
		}
		sh.Changes = append(sh.Changes, sc)
	}
	if verbose {
		for _, u := range res.Catalog.Unmodeled {
			sh.Details = append(sh.Details, statusUnknown{Path: u.Origin.Path, Line: u.Origin.Line, Kind: u.Kind, Reason: u.Reason})
		}
	}
	return sh
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func writeStatusText(w io.Writer, report []statusHistory, now time.Time) error {
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
		var confirmed, possible []statusChange
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
func moment(c statusChange) string {
	t, err := time.Parse(time.RFC3339, c.ContractAt)
	if err != nil {
		return c.ContractFrom
	}
	return analyzer.FormatMoment(t)
}

func stepNote(st statusStep, c statusChange, h statusHistory) string {
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
