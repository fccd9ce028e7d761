package mysql

import (
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/internal/lineartest"
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

// TestHugeStatementMemory: a 2 MB chain (a million tokens, refused as too
// deep) allocates a bounded multiple of its size on the way to the
// refusal: the tokens are 12 bytes, a large token buffer doubles instead
// of growing by a quarter, and a statement without comments is not copied
// to drop them. Before, 297× (594 MB); now 35×. Through the CLI, an 8 MB
// chain took 1.07 GB of memory at its peak and 4.4 s, now 278 MB and
// 0.84 s.
func TestHugeStatementMemory(t *testing.T) {
	src := []byte("SELECT 1" + strings.Repeat("+1", 1_000_000) + ";\n")
	d, err := New("8.0")
	if err != nil {
		t.Fatal(err)
	}
	var st []*analyzer.Statement
	lineartest.CheckAlloc(t, len(src), 60, func() { st, _ = d.Parse(src, analyzer.Span{Start: 0, End: len(src)}) })
	if len(st) != 1 || st[0].SyntaxError == nil || !strings.Contains(st[0].SyntaxError.Message, "nested too deeply") {
		t.Fatalf("not refused as too deep: %+v", st)
	}
}

// TestParseRefusesOver2GiB: tokens keep int32 offsets, so a file of 2 GiB
// or more is refused before a byte of it is read (the slice's length is
// all the check looks at).
func TestParseRefusesOver2GiB(t *testing.T) {
	var b [1]byte
	huge := unsafe.Slice(&b[0], math.MaxInt32+1)
	d, err := New("8.0")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := d.Parse(huge, analyzer.Span{Start: 0, End: len(huge)})
	if len(st) != 1 || st[0].SyntaxError == nil || !strings.Contains(st[0].SyntaxError.Message, "2 GiB") {
		t.Fatalf("parse of 2 GiB + 1 byte: %+v", st)
	}
}
