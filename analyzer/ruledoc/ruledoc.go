// Package ruledoc renders a rule's metadata: the Markdown pages under
// docs/rules, the text of `migsafe explain`, and the descriptions SARIF
// carries. Every user-facing word about a rule comes from here.
package ruledoc

import (
	"fmt"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
)

// Repository is where migsafe's sources, and the generated rule pages, are
// published.
const Repository = "https://github.com/migsafe/migsafe"

// BaseURL is where the rule pages of the main branch are.
const BaseURL = Repository + "/blob/main/docs/rules/"

// URL is the page of a rule on the main branch.
func URL(r *analyzer.Rule) string { return BaseURL + r.Name + ".md" }

// URLAt is the page of a rule as a migsafe version shipped it, so that a
// SARIF log or a finding links to the text of the rule that produced it: a
// release tag (v1.2.0) or a commit (a Go pseudo-version's, or a full hash
// set at link time) are used as they are; anything else ("dev", a branch)
// is the main branch.
func URLAt(r *analyzer.Rule, version string) string {
	return Repository + "/blob/" + sourceRef(version) + "/docs/rules/" + r.Name + ".md"
}

func sourceRef(v string) string {
	v = strings.TrimSuffix(v, "+incompatible")
	if isHex(v) && len(v) == 40 {
		return v
	}
	if len(v) < 2 || v[0] != 'v' || v[1] < '0' || v[1] > '9' {
		return "main"
	}
	// a pseudo-version ends with -yyyymmddhhmmss-abcdefabcdef
	parts := strings.Split(v, "-")
	if n := len(parts); n >= 3 {
		ts, hash := parts[n-2], parts[n-1]
		if i := strings.LastIndexByte(ts, '.'); i >= 0 {
			ts = ts[i+1:] // v1.2.4-0.20260101000000-abc…: "0.2026…"
		}
		if len(hash) == 12 && isHex(hash) && len(ts) == 14 && isDigits(ts) {
			return hash
		}
	}
	for _, c := range v[1:] {
		if !strings.ContainsRune("0123456789.-+abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", c) {
			return "main"
		}
	}
	return v
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Text converts the metadata convention \' (a backtick, which Go raw strings
// cannot hold) into a backtick.
func Text(s string) string { return strings.ReplaceAll(s, `\'`, "`") }

// Plain removes Markdown code markers for terminal and one-line output.
func Plain(s string) string { return strings.ReplaceAll(s, `\'`, "") }

var dialectNames = map[string]string{analyzer.Postgres: "PostgreSQL", analyzer.MySQL: "MySQL/MariaDB"}

// DialectName is the display name of a dialect.
func DialectName(d string) string {
	if n, ok := dialectNames[d]; ok {
		return n
	}
	return d
}

// Dialects lists a rule's dialects for display.
func Dialects(r *analyzer.Rule) string {
	all := r.Dialects
	if len(all) == 0 {
		// a rule that names no dialect applies to every one (the history
		// rules)
		all = []string{analyzer.Postgres, analyzer.MySQL}
	}
	var ds []string
	for _, d := range all {
		ds = append(ds, DialectName(d))
	}
	return strings.Join(ds, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Markdown renders the page of a rule.
func Markdown(r *analyzer.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- Generated from the rule's metadata in rules/%s.go by `go generate ./docs`. Do not edit. -->\n\n", strings.ReplaceAll(r.Name, "-", "_"))
	fmt.Fprintf(&b, "# %s (%s)\n\n", r.Name, r.Code)
	fmt.Fprintf(&b, "%s.\n\n", r.Summary)
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Code | `%s` |\n", r.Code)
	fmt.Fprintf(&b, "| Name | `%s` |\n", r.Name)
	fmt.Fprintf(&b, "| Dialects | %s |\n", Dialects(r))
	fmt.Fprintf(&b, "| Default severity | %s |\n", r.Severity)
	fmt.Fprintf(&b, "| Enabled by default | %s |\n", yesNo(!r.Off))
	fmt.Fprintf(&b, "| Fix available | %s |\n\n", r.Fix)
	b.WriteString(Body(r))
	return b.String()
}

// Body renders the sections after the header: why, what to do, examples,
// notes, suppression. SARIF uses it as the rule's help.
func Body(r *analyzer.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Why\n\n%s\n\n", Text(r.Doc.Why))
	fmt.Fprintf(&b, "## What to do instead\n\n%s\n\n", Text(r.Doc.Recipe))
	if len(r.Doc.Examples) > 0 {
		b.WriteString("## Examples\n\n")
		for _, ex := range r.Doc.Examples {
			title := DialectName(ex.Dialect)
			if ex.Target != "" {
				title += " (target " + ex.Target + ")"
			}
			fmt.Fprintf(&b, "### %s\n\nFlagged:\n\n```sql\n%s\n```\n\nNot flagged:\n\n```sql\n%s\n```\n\n", title, strings.TrimSpace(ex.Bad), strings.TrimSpace(ex.Good))
		}
	}
	if r.Doc.Notes != "" {
		fmt.Fprintf(&b, "## Notes\n\n%s\n\n", Text(r.Doc.Notes))
	}
	b.WriteString("## Configuration and suppression\n\n")
	if r.Off {
		fmt.Fprintf(&b, "Off by default. Enable it in `.migsafe.yaml`:\n\n```yaml\nrules:\n  %s: %s\n```\n\n", r.Name, r.Severity)
	} else {
		fmt.Fprintf(&b, "Disable it or change its severity in `.migsafe.yaml`:\n\n```yaml\nrules:\n  %s: off   # or: error, warning, note\n```\n\n", r.Name)
	}
	fmt.Fprintf(&b, "Suppress one occurrence, with the reason, on the line above the statement:\n\n```sql\n-- migsafe:ignore %s reason why this is safe here\n```\n", r.Name)
	return strings.ReplaceAll(b.String(), "~~~", "```")
}

// Index renders docs/rules/README.md.
func Index(rules []*analyzer.Rule) string {
	var b strings.Builder
	b.WriteString("<!-- Generated from the rules' metadata by `go generate ./docs`. Do not edit. -->\n\n# Rules\n\n")
	b.WriteString("| Code | Name | Dialects | Severity | On by default | Fix | Summary |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| %s | [%s](%s.md) | %s | %s | %s | %s | %s |\n", r.Code, r.Name, r.Name, Dialects(r), r.Severity, yesNo(!r.Off), r.Fix, r.Summary)
	}
	return b.String()
}

// Terminal renders the page of a rule for `migsafe explain`: the same text
// as the Markdown page, without the table.
func Terminal(r *analyzer.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n\n", r.Name, r.Code, r.Summary)
	fmt.Fprintf(&b, "Dialects: %s · default severity: %s · enabled by default: %s · fix: %s\n\n", Dialects(r), r.Severity, yesNo(!r.Off), r.Fix)
	b.WriteString(Body(r))
	fmt.Fprintf(&b, "\nMore: %s\n", URL(r))
	return b.String()
}
