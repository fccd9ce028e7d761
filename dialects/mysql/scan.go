package mysql

import (
	"bytes"
	"strings"
)

// The scanner splits a MySQL migration into statements the way the mysql
// command-line client does: it knows strings ('…' and "…" with backslash
// escapes), backquoted identifiers, the three comment forms (-- followed by
// a space, #, /* … */), executable comments (/*! … */, /*M! … */ and
// optimizer hints /*+ … */, which are code, not comments), DELIMITER
// commands, and the BEGIN … END bodies of stored programs written without
// a DELIMITER change (which the server, and golang-migrate's multi-statement
// mode, accept). The parser then sees one statement at a time.

type tokKind uint8

const (
	tokWord    tokKind = iota + 1 // identifier or keyword (also numbers, variables)
	tokQuoted                     // `identifier`
	tokString                     // '…' or "…"
	tokPunct                      // one byte of punctuation
	tokComment                    // -- …, # …, /* … */
	tokExec                       // /*! … */, /*M! … */, /*+ … */
)

type token struct {
	kind       tokKind
	start, end int32 // byte offsets in the file (Parse refuses files of 2 GiB and more)
}

// stmtSeg is one statement as the scanner split it.
type stmtSeg struct {
	start, end int     // first to last token (no delimiter, no surrounding comments)
	toks       []token // the statement's tokens, comments inside included
	// lexErr is set when the statement runs into an unterminated string,
	// identifier or comment at the end of the part.
	lexErr    string
	lexErrOff int
}

var semicolon = []byte(";")

type scanner struct {
	src   []byte
	pos   int
	end   int
	delim []byte

	comments []token
	stmts    []stmtSeg
	cur      []token
	depth    int  // BEGIN … END nesting inside a stored program
	program  bool // the current statement creates a stored program
}

// scan splits src[start:end].
func scan(src []byte, start, end int) ([]stmtSeg, []token) {
	s := &scanner{src: src, pos: start, end: end, delim: semicolon}
	s.run()
	return s.stmts, s.comments
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v' || b == 0
}

func isWordByte(b byte) bool {
	return b == '_' || b == '$' || b == '@' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b >= 0x80
}

func (s *scanner) atDelim() bool {
	return bytes.HasPrefix(s.src[s.pos:s.end], s.delim)
}

// flush ends the current statement.
// handOff is the size from which a statement keeps the scanner's token
// buffer instead of a copy (a huge statement is not copied; small ones
// get slices of their size and the buffer is reused).
const handOff = 1 << 16

