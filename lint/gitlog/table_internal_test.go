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

// TestWalkedHoldsTogether: a stored walk is read back as it was written,
// and one that does not hold together (a commit it does not have, a log
// missing or left over) says so, to be walked again.
func TestWalkedHoldsTogether(t *testing.T) {
	m := fileLogs{"db/1.sql": {hash: "a", date: "2024-01-01T00:00:00Z"}, "db/2.sql": {hash: "a", date: "2024-01-01T00:00:00Z", modified: true}, "db/3.sql": {modified: true}}
	w := m.walked("h")
	if got, ok := w.files(); !ok || fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("read back %v (%t), want %v", got, ok, m)
	}
	if _, ok, err := w.log(); !ok || err != nil {
		t.Fatalf("log: %t, %v", ok, err)
	}
	for name, broken := range map[string]walked{
		"a commit it does not have": {Head: "h", Commits: w.Commits, Names: w.Names, Logs: append([]byte{byte(len(w.Commits)+1) << 1}, w.Logs[1:]...)},
		"a log missing":             {Head: "h", Commits: w.Commits, Names: w.Names, Logs: w.Logs[:len(w.Logs)-1]},
		"a log left over":           {Head: "h", Commits: w.Commits, Names: w.Names, Logs: append(w.Logs[:len(w.Logs):len(w.Logs)], 0)},
	} {
		if _, ok := broken.files(); ok {
			t.Errorf("%s: files holds together", name)
		}
		if _, ok, _ := broken.log(); ok {
			t.Errorf("%s: log holds together", name)
		}
	}
}
