package rules

import (
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
)

// TestCommentLine: removing an unused suppression leaves neither an empty
// line nor a trailing blank.
func TestCommentLine(t *testing.T) {
	for _, c := range []struct{ src, comment, want string }{
		{"-- migsafe:ignore x\nSELECT 1;\n", "-- migsafe:ignore x", "SELECT 1;\n"},
		{"SELECT 1;\n  -- migsafe:ignore x\r\nSELECT 2;\n", "-- migsafe:ignore x", "SELECT 1;\nSELECT 2;\n"},
		{"SELECT 1; -- migsafe:ignore x\nSELECT 2;\n", "-- migsafe:ignore x", "SELECT 1;\nSELECT 2;\n"},
		{"SELECT 1;\n-- migsafe:ignore x", "-- migsafe:ignore x", "SELECT 1;\n"},
		{"SELECT 1; /* migsafe:ignore x */ SELECT 2;", "/* migsafe:ignore x */", "SELECT 1; SELECT 2;"},
	} {
		start := strings.Index(c.src, c.comment)
		sp := commentLine([]byte(c.src), analyzer.Span{Start: start, End: start + len(c.comment)})
		if got := c.src[:sp.Start] + c.src[sp.End:]; got != c.want {
			t.Errorf("removing %q from %q gives %q, want %q", c.comment, c.src, got, c.want)
		}
	}
}
