package gitlog

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTable: a table's look-ups, with a cursor or without, in order, in
// the order of a history's parts (an up part before its down part, which
// sorts first), at random and of paths it lacks, answer as a map of the
// same paths does; an unsorted table is sorted, the last of equal paths
// kept.
func TestTable(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	want := map[string]int{}
	var tb table[int]
	for i := range 3000 {
		p := fmt.Sprintf("db/%06d_m.%s.sql", r.IntN(2000), []string{"up", "down"}[r.IntN(2)])
		want[p] = i
		tb.paths, tb.vals = append(tb.paths, p), append(tb.vals, i)
	}
	tb.sortTable()
	for i := 1; i < len(tb.paths); i++ {
		if tb.paths[i] <= tb.paths[i-1] {
			t.Fatalf("not sorted at %d: %q after %q", i, tb.paths[i], tb.paths[i-1])
		}
	}
	var inOrder, parts, random []string
	for v := range 2100 {
		for _, d := range []string{"up", "down"} {
			parts = append(parts, fmt.Sprintf("db/%06d_m.%s.sql", v, d))
		}
	}
	inOrder = append(inOrder, tb.paths...)
	for range 5000 {
		random = append(random, parts[r.IntN(len(parts))])
	}
	for name, order := range map[string][]string{"in order": inOrder, "as parts": parts, "at random": random} {
		var c Cursor
		for _, p := range order {
			w, ok := want[p]
			for _, cur := range []*Cursor{&c, nil} {
				if got, gotOK := tb.get(p, cur); got != w || gotOK != ok {
					t.Fatalf("%s: %s is %d, %t (cursor %t); want %d, %t", name, p, got, gotOK, cur != nil, w, ok)
				}
			}
		}
	}
}
