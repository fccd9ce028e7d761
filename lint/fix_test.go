package lint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/rules"
)

// TestFixEveryRule applies the fixes of every rule that offers them to the
// rule's bad examples: the result must still parse, and the rule must not
// fire on it again.
func TestFixEveryRule(t *testing.T) {
	n := 0
	for _, r := range rules.All() {
		if r.Fix == analyzer.FixNone {
			continue
		}
		for _, ex := range r.Doc.Examples {
			if strings.Contains(ex.Bad, "\n-- ") && strings.HasPrefix(ex.Bad, "-- ") {
				continue // several files: not one migration
			}
			t.Run(r.Name+"/"+ex.Dialect, func(t *testing.T) {
				dir := t.TempDir()
				name := "0001_example.sql"
				if err := os.WriteFile(filepath.Join(dir, name), []byte(ex.Bad+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				s, err := Resolve(Options{Dir: dir, Dialect: ex.Dialect, NoGit: true, FailOn: "never"})
				if err != nil {
					t.Fatal(err)
				}
				// every rule of the dialect, those off by default too
				s.Rules = nil
				for _, rr := range rules.All() {
					if rr.AppliesTo(ex.Dialect) {
						s.Rules = append(s.Rules, engine.RuleConfig{Rule: rr, Severity: rr.Severity})
					}
				}
				before, err := Check(context.Background(), s, []string{name})
				if err != nil {
					t.Fatal(err)
				}
				if !fires(before, r) {
					t.Fatalf("the bad example does not fire")
				}
				res, fixed, skipped, err := Fix(context.Background(), s, []string{name})
				if err != nil {
					t.Fatal(err)
				}
				if len(fixed) == 0 {
					if hasFix(before, r) {
						t.Fatalf("a fix was offered but not applied (skipped: %v)", skipped)
					}
					if r.Fix == analyzer.FixAlways {
						t.Fatal("no fix, from a rule that always offers one")
					}
					return // FixSometimes: this example has none
				}
				n++
				for _, f := range res.Engine.Files {
					for _, st := range f.Stmts {
						if st.SyntaxError != nil {
							out, _ := os.ReadFile(filepath.Join(dir, name))
							t.Fatalf("the fixed file does not parse: %s\n%s", st.SyntaxError.Message, out)
						}
					}
				}
				if fires(res, r) {
					out, _ := os.ReadFile(filepath.Join(dir, name))
					t.Errorf("%s still fires after its fix:\n%s", r.Name, out)
				}
			})
		}
	}
	if n < 4 {
		t.Errorf("fixes applied to %d bad examples; the rules with fixes have more", n)
	}
}

func fires(res *Result, r *analyzer.Rule) bool {
	for _, f := range res.Engine.Findings {
		if f.Code == r.Code && f.Suppressed == nil {
			return true
		}
	}
	return false
}

func hasFix(res *Result, r *analyzer.Rule) bool {
	for _, f := range res.Engine.Findings {
		if f.Code == r.Code && f.Suppressed == nil && len(f.Fixes) > 0 {
			return true
		}
	}
	return false
}
