package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/dialects/postgres"
)

// parsed is a statement as the tests look at it: its text, where it starts
// (1-based line:column), and its syntax error if any.
type parsed struct {
	text  string
	at    string
	err   string // the parser's message, "" when the statement parses
	errAt string // line:column of the error
	kind  string
}

func (p parsed) String() string {
	s := fmt.Sprintf("%s %q (%s)", p.at, p.text, p.kind)
	if p.err != "" {
		s += fmt.Sprintf(" error at %s: %s", p.errAt, p.err)
	}
	return s
}

func parseAll(t *testing.T, src string) ([]parsed, []analyzer.Comment) {
	t.Helper()
	return parseRange(t, src, analyzer.Span{Start: 0, End: len(src)})
}

func parseRange(t *testing.T, src string, rng analyzer.Span) ([]parsed, []analyzer.Comment) {
	t.Helper()
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(src)
	stmts, comments := d.Parse(b, rng)
	li := analyzer.NewLineIndex(b)
	var out []parsed
	for i, s := range stmts {
		if s.Span.Start < 0 || s.Span.End > len(b) || s.Span.Start > s.Span.End {
			t.Fatalf("statement %d: span %v outside the source (%d bytes)", i, s.Span, len(b))
		}
		p := parsed{text: src[s.Span.Start:s.Span.End], kind: s.Kind}
		pos := li.Position(s.Span.Start)
		p.at = fmt.Sprintf("%d:%d", pos.Line, pos.Column)
		if s.SyntaxError != nil {
			p.err = s.SyntaxError.Message
			ep := li.Position(s.SyntaxError.Offset)
			p.errAt = fmt.Sprintf("%d:%d", ep.Line, ep.Column)
		}
		out = append(out, p)
	}
	return out, comments
}

func expect(t *testing.T, got []parsed, want ...parsed) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d statements, want %d:\n%s", len(got), len(want), list(got))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.text != w.text || g.at != w.at || (w.kind != "" && g.kind != w.kind) {
			t.Errorf("statement %d: got %v, want %v", i, g, w)
		}
		switch {
		case w.err == "" && g.err != "":
			t.Errorf("statement %d: unexpected syntax error at %s: %s", i, g.errAt, g.err)
		case w.err != "" && !strings.Contains(g.err, w.err):
			t.Errorf("statement %d: error %q, want one containing %q", i, g.err, w.err)
		case w.errAt != "" && g.errAt != w.errAt:
			t.Errorf("statement %d: error at %s, want %s", i, g.errAt, w.errAt)
		}
	}
}

func list(ps []parsed) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %v\n", p)
	}
	return b.String()
}

// Statement spans start at the statement's first token, never at the
// comments before it, and end at its last token, before the ';'.
func TestSpansStartAtFirstToken(t *testing.T) {
	src := "-- header comment\n" +
		"/* block\n   comment */\n" +
		"  ALTER TABLE users ADD COLUMN a int; -- trailing\n" +
		"\n" +
		"-- migsafe:ignore drop-table reason\n" +
		"DROP TABLE t /* inside */ ;\n" +
		"SELECT 1;SELECT 2 ;;  ; \n" +
		"   /* before */ SELECT 3 -- after, no semicolon\n"
	got, comments := parseAll(t, src)
	expect(t, got,
		parsed{text: "ALTER TABLE users ADD COLUMN a int", at: "4:3", kind: "ALTER TABLE"},
		parsed{text: "DROP TABLE t", at: "7:1", kind: "DROP"},
		parsed{text: "SELECT 1", at: "8:1", kind: "SELECT"},
		parsed{text: "SELECT 2", at: "8:10", kind: "SELECT"},
		parsed{text: "SELECT 3", at: "9:17", kind: "SELECT"},
	)
	var texts []string
	for _, c := range comments {
		if c.Text != src[c.Span.Start:c.Span.End] {
			t.Errorf("comment text %q is not its span's %q", c.Text, src[c.Span.Start:c.Span.End])
		}
		texts = append(texts, c.Text)
	}
	want := []string{"-- header comment", "/* block\n   comment */", "-- trailing", "-- migsafe:ignore drop-table reason", "/* inside */", "/* before */", "-- after, no semicolon"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("comments:\n got %q\nwant %q", texts, want)
	}
}

