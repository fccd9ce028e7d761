package postgres_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/internal/fuzzseed"
)

// FuzzParse checks that Parse, Analyze and the catalog replay never panic
// and that what Parse returns is well-formed, whatever the input. As a
// plain test it runs the seeds below and every rule fixture; run it longer
// with
//
//	go test ./dialects/postgres -run '^$' -fuzz FuzzParse -fuzztime 2m
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		";",
		"SELECT 1",
		"ALTER TABLE t ADD COLUMN c int DEFAULT gen_random_uuid(), DROP COLUMN d;",
		"CREATE INDEX CONCURRENTLY i ON t (a); DROP INDEX i;",
		"BEGIN; SET LOCAL lock_timeout = '5s'; ALTER TABLE t ALTER c SET NOT NULL; COMMIT;",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;",
		"CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;",
		"SELECT 'unterminated",
		"SELECT $tag$ unterminated",
		"/* unterminated /* nested */",
		"SELECT \"unterminated",
		"SELECT E'\\'' , U&'\\0041' UESCAPE '!', b'01', x'1F';",
		"-- comment only\n",
		"ALTER TABLE a RENAME TO b; ALTER TABLE b RENAME COLUMN c TO d;",
		"CREATE SCHEMA s CREATE TABLE t (id int) CREATE INDEX ON t (id);",
		"ALTER TABLE t ADD CONSTRAINT c PRIMARY KEY USING INDEX i, ADD CONSTRAINT u UNIQUE (x);",
		"CREATE TABLE {{ index .Options \"Namespace\" }}.users (id uuid);",
		"\\connect db\nSELECT 1;",
		"SELECT 1;\r\nSELECT 2;\r\n",
		"\ufeffSELECT 1;",
		"SELECT '\xff\xfe';",
		"SELECT 1;\x00SELECT 2;",
		"ALTER TABLE t ALTER COLUMN c TYPE numeric(10,2) USING c::numeric; REINDEX TABLE CONCURRENTLY t; VACUUM FULL t; CLUSTER t;",
		"ALTER TABLE p DETACH PARTITION c CONCURRENTLY; ALTER TABLE p ATTACH PARTITION c FOR VALUES IN (1);",
		"SELECT set_config('lock_timeout', '1s', false); LOCK TABLE t IN SHARE MODE; TRUNCATE t CASCADE;",
		"ALTER TYPE e RENAME VALUE 'a' TO 'b'; ALTER TYPE e ADD VALUE 'c';",
		"CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, g int GENERATED ALWAYS AS (id * 2) STORED, EXCLUDE USING gist (id WITH =));",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(0), uint16(0xffff))
	}
	for _, s := range fuzzseed.SQL("postgres") {
		f.Add(s, uint16(0), uint16(0xffff))
	}
	fixtures, _ := filepath.Glob("../../fixtures/rules/*/postgres*/*.sql")
	more, _ := filepath.Glob("../../fixtures/dialects/postgres/*.sql")
	for _, p := range append(fixtures, more...) {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, uint16(0), uint16(0xffff))
		f.Add(src, uint16(len(src)/3), uint16(2*len(src)/3))
	}
	d, err := postgres.New("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte, a, b uint16) {
		lo, hi := min(int(a), len(src)), min(int(b), len(src))
		if lo > hi {
			lo, hi = hi, lo
		}
		rng := analyzer.Span{Start: lo, End: hi}
		stmts, comments := d.Parse(src, rng)
		prev := rng.Start
		for i, s := range stmts {
			sp := s.Span
			if sp.Start < prev || sp.End < sp.Start || sp.End > rng.End {
				t.Fatalf("statement %d: span %v outside the range %v or overlapping the previous one (ends %d)", i, sp, rng, prev)
			}
			prev = sp.End
			text := src[sp.Start:sp.End]
			if s.SyntaxError != nil {
				if o := s.SyntaxError.Offset; o < sp.Start || o > sp.End {
					t.Fatalf("statement %d: error offset %d outside its span %v", i, o, sp)
				}
				if s.SyntaxError.Message == "" {
					t.Fatalf("statement %d: syntax error without a message", i)
				}
				if len(s.Changes) != 0 {
					t.Fatalf("statement %d: a statement that does not parse has changes", i)
				}
				continue
			}
			if len(text) == 0 {
				t.Fatalf("statement %d: empty span %v", i, sp)
			}
			if isSpace(text[0]) || isSpace(text[len(text)-1]) || bytes.HasPrefix(text, []byte("--")) || bytes.HasPrefix(text, []byte("/*")) {
				t.Fatalf("statement %d: span %q starts or ends with a comment or white space", i, text)
			}
			if len(s.Changes) == 0 {
				t.Fatalf("statement %d (%s): no change; untranslated statements must be change.Unknown", i, s.Kind)
			}
			for _, ch := range s.Changes {
				if c := ch.Base().Span; c != (analyzer.Span{}) && (c.Start < sp.Start || c.End > sp.End || c.End < c.Start) {
					t.Fatalf("statement %d: change %T span %v outside the statement %v", i, ch, c, sp)
				}
			}
		}
		prev = rng.Start
		for i, c := range comments {
			if c.Span.Start < prev || c.Span.End > rng.End || c.Span.End <= c.Span.Start {
				t.Fatalf("comment %d: span %v outside the range %v or overlapping", i, c.Span, rng)
			}
			prev = c.Span.End
			if c.Text != string(src[c.Span.Start:c.Span.End]) {
				t.Fatalf("comment %d: text %q is not its span", i, c.Text)
			}
		}
		// Analyze and replay like the engine does.
		cat := catalog.New()
		for _, s := range stmts {
			d.Analyze(s, cat)
			for _, ch := range s.Changes {
				cat.Apply(ch, catalog.Origin{Path: "fuzz.sql", Deploy: 1, Stmt: s.Index})
			}
		}
		// Positions of every span are computable.
		if utf8.Valid(src) {
			li := analyzer.NewLineIndex(src)
			for _, s := range stmts {
				if p := li.Position(s.Span.Start); p.Line < 1 || p.Column < 1 {
					t.Fatalf("position %v", p)
				}
			}
		}
	})
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
