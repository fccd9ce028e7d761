package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShorten(t *testing.T) {
	for _, c := range []struct {
		msg   string
		width int
		want  string
	}{
		{"short", 100, "short"},
		{"first clause; second clause", 100, "first clause"},
		{strings.Repeat("word ", 40), 60, strings.TrimSpace(strings.Repeat("word ", 11)) + "…"},
		// never below 60: a long path keeps the first words
		{strings.Repeat("word ", 40), 10, strings.TrimSpace(strings.Repeat("word ", 11)) + "…"},
	} {
		got := Shorten(c.msg, c.width)
		if got != c.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", c.msg, c.width, got, c.want)
		}
		if n := utf8.RuneCountInString(got); n > max(c.width, 60) {
			t.Errorf("Shorten(%q, %d): %d characters", c.msg, c.width, n)
		}
	}
}
