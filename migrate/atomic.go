package migrate

import (
	"strings"
	"unicode"
)

// atomicPG reports whether PostgreSQL runs a migration file all or
// nothing when golang-migrate sends it in one Exec: several statements run
// in one implicit transaction unless one of them controls the transaction
// (BEGIN, COMMIT, …), and a lone statement is atomic unless it cannot run
// in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, …), which leaves
// work behind when it fails. A failure of an atomic file applied nothing;
// an unfinished atomic file either committed whole or not at all.
// Unsure means false.
func atomicPG(sql string) bool {
	stmts, ok := splitPG(sql)
	if !ok {
		return false
	}
	for _, s := range stmts {
		w := strings.Fields(strings.ToUpper(s))
		if len(w) == 0 {
			continue
		}
		switch w[0] {
		case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE", "CALL", "DO":
			// CALL and DO may COMMIT inside a procedure
			return false
		}
		if len(stmts) == 1 {
			up := " " + strings.Join(w, " ") + " "
			for _, nt := range []string{" CONCURRENTLY ", "VACUUM ", "CREATE DATABASE ", "DROP DATABASE ", "ALTER SYSTEM ", "CREATE TABLESPACE ", "DROP TABLESPACE ", "ALTER TYPE "} {
				if strings.Contains(up, nt) {
					return false
				}
			}
		}
	}
	return true
}

// splitPG splits SQL into statements, skipping comments, quoted strings,
// quoted identifiers and dollar-quoted bodies; false when it cannot tell
// (an unterminated quote).
func splitPG(s string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			cur.WriteByte(' ')
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth := 0
			for i < len(s) {
				if strings.HasPrefix(s[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(s[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			if depth != 0 {
				return nil, false
			}
			cur.WriteByte(' ')
		case c == '\'' || c == '"':
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], c)
				if k < 0 {
					return nil, false
				}
				j += k + 1
				if j < len(s) && s[j] == c { // doubled quote
					j++
					continue
				}
				break
			}
			cur.WriteString(" x ")
			i = j
		case c == '$':
			// $tag$ … $tag$
			j := i + 1
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || (j > i+1 && unicode.IsDigit(rune(s[j])))) {
				j++
			}
			if j < len(s) && s[j] == '$' {
				tag := s[i : j+1]
				k := strings.Index(s[j+1:], tag)
				if k < 0 {
					return nil, false
				}
				cur.WriteString(" x ")
				i = j + 1 + k + len(tag)
			} else {
				cur.WriteByte(c)
				i++
			}
		case c == ';':
			flush()
			i++
		default:
			cur.WriteByte(c)
			i++
		}
	}
	flush()
	return out, true
}
