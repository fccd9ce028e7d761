// Package fuzzseed generates seed inputs for the fuzz targets: besides the
// small statements a fuzzer starts from, the shapes that broke migsafe
// before (issue 11): deeply nested expressions, thousands of statements on
// one line, many suppression comments, odd line endings and bytes that are
// not UTF-8. The fuzzer's own mutations rarely grow an input that large.
package fuzzseed

import (
	"fmt"
	"strings"
)

// SQL returns generated migrations for a dialect ("postgres" or "mysql").
func SQL(dialect string) [][]byte {
	rep := strings.Repeat
	drop := "ALTER TABLE users DROP COLUMN legacy;\n"
	var out []string
	// deep expressions, at sizes around the limits
	for _, n := range []int{100, 5_000, 12_000} {
		out = append(out,
			drop+"SELECT 1"+rep("+1", n)+";\n"+drop,
			"SELECT "+rep("(", n/10)+"1"+rep(")", n/10)+";",
			"SELECT "+rep("NOT ", n/5)+"true;",
			"ALTER TABLE users ADD COLUMN c int DEFAULT 1"+rep("::int", n/5)+";",
			"CREATE TABLE t (c int CHECK (c"+rep("||'a'", n/5)+" > 0));",
			"SELECT "+rep("f(", n/10)+"1"+rep(")", n/10)+";",
			"SELECT "+rep("CASE WHEN true THEN ", n/20)+"1"+rep(" END", n/20)+";",
		)
	}
	// many statements on one line, many lines, many suppressions
	out = append(out,
		rep("ALTER TABLE users DROP COLUMN c; ", 1_500),
		rep("ALTER TABLE users ADD COLUMN c int;\n", 3_000),
		rep("-- migsafe:ignore drop-column reviewed\nALTER TABLE users DROP COLUMN c;\n", 2_000),
		rep("ALTER TABLE users DROP COLUMN c; /* migsafe:ignore drop-column,missing-lock-timeout r */ ", 1_000),
		"INSERT INTO t VALUES "+rep("(1, 'x'), ", 20_000)+"(1, 'x');",
	)
	// line endings, encodings, markers
	out = append(out,
		"SELECT 1;\rALTER TABLE users DROP COLUMN c;\r-- migsafe:ignore drop-column r\rALTER TABLE users DROP COLUMN d;\r",
		"\ufeffALTER TABLE users DROP COLUMN c;\r\n",
		"ALTER TABLE \"\xff\xfe\" DROP COLUMN \"\x1b[31m\";\n",
		"ALTER TABLE \"a\n::warning::x\" DROP COLUMN \"b\r::error::y\";\n",
		"-- migsafe:deprecate users.legacy\n-- migsafe:ignore-file drop-column\n"+drop,
		"SELECT 1;\x00"+drop,
	)
	if dialect == "mysql" {
		out = append(out,
			"DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n"+drop,
			rep("ALTER TABLE users ADD COLUMN c INT, ALGORITHM=INSTANT;\n", 2_000),
			"# comment\n/*!40101 SET NAMES utf8 */;\n"+drop,
			"SELECT 1"+rep("+1", 20_000)+";\n"+drop,
		)
	} else {
		out = append(out,
			"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT 1"+rep("+1", 5_000)+"$$;\n",
			"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n"+drop,
			"BEGIN;\nSET LOCAL lock_timeout = '5s';\n"+drop+"COMMIT;\n",
		)
	}
	b := make([][]byte, len(out))
	for i, s := range out {
		b[i] = []byte(s)
	}
	return b
}

// Markers returns generated marker comments (suppression and deprecation).
func Markers() []string {
	out := []string{
		"migsafe:ignore drop-column reviewed",
		"migsafe:ignore MS201,missing-lock-timeout, unused-suppression reason: ok",
		"migsafe:ignore-file drop-column",
		"migsafe:deprecate users.legacy",
		"migsafe:deprecate public.users.legacy until 2030-01-01",
		"migsafe:deprecate users",
		"migsafe:ignore",
		"migsafe:ignorex drop-column",
		"migsafe:ignore \x1b[31m\n::warning::x",
		"migsafe:deprecate \"Users\".\"Legacy\"",
		"migsafe:ignore " + strings.Repeat("drop-column,", 2_000) + " r",
		"migsafe:deprecate " + strings.Repeat("a.", 2_000) + "b",
	}
	for i := 0; i < 3; i++ {
		out = append(out, fmt.Sprintf("migsafe:ignore %s %s", strings.Repeat("x", 10<<i), strings.Repeat("é\xff", 100<<i)))
	}
	return out
}
