package postgres

import (
	"bytes"
	"errors"
	"sort"
	"unicode/utf8"

	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// source is one part of a file being parsed: the masked text (bytes outside
// the part blanked so every offset is a file offset) and its tokens.
type source struct {
	text   []byte
	tokens []token
	// segs are the statements as the lexer splits them: token index
	// ranges [from, to) without the terminating ';'.
	segs []segment
}

type segment struct {
	from, to int // token indexes
	start    int // byte offset of the first token
	end      int // byte offset after the last token (before ';')
	next     int // byte offset after the ';' (or end)
	depth    int // depthBound of its tokens
}

// mask returns a copy of src with everything outside rng, and every NUL byte,
// replaced by a space. Newlines are kept so that line numbers never move.
// When there is nothing to replace it returns src itself.
func mask(src []byte, rng analyzer.Span) []byte {
	if rng.Start <= 0 && rng.End >= len(src) && bytes.IndexByte(src, 0) < 0 {
		return src // nothing to mask (the parser only reads it)
	}
	out := make([]byte, len(src))
	copy(out, src)
	for i := range out {
		if (i < rng.Start || i >= rng.End) && out[i] != '\n' {
			out[i] = ' '
		}
		if out[i] == 0 {
			out[i] = ' '
		}
	}
	return out
}

// Parse implements analyzer.Dialect. Statement boundaries and comments come
// from migsafe's lexer (lex.go, tested against PostgreSQL's own scanner);
// the statements themselves are parsed by PostgreSQL's parser.
func (d *Dialect) Parse(src []byte, rng analyzer.Span) ([]*analyzer.Statement, []analyzer.Comment) {
	s := &source{text: mask(src, rng)}
	var tail *analyzer.Statement
	toks, lerr := lex(s.text)
	s.tokens = toks
	if lerr != nil {
		// An unterminated literal or comment: the statement it is in, to
		// the end of the part, does not parse; everything before is lexed.
		// That statement starts at its first token after the last ';'
		// (comments before it stay comments), or at the literal itself.
		start := lerr.off
		for i := len(toks) - 1; i >= 0 && toks[i].kind != tokSemicolon; i-- {
			if !isCommentTok(toks[i]) {
				start = int(toks[i].start)
			}
		}
		if start > lerr.off || start < rng.Start {
			start = lerr.off
		}
		tail = &analyzer.Statement{
			Span:        change.Span{Start: start, End: trimRight(s.text, rng.End)},
			Kind:        "unparsable",
			SyntaxError: &analyzer.SyntaxError{Message: lerr.msg, Offset: lerr.off},
		}
		s.tokens = tokensBefore(toks, start)
		s.text = mask(s.text, analyzer.Span{Start: 0, End: start})
	}
	s.split()
	var comments []analyzer.Comment
	for _, t := range s.tokens {
		if t.kind == tokComment || t.kind == tokCComment {
			// a line comment cut by the end of the part runs on over the
			// blanked text after it: stop it at the part's end
			sp := change.Span{Start: int(t.start), End: trimRight(s.text, min(int(t.end), rng.End))}
			comments = append(comments, analyzer.Comment{Span: sp, Text: string(src[sp.Start:sp.End])})
		}
	}
	var stmts []*analyzer.Statement
	if len(s.segs) > 0 {
		stmts = d.parseSegments(s)
	}
	if tail != nil {
		stmts = append(stmts, tail)
	}
	return stmts, comments
}

func tokensBefore(ts []token, off int) []token {
	i := sort.Search(len(ts), func(i int) bool { return int(ts[i].start) >= off })
	return ts[:i]
}

func trimRight(b []byte, end int) int {
	if end > len(b) {
		end = len(b)
	}
	for end > 0 && isSpace(b[end-1]) {
		end--
	}
	return end
}

func isCommentTok(t token) bool { return t.kind == tokComment || t.kind == tokCComment }

// split cuts the token stream into statements at top-level semicolons. A
// SQL-standard function body (BEGIN ATOMIC … END) holds semicolons of its
// own; they do not end the statement.
func (s *source) split() {
	from := -1
	depth := 0 // BEGIN ATOMIC / CASE nesting
	lastReal := -1
	flush := func(next int) {
		if from >= 0 && lastReal >= from {
			s.segs = append(s.segs, segment{
				from: from, to: lastReal + 1,
				start: int(s.tokens[from].start), end: int(s.tokens[lastReal].end), next: next,
				depth: depthBound(s.text, s.tokens[from:lastReal+1]),
			})
		}
		from, lastReal, depth = -1, -1, 0
	}
	for i, t := range s.tokens {
		if isCommentTok(t) {
			continue
		}
		if t.kind == tokSemicolon && depth == 0 {
			flush(int(t.end))
			continue
		}
		if from < 0 {
			from = i
		}
		lastReal = i
		switch {
		case keyword(s.text, t, "BEGIN"):
			if j := nextReal(s.tokens, i); j >= 0 && keyword(s.text, s.tokens[j], "ATOMIC") {
				depth++
			}
		case depth > 0 && keyword(s.text, t, "CASE"):
			depth++
		case depth > 0 && keyword(s.text, t, "END"):
			depth--
		}
	}
	flush(len(s.text))
}

// nextReal returns the index of the next token after i that is not a comment.
func nextReal(ts []token, i int) int {
	for j := i + 1; j < len(ts); j++ {
		if !isCommentTok(ts[j]) {
			return j
		}
	}
	return -1
}

// Windows: the statements are handed to PostgreSQL's parser a window at a
// time, at most maxWindowBytes of text (or one statement, if larger) and at
// most maxWindowStmts statements. A window the parser rejects is split at
// the statement holding the error, so one bad statement never hides the
// others; after an error the window starts again at one statement and
// doubles with each window that parses. A file where every statement is
// broken therefore costs one parse per statement, and a huge file never
// goes to the parser, or sits in memory as one parse tree, in one piece.
const (
	maxWindowBytes = 1 << 20
	maxWindowStmts = 1024
)

// parseSegments parses every segment of s.
func (d *Dialect) parseSegments(s *source) []*analyzer.Statement {
	out := make([]*analyzer.Statement, 0, len(s.segs))
	w := maxWindowStmts
	for lo := 0; lo < len(s.segs); {
		if s.segs[lo].depth > maxDepth {
			// never handed to the parser
			out = append(out, d.unparsable(s, lo, tooDeep(s.segs[lo].depth), s.segs[lo].start, false))
			lo, w = lo+1, 1
			continue
		}
		hi := lo + 1
		for hi < len(s.segs) && hi-lo < w && s.segs[hi].next-s.segs[lo].start <= maxWindowBytes && s.segs[hi].depth <= maxDepth {
			hi++
		}
		stmts, bad := d.parseWindow(s, lo, hi)
		switch {
		case bad < 0:
			out = append(out, stmts...)
			lo, w = hi, min(2*w, maxWindowStmts)
			continue
		case bad == hi:
			// an error without a position in a window of several
			// statements: which one it belongs to is unknown, so
			// parse the halves apart rather than blame the first
			mid := lo + (hi-lo)/2
			out = append(out, d.parseSegmentsIn(s, lo, mid)...)
			out = append(out, d.parseSegmentsIn(s, mid, hi)...)
			lo, w = hi, 1
			continue
		}
		// stmts is the broken statement; the ones before it in the window
		// were read by the parser without complaint: parse them again on
		// their own (a window that parses, as a rule)
		if bad > lo {
			out = append(out, d.parseSegmentsIn(s, lo, bad)...)
		}
		out = append(out, stmts...)
		lo, w = bad+1, 1
	}
	return out
}

// parseSegmentsIn parses segments [lo, hi) like parseSegments.
func (d *Dialect) parseSegmentsIn(s *source, lo, hi int) []*analyzer.Statement {
	sub := &source{text: s.text, tokens: s.tokens, segs: s.segs[lo:hi]}
	return d.parseSegments(sub)
}

// parseWindow parses the statements of segments [lo, hi). It returns them
// and -1, or, when the parser rejects the window, the statement holding the
// error (as a syntax-error statement) and its segment index, or nil and hi
// when the error has no position and the window holds several statements.
func (d *Dialect) parseWindow(s *source, lo, hi int) ([]*analyzer.Statement, int) {
	start, end := s.segs[lo].start, s.segs[hi-1].next
	text := s.text[start:end]
	depth := 0
	for _, sg := range s.segs[lo:hi] {
		depth = max(depth, sg.depth)
	}
	tree, err := parseText(text, depth+2)
	if err == nil {
		out := make([]*analyzer.Statement, 0, len(tree.Stmts))
		for _, raw := range tree.Stmts {
			out = append(out, d.statement(s, raw, start, end))
		}
		return out, -1
	}
	off := errorOffset(text, err, -1)
	if off < 0 && hi-lo > 1 {
		return nil, hi
	}
	at := start
	if off >= 0 {
		at += off
	}
	k := hi - 1
	for i := lo; i < hi; i++ {
		if at < s.segs[i].next {
			k = i
			break
		}
	}
	return []*analyzer.Statement{d.unparsable(s, k, err, at, true)}, k
}

// parseText is the parser parseWindow calls (a variable for tests).
var parseText = parseBounded

// unparsable is segment k as a statement rejected with err at offset at;
// hint adds syntaxHint (for the parser's own errors).
func (d *Dialect) unparsable(s *source, k int, err error, at int, hint bool) *analyzer.Statement {
	seg := s.segs[k]
	at = clamp(at, seg.start, seg.end)
	msg := err.Error()
	if hint {
		msg += d.syntaxHint(s.text, at)
	}
	return &analyzer.Statement{
		Span:        change.Span{Start: seg.start, End: seg.end},
		Kind:        "unparsable",
		SyntaxError: &analyzer.SyntaxError{Message: msg, Offset: at},
	}
}

// syntaxHint explains the syntax errors that are not the author's typo:
// psql meta-commands, and PostgreSQL 18 syntax, which the PostgreSQL 17
// parser migsafe embeds does not know.
func (d *Dialect) syntaxHint(text []byte, at int) string {
	switch {
	case at < len(text) && text[at] == '\\':
		return "; psql meta-commands (\\connect, \\set, …) are run by psql, not by the server: a migration tool sends them to the server, which rejects them"
	case d.target.Major >= 18:
		return "; if this is PostgreSQL 18 syntax (VIRTUAL generated columns, NOT NULL … NOT VALID, …): migsafe parses with PostgreSQL 17's grammar, so suppress the finding with -- migsafe:ignore syntax-error"
	}
	return ""
}

func clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// errorOffset converts the parser's 1-based character cursor into a byte
// offset.
func errorOffset(text []byte, err error, fallback int) int {
	var pe *pgparser.Error
	if !errors.As(err, &pe) || pe.Cursorpos <= 0 {
		return fallback
	}
	chars := pe.Cursorpos - 1
	off := 0
	for chars > 0 && off < len(text) {
		_, n := utf8.DecodeRune(text[off:])
		off += n
		chars--
	}
	return off
}

// statement builds a Statement from a RawStmt: the span starts at the first
// token (libpg_query 17 starts a statement right after the previous ';',
// comments included) and ends at the last token before the ';'.
//
// The parser saw only the window [from, to), so locations are relative to
// from, and the last statement's length is 0 (up to the end of the window).
func (d *Dialect) statement(s *source, raw *pgtree.RawStmt, from, to int) *analyzer.Statement {
	loc := from + int(raw.StmtLocation)
	end := to
	if raw.StmtLen > 0 {
		end = min(loc+int(raw.StmtLen), to)
	}
	i := sort.Search(len(s.tokens), func(i int) bool { return int(s.tokens[i].start) >= loc })
	for i < len(s.tokens) && isCommentTok(s.tokens[i]) {
		i++
	}
	j := sort.Search(len(s.tokens), func(j int) bool { return int(s.tokens[j].end) > end }) - 1
	for j > i && (isCommentTok(s.tokens[j]) || s.tokens[j].kind == tokSemicolon) {
		j--
	}
	st := &analyzer.Statement{}
	var toks []token
	if i < len(s.tokens) && j >= i {
		st.Span = change.Span{Start: int(s.tokens[i].start), End: int(s.tokens[j].end)}
		toks = s.tokens[i : j+1]
	} else {
		st.Span = change.Span{Start: loc, End: trimRight(s.text, end)}
	}
	t := &translator{d: d, src: s.text, toks: toks, stmt: st, base: from}
	t.translate(raw.Stmt)
	return st
}
