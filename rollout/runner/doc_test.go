package runner

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/plan"
)

// TestDocPlans loads every ```yaml rollout-plan block of docs/rollout.md
// with the compiler migsafe uses, and compiles its flags, checklists and
// notification sinks.
func TestDocPlans(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rollout.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml rollout-plan\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 3 {
		t.Fatalf("%d plan blocks in docs/rollout.md", len(blocks))
	}
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.invalid/services/T/B/x")
	for i, b := range blocks {
		p, err := plan.Parse(filepath.Join("docs", "rollout.md"), b[1], plan.Options{Compile: Compile})
		if err != nil {
			t.Errorf("block %d: %v", i+1, err)
			continue
		}
		if p.Flags != nil {
			if _, err := flags.Compile(p.Flags); err != nil {
				t.Errorf("block %d: flags: %v", i+1, err)
			}
		}
		if p.Readiness != nil {
			if _, err := checklist.CompileWith(p.Readiness, readinessBuiltins(Options{}, p)); err != nil {
				t.Errorf("block %d: readiness: %v", i+1, err)
			}
		}
		if p.PostRollback != nil {
			if _, err := checklist.Compile(p.PostRollback); err != nil {
				t.Errorf("block %d: post_rollback: %v", i+1, err)
			}
		}
		if _, err := Sinks(p); err != nil {
			t.Errorf("block %d: notify: %v", i+1, err)
		}
	}
}
