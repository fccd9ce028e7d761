package postgres

import (
	"bytes"
	"errors"
	"sort"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// source is one part of a file being parsed: the masked text (bytes outside
// the part blanked so every offset is a file offset) and its tokens.
type source struct {
	text   []byte
	tokens []*pg_query.ScanToken
	// segs are the statements as the scanner splits them: token index
	// ranges [from, to) without the terminating ';'.
	segs []segment
}

type segment struct {
	from, to int // token indexes
	start    int // byte offset of the first token
	end      int // byte offset after the last token (before ';')
	next     int // byte offset after the ';' (or end)
}

// mask returns a copy of src with everything outside rng, and every NUL byte,
// replaced by a space. Newlines are kept so that line numbers never move.
func mask(src []byte, rng analyzer.Span) []byte {
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

// Parse implements analyzer.Dialect.
func (d *Dialect) Parse(src []byte, rng analyzer.Span) ([]*analyzer.Statement, []analyzer.Comment) {
	s := &source{text: mask(src, rng)}
	var tail *analyzer.Statement
	toks, scanErr := pg_query.Scan(string(s.text))
	if scanErr != nil {
		// An unterminated literal: scan what comes before it; the rest of
		// the part is one statement that does not parse.
		at := errorOffset(s.text, scanErr, rng.Start)
		prefix := mask(s.text, analyzer.Span{Start: 0, End: at})
		if toks, err := pg_query.Scan(string(prefix)); err == nil {
			s.tokens = toks.GetTokens()
		}
		start := at
		// The broken statement starts after the last ';' before the error.
		for i := len(s.tokens) - 1; i >= 0; i-- {
			if s.tokens[i].Token == pg_query.Token_ASCII_59 {
				start = nextNonSpace(s.text, int(s.tokens[i].End))
				break
			}
			if i == 0 {
				start = int(s.tokens[0].Start)
			}
		}
		if start > at || start < rng.Start {
			start = at
		}
		tail = &analyzer.Statement{
			Span:        change.Span{Start: start, End: trimRight(s.text, rng.End)},
			Kind:        "unparsable",
			SyntaxError: &analyzer.SyntaxError{Message: scanErr.Error(), Offset: at},
		}
		// drop tokens of the broken statement
		s.tokens = tokensBefore(s.tokens, start)
		s.text = mask(s.text, analyzer.Span{Start: 0, End: start})
	} else {
		s.tokens = toks.GetTokens()
	}
	s.split()
	var comments []analyzer.Comment
	for _, t := range s.tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			sp := change.Span{Start: int(t.Start), End: int(t.End)}
			comments = append(comments, analyzer.Comment{Span: sp, Text: string(src[sp.Start:sp.End])})
		}
	}
	var stmts []*analyzer.Statement
	if len(s.segs) > 0 {
		stmts = d.parseWindow(s, 0, len(s.segs))
	}
	if tail != nil {
		stmts = append(stmts, tail)
	}
	if tail != nil && len(comments) > 0 {
		// comments inside the unterminated literal are not comments
		comments = commentsBefore(comments, tail.Span.Start)
	}
	return stmts, comments
}

func tokensBefore(ts []*pg_query.ScanToken, off int) []*pg_query.ScanToken {
	i := sort.Search(len(ts), func(i int) bool { return int(ts[i].Start) >= off })
	return ts[:i]
}

func commentsBefore(cs []analyzer.Comment, off int) []analyzer.Comment {
	var out []analyzer.Comment
	for _, c := range cs {
		if c.Span.End <= off {
			out = append(out, c)
		}
	}
	return out
}

func nextNonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == '\f') {
		i++
	}
	return i
}

func trimRight(b []byte, end int) int {
	if end > len(b) {
		end = len(b)
	}
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\n' || b[end-1] == '\r' || b[end-1] == '\f') {
		end--
	}
	return end
}

func isComment(t *pg_query.ScanToken) bool {
	return t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT
}

