// Package text is the human format, in the style of rustc and ruff: a block
// per finding with the offending SQL underlined, and a summary line. Concise
// is its one-line-per-finding variant.
package text

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
)

// Options of the text format.
type Options struct {
	// Color adds ANSI colours; the caller decides (terminal, NO_COLOR,
	// --color).
	Color bool
}

// MaxLines is the number of lines of a multi-line span shown before the
// middle is elided.
const MaxLines = 6

// TabWidth is the number of columns a tab is expanded to in excerpts.
const TabWidth = 4

type palette struct{ red, yellow, cyan, blue, green, bold, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{red: "\x1b[31m", yellow: "\x1b[33m", cyan: "\x1b[36m", blue: "\x1b[34m", green: "\x1b[32m", bold: "\x1b[1m", reset: "\x1b[0m"}
}

func (c palette) severity(s analyzer.Severity) string {
	switch s {
	case analyzer.SeverityError:
		return c.red
	case analyzer.SeverityWarning:
		return c.yellow
	}
	return c.cyan
}

// Write writes a block for each finding of r that is not suppressed, then
// the summary line.
func Write(w io.Writer, r *report.Run, o Options) error {
	c := colors(o.Color)
	var b strings.Builder
	for _, f := range r.Visible() {
		block(&b, r, f, c)
	}
	b.WriteString(Summary(r, c.bold, c.reset))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// ConciseWidth is the length WriteConcise keeps its lines to (a long
// path can exceed it: the message keeps at least its first words).
const ConciseWidth = 160

// WriteConcise writes one line per finding that is not suppressed:
// path:line:col: severity[CODE] name: message, the message shortened to
// its first clause and to ConciseWidth (text and explain say the rest).
// Nothing else, so that the output can be counted and parsed by editors.
func WriteConcise(w io.Writer, r *report.Run, o Options) error {
	c := colors(o.Color)
	fs := r.Findings
	// thousands of findings are formatted in parts at once, one per core
	// (the corpus's 3,237: 3 ms on one, at the end of the run), and
	// written in order
	parts := 1
	if len(fs) >= conciseParallelFrom {
		parts = min(runtime.GOMAXPROCS(0), 4)
	}
	out := make([]strings.Builder, parts)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() { conciseLines(&out[k], fs[k*len(fs)/parts:(k+1)*len(fs)/parts], c) })
	}
	wg.Wait()
	for k := range out {
		if _, err := io.WriteString(w, out[k].String()); err != nil {
			return err
		}
	}
	return nil
}

// conciseParallelFrom is the number of findings from which WriteConcise
// formats them on every core.
const conciseParallelFrom = 1000

// conciseLines writes WriteConcise's lines of fs to b.
func conciseLines(b *strings.Builder, fs []analyzer.Finding, c palette) {
	b.Grow(len(fs) * 192) // the corpus's lines: 166 bytes on average
	for i := range fs {
		f := &fs[i]
		if f.Suppressed != nil {
			continue
		}
		path := report.DisplayPath(f.Path)
		line, col, sev := strconv.Itoa(f.Start.Line), strconv.Itoa(f.Start.Column), f.Severity.String()
		// the width of "path:line:col: severity[code] name: "
		head := utf8.RuneCountInString(path) + len(line) + len(col) + utf8.RuneCountInString(sev) +
			utf8.RuneCountInString(f.Code) + utf8.RuneCountInString(f.Name) + len("::: [] : ")
		if c.bold == "" {
			// without fmt: a warm run over thousands of findings spent a
			// fifth of its time formatting them
			for _, s := range [...]string{path, ":", line, ":", col, ": ", sev, "[", f.Code, "] ", f.Name, ": "} {
				b.WriteString(s)
			}
		} else {
			fmt.Fprintf(b, "%s%s:%s:%s:%s %s%s[%s]%s %s: ", c.bold, path, line, col, c.reset,
				c.severity(f.Severity)+c.bold, sev, f.Code, c.reset, f.Name)
		}
		msg, cut := shorten(report.OneLine(f.Message), ConciseWidth-head)
		b.WriteString(msg)
		if cut {
			b.WriteString("…")
		}
		b.WriteByte('\n')
	}
}

