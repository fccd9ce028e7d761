package engine

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
)

const (
	directiveIgnore     = "migsafe:ignore"
	directiveIgnoreFile = "migsafe:ignore-file"
)

// commentBody strips comment markers: "-- x", "# x", "/* x */".
func commentBody(text string) string {
	t := strings.TrimSpace(text)
	switch {
	case strings.HasPrefix(t, "--"):
		t = t[2:]
	case strings.HasPrefix(t, "#"):
		t = t[1:]
	case strings.HasPrefix(t, "/*"):
		t = strings.TrimSuffix(t[2:], "*/")
	}
	return strings.TrimSpace(t)
}

// parseDirective recognises "migsafe:ignore RULE[,RULE] reason" and
// "migsafe:ignore-file …" in a comment.
func parseDirective(text string) (file bool, rules []string, reason string, ok bool) {
	body := commentBody(text)
	var rest string
	switch {
	case strings.HasPrefix(body, directiveIgnoreFile):
		file, rest = true, body[len(directiveIgnoreFile):]
	case strings.HasPrefix(body, directiveIgnore):
		rest = body[len(directiveIgnore):]
	default:
		return false, nil, "", false
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != ':' {
		return false, nil, "", false // e.g. migsafe:ignorex
	}
	rest = strings.TrimLeft(rest, ": \t")
	// The rule list is a comma-separated run of words, spaces allowed after
	// commas; the reason is what follows.
	for {
		rest = strings.TrimLeft(rest, " \t")
		end := strings.IndexAny(rest, ", \t")
		var word string
		if end < 0 {
			word, rest = rest, ""
		} else {
			word, rest = rest[:end], rest[end:]
		}
		if word != "" {
			rules = append(rules, word)
		}
		trimmed := strings.TrimLeft(rest, " \t")
		if strings.HasPrefix(trimmed, ",") {
			rest = trimmed[1:]
			continue
		}
		rest = trimmed
		break
	}
	reason = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), "-:"))
	return file, rules, reason, true
}

func parseSuppressions(f *analyzer.File, lookup func(string) *analyzer.Rule) []*analyzer.Suppression {
	var out []*analyzer.Suppression
	for _, c := range f.Comments {
		file, rules, reason, ok := parseDirective(c.Text)
		if !ok {
			continue
		}
		s := &analyzer.Suppression{
			File:   file,
			Rules:  rules,
			Reason: reason,
			Span:   c.Span,
			Line:   f.Lines.Position(c.Span.Start).Line,
			Used:   make([]int, len(rules)),
		}
		for _, r := range rules {
			if lookup == nil || lookup(r) == nil {
				s.Unknown = append(s.Unknown, r)
			}
		}
		if !file {
			s.Stmts = coveredStatements(f, c)
		}
		out = append(out, s)
	}
	return out
}

// coveredStatements: a comment at the end of a statement's first line covers
// the statements that start on that line before it; otherwise it covers the
// next statement after it.
func coveredStatements(f *analyzer.File, c analyzer.Comment) []int {
	line := f.Lines.Position(c.Span.Start).Line
	var same []int
	for _, s := range f.Stmts {
		if s.Span.Start < c.Span.Start && f.Lines.Position(s.Span.Start).Line == line {
			same = append(same, s.Index)
		}
	}
	if len(same) > 0 {
		return same
	}
	for _, s := range f.Stmts {
		if s.Span.Start >= c.Span.End {
			return []int{s.Index}
		}
	}
	return nil
}

// applySuppressions marks findings matched by a suppression. Findings of
// unknown rules never match.
func applySuppressions(fs []analyzer.Finding, sups []*analyzer.Suppression, lookup func(string) *analyzer.Rule) []analyzer.Finding {
	if len(sups) == 0 {
		return fs
	}
	for i := range fs {
		fd := &fs[i]
		for _, s := range sups {
			if !s.File && !containsInt(s.Stmts, fd.Stmt) {
				continue
			}
			for j, name := range s.Rules {
				r := lookup(name)
				if r == nil || r.Code != fd.Code {
					continue
				}
				s.Used[j]++
				if fd.Suppressed == nil {
					fd.Suppressed = s
				}
			}
		}
	}
	return fs
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
