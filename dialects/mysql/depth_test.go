package mysql

import (
	"strings"
	"testing"
)

// TestDeepStatement: a chained expression of 30,000 terms is refused
// before the TiDB parser builds its tree (about 800 bytes a term: a 16 MiB
// file of one chain took more than 6 GB), on that statement alone; one of
// 8,000 terms, a list of 30,000 rows and a deep chain inside a versioned
// comment the target runs are handled as they should be.
func TestDeepStatement(t *testing.T) {
	rows := strings.TrimSuffix(strings.Repeat("(1, 2),", 30_000), ",")
	for _, c := range []struct {
		name, stmt string
		deep       bool
	}{
		{"chain 8,000", "SELECT 1" + strings.Repeat("+1", 8_000), false},
		{"chain 30,000", "SELECT 1" + strings.Repeat("+1", 30_000), true},
		{"parentheses 30,000", "SELECT " + strings.Repeat("(", 30_000) + "1" + strings.Repeat(")", 30_000), true},
		{"versioned comment", "/*!50000 SELECT 1" + strings.Repeat("+1", 30_000) + " */", true},
		{"30,000 rows", "INSERT INTO t (a, b) VALUES " + rows, false},
	} {
		src := "ALTER TABLE users ADD COLUMN a int;\n" + c.stmt + ";\nALTER TABLE users ADD COLUMN b int;\n"
		st, _ := parseAll(t, "8.0", src)
		if len(st) != 3 || st[0].SyntaxError != nil || st[2].SyntaxError != nil {
			t.Fatalf("%s: %d statements, or its neighbours did not parse", c.name, len(st))
		}
		deep := st[1].SyntaxError != nil && strings.Contains(st[1].SyntaxError.Message, "nested too deeply")
		if deep != c.deep {
			t.Errorf("%s: refused as too deep %v, want %v (%v)", c.name, deep, c.deep, st[1].SyntaxError)
		}
		if !c.deep && st[1].SyntaxError != nil {
			t.Errorf("%s: %s", c.name, st[1].SyntaxError.Message)
		}
	}
}