// split cuts the token stream into statements at top-level semicolons. A
// SQL-standard function body (BEGIN ATOMIC … END) holds semicolons of its
// own; they do not end the statement.
func (s *source) split() {
	from := -1
	depth := 0 // BEGIN ATOMIC / CASE nesting
	lastReal := -1
	flush := func(to, next int) {
		if from >= 0 && lastReal >= from {
			s.segs = append(s.segs, segment{
				from: from, to: lastReal + 1,
				start: int(s.tokens[from].Start), end: int(s.tokens[lastReal].End), next: next,
			})
		}
		from, lastReal, depth = -1, -1, 0
	}
	for i, t := range s.tokens {
		if isComment(t) {
			continue
		}
		if t.Token == pg_query.Token_ASCII_59 && depth == 0 {
			flush(i, int(t.End))
			continue
		}
		if from < 0 {
			from = i
		}
		lastReal = i
		switch t.Token {
		case pg_query.Token_BEGIN_P:
			if i+1 < len(s.tokens) && s.tokens[i+1].Token == pg_query.Token_ATOMIC {
				depth++
			}
		case pg_query.Token_CASE:
			if depth > 0 {
				depth++
			}
		case pg_query.Token_END_P:
			if depth > 0 {
				depth--
			}
		}
	}
	flush(len(s.tokens), len(s.text))
}

// parseWindow parses the statements of segments [lo, hi). When the parser
// rejects the window, the statement holding the error becomes a syntax-error
// statement and both sides are parsed again, so one bad statement never hides
// the others.
func (d *Dialect) parseWindow(s *source, lo, hi int) []*analyzer.Statement {
	if lo >= hi {
		return nil
	}
	start, end := s.segs[lo].start, s.segs[hi-1].next
	text := mask(s.text, analyzer.Span{Start: start, End: end})
	tree, err := pg_query.Parse(string(text))
	if err == nil {
		out := make([]*analyzer.Statement, 0, len(tree.Stmts))
		for _, raw := range tree.Stmts {
			out = append(out, d.statement(s, raw))
		}
		return out
	}
	at := errorOffset(text, err, start)
	k := hi - 1
	for i := lo; i < hi; i++ {
		if at < s.segs[i].next {
			k = i
			break
		}
	}
	seg := s.segs[k]
	msg := err.Error()
	bad := &analyzer.Statement{
		Span:        change.Span{Start: seg.start, End: seg.end},
		Kind:        "unparsable",
		SyntaxError: &analyzer.SyntaxError{Message: msg, Offset: clamp(at, seg.start, seg.end)},
	}
	out := d.parseWindow(s, lo, k)
	out = append(out, bad)
	return append(out, d.parseWindow(s, k+1, hi)...)
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
func (d *Dialect) statement(s *source, raw *pg_query.RawStmt) *analyzer.Statement {
	loc := int(raw.StmtLocation)
	end := len(s.text)
	if raw.StmtLen > 0 {
		end = loc + int(raw.StmtLen)
	}
	i := sort.Search(len(s.tokens), func(i int) bool { return int(s.tokens[i].Start) >= loc })
	for i < len(s.tokens) && isComment(s.tokens[i]) {
		i++
	}
	j := sort.Search(len(s.tokens), func(j int) bool { return int(s.tokens[j].End) > end }) - 1
	for j > i && (isComment(s.tokens[j]) || s.tokens[j].Token == pg_query.Token_ASCII_59) {
		j--
	}
	st := &analyzer.Statement{}
	if i < len(s.tokens) && j >= i {
		st.Span = change.Span{Start: int(s.tokens[i].Start), End: int(s.tokens[j].End)}
	} else {
		st.Span = change.Span{Start: loc, End: trimRight(s.text, end)}
	}
	toks := s.tokens[min(i, len(s.tokens)):max(min(j+1, len(s.tokens)), min(i, len(s.tokens)))]
	t := &translator{d: d, src: s.text, toks: toks, stmt: st}
	t.translate(raw.Stmt)
	return st
}

// equalFoldASCII compares a token's text with an upper-case keyword.
func equalFoldASCII(b []byte, kw string) bool { return bytes.EqualFold(b, []byte(kw)) }
