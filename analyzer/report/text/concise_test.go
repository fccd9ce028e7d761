package text

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
)

// TestConciseParts: thousands of findings are formatted in parts at
// once; the output must be the lines of one pass over them, in order,
// with and without colour, for any number of findings around the parts'
// boundaries (suppressed findings, long and multi-line messages,
// non-ASCII paths).
func TestConciseParts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	words := []string{"lock", "ACCESS EXCLUSIVE", "blocks reads and writes", "é", "table", ";", "\n", "\t", "users_ü"}
	var fs []analyzer.Finding
	for i := range 3001 {
		var msg strings.Builder
		for range r.IntN(60) {
			msg.WriteString(words[r.IntN(len(words))])
			msg.WriteByte(' ')
		}
		f := analyzer.Finding{Code: fmt.Sprintf("PG%03d", r.IntN(999)), Name: "rule-name", Severity: analyzer.Severity(r.IntN(3)),
			Path: fmt.Sprintf("db/%d_ü.up.sql", i), Start: analyzer.Position{Line: r.IntN(5000) + 1, Column: r.IntN(80) + 1}, Message: msg.String()}
		if r.IntN(10) == 0 {
			f.Suppressed = &analyzer.Suppression{}
		}
		fs = append(fs, f)
	}
	for _, n := range []int{0, 1, 999, 1000, 1001, 1002, 1003, 3001} {
		for _, color := range []bool{false, true} {
			run := &report.Run{Findings: fs[:n]}
			var want strings.Builder
			conciseLines(&want, run.Findings, colors(color))
			var got bytes.Buffer
			if err := WriteConcise(&got, run, Options{Color: color}); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("%d findings, colour %t: the parts differ from one pass", n, color)
			}
			if n > 0 && strings.Count(got.String(), "\n") == 0 {
				t.Fatalf("%d findings: no line", n)
			}
		}
	}
}
