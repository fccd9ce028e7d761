package lint

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortNames: sortNames sorts as slices.Sort does, on lists shorter
// and longer than the length it splits from, with repeated names and
// names that are prefixes of others (fixed seed).
func TestSortNames(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 19999, 20000, 20001, 50001} {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("%06d_m%d.up.sql", r.IntN(n+1), r.IntN(3))[:1+r.IntN(16)]
		}
		want := slices.Sorted(slices.Values(names))
		if got := sortNames(slices.Clone(names)); !slices.Equal(got, want) {
			t.Errorf("%d names: not sorted as slices.Sort sorts them", n)
		}
	}
}
