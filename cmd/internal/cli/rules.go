package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/ruledoc"
	"github.com/migsafe/migsafe/rules"
)

func rulesCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:  "rules",
		Usage: "list the rules",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
		},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			all := rules.All()
			switch cmd.String("format") {
			case "table":
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CODE\tNAME\tDIALECTS\tSEVERITY\tDEFAULT\tFIX\tSUMMARY")
				for _, r := range all {
					def := "on"
					if r.Off {
						def = "off"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Code, r.Name, strings.Join(r.Dialects, ","), r.Severity, def, r.Fix, r.Summary)
				}
				return tw.Flush()
			case "json":
				type entry struct {
					Code     string   `json:"code"`
					Name     string   `json:"name"`
					Summary  string   `json:"summary"`
					Dialects []string `json:"dialects"`
					Severity string   `json:"severity"`
					Enabled  bool     `json:"enabled_by_default"`
					Fix      string   `json:"fix"`
					URL      string   `json:"url"`
				}
				var out []entry
				for _, r := range all {
					out = append(out, entry{r.Code, r.Name, r.Summary, r.Dialects, r.Severity.String(), !r.Off, r.Fix.String(), ruledoc.URL(r)})
				}
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
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
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			if cmd.Args().Len() != 1 {
				return usageErr("explain takes one rule name or code, e.g. migsafe explain drop-column")
			}
			name := cmd.Args().First()
			r := rules.Lookup(name)
			if r == nil {
				msg := fmt.Sprintf("unknown rule %q", name)
				var words []string
				for _, k := range rules.All() {
					words = append(words, k.Name, k.Code)
				}
				if sug := analyzer.Suggest(name, words); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
				return usageErr("%s (migsafe rules lists them)", msg)
			}
			_, err := fmt.Fprint(env.Stdout, ruledoc.Terminal(r))
			return err
		},
	}
}
