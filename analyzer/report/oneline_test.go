package report_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer/report"
)

// oneLineRunes is OneLine a rune at a time, as it was first written: the
// reference the byte-at-a-time fast path must agree with.
func oneLineRunes(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s // unchanged, invalid UTF-8 included
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\n' || c == '\r' || c == '\t' || c == 0x2028 || c == 0x2029:
			b.WriteByte(' ')
		case c < 0x20:
			b.WriteRune(0x2400 + c)
		case c == 0x7f:
			b.WriteRune(0x2421)
		case c >= 0x80 && c < 0xa0:
			b.WriteString(`\u00` + "0123456789abcdef"[c>>4:c>>4+1] + "0123456789abcdef"[c&15:c&15+1])
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func isControl(c rune) bool {
	return c < 0x20 || c >= 0x7f && c < 0xa0 || c == 0x2028 || c == 0x2029
}

// TestOneLine: text made safe for one terminal line, on hand-picked text
// and on random strings of printable ASCII, controls, C1 controls, line
// separators and invalid UTF-8 (fixed seed), agrees with the reference.
func TestOneLine(t *testing.T) {
	want := map[string]string{
		"":                "",
		"plain text":      "plain text",
		"a\nb\tc\r":       "a b c ",
		"bell\a":          "bell␇",
		"del\x7f":         "del␡",
		"c1 \u009b[31m":   `c1 \u009b[31m`,
		"sep\u2028\u2029": "sep  ",
		"é ok":            "é ok",
		"ascii then é\n":  "ascii then é ",
		"\xff invalid":    "\xff invalid",
		"\xff\n":          "\uFFFD ",
		"long " + strings.Repeat("x", 100) + "\x1b": "long " + strings.Repeat("x", 100) + "␛",
	}
	for in, w := range want {
		if got := report.OneLine(in); got != w {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, w)
		}
	}
	pieces := []string{"a", "Z", " ", "~", ";", "\n", "\t", "\x00", "\x1b", "\x1f", "\x7f", "\u0085", "\u009f", "\u00a0", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "日本"}
	rng := rand.New(rand.NewPCG(13, 2026))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, w := report.OneLine(s), oneLineRunes(s); got != w {
			t.Fatalf("OneLine(%q) = %q, want %q", s, got, w)
		}
		if !strings.ContainsFunc(s, isControl) && report.OneLine(s) != s {
			t.Fatalf("OneLine(%q) changed text without controls", s)
		}
	}
}
