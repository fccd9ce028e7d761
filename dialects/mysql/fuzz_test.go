package mysql_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/internal/fuzzseed"
)

// FuzzParse checks that Parse, Analyze and the catalog replay never panic
// and that what Parse returns is well-formed, whatever the input: one
// statement the TiDB parser rejects (or panics on) is a syntax error, never
// a crash. As a plain test it runs the seeds and every MySQL rule fixture;
// run it longer with
//
//	go test ./dialects/mysql -run '^$' -fuzz FuzzParse -fuzztime 2m
func FuzzParse(f *testing.F) {
	seeds := []string{
		"", ";", ";;", "SELECT 1",
		"ALTER TABLE t ADD COLUMN c INT AFTER b, ALGORITHM=INSTANT, LOCK=NONE;",
		"ALTER TABLE t CHANGE a b VARCHAR(10) CHARACTER SET utf8mb4 FIRST, ALGORITHM=NOCOPY;",
		"ALTER ONLINE TABLE t ADD SPATIAL INDEX s (g), DROP PRIMARY KEY, ADD PRIMARY KEY (id);",
		"CREATE TABLE t (g POINT NOT NULL, SPATIAL KEY (g), FULLTEXT (b)) DEFAULT CHARSET=latin1;",
		"DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END$$\nDELIMITER ;\n",
		"DELIMITER\n", "DELIMITER ;;\nSELECT 1;;\nSELECT 2;", "delimiter $\nSELECT 1$",
		"CREATE PROCEDURE p() BEGIN DECLARE x INT; IF x THEN SELECT 1; END IF; END;",
		"SELECT 'unterminated", "SELECT \"unterminated", "SELECT `unterminated", "/* unterminated", "SELECT 1 # comment",
		"SELECT 'a\\'b', \"c\"\"d\", `e``f`;", "--x\nSELECT 1;", "-- \nSELECT 1;", "/*!40101 SET NAMES utf8 */;",
		"SET @@session.lock_wait_timeout = 5; SET foreign_key_checks = 0; SET @x = (SELECT 1);",
		"RENAME TABLE a TO b, c TO d; OPTIMIZE TABLE a; TRUNCATE b; DROP DATABASE x;",
		"ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, ENGINE=InnoDB, FORCE, ROW_FORMAT=DYNAMIC;",
		"ALTER TABLE t MODIFY e ENUM('a','b','c') NOT NULL DEFAULT 'a'; ALTER TABLE t ALTER COLUMN e DROP DEFAULT;",
		"CREATE INDEX i ON t (a) ALGORITHM=INPLACE LOCK=NONE; DROP INDEX i ON t ALGORITHM=INSTANT;",
		"ALTER TABLE t ADD COLUMN u CHAR(36) DEFAULT (UUID()), ADD COLUMN s INT AS (a + 1) STORED;",
		"SELECT 1;\r\nSELECT 2;\r\n", "SELECT '\xff\xfe';", "SELECT 1;\x00SELECT 2;",
		"PREPARE s FROM @q; EXECUTE s; DEALLOCATE PREPARE s;", "LOCK TABLES t WRITE; UNLOCK TABLES;",
		"BEGIN; INSERT INTO t VALUES (1); COMMIT; START TRANSACTION; ROLLBACK;",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(0), uint16(0xffff))
	}
	for _, s := range fuzzseed.SQL("mysql") {
		f.Add(s, uint16(0), uint16(0xffff))
	}
	fixtures, _ := filepath.Glob("../../fixtures/rules/*/mysql*/*.sql")
	for _, p := range fixtures {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, uint16(0), uint16(0xffff))
		f.Add(src, uint16(len(src)/3), uint16(2*len(src)/3))
	}
	dialects := []*mysql.Dialect{}
	for _, v := range []string{"", "mariadb-10.11"} {
		d, err := mysql.New(v)
		if err != nil {
			f.Fatal(err)
		}
		dialects = append(dialects, d)
	}
	f.Fuzz(func(t *testing.T, src []byte, a, b uint16) {
		lo, hi := min(int(a), len(src)), min(int(b), len(src))
		if lo > hi {
			lo, hi = hi, lo
		}
		rng := analyzer.Span{Start: lo, End: hi}
		d := dialects[int(a)%2]
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
				if s.SyntaxError.Message == "" || len(s.Changes) != 0 {
					t.Fatalf("statement %d: syntax error without a message, or with changes", i)
				}
				continue
			}
			if len(text) == 0 {
				t.Fatalf("statement %d: empty span %v", i, sp)
			}
			if isSpace(text[0]) || isSpace(text[len(text)-1]) || bytes.HasPrefix(text, []byte("-- ")) || bytes.HasPrefix(text, []byte("#")) {
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
		cat := catalog.New()
		for _, s := range stmts {
			d.Analyze(s, cat)
			d.CommitsImplicitly(s)
			for _, ch := range s.Changes {
				cat.Apply(ch, catalog.Origin{Path: "fuzz.sql", Deploy: 1, Stmt: s.Index})
			}
		}
	})
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0
}
