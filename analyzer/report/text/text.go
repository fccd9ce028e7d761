// Package text is the human format, in the style of rustc and ruff: a block
// per finding with the offending SQL underlined, and a summary line.
package text

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
)

// Options of the text format.
type Options struct {
	Color bool
}

type palette struct{ red, yellow, blue, bold, dim, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{red: "\x1b[31m", yellow: "\x1b[33m", blue: "\x1b[34m", bold: "\x1b[1m", dim: "\x1b[2m", reset: "\x1b[0m"}
}

// Write writes the findings of r that are not suppressed, then a summary.
func Write(w io.Writer, r *report.Run, o Options) error {
	c := colors(o.Color)
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			continue
		}
		finding(&b, r, f, c)
	}
	e, wn, n, s := r.Counts()
	parts := []string{report.Plural(e, "error"), report.Plural(wn, "warning")}
	if n > 0 {
		parts = append(parts, report.Plural(n, "note"))
	}
	line := fmt.Sprintf("Checked %s (%s): %s", report.Plural(r.Stats.Files, "file"), report.Plural(r.Stats.Statements, "statement"), strings.Join(parts, ", "))
	if s > 0 {
		line += fmt.Sprintf(" (%d suppressed)", s)
	}
	if r.Target != "" {
		line += "; target " + r.Target
	}
	fmt.Fprintf(&b, "%s%s%s\n", c.bold, line, c.reset)
	_, err := io.WriteString(w, b.String())
	return err
}

func finding(b *strings.Builder, r *report.Run, f analyzer.Finding, c palette) {
	col := c.yellow
	if f.Severity == analyzer.SeverityError {
		col = c.red
	} else if f.Severity == analyzer.SeverityNote {
		col = c.blue
	}
	fmt.Fprintf(b, "%s%s[%s]%s %s%s%s: %s\n", col+c.bold, f.Severity, f.Code, c.reset, c.bold, f.Name, c.reset, f.Message)
	fmt.Fprintf(b, "  %s-->%s %s:%d:%d\n", c.blue, c.reset, f.Path, f.Start.Line, f.Start.Column)
	var li *analyzer.LineIndex
	if r.Sources != nil {
		li = r.Sources(f.Path)
	}
	if li != nil {
		excerpt(b, li, f, col, c)
	}
	if f.Help != "" {
		fmt.Fprintf(b, "   %s=%s %shelp%s: %s\n", c.blue, c.reset, c.bold, c.reset, f.Help)
	}
	for _, fx := range f.Fixes {
		fmt.Fprintf(b, "   %s=%s %sfix%s: %s\n", c.blue, c.reset, c.bold, c.reset, fx.Description)
	}
	if ri, i := r.Rule(f.Code); i >= 0 && ri.URL != "" {
		fmt.Fprintf(b, "   %s=%s %sdocs%s: %s\n", c.blue, c.reset, c.bold, c.reset, ri.URL)
	}
	b.WriteString("\n")
}

// excerpt prints the lines of the finding (at most 4) with the span
// underlined.
func excerpt(b *strings.Builder, li *analyzer.LineIndex, f analyzer.Finding, col string, c palette) {
	first, last := f.Start.Line, f.End.Line
	if last < first {
		last = first
	}
	if f.End.Line > first && f.End.Column == 1 {
		last = f.End.Line - 1 // span ends at a line start
	}
	elided := false
	if last-first > 3 {
		last, elided = first+3, true
	}
	w := len(fmt.Sprint(last))
	pad := strings.Repeat(" ", w)
	fmt.Fprintf(b, "%s %s|%s\n", pad, c.blue, c.reset)
	for n := first; n <= last; n++ {
		text := li.LineText(n)
		fmt.Fprintf(b, "%s%*d |%s %s\n", c.blue, w, n, c.reset, text)
		from, to := 1, utf8.RuneCountInString(text)+1
		if n == first {
			from = f.Start.Column
		}
		if n == f.End.Line {
			to = f.End.Column
		}
		if to <= from {
			to = from + 1
		}
		fmt.Fprintf(b, "%s %s|%s %s%s%s%s\n", pad, c.blue, c.reset, indent(text, from-1), col, strings.Repeat("^", to-from), c.reset)
	}
	if elided {
		fmt.Fprintf(b, "%s %s|%s ...\n", pad, c.blue, c.reset)
	}
}

// indent returns n columns of blank that line up under text: tabs stay tabs.
func indent(text string, n int) string {
	var b strings.Builder
	for _, r := range text {
		if n == 0 {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		n--
	}
	b.WriteString(strings.Repeat(" ", n))
	return b.String()
}
