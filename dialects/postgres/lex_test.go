package postgres

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// structural reduces a token stream to what migsafe uses: comments,
// punctuation, and where words and literals start and end.
func structural(toks []token) []string {
	var out []string
	for _, t := range toks {
		var k string
		switch t.kind {
		case tokComment, tokCComment:
			k = "comment"
		case tokSemicolon:
			k = ";"
		case tokComma:
			k = ","
		case tokLParen:
			k = "("
		case tokRParen:
			k = ")"
		case tokWord, tokQuotedID:
			k = "word"
		case tokString:
			k = "string"
		default:
			continue
		}
		out = append(out, fmt.Sprintf("%s@%d-%d", k, t.start, t.end))
	}
	return out
}

func structuralPG(ts []*pg_query.ScanToken) []string {
	var out []string
	for _, t := range ts {
		var k string
		switch {
		case t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT:
			k = "comment"
		case t.Token == pg_query.Token_ASCII_59:
			k = ";"
		case t.Token == pg_query.Token_ASCII_44:
			k = ","
		case t.Token == pg_query.Token_ASCII_40:
			k = "("
		case t.Token == pg_query.Token_ASCII_41:
			k = ")"
		case t.Token == pg_query.Token_IDENT || t.KeywordKind != pg_query.KeywordKind_NO_KEYWORD:
			k = "word"
		case t.Token == pg_query.Token_SCONST || t.Token == pg_query.Token_BCONST || t.Token == pg_query.Token_XCONST || t.Token == pg_query.Token_USCONST:
			k = "string"
		case t.Token == pg_query.Token_UIDENT:
			k = "word"
		default:
			continue
		}
		out = append(out, fmt.Sprintf("%s@%d-%d", k, t.Start, t.End))
	}
	return out
}

// TestLexMatchesPostgres compares migsafe's lexer with PostgreSQL's own
// scanner (through pg_query) on inputs written to hit the corners, and on
// every PostgreSQL file of the shared corpus when it is present.
func TestLexMatchesPostgres(t *testing.T) {
	inputs := map[string]string{
		"basic":     "SELECT 1; -- c\nALTER TABLE t ADD COLUMN c int, DROP COLUMN d;",
		"nested":    "/* a /* nested */ comment */ SELECT 'it''s', E'it\\'s', \"a\"\"b\", $$x; y$$, $tag$ $$ ; $tag$, $1, b'01', x'FF', U&'d\\0061t', n'x';",
		"ops":       "SELECT a::int, b-->c, d/*x*/+1, e||f, 1.5e3, .5, 1..2, x[1:2], 'a' 'b' FROM t WHERE a<>b AND c!=d;",
		"crlf":      "SELECT 1;\r\n-- x\r\nSELECT 2;\r\n",
		"unicode":   "CREATE TABLE é (ñ text); COMMENT ON TABLE é IS 'ü';",
		"atomic":    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;",
		"unterm":    "SELECT 1; SELECT 'abc",
		"untermdol": "SELECT $x$ abc",
		"untermcom": "SELECT 1 /* abc",
		"untermid":  "SELECT \"abc",
	}
	check := func(t *testing.T, name string, src []byte) {
		toks, lerr := lex(src)
		pg, perr := pg_query.Scan(string(src))
		if (lerr == nil) != (perr == nil) {
			t.Fatalf("%s: lex error %v, PostgreSQL error %v", name, lerr, perr)
		}
		if lerr != nil {
			want := errorOffset(src, perr, -1)
			if lerr.off != want {
				t.Errorf("%s: lex error at %d, PostgreSQL at %d (%v)", name, lerr.off, want, perr)
			}
			return
		}
		got, want := structural(toks), structuralPG(pg.Tokens)
		if len(got) != len(want) {
			t.Errorf("%s: %d structural tokens, PostgreSQL %d", name, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("%s: token %d is %s, PostgreSQL says %s", name, i, got[i], want[i])
				break
			}
		}
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) { check(t, name, []byte(in)) })
	}
	files, _ := filepath.Glob("../../../shared/corpus/*/postgres/*.sql")
	more, _ := filepath.Glob("../../../shared/corpus/*/any/*.sql")
	files = append(files, more...)
	if len(files) == 0 {
		t.Log("corpus absent: only the hand-written inputs were compared")
		return
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(t, f, src)
	}
}

// TestLexRefusesOver2GiB: tokens keep int32 offsets, so a text longer than
// 2 GiB is refused before a byte of it is read (the slice's length is
// all the check looks at).
func TestLexRefusesOver2GiB(t *testing.T) {
	var b [1]byte
	huge := unsafe.Slice(&b[0], math.MaxInt32+1)
	toks, lerr := lex(huge)
	if lerr == nil || len(toks) != 0 || !strings.Contains(lerr.msg, "2 GiB") {
		t.Fatalf("lex of 2 GiB + 1 byte: %d tokens, %v", len(toks), lerr)
	}
}
