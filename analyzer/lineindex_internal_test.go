package analyzer

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// buildByByte is LineIndex.build as first written, one byte at a time:
// the reference the build with its ASCII runs must agree with.
func (li *LineIndex) buildByByte() {
	src := li.src
	lines := 1 + bytes.Count(src, []byte{'\n'}) + bytes.Count(src, []byte{'\r'})
	marks := lines + len(src)/runeStride
	alloc := func(n int) []int { return append(make([]int, 0, n), 0) }
	li.start, li.marks, li.runes, li.units, li.lineMark = alloc(lines), alloc(marks), alloc(marks), alloc(marks), alloc(lines)
	n, u := 0, 0
	last := 0
	for i := 0; i < len(src); {
		b := src[i]
		w := 1
		if b >= utf8.RuneSelf {
			var c rune
			c, w = utf8.DecodeRune(src[i:])
			u += utf16Len(c) - 1
		}
		i += w
		n++
		u++
		if b == '\n' || b == '\r' && (i == len(src) || src[i] != '\n') {
			li.start = append(li.start, i)
			li.addMark(i, n, u)
			li.lineMark = append(li.lineMark, len(li.marks)-1)
			last = i
		} else if i-last >= runeStride {
			li.addMark(i, n, u)
			last = i
		}
	}
}

// sameIndex fails t unless build and buildByByte index src alike.
func sameIndex(t *testing.T, src []byte) {
	t.Helper()
	got, want := &LineIndex{src: src}, &LineIndex{src: src}
	got.build()
	want.buildByByte()
	for _, f := range []struct {
		name      string
		got, want []int
	}{{"start", got.start, want.start}, {"marks", got.marks, want.marks}, {"runes", got.runes, want.runes}, {"units", got.units, want.units}, {"lineMark", got.lineMark, want.lineMark}} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Fatalf("%.60q: %s = %v, the byte-at-a-time build gives %v", src, f.name, f.got, f.want)
		}
	}
}

// TestLineIndexRuns: the index built a run of ASCII at a time equals the
// one built byte by byte, on long lines, CR, CRLF, multi-byte and
// invalid UTF-8 at and around the mark stride, and every corpus file.
func TestLineIndexRuns(t *testing.T) {
	long := strings.Repeat("x", 3*runeStride+7)
	for _, s := range []string{
		"", "a", "\n", "\r", "\r\n", "a\rb\r\nc\nd", long, long + "\n" + long,
		strings.Repeat("é", runeStride) + long, long[:runeStride-1] + "€" + long,
		long[:runeStride-1] + "\r\n" + long, long[:runeStride] + "\r" + long,
		"\xff\xfe" + long + "\U0001F600" + long, strings.Repeat("ab\n", 300),
	} {
		sameIndex(t, []byte(s))
	}
	corpus := os.Getenv("MIGSAFE_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "shared", "corpus")
	}
	n := 0
	_ = filepath.WalkDir(corpus, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".sql") {
			if src, err := os.ReadFile(p); err == nil {
				sameIndex(t, src)
				n++
			}
		}
		return nil
	})
	t.Logf("%d corpus files", n)
}

func FuzzLineIndexRuns(f *testing.F) {
	f.Add([]byte("a\rb\r\nc\nd"))
	f.Add([]byte(strings.Repeat("x", runeStride-1) + "€\r\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		sameIndex(t, src)
	})
}

func BenchmarkLineIndex(b *testing.B) {
	corpus := os.Getenv("MIGSAFE_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "shared", "corpus")
	}
	var srcs [][]byte
	_ = filepath.WalkDir(corpus, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".sql") {
			if src, err := os.ReadFile(p); err == nil {
				srcs = append(srcs, src)
			}
		}
		return nil
	})
	if len(srcs) == 0 {
		b.Skip("no corpus")
	}
	for _, m := range []struct {
		name  string
		build func(*LineIndex)
	}{{"build=runs", (*LineIndex).build}, {"build=bytes", (*LineIndex).buildByByte}} {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				for _, src := range srcs {
					m.build(&LineIndex{src: src})
				}
			}
		})
	}
}
