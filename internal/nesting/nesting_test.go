package nesting

import "testing"

func TestBound(t *testing.T) {
	// o other, ( ) groups, , separator, u set operation, - skipped
	kinds := map[byte]Kind{'o': Other, '(': Open, ')': Close, ',': Sep, 'u': SetOp, '-': Skip}
	for _, c := range []struct {
		toks string
		want int
	}{
		{"", 1},
		{"ooo", 4},
		{"o,o,o", 2},
		{"o(ooo)", 7}, // the group's token counts in its element
		{"o(o,o,o)o", 6},
		{"o((((o))))", 11},
		{"o,ouo,o", 5}, // a set operation counts for the whole group
		{"o--o", 3},
		{"o)))", 5},
		{"((((", 9},
	} {
		got := Bound(len(c.toks), func(i int) Kind { return kinds[c.toks[i]] })
		if got != c.want {
			t.Errorf("Bound(%q) = %d, want %d", c.toks, got, c.want)
		}
	}
}