func (s *scanner) flush(lexErr string, lexErrOff int) {
	first, last := -1, -1
	for i, t := range s.cur {
		if t.kind == tokComment {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
	}
	if lexErr != "" {
		// the statement runs to the unterminated token, which may be a
		// comment after its last real token, or all there is
		start := lexErrOff
		if first >= 0 {
			start = min(start, int(s.cur[first].start))
		}
		end := s.pos
		for end > start && isSpace(s.src[end-1]) {
			end--
		}
		s.stmts = append(s.stmts, stmtSeg{start: start, end: end, toks: append([]token(nil), s.cur...), lexErr: lexErr, lexErrOff: lexErrOff})
	} else if first >= 0 {
		toks := s.cur[first : last+1 : last+1]
		if len(toks) < handOff {
			toks = append([]token(nil), toks...)
		}
		s.stmts = append(s.stmts, stmtSeg{
			start: int(s.cur[first].start), end: int(s.cur[last].end),
			toks: toks, lexErr: lexErr, lexErrOff: lexErrOff,
		})
		if len(toks) >= handOff {
			s.cur = nil // the statement keeps the buffer
		}
	}
	s.cur = s.cur[:0]
	s.depth, s.program = 0, false
}

func (s *scanner) emit(k tokKind, start int) {
	t := token{kind: k, start: int32(start), end: int32(s.pos)}
	if k == tokComment {
		s.comments = append(s.comments, t)
	}
	if len(s.cur) == cap(s.cur) && len(s.cur) >= handOff {
		// double a large buffer (append grows it by a quarter, which
		// leaves about four times its size behind as garbage)
		s.cur = append(make([]token, 0, 2*len(s.cur)), s.cur...)
	}
	s.cur = append(s.cur, t)
	if k == tokWord {
		s.word(t)
	}
}

// realCount is the number of non-comment tokens of the current statement.
func (s *scanner) real(i int) (token, bool) {
	n := 0
	for _, t := range s.cur {
		if t.kind == tokComment {
			continue
		}
		if n == i {
			return t, true
		}
		n++
	}
	return token{}, false
}

func (s *scanner) text(t token) string { return string(s.src[t.start:t.end]) }

// word tracks stored-program bodies: after CREATE [DEFINER=…] TRIGGER,
// PROCEDURE, FUNCTION or EVENT, semicolons inside BEGIN … END do not end the
// statement when the delimiter is still ';'.
func (s *scanner) word(t token) {
	w := strings.ToUpper(s.text(t))
	if !s.program {
		switch w {
		case "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT":
			s.program = s.createsProgram()
		}
		return
	}
	switch w {
	case "BEGIN":
		s.depth++
	case "CASE":
		if prev, ok := s.prevReal(); !ok || !strings.EqualFold(s.text(prev), "END") {
			s.depth++
		}
	case "END":
		if s.depth > 0 {
			s.depth--
		}
	case "IF", "LOOP", "WHILE", "REPEAT":
		// END IF / END LOOP …: the END already closed nothing of ours;
		// undo its decrement (those blocks did not increment).
		if prev, ok := s.prevReal(); ok && strings.EqualFold(s.text(prev), "END") {
			s.depth++
		}
	}
}

// createsProgram reports whether the statement so far is CREATE followed
// only by a definer clause, OR REPLACE, AGGREGATE or IF NOT EXISTS (so that a
// column named event in a CREATE TABLE does not count).
func (s *scanner) createsProgram() bool {
	n := 0
	for _, t := range s.cur[:len(s.cur)-1] {
		if t.kind == tokComment {
			continue
		}
		w := strings.ToUpper(s.text(t))
		if n == 0 && w != "CREATE" {
			return false
		}
		n++
		switch {
		case t.kind == tokQuoted, t.kind == tokString:
		case w == "CREATE", w == "DEFINER", w == "=", w == "@", w == "OR", w == "REPLACE", w == "AGGREGATE",
			w == "CURRENT_USER", w == "(", w == ")", w == "IF", w == "NOT", w == "EXISTS", w == "ALGORITHM",
			w == "UNDEFINED", w == "MERGE", w == "TEMPTABLE", w == "SQL", w == "SECURITY", w == "INVOKER":
		case t.kind == tokWord && strings.Contains(w, "@"):
		case t.kind == tokWord && n == 3: // DEFINER = user@host written bare
		default:
			return false
		}
	}
	return n > 0
}

// prevReal is the non-comment token before the last one.
func (s *scanner) prevReal() (token, bool) {
	seen := false
	for i := len(s.cur) - 1; i >= 0; i-- {
		if s.cur[i].kind == tokComment {
			continue
		}
		if !seen {
			seen = true
			continue
		}
		return s.cur[i], true
	}
	return token{}, false
}

func (s *scanner) noRealYet() bool {
	_, ok := s.real(0)
	return !ok
}

func (s *scanner) run() {
	for s.pos < s.end {
		c := s.src[s.pos]
		if isSpace(c) {
			s.pos++
			continue
		}
		start := s.pos
		// DELIMITER is a client command, recognised at the start of a statement.
		if s.noRealYet() && (c == 'd' || c == 'D') && s.delimiterCommand() {
			continue
		}
		if s.atDelim() && (s.depth == 0 || !bytes.Equal(s.delim, semicolon)) {
			s.pos += len(s.delim)
			s.flush("", 0)
			continue
		}
		switch {
		case c == '#':
			s.lineComment(start)
		case c == '-' && s.pos+1 < s.end && s.src[s.pos+1] == '-' && (s.pos+2 >= s.end || isSpace(s.src[s.pos+2]) || s.src[s.pos+2] < 0x20):
			s.lineComment(start)
		case c == '/' && s.pos+1 < s.end && s.src[s.pos+1] == '*':
			kind := tokComment
			rest := s.src[s.pos+2 : s.end]
			if bytes.HasPrefix(rest, []byte("!")) || bytes.HasPrefix(rest, []byte("+")) || bytes.HasPrefix(rest, []byte("M!")) {
				kind = tokExec
			}
			i := bytes.Index(s.src[s.pos+2:s.end], []byte("*/"))
			if i < 0 {
				s.pos = s.end
				s.emit(kind, start)
				s.flush("unterminated /* comment", start)
				return
			}
			s.pos += 2 + i + 2
			s.emit(kind, start)
		case c == '\'' || c == '"' || c == '`':
			if !s.quoted(c) {
				kind := tokString
				what := "string"
				if c == '`' {
					kind, what = tokQuoted, "quoted identifier"
				}
				s.emit(kind, start)
				s.flush("unterminated "+what+" starting here", start)
				return
			}
			if c == '`' {
				s.emit(tokQuoted, start)
			} else {
				s.emit(tokString, start)
			}
		case isWordByte(c):
			s.pos++
			for s.pos < s.end && isWordByte(s.src[s.pos]) {
				if !bytes.Equal(s.delim, semicolon) && s.atDelim() {
					break
				}
				s.pos++
			}
			s.emit(tokWord, start)
		default:
			s.pos++
			s.emit(tokPunct, start)
		}
	}
	s.flush("", 0)
}

// lineComment consumes a comment to the end of the line and emits it
// without a trailing CR.
func (s *scanner) lineComment(start int) {
	for s.pos < s.end && s.src[s.pos] != '\n' {
		s.pos++
	}
	end := s.pos
	for end > start && s.src[end-1] == '\r' {
		end--
	}
	t := token{kind: tokComment, start: int32(start), end: int32(end)}
	s.comments = append(s.comments, t)
	s.cur = append(s.cur, t)
}

// quoted consumes a quoted string or identifier; false when unterminated.
func (s *scanner) quoted(q byte) bool {
	s.pos++
	for s.pos < s.end {
		c := s.src[s.pos]
		switch {
		case c == '\\' && q != '`':
			s.pos += 2
		case c == q:
			if s.pos+1 < s.end && s.src[s.pos+1] == q {
				s.pos += 2
				continue
			}
			s.pos++
			return true
		default:
			s.pos++
		}
	}
	s.pos = s.end
	return false
}

// delimiterCommand handles "DELIMITER xx" (to the end of the line).
func (s *scanner) delimiterCommand() bool {
	const kw = "delimiter"
	if s.end-s.pos < len(kw)+1 || !strings.EqualFold(string(s.src[s.pos:s.pos+len(kw)]), kw) || !isSpace(s.src[s.pos+len(kw)]) || s.src[s.pos+len(kw)] == '\n' {
		return false
	}
	i := s.pos + len(kw)
	for i < s.end && (s.src[i] == ' ' || s.src[i] == '\t') {
		i++
	}
	j := i
	for j < s.end && !isSpace(s.src[j]) {
		j++
	}
	if j == i {
		return false
	}
	s.delim = append([]byte(nil), s.src[i:j]...)
	for j < s.end && s.src[j] != '\n' {
		j++
	}
	s.pos = j
	return true
}
