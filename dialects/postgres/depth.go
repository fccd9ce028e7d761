package postgres

import (
	"errors"
	"fmt"

	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
	"github.com/migsafe/migsafe/internal/nesting"
)

// PostgreSQL's parser, and libpg_query's conversion of its tree to
// protobuf, recurse once per level of the parse tree on the C stack, and
// libpg_query's stack-depth check is off (its stack base is never set): a
// statement like SELECT 1+1+…+1 with 30,000 terms overflows an 8 MB thread
// stack and kills the process. So before a statement reaches the parser,
// depthBound estimates its depth from migsafe's own tokens; a statement
// deeper than maxDepth is refused (a syntax-error finding on it, the other
// statements are parsed), and every parse runs with a stack of
// stackPerLevel bytes per level of the bound (cparse.go).
const (
	// maxDepth is the deepest statement migsafe parses (10,000 chained
	// terms). PostgreSQL's server refuses such statements itself ("stack
	// depth limit exceeded" with its default max_stack_depth of 2 MB), and
	// libpg_query's protobuf output takes time quadratic in the depth
	// (0.25 s for 8,000 terms, 3 s for 32,000), so the limit also bounds
	// the time one statement costs.
	maxDepth = 20_000
	// stackPerLevel is the C stack allowed per level of depthBound: about
	// three times the most any construct was measured to use
	// (TestParseStackBound; a NOT chain takes about 360 bytes a token).
	stackPerLevel = 1024
	// protoPerLevel is the protobuf nesting allowed per level of
	// depthBound when the tree is decoded (a chained operator is two
	// protobuf messages deep a term).
	protoPerLevel = 8
)

// depthBound returns an upper bound, in tokens, on the depth of the parse
// tree of the statements made of toks (nesting.Bound).
func depthBound(src []byte, toks []token) int {
	return nesting.Bound(len(toks), func(i int) nesting.Kind {
		switch t := toks[i]; t.kind {
		case tokComment, tokCComment:
			return nesting.Skip
		case tokLParen, tokLBracket:
			return nesting.Open
		case tokRParen, tokRBracket:
			return nesting.Close
		case tokComma, tokSemicolon:
			return nesting.Sep
		default:
			if keyword(src, t, "UNION") || keyword(src, t, "INTERSECT") || keyword(src, t, "EXCEPT") {
				return nesting.SetOp
			}
			return nesting.Other
		}
	})
}

// tooDeep is the error of a statement deeper than maxDepth.
func tooDeep(bound int) error {
	return fmt.Errorf("statement nested too deeply to parse safely (about %d levels, the limit is %d): split the expression", bound, maxDepth)
}

// parseBounded parses text, whose tree is at most bound levels deep, with
// the stack and protobuf limits that bound needs.
func parseBounded(text []byte, bound int) (*pgtree.ParseResult, error) {
	if bound > maxDepth {
		return nil, tooDeep(bound)
	}
	tree, _, err := cParse(text, uintptr(bound)*stackPerLevel, bound*protoPerLevel+1000, false)
	return tree, err
}

// parseString parses a piece of SQL found inside a statement (a function
// body), bounding it like a statement of the file.
func parseString(text string) (*pgtree.ParseResult, error) {
	src := []byte(text)
	for i, c := range src {
		if c == 0 {
			src[i] = ' '
		}
	}
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, errors.New(lerr.msg)
	}
	return parseBounded(src, depthBound(src, toks))
}
