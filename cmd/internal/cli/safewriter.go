package cli

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer/report"
)

// safeWriter makes what is written to stderr safe for a terminal and for a
// CI log: the error messages printed there hold paths and text from the
// repository under review. Line by line, control characters other than the
// line feed and tab (a lone CR included: GitHub's runner ends a line at
// it), C1 controls and bytes that are not UTF-8 are shown as escapes, and
// a line that would begin with "::" (a GitHub Actions workflow command,
// leading blanks ignored) is prefixed with "migsafe: ".
type safeWriter struct {
	w       io.Writer
	pending []byte // a line not yet ended
}

func newSafeWriter(w io.Writer) *safeWriter { return &safeWriter{w: w} }

func (s *safeWriter) Write(p []byte) (int, error) {
	s.pending = append(s.pending, p...)
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(s.pending, '\n')
		if i < 0 {
			break
		}
		out.WriteString(safeLine(string(s.pending[:i])))
		out.WriteByte('\n')
		s.pending = s.pending[i+1:]
	}
	if out.Len() > 0 {
		if _, err := s.w.Write(out.Bytes()); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes a last line that has no line feed.
func (s *safeWriter) Flush() {
	if len(s.pending) > 0 {
		_, _ = io.WriteString(s.w, safeLine(string(s.pending)))
		s.pending = nil
	}
}

// safeLine is one line (without its line feed) made safe.
func safeLine(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		c, w := utf8.DecodeRuneInString(line[i:])
		switch {
		case c == utf8.RuneError && w == 1:
			b.WriteString(report.DisplayPath(line[i : i+1]))
		case c == '\t':
			b.WriteByte('\t')
		case c < 0x20 || c >= 0x7f && c < 0xa0 || c == 0x2028 || c == 0x2029:
			b.WriteString(strings.TrimPrefix(report.DisplayPath(line[i:i+w]), "./"))
		default:
			b.WriteString(line[i : i+w])
		}
		i += w
	}
	out := b.String()
	if strings.HasPrefix(strings.TrimLeft(out, " \t"), "::") {
		out = "migsafe: " + out
	}
	return out
}

// rawOut is the writer behind a safeWriter, for the control sequences of a
// live status line (whose text is made safe with safeLine first).
func rawOut(w io.Writer) io.Writer {
	if s, ok := w.(*safeWriter); ok {
		s.Flush()
		return s.w
	}
	return w
}
