package mysql

import (
	"bytes"
	"fmt"

	"github.com/migsafe/migsafe/internal/nesting"
)

// maxDepth is the deepest statement migsafe hands to the TiDB parser,
// bounded by nesting.Bound over its tokens. The parser builds about 800
// bytes of tree per term of a chained expression (SELECT 1+1+…+1): a
// 16 MiB file of one such chain took more than 6 GB and a minute before
// the bound. MySQL's own parser refuses such statements far earlier
// (thread_stack, 1 MiB by default).
const maxDepth = 20_000

// depthBound bounds the depth of the parse tree of a statement made of
// toks, tokens of text.
func depthBound(text []byte, toks []token) int {
	return nesting.Bound(len(toks), func(i int) nesting.Kind {
		t := toks[i]
		switch t.kind {
		case tokComment:
			return nesting.Skip
		case 0:
			return nesting.Sep // between the statements of a stored program's body
		case tokPunct:
			switch text[t.start] {
			case '(':
				return nesting.Open
			case ')':
				return nesting.Close
			case ',', ';':
				return nesting.Sep
			}
		case tokWord:
			w := text[t.start:t.end]
			if bytes.EqualFold(w, []byte("UNION")) || bytes.EqualFold(w, []byte("INTERSECT")) || bytes.EqualFold(w, []byte("EXCEPT")) {
				return nesting.SetOp
			}
		}
		return nesting.Other
	})
}

// rewrittenBound is depthBound of a statement as rewritten for the parser
// (versioned comments the target runs are plain text by then, so what
// they hold counts too).
func rewrittenBound(text []byte) int {
	segs, _ := scan(text, 0, len(text))
	if len(segs) == 1 {
		return depthBound(text, segs[0].toks)
	}
	var toks []token
	for i, sg := range segs {
		if i > 0 {
			toks = append(toks, token{})
		}
		toks = append(toks, sg.toks...)
	}
	return depthBound(text, toks)
}

// tooDeep is the error of a statement deeper than maxDepth.
func tooDeep(bound int) string {
	return fmt.Sprintf("statement nested too deeply to parse safely (about %d levels, the limit is %d): split the expression", bound, maxDepth)
}
