//go:build !amd64

package pgtree

import (
	"errors"
	"unsafe"
)

// CReadable reports whether FromC can read libpg_query's C parse trees on
// this architecture: ctree_gen.go holds amd64's layout, so here the tree
// goes through protobuf (Decode).
const CReadable = false

// FromC is not available on this architecture (see CReadable).
func FromC(unsafe.Pointer, int) (*ParseResult, error) {
	return nil, errors.New("parse tree: reading libpg_query's C tree is only supported on amd64")
}
