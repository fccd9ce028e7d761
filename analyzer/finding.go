package analyzer

import (
	"bytes"
	"sort"
	"sync"
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
	// Also lists the codes of the secondary findings folded into this one
	// (see Rule.Secondary).
	Also []string
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
	// From and To are the indexes [From, To) of the statements an ignore
	// comment covers.
	From, To int
	// Used counts the findings it suppressed, per entry of Rules.
	Used []int
	// Unknown lists the entries of Rules that name no rule.
	Unknown []string
}

// LineIndex converts byte offsets to line and column. It is built on
// first use: a run that reads its findings back from the cache and prints
// them without excerpts never builds it.
type LineIndex struct {
	src   []byte
	once  sync.Once
	start []int // byte offset of each line start
	// runes[k] is the number of code points before byte marks[k], as
	// utf8.RuneCount counts them from the start of src; marks are code
	// point boundaries about every runeStride bytes, and every line start.
	// Position counts at most runeStride bytes from a mark, so it takes
	// the same time on a long line as on a short one.
	marks, runes []int
	units        []int // UTF-16 code units before each mark
	lineMark     []int // index in marks of each line start
}

const runeStride = 256

// NewLineIndex indexes src by lines. LF, CRLF and a lone CR (old Mac
// files) end a line.
func NewLineIndex(src []byte) *LineIndex { return &LineIndex{src: src} }

// built returns li, its index built.
func (li *LineIndex) built() *LineIndex {
	li.once.Do(li.build)
	return li
}

func (li *LineIndex) build() {
	src := li.src
	// sized once: a line starts after each LF or CR at most, and a mark
	// comes at least every runeStride bytes besides
	lines := 1 + bytes.Count(src, []byte{'\n'}) + bytes.Count(src, []byte{'\r'})
	marks := lines + len(src)/runeStride
	alloc := func(n int) []int { return append(make([]int, 0, n), 0) }
	li.start, li.marks, li.runes, li.units, li.lineMark = alloc(lines), alloc(marks), alloc(marks), alloc(marks), alloc(lines)
	n, u := 0, 0 // code points and UTF-16 units before i
	last := 0    // last mark
	for i := 0; i < len(src); {
		// a run of ASCII that ends no line: a code point and a UTF-16
		// unit per byte, so its marks are every runeStride bytes
		j := i
		for j < len(src) && src[j] < utf8.RuneSelf && src[j] != '\n' && src[j] != '\r' {
			j++
		}
		for k := last + runeStride; k <= j; k += runeStride {
			li.addMark(k, n+k-i, u+k-i)
			last = k
		}
		n, u, i = n+j-i, u+j-i, j
		if i == len(src) {
			break
		}
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

func (li *LineIndex) addMark(off, runes, units int) {
	li.marks = append(li.marks, off)
	li.runes = append(li.runes, runes)
	li.units = append(li.units, units)
}

// utf16Len is the UTF-16 length of c, counting an invalid code point as
// one unit (as U+FFFD).
func utf16Len(c rune) int {
	if c >= 0x10000 && c <= utf8.MaxRune {
		return 2
	}
	return 1
}

// UTF16Column returns the 1-based column of a byte offset counted in
// UTF-16 code units (GitHub's and SARIF's unit).
func (li *LineIndex) UTF16Column(off int) int {
	li.built()
	off = max(0, min(off, len(li.src)))
	line := li.Line(off) - 1
	k := sort.Search(len(li.marks), func(i int) bool { return li.marks[i] > off }) - 1
	k = max(k, li.lineMark[line])
	col := li.units[k] - li.units[li.lineMark[line]] + 1
	for _, c := range string(li.src[li.marks[k]:off]) {
		col += utf16Len(c)
	}
	return col
}

// Line returns the 1-based line of a byte offset.
func (li *LineIndex) Line(off int) int {
	li.built()
	off = max(0, min(off, len(li.src)))
	return sort.Search(len(li.start), func(i int) bool { return li.start[i] > off })
}

// Position returns the 1-based line and code-point column of a byte offset.
func (li *LineIndex) Position(off int) Position {
	li.built()
	off = max(0, min(off, len(li.src)))
	line := li.Line(off) - 1
	// the last mark at or before off, which is at or after the line start
	k := sort.Search(len(li.marks), func(i int) bool { return li.marks[i] > off }) - 1
	k = max(k, li.lineMark[line])
	col := li.runes[k] - li.runes[li.lineMark[line]] + utf8.RuneCount(li.src[li.marks[k]:off]) + 1
	return Position{Line: line + 1, Column: col, Offset: off}
}

// LineText returns line n (1-based) without its line terminator.
func (li *LineIndex) LineText(n int) string {
	li.built()
	if n < 1 || n > len(li.start) {
		return ""
	}
	sp := li.LineSpan(n)
	return string(li.src[sp.Start:sp.End])
}

// Lines returns the number of lines.
func (li *LineIndex) Lines() int { return len(li.built().start) }

// Source returns the text the index was built from.
func (li *LineIndex) Source() []byte { return li.src }

// LineSpan returns the byte span of line n (1-based) without its line
// terminator.
func (li *LineIndex) LineSpan(n int) Span {
	li.built()
	n = max(1, min(n, len(li.start)))
	s, e := li.start[n-1], len(li.src)
	if n < len(li.start) {
		e = li.start[n]
		if li.src[e-1] == '\n' {
			e--
		}
	}
	if e > s && li.src[e-1] == '\r' {
		e--
	}
	return Span{Start: s, End: e}
}
