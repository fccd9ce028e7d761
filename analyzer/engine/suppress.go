package engine

import (
	"sort"
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
			s.From, s.To = coveredStatements(f, c)
		}
		out = append(out, s)
	}
	return out
}

// coveredStatements: a comment at the end of a statement's first line covers
// the statements that start on that line before it; otherwise it covers the
// next statement after it. It returns their indexes [from, to). The
// statements are in source order, so it searches rather than scans: a file
// of n statements and n comments takes n·log n time.
func coveredStatements(f *analyzer.File, c analyzer.Comment) (from, to int) {
	line := f.Lines.Line(c.Span.Start)
	k := sort.Search(len(f.Stmts), func(i int) bool { return f.Stmts[i].Span.Start >= c.Span.Start })
	j := sort.Search(k, func(i int) bool { return f.Lines.Line(f.Stmts[i].Span.Start) >= line })
	if j < k {
		return f.Stmts[j].Index, f.Stmts[k-1].Index + 1
	}
	m := sort.Search(len(f.Stmts), func(i int) bool { return f.Stmts[i].Span.Start >= c.Span.End })
	if m < len(f.Stmts) {
		return f.Stmts[m].Index, f.Stmts[m].Index + 1
	}
	return 0, 0
}

// applySuppressions marks findings matched by a suppression: each finding
// counts as used for every suppression entry that covers it, and is
// suppressed by the first suppression (in source order) that does.
// Findings of unknown rules never match. The findings of each rule are
// sorted by statement, so a suppression finds those it covers by binary
// search, and marking skips the ones already suppressed (a "next
// unsuppressed" table with path compression): n findings and n
// suppressions take n·log n time, even when every suppression covers every
// finding.
func applySuppressions(fs []analyzer.Finding, sups []*analyzer.Suppression, lookup func(string) *analyzer.Rule) []analyzer.Finding {
	if len(sups) == 0 {
		return fs
	}
	byCode := map[string][]int{} // indexes into fs, by statement
	for i := range fs {
		byCode[fs[i].Code] = append(byCode[fs[i].Code], i)
	}
	next := map[string][]int{}
	for code, idx := range byCode {
		sort.SliceStable(idx, func(a, b int) bool { return fs[idx[a]].Stmt < fs[idx[b]].Stmt })
		nx := make([]int, len(idx)+1)
		for p := range nx {
			nx[p] = p
		}
		next[code] = nx
	}
	for _, s := range sups {
		for j, name := range s.Rules {
			r := lookup(name)
			if r == nil {
				continue
			}
			idx := byCode[r.Code]
			if len(idx) == 0 {
				continue
			}
			lo, hi := 0, len(idx)
			if !s.File {
				lo = sort.Search(len(idx), func(p int) bool { return fs[idx[p]].Stmt >= s.From })
				hi = sort.Search(len(idx), func(p int) bool { return fs[idx[p]].Stmt >= s.To })
				hi = max(lo, hi)
			}
			s.Used[j] += hi - lo
			nx := next[r.Code]
			for p := find(nx, lo); p < hi; p = find(nx, p+1) {
				if fd := &fs[idx[p]]; fd.Suppressed == nil {
					fd.Suppressed = s
				}
				nx[p] = p + 1
			}
		}
	}
	return fs
}

// find returns the first position at or after p not yet marked in nx.
func find(nx []int, p int) int {
	root := p
	for nx[root] != root {
		root = nx[root]
	}
	for nx[p] != root {
		nx[p], p = root, nx[p]
	}
	return root
}
