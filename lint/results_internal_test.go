package lint

import (
	"bytes"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer"
)

// TestDigestTakesNow: the time of the run is part of a history's digest
// only when a dated pending deploy takes it, drops something, and a
// migration deprecates something (contract-too-soon, the only rule that
// measures time to it); otherwise two runs an hour apart share their
// cached result.
func TestDigestTakesNow(t *testing.T) {
	s, err := Resolve(Options{Dir: t.TempDir(), Cache: CacheOptions{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	digest := func(src string, dated, pending bool, now time.Time) []byte {
		f := &analyzer.File{Path: "db/001_a.up.sql", Src: []byte(src), Range: analyzer.Span{End: len(src)}, Lint: true, Deploy: 1}
		h := &analyzer.History{Dated: dated, Now: now, Deploys: []analyzer.Deploy{{N: 1, Pending: pending}}}
		return historyDigest(s, &History{Parts: []*analyzer.File{f}, Deploys: h})
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	const plain = "ALTER TABLE t DROP COLUMN c;\n"
	const marker = "-- migsafe:deprecate t.c\n" + plain
	const noDrop = "-- migsafe:deprecate t.c\nALTER TABLE t ADD COLUMN d int;\n"
	for _, c := range []struct {
		src            string
		dated, pending bool
		takesNow       bool
	}{
		{plain, true, true, false},
		{marker, true, true, true},
		{marker, false, true, false},
		{marker, true, false, false},
		{noDrop, true, true, false},
	} {
		same := bytes.Equal(digest(c.src, c.dated, c.pending, t0), digest(c.src, c.dated, c.pending, t1))
		if same == c.takesNow {
			t.Errorf("%q dated %t pending %t: digest changes with the time of the run: %t, want %t", c.src, c.dated, c.pending, !same, c.takesNow)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		s, word string
		want    bool
	}{
		{"ALTER TABLE t DROP COLUMN c", "drop", true},
		{"-- migsafe:Deprecate t.c", "deprecate", true},
		{"dro", "drop", false},
		{"Dr op", "drop", false},
		{"xxxxdRoP", "drop", true},
		{"DDDROP", "drop", true},
		{"", "drop", false},
		{"backdrop", "drop", true},
	} {
		if got := containsFold([]byte(c.s), c.word); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", c.s, c.word, got, c.want)
		}
	}
}
