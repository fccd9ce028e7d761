package lint

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"slices"
	"strconv"
	"strings"
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

// partDigest is the digest of one part as historyDigest writes it.
func partDigest(f *analyzer.File, notSQL bool) [sha256.Size]byte {
	return sha256.Sum256(appendPart(nil, f, notSQL))
}

// TestPartDigestFields: changing any exported field of a part that the
// loader sets (all but what the engine fills: Stmts, Comments, Lines)
// changes its digest, and so does its source. A field added to
// analyzer.File must be added to appendPart, or this fails.
func TestPartDigestFields(t *testing.T) {
	src := []byte("SELECT 1;\n")
	base := analyzer.File{Path: "db/001_a.up.sql", Src: src, Range: analyzer.Span{Start: 1, End: len(src)}, Version: "001", Layout: "golang-migrate", Deploy: 1, MarkerDeploys: map[int]int{2: 1}}
	want := partDigest(&base, false)
	if partDigest(&base, true) == want {
		t.Error("notSQL does not change the digest")
	}
	same := base
	same.Src = []byte("SELECT 2;\n") // the same length
	if partDigest(&same, false) == want {
		t.Error("the source's bytes do not change the digest")
	}
	// changed is v changed, or false for a kind this test cannot change
	changed := func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Int:
			v.SetInt(v.Int() + 1)
		case reflect.Slice:
			if v.Type().Elem().Kind() != reflect.Uint8 {
				return false
			}
			v.SetBytes(append(slices.Clone(v.Bytes()), 'x'))
		case reflect.Map:
			v.Set(reflect.ValueOf(map[int]int{2: 2}))
		default:
			return false
		}
		return true
	}
	tp := reflect.TypeFor[analyzer.File]()
	for i := range tp.NumField() {
		fd := tp.Field(i)
		switch {
		case !fd.IsExported(), fd.Name == "Stmts", fd.Name == "Comments", fd.Name == "Lines":
			continue
		}
		var targets []string // the field, or each field of a struct
		if fd.Type.Kind() == reflect.Struct {
			for j := range fd.Type.NumField() {
				targets = append(targets, fd.Name+"."+fd.Type.Field(j).Name)
			}
		} else {
			targets = append(targets, fd.Name)
		}
		for _, name := range targets {
			f := base
			v := reflect.ValueOf(&f).Elem().FieldByName(fd.Name)
			if sub, ok := strings.CutPrefix(name, fd.Name+"."); ok {
				v = v.FieldByName(sub)
			}
			if !changed(v) {
				t.Errorf("analyzer.File.%s (%s): this test cannot change it; teach it and appendPart", name, v.Kind())
				continue
			}
			if partDigest(&f, false) == want {
				t.Errorf("changing analyzer.File.%s does not change the digest: add it to appendPart", name)
			}
		}
	}
}

// TestDigestEveryChunk: a history of more parts than one chunk of the
// digest changes its digest with a part of any chunk, and with their
// order.
func TestDigestEveryChunk(t *testing.T) {
	s, err := Resolve(Options{Dir: t.TempDir(), Cache: CacheOptions{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	history := func() *History {
		hs := &History{}
		for i := range 2*digestChunk + 10 {
			src := []byte("SELECT 1;\n")
			hs.Parts = append(hs.Parts, &analyzer.File{Path: strconv.Itoa(i) + ".sql", Src: src, Range: analyzer.Span{End: len(src)}})
		}
		return hs
	}
	want := historyDigest(s, history())
	if !bytes.Equal(historyDigest(s, history()), want) {
		t.Fatal("two digests of the same history differ")
	}
	for _, i := range []int{0, digestChunk - 1, digestChunk, 2*digestChunk + 9} {
		hs := history()
		hs.Parts[i].Src = []byte("SELECT 2;\n")
		if bytes.Equal(historyDigest(s, hs), want) {
			t.Errorf("part %d changed, the digest did not", i)
		}
	}
	hs := history()
	hs.Parts[digestChunk-1], hs.Parts[digestChunk] = hs.Parts[digestChunk], hs.Parts[digestChunk-1]
	if bytes.Equal(historyDigest(s, hs), want) {
		t.Error("two parts swapped across chunks, the digest did not change")
	}
}
