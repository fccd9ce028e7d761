package migrations

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
)

// flywayCutoff is how many leading words Flyway reads of a statement to
// decide whether it can run in a transaction; past them it can.
const flywayCutoff = 10

// FlywayNonTransactional returns what Flyway calls a PostgreSQL statement
// that must run outside a transaction ("CREATE INDEX CONCURRENTLY",
// "VACUUM", …), or "" for one it runs inside a migration's transaction.
//
// Flyway decides by the statement's leading words, not by what PostgreSQL
// refuses in a transaction block (its PostgreSQLParser): CREATE or DROP
// [UNIQUE] INDEX CONCURRENTLY, CREATE or DROP DATABASE, TABLESPACE or
// SUBSCRIPTION, ALTER SYSTEM, REINDEX [VERBOSE] SCHEMA, DATABASE or SYSTEM,
// VACUUM, DISCARD ALL, and ALTER TYPE … ADD VALUE before PostgreSQL 12.
// REINDEX … CONCURRENTLY and DETACH PARTITION … CONCURRENTLY are not in
// the list: Flyway runs them in the transaction, where they fail.
func FlywayNonTransactional(stmt string, t analyzer.Target) string {
	w := leadingWords(stmt, flywayCutoff)
	at := func(i int, s ...string) bool {
		for j, x := range s {
			if i+j >= len(w) || w[i+j] != x {
				return false
			}
		}
		return true
	}
	switch {
	case len(w) == 0:
		return ""
	case (at(0, "CREATE") || at(0, "DROP")) && (at(1, "INDEX", "CONCURRENTLY") || at(1, "UNIQUE", "INDEX", "CONCURRENTLY")):
		return w[0] + " INDEX CONCURRENTLY"
	case (at(0, "CREATE") || at(0, "DROP")) && (at(1, "DATABASE") || at(1, "TABLESPACE") || at(1, "SUBSCRIPTION")):
		return w[0] + " " + w[1]
	case at(0, "ALTER", "SYSTEM"):
		return "ALTER SYSTEM"
	case at(0, "REINDEX"):
		i := 1
		if at(1, "VERBOSE") {
			i = 2
		}
		if at(i, "SCHEMA") || at(i, "DATABASE") || at(i, "SYSTEM") {
			return "REINDEX " + w[i]
		}
	case at(0, "VACUUM"):
		return "VACUUM"
	case at(0, "DISCARD", "ALL"):
		return "DISCARD ALL"
	case at(0, "ALTER", "TYPE") && !t.AtLeast(12, 0, 0):
		for i := 2; i+1 < len(w); i++ {
			if at(i, "ADD", "VALUE") {
				return "ALTER TYPE … ADD VALUE"
			}
		}
	}
	return ""
}

// leadingWords returns up to n unquoted words of stmt outside
// parentheses, upper-cased, as Flyway's parser collects its keywords:
// comments, string literals (also dollar-quoted) and quoted identifiers
// are skipped.
func leadingWords(stmt string, n int) []string {
	var out []string
	depth := 0
	for i := 0; i < len(stmt) && len(out) < n; {
		c := stmt[i]
		switch {
		case c == '-' && strings.HasPrefix(stmt[i:], "--"):
			j := strings.IndexByte(stmt[i:], '\n')
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(stmt[i:], "/*"):
			// PostgreSQL's block comments nest
			nest := 0
			for i < len(stmt) {
				if strings.HasPrefix(stmt[i:], "/*") {
					nest++
					i += 2
				} else if strings.HasPrefix(stmt[i:], "*/") {
					nest--
					i += 2
					if nest == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(stmt[i+1:], c)
			if j < 0 {
				return out
			}
			i += j + 2
		case c == '$':
			// $tag$ … $tag$
			j := strings.IndexByte(stmt[i+1:], '$')
			if j < 0 || !isTag(stmt[i+1:i+1+j]) {
				i++
				continue
			}
			tag := stmt[i : i+j+2]
			k := strings.Index(stmt[i+len(tag):], tag)
			if k < 0 {
				return out
			}
			i += len(tag) + k + len(tag)
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			i++
		case isWordByte(c):
			j := i
			for j < len(stmt) && (isWordByte(stmt[j]) || stmt[j] == '.') {
				j++
			}
			if depth == 0 {
				out = append(out, strings.ToUpper(stmt[i:j]))
			}
			i = j
		default:
			i++
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isTag(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) || (i == 0 && s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}
