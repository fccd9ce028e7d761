package postgres

import (
	"math"
	"unicode/utf8"
)

// tokKind classifies the tokens migsafe needs from PostgreSQL's lexical
// structure: statement boundaries, comments, and the punctuation and
// keywords that delimit clauses. Everything else is a word, a literal or an
// operator.
type tokKind uint8

const (
	tokWord      tokKind = iota + 1 // identifier or keyword, unquoted
	tokQuotedID                     // "identifier"
	tokString                       // 'string', E'…', B'…', X'…', U&'…', $$…$$
	tokNumber                       // 123, 1.5e3
	tokParam                        // $1
	tokOp                           // operators: + - * / < > = ~ ! @ # % ^ & | ` ? :: and so on
	tokComment                      // -- line comment
	tokCComment                     // /* block comment */ (nested)
	tokSemicolon                    // ;
	tokComma                        // ,
	tokLParen                       // (
	tokRParen                       // )
	tokLBracket                     // [
	tokRBracket                     // ]
	tokDot                          // .
	tokStar                         // * (a lone asterisk)
	tokColon                        // :
)

// token is a lexical token: a byte range of the source.
type token struct {
	start, end int32 // byte offsets (a migration is at most 2 GiB)
	kind       tokKind
}

// mkTok is a token from int offsets. Tokens are kept as int32 offsets: a
// file's tokens then take half the memory (the lexer was an eighth of a
// run's allocations).
func mkTok(start, end int, kind tokKind) token { return token{int32(start), int32(end), kind} }

// lexError is an unterminated literal or comment, at the offset where it
// starts; the message follows PostgreSQL's wording.
type lexError struct {
	off int
	msg string
}

func (e *lexError) Error() string { return e.msg }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isOpChar is PostgreSQL's "op_chars".
func isOpChar(c byte) bool {
	switch c {
	case '~', '!', '@', '#', '^', '&', '|', '`', '?', '+', '-', '*', '/', '%', '<', '>', '=':
		return true
	}
	return false
}

// lex splits src into tokens following PostgreSQL's scanner (scan.l) closely
// enough for statement boundaries, comments and clause punctuation, with
// standard_conforming_strings on (the default since PostgreSQL 9.1). It
// stops at the first unterminated literal or comment and returns the tokens
// before it.
func lex(src []byte) ([]token, *lexError) {
	if len(src) > math.MaxInt32 {
		return nil, &lexError{0, "the file is larger than 2 GiB, more than migsafe's lexer reads"}
	}
	// migrations average 13 bytes a token (the shared corpus): room for
	// one every 8 bytes grows once at most for most files, where one every
	// 4 allocated three times what was used (a sixth of a run's memory)
	toks := make([]token, 0, len(src)/8+1)
	i, n := 0, len(src)
	for i < n {
		c := src[i]
		if isSpace(c) {
			i++
			continue
		}
		if len(toks) == cap(toks) {
			// double (append grows a large slice by a quarter, which
			// leaves about four times its size behind as garbage: a
			// pathological file of two-byte tokens took 61 times its size)
			toks = append(make([]token, 0, 2*cap(toks)), toks...)
		}
		start := i
		switch {
		case c == '-' && i+1 < n && src[i+1] == '-':
			for i < n && src[i] != '\n' && src[i] != '\r' {
				i++
			}
			toks = append(toks, mkTok(start, i, tokComment))
			continue
		case c == '/' && i+1 < n && src[i+1] == '*':
			depth := 0
			for i < n {
				if src[i] == '/' && i+1 < n && src[i+1] == '*' {
					depth++
					i += 2
				} else if src[i] == '*' && i+1 < n && src[i+1] == '/' {
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
				return toks, &lexError{start, `unterminated /* comment at or near "` + near(src, start) + `"`}
			}
			toks = append(toks, mkTok(start, i, tokCComment))
			continue
		case c == '\'':
			end, ok := quoted(src, i, '\'', false)
			if !ok {
				return toks, &lexError{start, `unterminated quoted string at or near "` + near(src, start) + `"`}
			}
			i = end
			toks = append(toks, mkTok(start, i, tokString))
			continue
		case c == '"':
			end, ok := quoted(src, i, '"', false)
			if !ok {
				return toks, &lexError{start, `unterminated quoted identifier at or near "` + near(src, start) + `"`}
			}
			i = end
			toks = append(toks, mkTok(start, i, tokQuotedID))
			continue
		case (c == 'e' || c == 'E') && i+1 < n && src[i+1] == '\'':
			end, ok := quoted(src, i+1, '\'', true)
			if !ok {
				return toks, &lexError{start, `unterminated quoted string at or near "` + near(src, start) + `"`}
			}
			i = end
			toks = append(toks, mkTok(start, i, tokString))
			continue
		case (c == 'b' || c == 'B' || c == 'x' || c == 'X') && i+1 < n && src[i+1] == '\'':
			end, ok := quoted(src, i+1, '\'', false)
			if !ok {
				what := "quoted string"
				switch c {
				case 'b', 'B':
					what = "bit string literal"
				case 'x', 'X':
					what = "hexadecimal string literal"
				}
				return toks, &lexError{start, "unterminated " + what + ` at or near "` + near(src, start) + `"`}
			}
			i = end
			toks = append(toks, mkTok(start, i, tokString))
			continue
		case (c == 'u' || c == 'U') && i+2 < n && src[i+1] == '&' && (src[i+2] == '\'' || src[i+2] == '"'):
			q := src[i+2]
			end, ok := quoted(src, i+2, q, false)
			if !ok {
				return toks, &lexError{start, `unterminated quoted string at or near "` + near(src, start) + `"`}
			}
			i = end
			kind := tokString
			if q == '"' {
				kind = tokQuotedID
			}
			toks = append(toks, mkTok(start, i, kind))
			continue
		case c == '$':
			if i+1 < n && isDigit(src[i+1]) {
				i++
				for i < n && isDigit(src[i]) {
					i++
				}
				toks = append(toks, mkTok(start, i, tokParam))
				continue
			}
			if tagEnd, ok := dollarTag(src, i); ok {
				tag := src[i:tagEnd]
				j := tagEnd
				found := -1
				for j < n {
					if src[j] == '$' && hasPrefixAt(src, j, tag) {
						found = j
						break
					}
					j++
				}
				if found < 0 {
					return toks, &lexError{start, `unterminated dollar-quoted string at or near "` + near(src, start) + `"`}
				}
				i = found + len(tag)
				toks = append(toks, mkTok(start, i, tokString))
				continue
			}
			i++
			toks = append(toks, mkTok(start, i, tokOp))
			continue
		case isIdentStart(c):
			for i < n && isIdentCont(src[i]) {
				i++
			}
			toks = append(toks, mkTok(start, i, tokWord))
			continue
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(src[i+1])):
			i = number(src, i)
			toks = append(toks, mkTok(start, i, tokNumber))
			continue
		}
		i++
		switch c {
		case ';':
			toks = append(toks, mkTok(start, i, tokSemicolon))
		case ',':
			toks = append(toks, mkTok(start, i, tokComma))
		case '(':
			toks = append(toks, mkTok(start, i, tokLParen))
		case ')':
			toks = append(toks, mkTok(start, i, tokRParen))
		case '[':
			toks = append(toks, mkTok(start, i, tokLBracket))
		case ']':
			toks = append(toks, mkTok(start, i, tokRBracket))
		case '.':
			if i < n && src[i] == '.' { // ..
				i++
				toks = append(toks, mkTok(start, i, tokOp))
			} else {
				toks = append(toks, mkTok(start, i, tokDot))
			}
		case ':':
			if i < n && (src[i] == ':' || src[i] == '=') { // :: :=
				i++
				toks = append(toks, mkTok(start, i, tokOp))
			} else {
				toks = append(toks, mkTok(start, i, tokColon))
			}
		default:
			if !isOpChar(c) {
				// a byte PostgreSQL would reject; keep it as an operator
				// so that the parser reports it
				toks = append(toks, mkTok(start, i, tokOp))
				continue
			}
			// an operator runs over op chars, but stops before a comment
			for i < n && isOpChar(src[i]) {
				if (src[i] == '-' && i+1 < n && src[i+1] == '-') || (src[i] == '/' && i+1 < n && src[i+1] == '*') {
					break
				}
				i++
			}
			if i-start == 1 && c == '*' {
				toks = append(toks, mkTok(start, i, tokStar))
			} else {
				toks = append(toks, mkTok(start, i, tokOp))
			}
		}
	}
	return toks, nil
}

