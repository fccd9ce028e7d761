// Package report defines what every output format receives. Formats live in
// subpackages, one each; they see findings and rule descriptions, never the
// rules themselves.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/ruledoc"
)

// Tool describes migsafe itself.
type Tool struct {
	Name           string
	Version        string
	InformationURI string
}

// RuleInfo is what a report may say about a rule.
type RuleInfo struct {
	Code            string
	Name            string
	Summary         string
	Why             string // plain text
	Help            string // one line
	HelpMarkdown    string // the rule's page body
	URL             string
	DefaultSeverity analyzer.Severity
	Enabled         bool
	Fix             string
	Dialects        []string
}

// Describe builds the RuleInfo of a rule, linking to its page on the main
// branch.
func Describe(r *analyzer.Rule, enabled bool) RuleInfo { return DescribeAt(r, enabled, "", true) }

// DescribeAt builds the RuleInfo of a rule, linking to its page as the
// given migsafe version shipped it (see ruledoc.URLAt); without full, the
// rule's description (Why, Help, HelpMarkdown) is left empty, for the
// formats that do not print it.
func DescribeAt(r *analyzer.Rule, enabled bool, version string, full bool) RuleInfo {
	ri := RuleInfo{
		Code:            r.Code,
		Name:            r.Name,
		Summary:         r.Summary,
		URL:             ruledoc.URLAt(r, version),
		DefaultSeverity: r.Severity,
		Enabled:         enabled,
		Fix:             r.Fix.String(),
		Dialects:        Dialects(r),
	}
	if full {
		ri.Why = strings.Join(strings.Fields(ruledoc.Plain(r.Doc.Why)), " ")
		ri.Help = ruledoc.Plain(r.Doc.Help)
		ri.HelpMarkdown = ruledoc.Body(r)
	}
	return ri
}

// Dialects lists the dialects a rule applies to; a rule that names none
// applies to every dialect.
func Dialects(r *analyzer.Rule) []string {
	if len(r.Dialects) == 0 {
		return []string{analyzer.Postgres, analyzer.MySQL}
	}
	return r.Dialects
}

// Stats summarise a run.
type Stats struct {
	Files      int
	Statements int
	Errors     int // I/O, configuration and internal errors reported on stderr
}

// Run is the input of every format.
type Run struct {
	Tool     Tool
	Target   string
	Rules    []RuleInfo // every rule that may appear, sorted by code
	Findings []analyzer.Finding
	// Sources returns a file's line index for excerpts; nil when unknown.
	Sources func(path string) *analyzer.LineIndex
	Stats   Stats
	// WorkDir is the absolute directory that the findings' relative paths
	// are relative to (the working directory of the run).
	WorkDir string
	// Root is the absolute directory of the repository root: SARIF's
	// %SRCROOT% and the base of GitHub annotation paths. Empty means WorkDir.
	Root string
}

// Source returns the line index of a file, or nil.
func (r *Run) Source(path string) *analyzer.LineIndex {
	if r.Sources == nil {
		return nil
	}
	return r.Sources(path)
}

// RepoPath returns a finding's path relative to the repository root,
// slash-separated, and whether the file is inside the root. A file outside
// it comes back as an absolute slash-separated path (or unchanged when the
// run has no directories).
func (r *Run) RepoPath(p string) (string, bool) {
	if r.WorkDir == "" {
		return filepath.ToSlash(p), !filepath.IsAbs(p)
	}
	root := r.Root
	if root == "" {
		root = r.WorkDir
	}
	full := filepath.FromSlash(p)
	if !filepath.IsAbs(full) {
		full = filepath.Join(r.WorkDir, full)
	}
	rel, err := filepath.Rel(root, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(full), false
	}
	return filepath.ToSlash(rel), true
}

// LastLine is the last line a finding's span covers: a span that ends at
// the start of a line (after a line break) does not cover that line.
func LastLine(f analyzer.Finding) int {
	last := f.End.Line
	if last > f.Start.Line && f.End.Column == 1 {
		last--
	}
	return max(f.Start.Line, last)
}

// UTF16Column converts a position's code-point column to UTF-16 code
// units, the unit GitHub and SARIF (by default) count in. Without the line's
// text the column is returned unchanged.
func UTF16Column(li *analyzer.LineIndex, p analyzer.Position) int {
	if li == nil || p.Column <= 1 {
		return max(1, p.Column)
	}
	if p.Offset >= 0 && p.Offset <= len(li.Source()) && li.Position(p.Offset) == p {
		return li.UTF16Column(p.Offset) // without copying a long line
	}
	text := li.LineText(p.Line)
	col, n := 1, 1
	for _, c := range text {
		if n >= p.Column {
			break
		}
		col += max(1, utf16.RuneLen(c))
		n++
	}
	return col + (p.Column - n) // past the end of the line (line terminator)
}

