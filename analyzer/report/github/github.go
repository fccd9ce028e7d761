// Package github is the GitHub Actions format: one workflow command per
// finding (::error, ::warning or ::notice) that the runner turns into an
// annotation on the pull request's diff.
//
// Paths are relative to the repository root, as GitHub resolves them.
// Columns count UTF-16 code units; endColumn is exclusive like SARIF's.
// GitHub accepts columns only on a single line, so a span that crosses lines
// gets line and endLine only. Data is escaped as the runner unescapes it (%,
// CR, LF); properties also escape ':' and ','.
package github

import (
	"fmt"
	"io"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
)

// Command returns the workflow command name of a severity.
func Command(s analyzer.Severity) string {
	switch s {
	case analyzer.SeverityError:
		return "error"
	case analyzer.SeverityWarning:
		return "warning"
	}
	return "notice"
}

// EscapeData escapes a command's message.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a property value.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Write writes one command per finding that is not suppressed.
func Write(w io.Writer, r *report.Run) error {
	var b strings.Builder
	for _, f := range r.Visible() {
		b.WriteString(Annotation(r, f))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Annotation returns the workflow command of one finding, without the line
// break.
func Annotation(r *report.Run, f analyzer.Finding) string {
	path, _ := r.RepoPath(f.Path)
	li := r.Source(f.Path)
	start, end := f.Start, f.End
	if end.Line > start.Line && end.Column == 1 {
		// The span ends at a line start: it covers the line before.
		end.Line--
		end.Column = 0
		if li != nil {
			end.Column = len([]rune(li.LineText(end.Line))) + 1
		}
	}
	end.Line = max(end.Line, start.Line)
	props := []string{
		"file=" + EscapeProperty(path),
		fmt.Sprintf("line=%d", max(1, start.Line)),
	}
	if end.Line == start.Line && end.Column != 0 {
		col, endCol := report.UTF16Column(li, start), report.UTF16Column(li, end)
		props = append(props, fmt.Sprintf("col=%d", col), fmt.Sprintf("endLine=%d", end.Line), fmt.Sprintf("endColumn=%d", max(col, endCol)))
	} else {
		props = append(props, fmt.Sprintf("endLine=%d", end.Line))
	}
	props = append(props, "title="+EscapeProperty(fmt.Sprintf("%s (%s)", f.Name, f.Code)))
	msg := f.Message
	if f.Help != "" {
		msg += "\nhelp: " + f.Help
	}
	if ri, i := r.Rule(f.Code); i >= 0 && ri.URL != "" {
		msg += "\ndocs: " + ri.URL
	}
	return "::" + Command(f.Severity) + " " + strings.Join(props, ",") + "::" + EscapeData(msg)
}