// Lines and columns are 1-based; columns count code points, not bytes.
func TestPositionsCountCodePoints(t *testing.T) {
	src := "COMMENT ON TABLE t IS 'é ü';   SELECT 'ñ'; SELECT 1;\n" +
		"\t  -- ⌘ comment\n" +
		"CREATE TABLE \"zoë\" (id int);"
	got, _ := parseAll(t, src)
	expect(t, got,
		parsed{text: "COMMENT ON TABLE t IS 'é ü'", at: "1:1"},
		parsed{text: "SELECT 'ñ'", at: "1:32"},
		parsed{text: "SELECT 1", at: "1:44"},
		parsed{text: "CREATE TABLE \"zoë\" (id int)", at: "3:1"},
	)
}

// CRLF line ends: a line ends at "\r\n" and the '\r' is in no statement and
// no comment.
func TestCRLF(t *testing.T) {
	src := "-- first\r\nALTER TABLE users\r\n    ADD COLUMN a int;\r\n\r\n-- migsafe:ignore drop-table x\r\nDROP TABLE t;\r\nSELECT 1\r\n"
	got, comments := parseAll(t, src)
	expect(t, got,
		parsed{text: "ALTER TABLE users\r\n    ADD COLUMN a int", at: "2:1"},
		parsed{text: "DROP TABLE t", at: "6:1"},
		parsed{text: "SELECT 1", at: "7:1"},
	)
	for _, c := range comments {
		if strings.ContainsAny(c.Text, "\r\n") {
			t.Errorf("comment %q holds a line terminator", c.Text)
		}
	}
	if len(comments) != 2 {
		t.Errorf("got %d comments, want 2", len(comments))
	}
	li := analyzer.NewLineIndex([]byte(src))
	if got := li.LineText(3); got != "    ADD COLUMN a int;" {
		t.Errorf("line 3 is %q", got)
	}
}

// A syntax error in the middle of a file is one statement with the parser's
// message at the parser's position; the statements before and after it are
// parsed as usual.
func TestSyntaxErrorInTheMiddle(t *testing.T) {
	src := "ALTER TABLE a ADD COLUMN x int;\n" +
		"-- the next one is broken\n" +
		"ALTER TABLE b\n    ADD COLUMN;\n" +
		"DROP TABLE c;\n" +
		"CREAT TABLE d (id int);\n" +
		"DROP TABLE e"
	got, _ := parseAll(t, src)
	expect(t, got,
		parsed{text: "ALTER TABLE a ADD COLUMN x int", at: "1:1", kind: "ALTER TABLE"},
		parsed{text: "ALTER TABLE b\n    ADD COLUMN", at: "3:1", err: `syntax error at or near ";"`, errAt: "4:15"},
		parsed{text: "DROP TABLE c", at: "5:1", kind: "DROP"},
		parsed{text: "CREAT TABLE d (id int)", at: "6:1", err: `syntax error at or near "CREAT"`, errAt: "6:1"},
		parsed{text: "DROP TABLE e", at: "7:1", kind: "DROP"},
	)
}

// Every statement of a file may be broken; each one is reported on its own.
func TestEveryStatementBroken(t *testing.T) {
	got, _ := parseAll(t, "a;\nb c;\n  d e f")
	expect(t, got,
		parsed{text: "a", at: "1:1", err: `syntax error at or near "a"`, errAt: "1:1"},
		parsed{text: "b c", at: "2:1", err: `syntax error at or near "b"`, errAt: "2:1"},
		parsed{text: "d e f", at: "3:3", err: `syntax error at or near "d"`, errAt: "3:3"},
	)
}

// The error position counts characters, so it stays right after
// multi-byte text.
func TestSyntaxErrorAfterMultibyte(t *testing.T) {
	got, _ := parseAll(t, "SELECT 'ééé';\nSELECT 'ü' 'ö' FROM WHERE;")
	expect(t, got,
		parsed{text: "SELECT 'ééé'", at: "1:1"},
		parsed{text: "SELECT 'ü' 'ö' FROM WHERE", at: "2:1", err: `syntax error at or near "'ö'"`, errAt: "2:12"},
	)
}

