// Package pgtree is libpg_query's parse tree as plain Go types, with
// pg_query_go's names, fields and getters (tree_gen.go), decoded from the
// protobuf bytes libpg_query gives (decode_gen.go); both are generated
// from pg_query_go's message descriptors by ../gentree. Importing
// pg_query_go's own types instead costs every run about 1 ms at start-up
// (registering their descriptors) and walks through protobuf reflection.
package pgtree

import (
	"errors"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

//go:generate go run ../gentree/cmd .

// Decode decodes libpg_query's protobuf parse tree, nesting messages at
// most limit deep. It gives what proto.Unmarshal gives into pg_query_go's
// types, except fields the schema does not know, which it drops
// (TestDecodeTree compares them over the corpus and the fixtures), faster
// (BenchmarkDecodeTree) and without the tables proto.Unmarshal builds on
// its first use of each message type.
func Decode(buf []byte, limit int) (*ParseResult, error) {
	return decParseResult(buf, limit, nil)
}

// Walk calls f on n and on every message under it, field by field in the
// order they are declared (TestWalkOrder), not descending into a message
// for which f returns false.
func Walk(n *Node, f func(any) bool) {
	n.walk(f)
}

var (
	errPBTruncated = errors.New("parse tree: truncated or malformed protobuf")
	errPBString    = errors.New("parse tree: truncated protobuf or a string that is not valid UTF-8")
	errPBDepth     = errors.New("parse tree: exceeded maximum recursion depth")
)

// consumeTag is protowire.ConsumeTag refusing a field number above
// protowire.MaxValidNumber, as proto.Unmarshal does (ConsumeTag takes any
// that fits an int32).
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && num > protowire.MaxValidNumber {
		return 0, 0, -1
	}
	return num, typ, n
}

// skipAll skips the fields of a message Decode does not know.
func skipAll(b []byte) error {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errPBTruncated
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return errPBTruncated
		}
		b = b[n:]
	}
	return nil
}

func consumeVarint(b *[]byte) (uint64, bool) {
	v, n := protowire.ConsumeVarint(*b)
	if n < 0 {
		return 0, false
	}
	*b = (*b)[n:]
	return v, true
}

func consumeBytes(b *[]byte) ([]byte, bool) {
	v, n := protowire.ConsumeBytes(*b)
	if n < 0 {
		return nil, false
	}
	*b = (*b)[n:]
	return v, true
}

// consumeString copies the string out of b (which may be C memory), and
// refuses invalid UTF-8 as proto.Unmarshal does for proto3 strings.
func consumeString(b *[]byte) (string, bool) {
	v, ok := consumeBytes(b)
	if !ok || !utf8.Valid(v) {
		return "", false
	}
	return string(v), true
}

func consumeDouble(b *[]byte) (float64, bool) {
	v, n := protowire.ConsumeFixed64(*b)
	if n < 0 {
		return 0, false
	}
	*b = (*b)[n:]
	return math.Float64frombits(v), true
}
