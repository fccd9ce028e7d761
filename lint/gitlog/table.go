package gitlog

import (
	"slices"
	"strings"
)

// table is a set of repository paths, each with a value, sorted as git
// sorts them (bytewise: the index and a stored walk are in that order
// already). A history's parts come in about the order of their names, so
// a look-up with a Cursor starts where the last one ended and usually
// finds the path there or next: a map of 200,000 paths cost a random
// memory access or two each (0.2 µs), and as much again to build.
type table[V any] struct {
	paths []string
	vals  []V
}

// A Cursor is where the last look-up in a table ended (one per
// goroutine; the zero Cursor starts at the top).
type Cursor struct{ i int }

// sortTable sorts t by path when it is not sorted already, keeping the
// last of equal paths.
func (t *table[V]) sortTable() {
	sorted := true
	for i := 1; i < len(t.paths); i++ {
		if t.paths[i] <= t.paths[i-1] {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	order := make([]int, len(t.paths))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(t.paths[a], t.paths[b]) })
	paths, vals := make([]string, 0, len(order)), make([]V, 0, len(order))
	for _, i := range order {
		if n := len(paths); n > 0 && paths[n-1] == t.paths[i] {
			vals[n-1] = t.vals[i] // the last wins
			continue
		}
		paths, vals = append(paths, t.paths[i]), append(vals, t.vals[i])
	}
	t.paths, t.vals = paths, vals
}

// find returns the index of p, starting from c (nil: a binary search).
func (t *table[V]) find(p string, c *Cursor) (int, bool) {
	if c != nil {
		// next, or a little behind: an up part comes before its down
		// part, which git sorts first
		for i := max(c.i-2, 0); i < len(t.paths) && i < c.i+2; i++ {
			if t.paths[i] == p {
				c.i = i + 1
				return i, true
			}
		}
	}
	i, ok := slices.BinarySearch(t.paths, p)
	if c != nil && ok {
		c.i = i + 1
	}
	return i, ok
}

// get returns p's value.
func (t *table[V]) get(p string, c *Cursor) (v V, ok bool) {
	i, ok := t.find(p, c)
	if ok {
		v = t.vals[i]
	}
	return v, ok
}

// has reports whether t has p.
func (t *table[V]) has(p string, c *Cursor) bool {
	_, ok := t.find(p, c)
	return ok
}