// Visible returns the findings that are not suppressed.
func (r *Run) Visible() []analyzer.Finding {
	var out []analyzer.Finding
	for _, f := range r.Findings {
		if f.Suppressed == nil {
			out = append(out, f)
		}
	}
	return out
}

// OneLine makes text safe for a single terminal line: line breaks and tabs
// become spaces, other control characters their visible pictures (U+2400…)
// or, for C1 controls (U+0080…U+009F, which some terminals obey as
// escape sequences), a \u escape.
func OneLine(s string) string {
	// printable ASCII a byte at a time (a warm run over thousands of
	// findings spent 3% of its time here, a rune at a time)
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if !strings.ContainsFunc(s[i:], isControl) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '\n', '\r', '\t', 0x2028, 0x2029:
			b.WriteByte(' ')
		default:
			writeVisible(&b, c)
		}
	}
	return b.String()
}

// writeVisible writes c, or a visible stand-in for a control character.
func writeVisible(b *strings.Builder, c rune) {
	switch {
	case c < 0x20:
		b.WriteRune(0x2400 + c)
	case c == 0x7f:
		b.WriteRune(0x2421)
	case c >= 0x80 && c < 0xa0:
		fmt.Fprintf(b, "\\u%04x", c)
	default:
		b.WriteRune(c)
	}
}

func isControl(c rune) bool {
	return c < 0x20 || c >= 0x7f && c < 0xa0 || c == 0x2028 || c == 0x2029
}

// PathText is a path for a JSON document (the json and gitlab formats),
// which can only hold UTF-8: a path that is UTF-8 is returned unchanged;
// in one that is not, each byte that is not part of UTF-8, and each '%',
// becomes %XX, so the name's bytes can be recovered (as the percent-encoded
// URIs of SARIF allow).
func PathText(p string) string {
	if utf8.ValidString(p) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		c, w := utf8.DecodeRuneInString(p[i:])
		switch {
		case c == utf8.RuneError && w == 1, c == '%':
			fmt.Fprintf(&b, "%%%02X", p[i])
		default:
			b.WriteString(p[i : i+w])
		}
		i += w
	}
	return b.String()
}

// DisplayPath makes a file path safe to print in human-readable output: a
// control character becomes an escape (\n, \x1b, \u0085), a byte that is
// not UTF-8 becomes \xNN, and a path that would start a line with "::"
// (a GitHub Actions workflow command) gets "./" in front.
func DisplayPath(p string) string {
	plain := !strings.HasPrefix(strings.TrimLeft(p, " "), "::")
	for i := 0; plain && i < len(p); i++ {
		plain = p[i] >= 0x20 && p[i] < 0x7f
	}
	if plain {
		return p // printable ASCII: every path of most runs
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		c, w := utf8.DecodeRuneInString(p[i:])
		switch {
		case c == utf8.RuneError && w == 1:
			fmt.Fprintf(&b, "\\x%02x", p[i])
		case c == '\n':
			b.WriteString("\\n")
		case c == '\r':
			b.WriteString("\\r")
		case c == '\t':
			b.WriteString("\\t")
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		case c >= 0x80 && c < 0xa0 || c == 0x2028 || c == 0x2029:
			fmt.Fprintf(&b, "\\u%04x", c)
		default:
			b.WriteString(p[i : i+w])
		}
		i += w
	}
	out := b.String()
	if strings.HasPrefix(strings.TrimLeft(out, " "), "::") {
		out = "./" + out
	}
	return out
}

// Rule returns the description of a code.
func (r *Run) Rule(code string) (RuleInfo, int) {
	for i, ri := range r.Rules {
		if ri.Code == code {
			return ri, i
		}
	}
	return RuleInfo{Code: code}, -1
}

// Counts returns the numbers of unsuppressed findings by severity and of
// suppressed ones.
func (r *Run) Counts() (errors, warnings, notes, suppressed int) {
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			continue
		}
		switch f.Severity {
		case analyzer.SeverityError:
			errors++
		case analyzer.SeverityWarning:
			warnings++
		default:
			notes++
		}
	}
	return
}

// Fingerprints returns a fingerprint per finding that survives lines moving
// above it: a hash of the rule, the path, the statement's text with
// whitespace collapsed, and the rank among identical triples.
func Fingerprints(fs []analyzer.Finding) []string {
	seen := map[string]int{}
	out := make([]string, len(fs))
	for i, f := range fs {
		key := f.Code + "\x00" + f.Path + "\x00" + strings.Join(strings.Fields(f.StmtText), " ") + "\x00" + f.Message
		n := seen[key]
		seen[key] = n + 1
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", key, n)))
		out[i] = hex.EncodeToString(sum[:16])
	}
	return out
}

// Plural formats "1 error" / "2 errors".
func Plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
