//go:build !linux

package postgres

import (
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// cParse parses text on the calling thread: the stack switching of
// cparse.go is Linux-only (pthread_getattr_np, makecontext), so elsewhere
// only maxDepth bounds the stack the parse takes, which the thread's stack
// may not have. paint is not supported: no usage is reported.
func cParse(text []byte, _ uintptr, depth int, _ bool) (*pgtree.ParseResult, uintptr, error) {
	buf, err := pgparser.ParseToProtobuf(string(text))
	if err != nil {
		return nil, 0, err
	}
	tree, err := pgtree.Decode(buf, depth)
	if err != nil {
		return nil, 0, err
	}
	return tree, 0, nil
}
