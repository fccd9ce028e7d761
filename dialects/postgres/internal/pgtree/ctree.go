//go:build amd64

package pgtree

import (
	"bytes"
	"os"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// CReadable reports whether FromC can read libpg_query's C parse trees on
// this architecture (ctree_gen.go holds amd64's layout).
const CReadable = true

// FromC reads the raw parse tree libpg_query's parser returns (a C List
// of RawStmt, nil for no statements) into the ParseResult its protobuf
// output decodes to, nesting messages at most limit deep as Decode does.
// The tree must stay alive (its memory context not deleted) until FromC
// returns; FromC copies every string it keeps.
func FromC(list unsafe.Pointer, limit int) (*ParseResult, error) {
	depth := limit
	if depth--; depth < 0 {
		return nil, errPBDepth
	}
	r := &ParseResult{Version: cVersion}
	cells, n := cCells(list)
	if n == 0 {
		return r, nil
	}
	r.Stmts = make([]*RawStmt, n)
	for i := range n {
		r.Stmts[i] = &RawStmt{}
		if q := cCell(cells, i); q != nil {
			if err := cRawStmt(q, depth, r.Stmts[i]); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// cCells returns a List's cells and their number (none for nil).
func cCells(q unsafe.Pointer) (unsafe.Pointer, int) {
	if q == nil {
		return nil, 0
	}
	n := *(*int32)(unsafe.Add(q, cOffList_length))
	if n <= 0 {
		return nil, 0
	}
	return *(*unsafe.Pointer)(unsafe.Add(q, cOffList_elements)), int(n)
}

// cCell returns the pointer in cell i.
func cCell(cells unsafe.Pointer, i int) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(cells, i*8))
}

// cItems reads the nodes of the List at q (nil for NIL); a NULL member
// is an empty Node, as libpg_query writes it.
func cItems(q unsafe.Pointer, depth int) ([]*Node, error) {
	cells, n := cCells(q)
	if n == 0 {
		return nil, nil
	}
	items := make([]*Node, n)
	for i := range n {
		c := cCell(cells, i)
		if c == nil {
			items[i] = &Node{}
			continue
		}
		x, err := cNode(c, depth)
		if err != nil {
			return nil, err
		}
		items[i] = x
	}
	return items, nil
}

// pageSize bounds how far cStr looks at once: never past the page of the
// byte it has reached, which is mapped.
var pageSize = uintptr(os.Getpagesize())

// cStr copies the NUL-terminated string at q ("" for NULL), refusing
// invalid UTF-8 as the protobuf decoder does.
func cStr(q unsafe.Pointer) (string, error) {
	if q == nil {
		return "", nil
	}
	n := 0
	for {
		at := unsafe.Add(q, n)
		room := int(pageSize - uintptr(at)%pageSize)
		i := bytes.IndexByte(unsafe.Slice((*byte)(at), room), 0)
		if i >= 0 {
			n += i
			break
		}
		n += room
	}
	s := unsafe.String((*byte)(q), n)
	if !utf8.ValidString(s) {
		return "", errPBString
	}
	return strings.Clone(s), nil
}

// cChar reads a C char member as libpg_query writes it: "" for 0, else a
// string of that byte.
func cChar(p unsafe.Pointer, off uintptr) (string, error) {
	c := *(*byte)(unsafe.Add(p, off))
	switch {
	case c == 0:
		return "", nil
	case c >= utf8.RuneSelf:
		return "", errPBString
	}
	return string(rune(c)), nil
}

// cBitmapset returns the members of the Bitmapset at q in order.
func cBitmapset(q unsafe.Pointer) []uint64 {
	if q == nil {
		return nil
	}
	var out []uint64
	n := int(*(*int32)(unsafe.Add(q, cOffBitmapset_nwords)))
	for w := range n {
		word := *(*uint64)(unsafe.Add(q, cOffBitmapset_words+uintptr(w)*8))
		for b := range 64 {
			if word&(1<<b) != 0 {
				out = append(out, uint64(w*64+b))
			}
		}
	}
	return out
}

func cInteger(p unsafe.Pointer, depth int, m *Integer) error {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Ival = *(*int32)(unsafe.Add(p, cOffInteger_ival))
	return nil
}

func cFloat(p unsafe.Pointer, depth int, m *Float) (err error) {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Fval, err = cStr(*(*unsafe.Pointer)(unsafe.Add(p, cOffFloat_fval)))
	return err
}

func cBoolean(p unsafe.Pointer, depth int, m *Boolean) error {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Boolval = *(*uint8)(unsafe.Add(p, cOffBoolean_boolval)) != 0
	return nil
}

func cString(p unsafe.Pointer, depth int, m *String) (err error) {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Sval, err = cStr(*(*unsafe.Pointer)(unsafe.Add(p, cOffString_sval)))
	return err
}

func cBitString(p unsafe.Pointer, depth int, m *BitString) (err error) {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Bsval, err = cStr(*(*unsafe.Pointer)(unsafe.Add(p, cOffBitString_bsval)))
	return err
}

func cList(p unsafe.Pointer, depth int, m *List) (err error) {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Items, err = cItems(p, depth)
	return err
}

// cIntList and cOidList read no members: libpg_query's writer would read
// each integer as a node pointer, so a tree holding one could not have
// been written as protobuf either (TestCTree meets none in the corpus).
func cIntList(_ unsafe.Pointer, depth int, _ *IntList) error {
	if depth-1 < 0 {
		return errPBDepth
	}
	return nil
}

func cOidList(_ unsafe.Pointer, depth int, _ *OidList) error {
	if depth-1 < 0 {
		return errPBDepth
	}
	return nil
}

// cA_Const reads an A_Const: its value is a union of the value nodes,
// told apart by their tag.
func cA_Const(p unsafe.Pointer, depth int, m *A_Const) error {
	if depth--; depth < 0 {
		return errPBDepth
	}
	m.Isnull = *(*uint8)(unsafe.Add(p, cOffAConst_isnull)) != 0
	m.Location = *(*int32)(unsafe.Add(p, cOffAConst_location))
	if m.Isnull {
		return nil
	}
	v := unsafe.Add(p, cOffAConst_val)
	var err error
	switch *(*int32)(v) {
	case tagInteger:
		x := &Integer{}
		err = cInteger(v, depth, x)
		m.Val = &A_Const_Ival{Ival: x}
	case tagFloat:
		x := &Float{}
		err = cFloat(v, depth, x)
		m.Val = &A_Const_Fval{Fval: x}
	case tagBoolean:
		x := &Boolean{}
		err = cBoolean(v, depth, x)
		m.Val = &A_Const_Boolval{Boolval: x}
	case tagString:
		x := &String{}
		err = cString(v, depth, x)
		m.Val = &A_Const_Sval{Sval: x}
	case tagBitString:
		x := &BitString{}
		err = cBitString(v, depth, x)
		m.Val = &A_Const_Bsval{Bsval: x}
	}
	return err
}
