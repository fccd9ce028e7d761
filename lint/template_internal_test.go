package lint

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// placeholder is the regular expression placeholders stands for.
var placeholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{-?\s*(.*?)\s*-?\}\}`) })

// TestPlaceholders compares placeholders with the regular expression it
// stands for: on edge cases, on every file of the fixtures and the corpus
// that holds "{{", and on 200,000 random texts over the characters that
// matter (fixed seed).
func TestPlaceholders(t *testing.T) {
	same := func(src string) {
		t.Helper()
		want := placeholder().FindAllSubmatchIndex([]byte(src), -1)
		got := placeholders([]byte(src))
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %v, want %v", src, got, want)
		}
	}
	for _, src := range []string{
		"", "{", "{{", "}}", "{{}}", "{{-}}", "{{--}}", "{{ - }}", "{{-x-}}", "{{ x -}}", "{{- x }}",
		"{{{ x }}", "{{ x }}}", "{{ a }} }}", "{{ a\n }}", "{{\n a }}", "{{ a \n b }}", "{{ a }}{{ b }}",
		"{{ x \t\f\r\n }}", "{{ x\v}}", "{{ index .Options \"Namespace\" }}", "a {{ b", "{{ b }\n}}", "{{-\n-}}",
		"x{{y}}z{{", "{{ - - }}", "{{ }} }}", "{{\x00}}", "{{ é }}",
	} {
		same(src)
	}
	var files []string
	for _, glob := range []string{"../fixtures/*/*.sql", "../fixtures/*/*/*.sql", filepath.Join(corpusRoot(), "*", "*", "*.sql")} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	templated := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), "{{") {
			continue
		}
		templated++
		same(string(b))
	}
	t.Logf("%d templated files of %d", templated, len(files))
	r := rand.New(rand.NewPCG(13, 13))
	const alphabet = "{}-- \t\n\r\fx.\"é"
	for range 200_000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		same(string(b))
	}
}

// FuzzPlaceholders compares placeholders with the regular expression on
// any text.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{"{{ x }}", "{{- x -}}", "{{ a\n }}", "{{{ }}}", "{{ index .Options \"Namespace\" }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		want := placeholder().FindAllSubmatchIndex([]byte(src), -1)
		got := placeholders([]byte(src))
		if (len(want) != 0 || len(got) != 0) && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %v, want %v", src, got, want)
		}
	})
}

// corpusRoot is the shared corpus (MIGSAFE_CORPUS, else ../shared/corpus
// beside the repository).
func corpusRoot() string {
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "corpus")
}
