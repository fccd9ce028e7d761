package analysis

import (
	"os"
	"regexp"
	"testing"
)

// TestDocExamples compiles every YAML block of docs/rollout-gates.md.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/rollout-gates.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(data, -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d YAML blocks, want at least 5", len(blocks))
	}
	for i, b := range blocks {
		if _, err := Compile(parse(t, string(b[1]))); err != nil {
			t.Errorf("block %d: %v\n%s", i+1, err, b[1])
		}
	}
}
