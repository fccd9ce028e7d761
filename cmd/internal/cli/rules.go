package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/analyzer/ruledoc"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/rules"
)

// ruleEntry is one rule in `migsafe rules --format json`. Every value comes
// from report.Describe, the description SARIF's rules[] is built from.
type ruleEntry struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Summary  string   `json:"summary"`
	Dialects []string `json:"dialects"`
	Severity string   `json:"severity"`
	Enabled  bool     `json:"enabled_by_default"`
	Fix      string   `json:"fix"`
	URL      string   `json:"url"`
}

func ruleEntries(dialect string) []ruleEntry {
	out := []ruleEntry{}
	for _, r := range rules.All() {
		if dialect != "" && !r.AppliesTo(dialect) {
			continue
		}
		ri := report.DescribeAt(r, !r.Off, Version(), true)
		out = append(out, ruleEntry{ri.Code, ri.Name, ri.Summary, ri.Dialects, ri.DefaultSeverity.String(), ri.Enabled, ri.Fix, ri.URL})
	}
	return out
}

func rulesCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:  "rules",
		Usage: "list the rules",
		Description: `Lists every rule: code, name, dialects, default severity, whether it is
enabled by default, and whether it can offer an exact fix. The same metadata
renders docs/rules/*.md, migsafe explain, and the rules of the SARIF output.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
			&ucli.StringFlag{Name: "dialect", Usage: "list only the rules of a dialect: postgres, mysql or mariadb"},
		},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			dialect := cmd.String("dialect")
			switch dialect {
			case "", analyzer.Postgres, analyzer.MySQL:
			case "mariadb":
				dialect = analyzer.MySQL // MariaDB's rules are MySQL's
			default:
				return usageErr("rules --dialect %q: want postgres, mysql or mariadb", dialect)
			}
			entries := ruleEntries(dialect)
			switch cmd.String("format") {
			case "table":
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CODE\tNAME\tDIALECTS\tSEVERITY\tENABLED\tFIX\tSUMMARY")
				for _, e := range entries {
					on := "yes"
					if !e.Enabled {
						on = "no"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Code, e.Name, strings.Join(e.Dialects, ","), e.Severity, on, e.Fix, e.Summary)
				}
				return tw.Flush()
			case "json":
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(entries)
			}
			return usageErr("rules --format %q: want table or json", cmd.String("format"))
		},
	}
}

func explainCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:      "explain",
		Usage:     "explain a rule: why, bad and good SQL, the safe recipe",
		ArgsUsage: "RULE",
		Description: `Prints a rule's page, the same text as docs/rules/<name>.md: why the
pattern is unsafe, flagged and accepted SQL, and the safe recipe. RULE is a
name or a code (migsafe explain PG101).`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "color", Value: "auto", Usage: "colour headings and code: auto, always or never (NO_COLOR is respected)"},
		},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if cmd.Args().Len() != 1 {
				return usageErr("explain takes one rule name or code, e.g. migsafe explain drop-column")
			}
			name := cmd.Args().First()
			r := rules.Lookup(name)
			if r == nil {
				msg := fmt.Sprintf("unknown rule %q", name)
				if sug := analyzer.Suggest(name, lint.RuleWords()); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
				return usageErr("%s (migsafe rules lists them)", msg)
			}
			color, err := colorMode(cmd, env, env.Stdout, false)
			if err != nil {
				return err
			}
			page := ruledoc.Terminal(r)
			if color {
				page = colorPage(page)
			}
			_, err = fmt.Fprint(env.Stdout, page)
			return err
		},
	}
}

var (
	headingRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^(#{2,3}) (.*)$`) })
	fenceRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("(?ms)^```[a-z]*\n(.*?)^```\n") })
)

// colorPage highlights a page for a terminal: headings bold, code blocks
// cyan (the fences stay, so that copying a block still works).
func colorPage(page string) string {
	page = fenceRE().ReplaceAllStringFunc(page, func(block string) string {
		return "\x1b[36m" + block[:len(block)-1] + "\x1b[0m\n"
	})
	return headingRE().ReplaceAllString(page, "\x1b[1m$1 $2\x1b[0m")
}