// An unterminated literal or comment runs to the end of the file: the
// statement it is in does not parse, and everything before it does.
func TestUnterminated(t *testing.T) {
	cases := []struct {
		name, src string
		want      []parsed
	}{
		{"quoted string", "SELECT 1;\n-- c\nINSERT INTO t VALUES ('abc);\nDROP TABLE x;\n", []parsed{
			{text: "SELECT 1", at: "1:1"},
			{text: "INSERT INTO t VALUES ('abc);\nDROP TABLE x;", at: "3:1", err: "unterminated quoted string", errAt: "3:23"},
		}},
		{"escape string", "SELECT E'it\\'s;", []parsed{
			{text: "SELECT E'it\\'s;", at: "1:1", err: "unterminated quoted string", errAt: "1:8"},
		}},
		{"dollar quote", "SELECT 1;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$\n  SELECT 1;\n$bod$;\n", []parsed{
			{text: "SELECT 1", at: "1:1"},
			{text: "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$\n  SELECT 1;\n$bod$;", at: "2:1", err: "unterminated dollar-quoted string", errAt: "2:49"},
		}},
		{"quoted identifier", "SELECT \"abc FROM t;", []parsed{
			{text: "SELECT \"abc FROM t;", at: "1:1", err: "unterminated quoted identifier", errAt: "1:8"},
		}},
		{"block comment", "SELECT 1; /* never /* nested */ closed\nSELECT 2;", []parsed{
			{text: "SELECT 1", at: "1:1"},
			{text: "/* never /* nested */ closed\nSELECT 2;", at: "1:11", err: "unterminated /* comment", errAt: "1:11"},
		}},
		{"alone", "'", []parsed{
			{text: "'", at: "1:1", err: "unterminated quoted string", errAt: "1:1"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, comments := parseAll(t, c.src)
			expect(t, got, c.want...)
			last := got[len(got)-1]
			for _, cm := range comments {
				if strings.Contains(last.text, cm.Text) && cm.Text != "" && strings.Index(c.src, cm.Text) >= strings.Index(c.src, last.text) {
					t.Errorf("comment %q inside the unterminated statement is reported as a comment", cm.Text)
				}
			}
		})
	}
}

// A SQL-standard function body holds semicolons that do not end the
// statement, CASE … END included.
func TestBeginAtomic(t *testing.T) {
	src := "CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE\n" +
		"BEGIN ATOMIC\n" +
		"  SELECT CASE WHEN a > b THEN a ELSE b END;\n" +
		"  SELECT a + b; -- comment; with a semicolon\n" +
		"END;\n" +
		"CREATE PROCEDURE p() LANGUAGE sql begin atomic insert into t values (1); end;\n" +
		"ALTER TABLE t ADD COLUMN c int;\n" +
		"BEGIN;\n" +
		"SELECT 1;\n" +
		"END;\n"
	got, _ := parseAll(t, src)
	expect(t, got,
		parsed{text: src[:strings.Index(src, "\nEND;\n")+4], at: "1:1", kind: "CREATE FUNCTION"},
		parsed{text: "CREATE PROCEDURE p() LANGUAGE sql begin atomic insert into t values (1); end", at: "6:1", kind: "CREATE FUNCTION"},
		parsed{text: "ALTER TABLE t ADD COLUMN c int", at: "7:1", kind: "ALTER TABLE"},
		parsed{text: "BEGIN", at: "8:1", kind: "TRANSACTION"},
		parsed{text: "SELECT 1", at: "9:1"},
		parsed{text: "END", at: "10:1", kind: "TRANSACTION"},
	)
}

// A broken BEGIN ATOMIC body is one syntax error, not one per inner
// statement.
func TestBeginAtomicBroken(t *testing.T) {
	src := "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELEC 1;\n  SELECT 2;\nEND;\nSELECT 3;"
	got, _ := parseAll(t, src)
	expect(t, got,
		parsed{text: src[:strings.Index(src, "END;")+3], at: "1:1", err: `syntax error at or near "SELEC"`, errAt: "3:3"},
		parsed{text: "SELECT 3", at: "6:1"},
	)
}

// Parse sees only its range (one part of a goose or dbmate file), and every
// offset is a file offset.
func TestRange(t *testing.T) {
	src := "-- +goose Up\nALTER TABLE a ADD COLUMN x int;\nDROP TABLE b;\n-- +goose Down\nALTER TABLE a DROP COLUMN x;\n"
	start := strings.Index(src, "ALTER")
	end := strings.Index(src, "-- +goose Down")
	got, comments := parseRange(t, src, analyzer.Span{Start: start, End: end})
	expect(t, got,
		parsed{text: "ALTER TABLE a ADD COLUMN x int", at: "2:1"},
		parsed{text: "DROP TABLE b", at: "3:1"},
	)
	if len(comments) != 0 {
		t.Errorf("comments outside the range: %v", comments)
	}
	got, comments = parseRange(t, src, analyzer.Span{Start: end, End: len(src)})
	expect(t, got, parsed{text: "ALTER TABLE a DROP COLUMN x", at: "5:1"})
	if len(comments) != 1 || comments[0].Text != "-- +goose Down" {
		t.Errorf("comments: %v", comments)
	}
	// a range that cuts a string in two: the part sees an unterminated string
	cut := strings.Index(src, "TABLE b")
	got, _ = parseRange(t, src, analyzer.Span{Start: start, End: cut + 2})
	if len(got) != 2 || got[1].err == "" {
		t.Errorf("a part cut in the middle of a statement: %v", got)
	}
}

// Empty input, input with only comments and whitespace, and lone
// semicolons hold no statement.
func TestNothingToParse(t *testing.T) {
	for _, src := range []string{"", "   \n\t", "-- only a comment", "/* c */ ;; ; -- x\n;", "\r\n\r\n"} {
		got, _ := parseAll(t, src)
		if len(got) != 0 {
			t.Errorf("%q: got statements %v", src, got)
		}
	}
}

// NUL bytes never reach the C parser (it would stop reading there).
func TestNUL(t *testing.T) {
	got, _ := parseAll(t, "SELECT 1;\x00\nDROP TABLE t;")
	if len(got) != 2 || got[1].text != "DROP TABLE t" || got[1].err != "" {
		t.Errorf("got %v", got)
	}
}

// A byte order mark is removed by whoever reads the file; if one reaches
// the parser anyway it is a syntax error, not a crash.
func TestStrayBOM(t *testing.T) {
	got, _ := parseAll(t, "SELECT 1;\n\ufeffSELECT 2;")
	if len(got) != 2 || got[0].err != "" || got[1].err == "" {
		t.Errorf("got %v", got)
	}
}

// Statements go to the parser in windows; positions, clause spans and
// syntax errors are right on both sides of every window boundary.
func TestWindows(t *testing.T) {
	var b strings.Builder
	const n = 3000
	for i := range n {
		if i%700 == 699 {
			fmt.Fprintf(&b, "ALTER TABLE t%d ADD COLUMN;\n", i)
			continue
		}
		fmt.Fprintf(&b, "-- %d\nALTER TABLE t%d ADD COLUMN a int,\n  DROP COLUMN b;\n", i, i)
	}
	src := b.String()
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	stmts, comments := d.Parse([]byte(src), analyzer.Span{Start: 0, End: len(src)})
	if len(stmts) != n {
		t.Fatalf("got %d statements, want %d", len(stmts), n)
	}
	li := analyzer.NewLineIndex([]byte(src))
	for i, s := range stmts {
		text := src[s.Span.Start:s.Span.End]
		if i%700 == 699 {
			if s.SyntaxError == nil || text != fmt.Sprintf("ALTER TABLE t%d ADD COLUMN", i) {
				t.Fatalf("statement %d: %q, error %v", i, text, s.SyntaxError)
			}
			continue
		}
		if s.SyntaxError != nil || len(s.Changes) != 2 {
			t.Fatalf("statement %d: %q: error %v, %d changes", i, text, s.SyntaxError, len(s.Changes))
		}
		add, drop := s.Changes[0].Base().Span, s.Changes[1].Base().Span
		if got := src[add.Start:add.End]; got != "ADD COLUMN a int" {
			t.Fatalf("statement %d: ADD clause %q", i, got)
		}
		if got := src[drop.Start:drop.End]; got != "DROP COLUMN b" {
			t.Fatalf("statement %d: DROP clause %q", i, got)
		}
		if p := li.Position(drop.Start); p.Column != 3 {
			t.Fatalf("statement %d: DROP clause at %d:%d", i, p.Line, p.Column)
		}
	}
	if len(comments) != n-n/700 {
		t.Errorf("got %d comments", len(comments))
	}
}

// A file where no statement parses (a MySQL dump given to the PostgreSQL
// dialect) costs one parse per statement, not one per statement for every
// statement after it: 20,000 broken statements (1 MB) took 80 seconds when
// every error re-parsed the rest of the file.
func TestManyBrokenStatementsAreCheap(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "ALTER TABLE `users_%d` ADD COLUMN `c` int AFTER `b`;\n", i)
	}
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stmts, _ := d.Parse([]byte(b.String()), analyzer.Span{Start: 0, End: b.Len()})
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("parsing took %v", el)
	}
	if len(stmts) != 20000 {
		t.Fatalf("got %d statements", len(stmts))
	}
	for i, s := range stmts {
		if s.SyntaxError == nil || !strings.Contains(s.SyntaxError.Message, "at or near \"`\"") {
			t.Fatalf("statement %d: %v", i, s.SyntaxError)
		}
	}
}
