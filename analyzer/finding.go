package analyzer

import (
	"sort"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer/change"
)

// Finding is one reported problem. Rules fill Span, Message, Objects, Effect
// and optionally Help and Fixes; the engine fills the rest.
type Finding struct {
	Code     string
	Name     string
	Severity Severity
	Path     string
	Span     Span
	Start    Position
	End      Position
	Message  string
	Help     string
	Objects  []string       // the schema objects involved, e.g. "public.users.email"
	Effect   *change.Effect // the lock and work behind the finding, when there is one
	Fixes    []Fix
	// Stmt is the index of the statement in its part, -1 for file-level findings.
	Stmt int
	// StmtText is the statement's source, for fingerprints and excerpts.
	StmtText string
	// Direction of the part the finding is in.
	Direction Direction
	// Suppressed is set when a migsafe:ignore comment matched the finding.
	Suppressed *Suppression
}

// Fix is an exact edit that removes the finding.
type Fix struct {
	Description string
	Edits       []Edit
}

// Edit replaces the bytes of Span with NewText.
type Edit struct {
	Span    Span
	NewText string
}

// Position is a 1-based line and column; Column counts Unicode code points.
type Position struct {
	Line, Column int
	Offset       int // byte offset
}

// Suppression is a migsafe:ignore or migsafe:ignore-file comment.
type Suppression struct {
	File   bool     // ignore-file
	Rules  []string // as written: names or codes
	Reason string
	Span   Span
	Line   int
	// Stmts are the indexes of the statements an ignore comment covers.
	Stmts []int
	// Used counts the findings it suppressed, per entry of Rules.
	Used []int
	// Unknown lists the entries of Rules that name no rule.
	Unknown []string
}

// LineIndex converts byte offsets to line and column.
type LineIndex struct {
	src   []byte
	start []int // byte offset of each line start
}

// NewLineIndex indexes src by lines. Both LF and CRLF end a line.
func NewLineIndex(src []byte) *LineIndex {
	li := &LineIndex{src: src, start: []int{0}}
	for i, b := range src {
		if b == '\n' {
			li.start = append(li.start, i+1)
		}
	}
	return li
}

// Position returns the 1-based line and code-point column of a byte offset.
func (li *LineIndex) Position(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(li.src) {
		off = len(li.src)
	}
	line := sort.Search(len(li.start), func(i int) bool { return li.start[i] > off }) - 1
	col := utf8.RuneCount(li.src[li.start[line]:off]) + 1
	return Position{Line: line + 1, Column: col, Offset: off}
}

// LineText returns line n (1-based) without its line terminator.
func (li *LineIndex) LineText(n int) string {
	if n < 1 || n > len(li.start) {
		return ""
	}
	sp := li.LineSpan(n)
	return string(li.src[sp.Start:sp.End])
}

// Lines returns the number of lines.
func (li *LineIndex) Lines() int { return len(li.start) }

// Source returns the text the index was built from.
func (li *LineIndex) Source() []byte { return li.src }

// LineSpan returns the byte span of line n (1-based) without its line
// terminator.
func (li *LineIndex) LineSpan(n int) Span {
	n = max(1, min(n, len(li.start)))
	s, e := li.start[n-1], len(li.src)
	if n < len(li.start) {
		e = li.start[n] - 1
	}
	if e > s && li.src[e-1] == '\r' {
		e--
	}
	return Span{Start: s, End: e}
}
