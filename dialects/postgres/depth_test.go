//go:build linux

package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// TestParseStackBound checks the estimate the C stack is sized by: for
// every construct that nests (chained operators, prefix operators, nested
// calls, subqueries, set operations, joins), the stack the parse really
// touches (measured by painting it) stays within stackPerLevel bytes per
// level of depthBound.
func TestParseStackBound(t *testing.T) {
	const n = 1500
	rep := strings.Repeat
	cases := []string{
		"SELECT 1" + rep("+1", n),
		"SELECT 1" + rep("::int", n),
		"SELECT 'a'" + rep(` COLLATE "C"`, n),
		"SELECT j" + rep("->'a'", n),
		"SELECT " + rep("NOT ", n) + "true",
		"SELECT " + rep("~ ", n) + "1",
		"SELECT " + rep("- x - ", n) + "1",
		"SELECT " + rep("(", n) + "1" + rep(")", n),
		rep("SELECT (", n) + "1" + rep(")", n),
		"SELECT " + rep("ARRAY[", n) + "1" + rep("]", n),
		"SELECT " + rep("ARRAY(SELECT ", n) + "1" + rep(")", n),
		"SELECT " + rep("EXISTS(SELECT ", n) + "1" + rep(")", n),
		"SELECT " + rep("CASE WHEN true THEN ", n) + "1" + rep(" END", n),
		"SELECT " + rep("f(", n) + "1" + rep(")", n),
		"SELECT " + rep("ROW(1,", n) + "1" + rep(")", n),
		"SELECT " + rep("x IN (1,", n) + "1" + rep(")", n),
		"SELECT " + rep("CAST(", n) + "1" + rep(" AS int)", n),
		"SELECT " + rep("JSON_OBJECT('a': ", n) + "1" + rep(")", n),
		"SELECT " + rep("x OPERATOR(pg_catalog.+) ", n) + "1",
		"SELECT 1" + rep(" AT TIME ZONE 'a'", n),
		"SELECT true" + rep(" IS TRUE", n),
		"SELECT 1, 2" + rep(" UNION SELECT 1, 2", n),
		"SELECT 1, 2" + rep(" INTERSECT (SELECT 1, 2", n) + rep(")", n),
		"VALUES (1)" + rep(" EXCEPT VALUES (1)", n),
		"SELECT 1 FROM a" + rep(" JOIN a ON true", n),
		"CREATE TABLE t (c int CHECK (c" + rep("+1", n) + " > 0))",
		"INSERT INTO t VALUES " + rep("(1, 2+3), ", n) + "(1, 2)",
	}
	for _, src := range cases {
		b := []byte(src)
		toks, lerr := lex(b)
		if lerr != nil {
			t.Fatalf("%.40s: %v", src, lerr)
		}
		bound := depthBound(b, toks)
		_, used, err := cParse(b, uintptr(bound)*stackPerLevel, bound*protoPerLevel+1000, true)
		if err != nil {
			t.Errorf("%.40s: %v", src, err)
		}
		if allowed := uintptr(max(bound, 64)) * stackPerLevel; used > allowed {
			t.Errorf("%.40s…: used %d bytes of stack, the bound %d allows %d", src, used, bound, allowed)
		}
	}
}

// TestDepthBoundLists: flat lists (a long INSERT … VALUES) are shallow
// however long, so they never come near maxDepth.
func TestDepthBoundLists(t *testing.T) {
	src := []byte("INSERT INTO t (a, b) VALUES " + strings.Repeat("(1, 'x'), ", 200_000) + "(1, 'x')")
	toks, _ := lex(src)
	if b := depthBound(src, toks); b > 20 {
		t.Errorf("bound %d for a VALUES list", b)
	}
}

// FuzzStackBound checks depthBound against the stack the parser really
// uses, for any input: the C stack a parse touches stays within
// stackPerLevel bytes per level of the bound (and a small base).
func FuzzStackBound(f *testing.F) {
	f.Add([]byte("SELECT 1+1"))
	f.Add([]byte("SELECT 1, 2 UNION SELECT 3, 4 UNION (SELECT 5)"))
	f.Add([]byte("SELECT NOT NOT (SELECT ARRAY[ARRAY[f(1, (2))]]) IS TRUE"))
	f.Add([]byte("CREATE TABLE t (c int CHECK (c::int COLLATE \"C\" > 0) DEFAULT -1)"))
	f.Add([]byte(strings.Repeat("SELECT (", 300) + "1" + strings.Repeat(")", 300)))
	f.Fuzz(func(t *testing.T, src []byte) {
		src = []byte(strings.ReplaceAll(string(src), "\x00", " "))
		toks, lerr := lex(src)
		if lerr != nil || len(src) > 1<<16 {
			return
		}
		bound := depthBound(src, toks)
		if bound > maxDepth {
			return
		}
		_, used, _ := cParse(src, uintptr(bound)*stackPerLevel, bound*protoPerLevel+1000, true)
		if allowed := uintptr(max(bound, 64)) * stackPerLevel; used > allowed {
			t.Fatalf("%q: used %d bytes of stack, the bound %d allows %d", src, used, bound, allowed)
		}
	})
}

// TestPositionlessErrorBlamesNoOther: an error without a position (as
// "proto: exceeded maximum recursion depth" was) in a window of several
// statements is narrowed down by parsing the halves apart, so it lands on
// the statement that causes it and the others parse.
func TestPositionlessErrorBlamesNoOther(t *testing.T) {
	defer func(f func([]byte, int) (*pgtree.ParseResult, error)) { parseText = f }(parseText)
	parseText = func(text []byte, bound int) (*pgtree.ParseResult, error) {
		if strings.Contains(string(text), "poison") {
			return nil, errors.New("an error without a position")
		}
		return parseBounded(text, bound)
	}
	d, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 20 {
		if i == 13 {
			b.WriteString("SELECT poison;\n")
			continue
		}
		b.WriteString("ALTER TABLE users DROP COLUMN c;\n")
	}
	src := []byte(b.String())
	stmts, _ := d.Parse(src, analyzer.Span{Start: 0, End: len(src)})
	if len(stmts) != 20 {
		t.Fatalf("%d statements, want 20", len(stmts))
	}
	for i, s := range stmts {
		if bad := s.SyntaxError != nil; bad != (i == 13) {
			t.Errorf("statement %d (%s): syntax error %v", i, src[s.Span.Start:s.Span.End], s.SyntaxError)
		}
	}
}
