// Package analyzer is migsafe's core API: rules, the pass a rule runs in, the
// findings it reports, and the interface a SQL dialect implements. It knows
// nothing of the command line, configuration files, output formats or
// databases; those live outside and depend on it, never the reverse.
package analyzer

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Dialect names.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// Severity of a finding.
type Severity int

const (
	SeverityNote Severity = iota + 1
	SeverityWarning
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	case SeverityNote:
		return "note"
	default:
		return "unknown"
	}
}

// ParseSeverity reads "error", "warning" or "note" (also "info").
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return SeverityError, nil
	case "warning", "warn":
		return SeverityWarning, nil
	case "note", "info":
		return SeverityNote, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or note)", s)
}

// FixAvailability says whether a rule can offer an exact edit.
type FixAvailability int

const (
	FixNone FixAvailability = iota
	FixSometimes
	FixAlways
)

func (f FixAvailability) String() string {
	switch f {
	case FixSometimes:
		return "sometimes"
	case FixAlways:
		return "always"
	default:
		return "none"
	}
}

// Rule is one check. Each rule lives in its own file under rules/ and is a
// single value of this type: its metadata is the only source of every
// user-facing string about it (docs pages, `migsafe explain`, SARIF).
type Rule struct {
	Code     string   // stable code, e.g. "PG101"; used in config, suppressions, SARIF ruleId
	Name     string   // kebab-case name of the bad pattern, e.g. "non-concurrent-index"
	Summary  string   // one line, no trailing period
	Dialects []string // dialects the rule applies to; empty means all
	Severity Severity // default severity
	Off      bool     // disabled unless enabled in the configuration (style rules)
	Fix      FixAvailability
	Doc      Doc
	// Secondary marks a rule whose finding adds a cause to a cost another
	// rule already reports: on a statement where another rule's finding
	// (with a lock or work behind it, at least as severe, not suppressed)
	// stands, the secondary finding is folded into it, its message added as
	// one more cause and its help to the help, so that one statement gets
	// one finding for one cost.
	Secondary bool

	// Check runs once for each statement of a linted migration, with the
	// schema as it was just before that statement.
	Check func(*Pass)
	// Finish runs once per linted migration part after every Check and after
	// suppressions were matched (unused-suppression uses it).
	Finish func(*FilePass)
}

// Doc is the structured documentation of a rule. Text fields are Markdown.
type Doc struct {
	Why      string    // condition → effect: what goes wrong in production
	Recipe   string    // the safe multi-step alternative
	Help     string    // one line appended to each finding: what to do
	Examples []Example // at least one per dialect the rule covers
	Notes    string    // version specifics, exemptions, known limits
}

// Example is a pair of migrations for the docs and for the rule's own test:
// Bad must produce a finding of the rule and Good must not.
type Example struct {
	Dialect string
	Target  string // target version the example is written for; empty means the default
	Bad     string
	Good    string
}

// AppliesTo reports whether the rule covers the dialect.
func (r *Rule) AppliesTo(dialect string) bool {
	if len(r.Dialects) == 0 {
		return true
	}
	for _, d := range r.Dialects {
		if d == dialect {
			return true
		}
	}
	return false
}

// compiled on first use (Validate runs in tests): a package-level
// regexp is compiled at every start of every command
var (
	codeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(MS|PG|MY)[0-9]{3}$`) })
	nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`) })
)

// Validate checks a rule set's metadata: codes and names well-formed and
// unique, documentation present. Registries call it in their tests.
func Validate(rules []*Rule) error {
	codes := map[string]bool{}
	names := map[string]bool{}
	var errs []string
	for _, r := range rules {
		id := r.Code + " " + r.Name
		if !codeRE().MatchString(r.Code) {
			errs = append(errs, id+": code must look like PG101, MY101 or MS101")
		}
		if !nameRE().MatchString(r.Name) {
			errs = append(errs, id+": name must be kebab-case")
		}
		if codes[r.Code] {
			errs = append(errs, id+": duplicate code")
		}
		if names[r.Name] {
			errs = append(errs, id+": duplicate name")
		}
		codes[r.Code], names[r.Name] = true, true
		if r.Summary == "" || strings.HasSuffix(r.Summary, ".") {
			errs = append(errs, id+": summary must be non-empty without a trailing period")
		}
		if r.Doc.Why == "" || r.Doc.Help == "" {
			errs = append(errs, id+": Doc.Why and Doc.Help are required")
		}
		if r.Severity == 0 {
			errs = append(errs, id+": severity is required")
		}
		if r.Check == nil && r.Finish == nil {
			errs = append(errs, id+": rule has neither Check nor Finish")
		}
		for _, d := range r.Dialects {
			if d != Postgres && d != MySQL {
				errs = append(errs, id+": unknown dialect "+d)
			}
		}
		for _, d := range dialectsOf(r) {
			found := false
			for _, ex := range r.Doc.Examples {
				if ex.Dialect == d {
					found = true
				}
			}
			if !found {
				errs = append(errs, id+": no example for dialect "+d)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid rule metadata:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func dialectsOf(r *Rule) []string {
	if len(r.Dialects) == 0 {
		return []string{Postgres, MySQL}
	}
	return r.Dialects
}
