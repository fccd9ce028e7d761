package rules_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/rules"
)

func setup() analyzertest.Setup {
	return analyzertest.Setup{
		Dialects: map[string]analyzertest.NewDialect{
			analyzer.Postgres: func(v string) (analyzer.Dialect, error) { return postgres.New(v) },
			analyzer.MySQL:    func(v string) (analyzer.Dialect, error) { return mysql.New(v) },
		},
		Known:  rules.All(),
		Always: []*analyzer.Rule{rules.SyntaxError, rules.UnusedSuppression},
	}
}

func TestMetadata(t *testing.T) {
	if err := analyzer.Validate(rules.All()); err != nil {
		t.Fatal(err)
	}
}

// TestFixtures runs every rule over fixtures/rules/<name>/<dialect>/*.sql.
func TestFixtures(t *testing.T) {
	s := setup()
	for _, r := range rules.All() {
		t.Run(r.Name, func(t *testing.T) {
			analyzertest.RunDir(t, s, r, filepath.Join("..", "fixtures", "rules", r.Name))
		})
	}
	// every fixture directory belongs to a rule
	dirs, _ := os.ReadDir(filepath.Join("..", "fixtures", "rules"))
	for _, d := range dirs {
		if rules.Lookup(d.Name()) == nil || rules.Lookup(d.Name()).Name != d.Name() {
			t.Errorf("fixtures/rules/%s belongs to no rule", d.Name())
		}
	}
}

// TestExamples checks that each rule's documented bad example fires and its
// good example does not.
func TestExamples(t *testing.T) {
	s := setup()
	for _, r := range rules.All() {
		for _, ex := range r.Doc.Examples {
			nd := s.Dialects[ex.Dialect]
			if nd == nil {
				continue
			}
			d, err := nd(ex.Target)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				sql  string
				want bool
			}{{ex.Bad, true}, {ex.Good, false}} {
				enabled := []*analyzer.Rule{r}
				for _, o := range rules.All() {
					if !o.Off && o != r && o.AppliesTo(ex.Dialect) {
						enabled = append(enabled, o)
					}
				}
				res, err := analyzertest.LintSource(d, "example.sql", []byte(c.sql), enabled, s.Known)
				if err != nil {
					t.Fatal(err)
				}
				got := 0
				for _, f := range res.Findings {
					if f.Code == rules.SyntaxError.Code && r != rules.SyntaxError {
						t.Errorf("%s: example does not parse: %s\n%s", r.Name, f.Message, c.sql)
					}
					if f.Code == r.Code || slices.Contains(f.Also, r.Code) {
						got++
					}
				}
				if c.want && got == 0 {
					t.Errorf("%s (%s): bad example does not fire:\n%s", r.Name, ex.Dialect, c.sql)
				}
				if !c.want && got > 0 {
					t.Errorf("%s (%s): good example fires %d time(s):\n%s", r.Name, ex.Dialect, got, c.sql)
				}
			}
		}
	}
}
