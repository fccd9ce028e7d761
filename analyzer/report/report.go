// Package report defines what every output format receives. Formats live in
// subpackages, one each; they see findings and rule descriptions, never the
// rules themselves.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

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

// Describe builds the RuleInfo of a rule.
func Describe(r *analyzer.Rule, enabled bool) RuleInfo {
	return RuleInfo{
		Code:            r.Code,
		Name:            r.Name,
		Summary:         r.Summary,
		Why:             strings.Join(strings.Fields(ruledoc.Plain(r.Doc.Why)), " "),
		Help:            ruledoc.Plain(r.Doc.Help),
		HelpMarkdown:    ruledoc.Body(r),
		URL:             ruledoc.URL(r),
		DefaultSeverity: r.Severity,
		Enabled:         enabled,
		Fix:             r.Fix.String(),
		Dialects:        r.Dialects,
	}
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
	// RootURI is the absolute file: URI that relative paths are resolved
	// against (SARIF %SRCROOT%); empty if unknown.
	RootURI string
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
