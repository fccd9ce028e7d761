// Package nesting bounds, from a statement's tokens, how deep its parse
// tree can be, so that a dialect can refuse a statement whose parse would
// recurse deeper than is safe (the C stack of libpg_query) or build a tree
// far larger than its text (the TiDB parser: about 800 bytes a term of a
// chained expression).
package nesting

// Kind is what a token means to the bound.
type Kind int

const (
	// Other is any token that can be a node of the tree.
	Other Kind = iota
	// Skip is a token that is not (a comment).
	Skip
	// Open opens a parenthesised or bracketed group.
	Open
	// Close closes one.
	Close
	// Sep separates the elements of a flat list (a comma, a semicolon).
	Sep
	// SetOp is UNION, INTERSECT or EXCEPT: SELECT a, b UNION SELECT c, d
	// nests across the commas, so it counts for the whole group.
	SetOp
)

// Bound returns an upper bound, in tokens, on the depth of the parse tree
// of n tokens, token i being of kind(i). A tree's path from the root down
// passes through the tokens of one list element (lists, separated by Sep,
// are flat) and then into one group, so the bound of a group is the most
// tokens of any of its elements plus the bound of a group inside that
// element.
func Bound(n int, kind func(i int) Kind) int {
	type frame struct{ elem, child, best, setops int }
	result := func(f frame) int { return max(f.best, f.elem+f.child) + f.setops + 1 }
	stack := make([]frame, 1, 16)
	for i := range n {
		top := &stack[len(stack)-1]
		switch kind(i) {
		case Skip:
		case Open:
			top.elem++
			stack = append(stack, frame{})
		case Close:
			if len(stack) == 1 {
				top.elem++
				continue
			}
			b := result(*top)
			stack = stack[:len(stack)-1]
			p := &stack[len(stack)-1]
			p.child = max(p.child, b)
		case Sep:
			top.best = max(top.best, top.elem+top.child)
			top.elem, top.child = 0, 0
		case SetOp:
			top.elem++
			top.setops++
		default:
			top.elem++
		}
	}
	for len(stack) > 1 {
		b := result(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		p := &stack[len(stack)-1]
		p.child = max(p.child, b)
	}
	return result(stack[0])
}
