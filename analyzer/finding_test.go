package analyzer_test

import (
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/internal/lineartest"
)

// naivePosition is the definition Position must agree with.
func naivePosition(src []byte, off int) analyzer.Position {
	line, ls := 1, 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' || src[i] == '\r' && (i+1 == len(src) || src[i+1] != '\n') {
			line, ls = line+1, i+1
		}
	}
	return analyzer.Position{Line: line, Column: utf8.RuneCount(src[ls:off]) + 1, Offset: off}
}

func TestPositionAgreesWithCounting(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"a", "é", "日本", "\n", "\r\n", "\r", "\xff", "\xe6\x97", " ", strings.Repeat("x", 300), strings.Repeat("é", 200)}
	for range 60 {
		var b strings.Builder
		for range rng.Intn(60) {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		src := []byte(b.String())
		li := analyzer.NewLineIndex(src)
		for off := 0; off <= len(src); off++ {
			if got, want := li.Position(off), naivePosition(src, off); got != want {
				t.Fatalf("%q at %d: %+v, want %+v", src, off, got, want)
			}
		}
	}
}

// TestLineEndings is issue 11's failure 10: a file with CR-only line
// endings was one line.
func TestLineEndings(t *testing.T) {
	src := []byte("SELECT 1;\rSELECT 2;\r\nSELECT 3;\nSELECT 4;\r")
	li := analyzer.NewLineIndex(src)
	want := []string{"SELECT 1;", "SELECT 2;", "SELECT 3;", "SELECT 4;", ""}
	if li.Lines() != len(want) {
		t.Fatalf("%d lines, want %d", li.Lines(), len(want))
	}
	for i, w := range want {
		if got := li.LineText(i + 1); got != w {
			t.Errorf("line %d = %q, want %q", i+1, got, w)
		}
	}
	if p := li.Position(strings.Index(string(src), "SELECT 2")); p.Line != 2 || p.Column != 1 {
		t.Errorf("SELECT 2 at %+v", p)
	}
}

// TestPositionLinear is failure 3(a): Position counted the code points
// from the start of the line on every call, so a line of n statements took
// n² time.
func TestPositionLinear(t *testing.T) {
	lineartest.Check(t, 5_000, func(n int) func() {
		src := []byte(strings.Repeat("SELECT 'é'; ", n))
		return func() {
			li := analyzer.NewLineIndex(src)
			for off := 0; off < len(src); off += 12 {
				li.Position(off)
			}
		}
	})
}