// quoted scans a literal quoted with q starting at src[i] == q. Doubled
// quotes escape a quote; with backslash set, so does \' (E” strings).
func quoted(src []byte, i int, q byte, backslash bool) (int, bool) {
	n := len(src)
	i++
	for i < n {
		switch {
		case backslash && src[i] == '\\' && i+1 < n:
			i += 2
		case src[i] == q:
			if i+1 < n && src[i+1] == q {
				i += 2
				continue
			}
			return i + 1, true
		default:
			i++
		}
	}
	return n, false
}

// dollarTag recognises $tag$ at src[i] and returns the end of the opening
// delimiter.
func dollarTag(src []byte, i int) (int, bool) {
	j := i + 1
	if j < len(src) && src[j] == '$' {
		return j + 1, true
	}
	if j >= len(src) || !(isIdentStart(src[j])) {
		return 0, false
	}
	for j < len(src) && (isIdentStart(src[j]) || isDigit(src[j])) {
		j++
	}
	if j < len(src) && src[j] == '$' {
		return j + 1, true
	}
	return 0, false
}

func hasPrefixAt(src []byte, i int, p []byte) bool {
	if i+len(p) > len(src) {
		return false
	}
	for k := range p {
		if src[i+k] != p[k] {
			return false
		}
	}
	return true
}

func number(src []byte, i int) int {
	n := len(src)
	if src[i] == '0' && i+1 < n && (src[i+1] == 'x' || src[i+1] == 'X' || src[i+1] == 'o' || src[i+1] == 'O' || src[i+1] == 'b' || src[i+1] == 'B') {
		i += 2
		for i < n && (isIdentCont(src[i])) {
			i++
		}
		return i
	}
	for i < n && (isDigit(src[i]) || src[i] == '_') {
		i++
	}
	if i < n && src[i] == '.' && (i+1 >= n || src[i+1] != '.') {
		i++
		for i < n && (isDigit(src[i]) || src[i] == '_') {
			i++
		}
	}
	if i < n && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < n && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < n && isDigit(src[j]) {
			i = j
			for i < n && isDigit(src[i]) {
				i++
			}
		}
	}
	return i
}

// near returns the text of a literal for error messages, like PostgreSQL's
// "at or near" (to the end of the input, cut short).
func near(src []byte, off int) string {
	end := len(src)
	if end-off > 40 {
		end = off + 40
		for end > off && !utf8.RuneStart(src[end]) {
			end--
		}
	}
	return string(src[off:end])
}

// keyword reports whether a word token is the given upper-case keyword.
func keyword(src []byte, t token, kw string) bool {
	if t.kind != tokWord || int(t.end-t.start) != len(kw) {
		return false
	}
	for k := 0; k < len(kw); k++ {
		c := src[int(t.start)+k]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[k] {
			return false
		}
	}
	return true
}
