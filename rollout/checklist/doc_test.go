package checklist

import (
	"os"
	"regexp"
	"testing"

	"github.com/migsafe/migsafe/rollout/analysis"
	"github.com/migsafe/migsafe/rollout/flags"
)

// TestDocExamples compiles every YAML block of docs/rollout-gates.md with
// the compiler its fence names: ```yaml is an analysis step, ```yaml
// checklist a checklist, ```yaml flags a flag driver.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/rollout-gates.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNLEASH_ADMIN_TOKEN", "doc-example-token")
	t.Setenv("OFREP_TOKEN", "doc-example-token")
	blocks := regexp.MustCompile("(?s)```yaml( [a-z]+)?\n(.*?)```").FindAllSubmatch(data, -1)
	counts := map[string]int{}
	for i, b := range blocks {
		kind := string(b[1])
		counts[kind]++
		var err error
		switch kind {
		case "":
			_, err = analysis.Compile(parse(t, string(b[2])))
		case " checklist":
			_, err = Compile(parse(t, string(b[2])))
		case " flags":
			_, err = flags.Compile(parse(t, string(b[2])))
		default:
			t.Errorf("block %d: unknown fence %q", i+1, kind)
		}
		if err != nil {
			t.Errorf("block %d (%s): %v\n%s", i+1, kind, err, b[2])
		}
	}
	if counts[""] < 6 || counts[" checklist"] < 1 || counts[" flags"] < 2 {
		t.Errorf("found %v YAML blocks; the page lost examples", counts)
	}
}
