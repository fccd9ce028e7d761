package cli

import (
	"io"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/analyzer/report/jsonfmt"
	"github.com/migsafe/migsafe/analyzer/report/sarif"
	"github.com/migsafe/migsafe/analyzer/report/text"
)

func writeFormat(w io.Writer, o output, run *report.Run, cmd *ucli.Command, env Env) error {
	switch o.format {
	case "text":
		color := false
		switch cmd.String("color") {
		case "always":
			color = true
		case "auto":
			color = o.path == "" && env.Getenv("NO_COLOR") == "" && env.Getenv("TERM") != "dumb" && env.IsTerminal != nil && env.IsTerminal(w)
		}
		return text.Write(w, run, text.Options{Color: color})
	case "json":
		return jsonfmt.Write(w, run)
	case "sarif":
		return sarif.Write(w, run)
	}
	return errUnknownFormat
}
