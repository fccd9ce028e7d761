//go:build linux

package postgres_test

import (
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/internal/lineartest"
)

// deepChains are expressions whose parse tree is one level deeper per term
// (the shapes of issue 11's crash), as a statement of n terms.
var deepChains = map[string]func(n int) string{
	"plus":    func(n int) string { return "SELECT 1" + strings.Repeat("+1", n) },
	"cast":    func(n int) string { return "SELECT 1" + strings.Repeat("::int", n) },
	"concat":  func(n int) string { return "SELECT 'a'" + strings.Repeat("||'a'", n) },
	"collate": func(n int) string { return "SELECT 'a'" + strings.Repeat(` COLLATE "C"`, n) },
	"arrow":   func(n int) string { return "SELECT j" + strings.Repeat("->'a'", n) },
	"check":   func(n int) string { return "CREATE TABLE t (c int CHECK (c" + strings.Repeat("+1", n) + " > 0))" },
	"default": func(n int) string { return "ALTER TABLE t ADD COLUMN c int DEFAULT 1" + strings.Repeat("+1", n) },
	"not":     func(n int) string { return "SELECT " + strings.Repeat("NOT ", n) + "true" },
}

// TestParseDeepExpression is issue 11's failures 1 and 2: a chain of 30,000
// terms killed the process with SIGSEGV in the C parser (stack exhaustion),
// and one of 5,000–23,000 terms ("proto: exceeded maximum recursion depth",
// no position) turned the statements before it into syntax errors. Now a
// chain the parser can take is parsed, one deeper than maxDepth is a syntax
// error on that statement alone, and the statements around it are
// parsed.
func TestParseDeepExpression(t *testing.T) {
	for name, gen := range deepChains {
		for _, n := range []int{8_000, 30_000} {
			src := "ALTER TABLE users DROP COLUMN a;\n" + gen(n) + ";\nALTER TABLE users DROP COLUMN b;\n"
			got, _ := parseAll(t, src)
			if len(got) != 3 {
				t.Fatalf("%s %d: %d statements, want 3", name, n, len(got))
			}
			for _, i := range []int{0, 2} {
				if got[i].err != "" || got[i].kind != "ALTER TABLE" {
					t.Errorf("%s %d: statement %d = %v, want a parsed ALTER TABLE", name, n, i, got[i])
				}
			}
			deep := got[1]
			if deep.at != "2:1" {
				t.Errorf("%s %d: the deep statement starts at %s", name, n, deep.at)
			}
			if n < 10_000 {
				if deep.err != "" {
					t.Errorf("%s %d: %s", name, n, deep.err)
				}
			} else if !strings.Contains(deep.err, "nested too deeply") || deep.errAt != "2:1" {
				t.Errorf("%s %d: error %q at %s, want a too-deep error at 2:1", name, n, deep.err, deep.errAt)
			}
		}
	}
}

// TestParseDeepFunctionBody: a function body is parsed again (to inline a
// SQL function); a deep one must not crash either.
func TestParseDeepFunctionBody(t *testing.T) {
	body := "SELECT 1" + strings.Repeat("+1", 30_000)
	src := "CREATE FUNCTION f() RETURNS int LANGUAGE sql IMMUTABLE AS $$" + body + "$$;\nCREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$" + body[:12_000] + "$$;\nALTER TABLE users DROP COLUMN b;\n"
	got, _ := parseAll(t, src)
	if len(got) != 3 {
		t.Fatalf("%d statements, want 3", len(got))
	}
	for _, p := range got {
		if p.err != "" {
			t.Errorf("%v", p)
		}
	}
}

// TestParseDeepDoBlock: the statements of a DO block's body are parsed on
// their own, bounded as a statement of the file is: a chain of 200,000
// terms killed the process with SIGSEGV in the C parser, as a statement of
// the file once did. Now it leaves the block's statement unchecked, and
// says why, and a chain the parser can take is checked.
func TestParseDeepDoBlock(t *testing.T) {
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    int
		want string // in the reason of the Unknown change, or "" for a DML change
	}{
		{8_000, ""},
		{200_000, "nested too deeply"},
	} {
		src := []byte("DO $$ BEGIN UPDATE t SET a = 1" + strings.Repeat("+1", c.n) + "; END $$;\nALTER TABLE users DROP COLUMN b;\n")
		stmts, _ := d.Parse(src, analyzer.Span{Start: 0, End: len(src)})
		if len(stmts) != 2 || stmts[0].SyntaxError != nil || stmts[1].Kind != "ALTER TABLE" {
			t.Fatalf("%d terms: %d statements (%v)", c.n, len(stmts), stmts)
		}
		var dml bool
		var unknown string
		for _, ch := range stmts[0].Changes {
			switch x := ch.(type) {
			case *change.DML:
				dml = true
			case *change.Unknown:
				unknown += x.Reason
			}
		}
		if c.want == "" && !dml {
			t.Errorf("%d terms: the UPDATE in the block was not checked (%q)", c.n, unknown)
		}
		if c.want != "" && !strings.Contains(unknown, c.want) {
			t.Errorf("%d terms: want the block's statement unchecked with %q, got %q (DML %v)", c.n, c.want, unknown, dml)
		}
	}
}

// TestParseDeepKeepsNeighbours is failure 2 on its own: at 8,000 terms the
// protobuf decoder's default recursion limit failed the whole window, and
// the error, which has no position, was blamed on its first statement.
func TestParseDeepKeepsNeighbours(t *testing.T) {
	src := "ALTER TABLE users DROP COLUMN a;\nSELECT 1" + strings.Repeat("+1", 8_000) + ";\n"
	got, _ := parseAll(t, src)
	if len(got) != 2 || got[0].err != "" || got[1].err != "" {
		t.Errorf("got %.300v", got)
	}
}

// TestHugeStatementMemory: a 2 MB chain (a million tokens of two bytes,
// refused as too deep) allocates a bounded multiple of its size: the
// lexer's token slice doubles instead of growing by a quarter. Before,
// 64× (through the CLI, an 8 MB chain took 432 MB and 1.07 s); now 23×
// (231 MB and 0.40 s).
func TestHugeStatementMemory(t *testing.T) {
	src := []byte("SELECT 1" + strings.Repeat("+1", 1_000_000) + ";\n")
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	var st []*analyzer.Statement
	lineartest.CheckAlloc(t, len(src), 45, func() { st, _ = d.Parse(src, analyzer.Span{Start: 0, End: len(src)}) })
	if len(st) != 1 || st[0].SyntaxError == nil || !strings.Contains(st[0].SyntaxError.Message, "nested too deeply") {
		t.Fatalf("not refused as too deep: %+v", st)
	}
}
