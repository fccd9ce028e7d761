package migrations

import (
	"bytes"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
)

// annotation is a tool annotation line in a file.
type annotation struct {
	start, end int    // the line, without its newline
	cmd        string // lower case, after the prefix: "up", "down", "no transaction", …
}

// annotations finds the lines of a file that start with prefix (after
// blanks), e.g. "-- +goose" or "-- migrate:".
func annotations(src []byte, prefix string) []annotation {
	var out []annotation
	pre := []byte(prefix)
	// jump from one occurrence of the prefix to the next rather than
	// looking at every line: most files have none
	for from := 0; from < len(src); {
		i := bytes.Index(src[from:], pre)
		if i < 0 {
			break
		}
		i += from
		start := bytes.LastIndexByte(src[:i], '\n') + 1
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += i
		}
		from = end + 1
		if len(bytes.TrimLeft(src[start:i], " \t")) > 0 {
			continue // not at the start of its line
		}
		cmd := strings.ToLower(strings.TrimSpace(string(bytes.TrimRight(src[i+len(pre):end], "\r"))))
		out = append(out, annotation{start: start, end: end, cmd: cmd})
	}
	return out
}

func hasGooseAnnotation(src []byte) bool {
	if !bytes.Contains(src, []byte("-- +goose")) {
		return false
	}
	for _, a := range annotations(src, "-- +goose") {
		if a.cmd == "up" || strings.HasPrefix(a.cmd, "up ") {
			return true
		}
	}
	return false
}

func hasDbmateAnnotation(src []byte) bool {
	if !bytes.Contains(src, []byte("-- migrate:")) {
		return false
	}
	for _, a := range annotations(src, "-- migrate:") {
		if strings.HasPrefix(a.cmd, "up") {
			return true
		}
	}
	return false
}

// section is the Up or Down section of a goose or dbmate file.
type section struct {
	dir     analyzer.Direction
	rng     analyzer.Span
	present bool
}

// splitSections cuts a file at its up and down annotations. The text
// before the first annotation (a header of comments) belongs to the first
// section, so that file-level directives in it apply.
func splitSections(src []byte, anns []annotation, isUp, isDown func(string) bool) (up, down section, problems []string) {
	type mark struct {
		dir analyzer.Direction
		a   annotation
	}
	var marks []mark
	for _, a := range anns {
		switch {
		case isUp(a.cmd):
			marks = append(marks, mark{analyzer.Up, a})
		case isDown(a.cmd):
			marks = append(marks, mark{analyzer.Down, a})
		}
	}
	up.dir, down.dir = analyzer.Up, analyzer.Down
	for i, m := range marks {
		start := m.a.start
		if i == 0 {
			start = 0
		}
		end := len(src)
		if i+1 < len(marks) {
			end = marks[i+1].a.start
		}
		s := &up
		if m.dir == analyzer.Down {
			s = &down
		}
		if s.present {
			problems = append(problems, "more than one "+m.dir.String()+" section; only the first is used")
			continue
		}
		s.present = true
		s.rng = analyzer.Span{Start: start, End: end}
	}
	return up, down, problems
}