// Shorten keeps a message's first clause (up to the first "; ") and cuts
// it at a word, with "…", to at most width characters (never below 60).
func Shorten(msg string, width int) string {
	kept, cut := shorten(msg, width)
	if cut {
		return kept + "…"
	}
	return kept
}

// shorten is Shorten without the "…": the part of msg kept, and whether
// it was cut (WriteConcise writes both parts, without a new string for
// each of thousands of findings).
func shorten(msg string, width int) (string, bool) {
	width = max(width, 60)
	if i := strings.Index(msg, "; "); i > 0 {
		msg = msg[:i]
	}
	if utf8.RuneCountInString(msg) <= width {
		return msg, false
	}
	end, n := 0, 0
	for end = range msg {
		if n == width-1 {
			break
		}
		n++
	}
	cut := msg[:end]
	if i := strings.LastIndexAny(cut, " ,("); i > width/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:("), true
}

// Summary is the closing line: files, statements, and findings by severity,
// e.g. "Checked 6 files (10 statements): 4 errors, 2 warnings; target
// PostgreSQL 14". bold and reset wrap it (empty for no colour).
func Summary(r *report.Run, bold, reset string) string {
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
	return bold + line + reset
}

func block(b *strings.Builder, r *report.Run, f analyzer.Finding, c palette) {
	sev := c.severity(f.Severity)
	fmt.Fprintf(b, "%s%s[%s]%s %s%s%s: %s\n", sev+c.bold, f.Severity, f.Code, c.reset, c.bold, f.Name, c.reset, report.OneLine(f.Message))
	li := r.Source(f.Path)
	first, last := lines(f, li)
	w := len(fmt.Sprint(last))
	pad := strings.Repeat(" ", w)
	fmt.Fprintf(b, "%s%s-->%s %s:%d:%d\n", pad, c.blue, c.reset, report.DisplayPath(f.Path), f.Start.Line, f.Start.Column)
	if li != nil {
		e := excerpt{b: b, li: li, f: f, w: w, pad: pad, c: c, sev: sev}
		if first == last {
			e.single(first)
		} else {
			e.multi(first, last)
		}
	}
	note := func(label, text string) {
		fmt.Fprintf(b, "%s %s=%s %s%s%s: %s\n", pad, c.blue, c.reset, c.bold, label, c.reset, report.OneLine(text))
	}
	if f.Help != "" {
		note("help", f.Help)
	}
	for _, fx := range f.Fixes {
		note("fix", fx.Description)
		fixDiff(b, li, fx, w, pad, c)
	}
	if ri, i := r.Rule(f.Code); i >= 0 && ri.URL != "" {
		note("docs", ri.URL)
	}
	b.WriteByte('\n')
}

// fixDiff shows what a fix changes, as ruff does: the lines its edits
// touch, those it removes (-, with their numbers) and those it writes (+),
// leaving out the lines that stay the same.
func fixDiff(b *strings.Builder, li *analyzer.LineIndex, fx analyzer.Fix, w int, pad string, c palette) {
	if li == nil || len(fx.Edits) == 0 {
		return
	}
	src := li.Source()
	edits := slices.Clone(fx.Edits)
	slices.SortFunc(edits, func(a, b analyzer.Edit) int { return a.Span.Start - b.Span.Start })
	lo, hi := edits[0].Span.Start, edits[0].Span.Start
	for i, e := range edits {
		if e.Span.Start < 0 || e.Span.End > len(src) || e.Span.End < e.Span.Start || i > 0 && e.Span.Start < hi {
			return // out of range or overlapping: nothing sensible to show
		}
		hi = max(hi, e.Span.End)
	}
	first, last := li.Position(lo).Line, li.Position(hi).Line
	region := analyzer.Span{Start: li.LineSpan(first).Start, End: li.LineSpan(last).End}
	var nb strings.Builder
	at := region.Start
	for _, e := range edits {
		nb.Write(src[at:e.Span.Start])
		nb.WriteString(e.NewText)
		at = e.Span.End
	}
	nb.Write(src[at:max(at, region.End)])
	old := splitLines(string(src[region.Start:region.End]))
	upd := splitLines(nb.String())
	// the lines both sides share at the start and at the end are unchanged
	for len(old) > 0 && len(upd) > 0 && old[0] == upd[0] {
		old, upd = old[1:], upd[1:]
		first++
	}
	for len(old) > 0 && len(upd) > 0 && old[len(old)-1] == upd[len(upd)-1] {
		old, upd = old[:len(old)-1], upd[:len(upd)-1]
	}
	// long lines are cut around where the two sides first differ
	diff := 0
	if len(old) > 0 && len(upd) > 0 {
		for diff < len(old[0]) && diff < len(upd[0]) && old[0][diff] == upd[0][diff] {
			diff++
		}
	}
	fmt.Fprintf(b, "%s %s|%s\n", pad, c.blue, c.reset)
	for i, l := range old {
		if i == MaxLines {
			fmt.Fprintf(b, "%s %s-%s …\n", pad, c.red, c.reset)
			break
		}
		fmt.Fprintf(b, "%s%*d%s %s-%s %s\n", c.blue, w, first+i, c.reset, c.red, c.reset, shown(cut(l, diff)))
	}
	for i, l := range upd {
		if i == MaxLines {
			fmt.Fprintf(b, "%s %s+%s …\n", pad, c.green, c.reset)
			break
		}
		fmt.Fprintf(b, "%s %s+%s %s\n", pad, c.green, c.reset, shown(cut(l, diff)))
	}
}

func splitLines(s string) []string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// cut returns at most MaxLineBytes of l around byte offset at, with "…"
// where text is left out.
func cut(l string, at int) string {
	if len(l) <= MaxLineBytes {
		return l
	}
	lo := max(0, min(at, len(l))-MaxLineBytes/3)
	hi := min(len(l), lo+MaxLineBytes)
	for lo > 0 && !utf8.RuneStart(l[lo]) {
		lo--
	}
	for hi < len(l) && !utf8.RuneStart(l[hi]) {
		hi++
	}
	out := l[lo:hi]
	if lo > 0 {
		out = "…" + out
	}
	if hi < len(l) {
		out += "…"
	}
	return out
}

// shown is a line of a fix as display shows source lines.
func shown(s string) string {
	t, _ := display(s)
	return t
}

// lines returns the first and last line of the excerpt. A span that ends
// at the start of a line (after a line break) does not show that line.
func lines(f analyzer.Finding, li *analyzer.LineIndex) (int, int) {
	first, last := f.Start.Line, report.LastLine(f)
	if li != nil {
		last = min(last, li.Lines())
		first = min(first, last)
	}
	return first, last
}

type excerpt struct {
	b   *strings.Builder
	li  *analyzer.LineIndex
	f   analyzer.Finding
	w   int
	pad string
	c   palette
	sev string
}

func (e *excerpt) gutter() { fmt.Fprintf(e.b, "%s %s|%s", e.pad, e.c.blue, e.c.reset) }

func (e *excerpt) source(n int, marker, text string) {
	fmt.Fprintf(e.b, "%s%*d |%s ", e.c.blue, e.w, n, e.c.reset)
	if marker != "" {
		fmt.Fprintf(e.b, "%s%s%s ", e.sev, marker, e.c.reset)
	}
	e.b.WriteString(strings.TrimRight(text, " "))
	e.b.WriteByte('\n')
}

// span returns the code-point columns [from, to) of the finding on line n.
func (e *excerpt) span(n int, lineLen int) (int, int) {
	from, to := 1, lineLen+1
	if n == e.f.Start.Line {
		from = e.f.Start.Column
	}
	if n == e.f.End.Line {
		to = e.f.End.Column
	}
	return from, to
}

func (e *excerpt) single(n int) {
	text, cols, off := e.shownLine(n, e.f.Start.Offset)
	from, to := e.span(n, off+len(cols)-1)
	a, z := cols[clamp(from-1-off, len(cols))], cols[clamp(to-1-off, len(cols))]
	e.gutter()
	e.b.WriteByte('\n')
	e.source(n, "", text)
	e.gutter()
	fmt.Fprintf(e.b, " %s%s%s%s\n", strings.Repeat(" ", a), e.sev, strings.Repeat("^", max(1, z-a)), e.c.reset)
}

// MaxLineBytes is the most of a source line an excerpt shows: a longer line
// (minified SQL, thousands of statements on one line) is cut around the
// finding, with "…" where text is left out, so that the output of n
// findings on one line does not grow as n².
const MaxLineBytes = 240

// shownLine returns line n as display shows it, cut around the byte offset
// anchor when the line is long; off is the number of code points left out
// before it, so code-point column c of the line is cols[c-1-off].
func (e *excerpt) shownLine(n, anchor int) (text string, cols []int, off int) {
	sp := e.li.LineSpan(n)
	if sp.End-sp.Start <= MaxLineBytes {
		text, cols = display(e.li.LineText(n))
		return text, cols, 0
	}
	src := e.li.Source()
	anchor = max(sp.Start, min(anchor, sp.End))
	lo := max(sp.Start, anchor-MaxLineBytes/3)
	hi := min(sp.End, lo+MaxLineBytes)
	for lo > sp.Start && lo < sp.End && !utf8.RuneStart(src[lo]) {
		lo--
	}
	for hi < sp.End && !utf8.RuneStart(src[hi]) {
		hi++
	}
	text, cols = display(string(src[lo:hi]))
	off = e.li.Position(lo).Column - 1
	if lo > sp.Start {
		text = "…" + text
		for i := range cols {
			cols[i]++
		}
	}
	if hi < sp.End {
		text += "…"
	}
	return text, cols, off
}

// multi draws a span over several lines in rustc's way: a bar in the
// margin from the first line to the last, an underscore rule from the bar
// to where the span starts (unless it starts the line) and to where it
// ends.
func (e *excerpt) multi(first, last int) {
	e.gutter()
	e.b.WriteByte('\n')
	startText, startCols, startOff := e.shownLine(first, e.f.Start.Offset)
	from, _ := e.span(first, startOff+len(startCols)-1)
	a := startCols[clamp(from-1-startOff, len(startCols))]
	leading := len(startText) - len(strings.TrimLeft(startText, " "))
	if a <= leading {
		e.source(first, "/", startText)
	} else {
		e.source(first, " ", startText)
		e.gutter()
		fmt.Fprintf(e.b, " %s %s^%s\n", e.sev, strings.Repeat("_", a+1), e.c.reset)
	}
	shown := func(n int) bool {
		return last-first+1 <= MaxLines || n < first+MaxLines/2 || n > last-MaxLines/2
	}
	for n := first + 1; n <= last; n++ {
		if !shown(n) {
			if shown(n - 1) {
				fmt.Fprintf(e.b, "%s%s...%s\n", strings.Repeat(" ", max(0, e.w-2)), e.c.blue, e.c.reset)
			}
			continue
		}
		anchor := e.li.LineSpan(n).Start
		if n == last {
			anchor = e.f.End.Offset
		}
		text, _, _ := e.shownLine(n, anchor)
		e.source(n, "|", text)
	}
	_, endCols, endOff := e.shownLine(last, e.f.End.Offset)
	_, to := e.span(last, endOff+len(endCols)-1)
	z := 0 // the display column of the span's last character
	if to >= 2 {
		z = endCols[clamp(to-2-endOff, len(endCols))]
	}
	e.gutter()
	fmt.Fprintf(e.b, " %s|%s^%s\n", e.sev, strings.Repeat("_", z+1), e.c.reset)
}

func clamp(i, n int) int { return max(0, min(i, n-1)) }

// display prepares a source line for the terminal: tabs expanded to the
// next multiple of TabWidth, control characters shown as their pictures.
// cols[i] is the display column (0-based) where code point i+1 starts;
// cols[len] is the width of the line.
func display(line string) (string, []int) {
	var b strings.Builder
	cols := []int{}
	col := 0
	for _, r := range line {
		cols = append(cols, col)
		switch {
		case r == '\t':
			n := TabWidth - col%TabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case r < 0x20:
			b.WriteRune(0x2400 + r)
			col++
		case r == 0x7f:
			b.WriteRune(0x2421)
			col++
		case r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, "\\u%04x", r)
			col += 6
		default:
			b.WriteRune(r)
			col += runeWidth(r)
		}
	}
	cols = append(cols, col)
	return b.String(), cols
}
