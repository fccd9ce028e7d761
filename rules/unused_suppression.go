package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// UnusedSuppression reports migsafe:ignore comments that suppress nothing.
var UnusedSuppression = &analyzer.Rule{
	Code:     "MS901",
	Name:     "unused-suppression",
	Summary:  "A migsafe:ignore comment suppresses nothing",
	Dialects: both,
	Severity: analyzer.SeverityWarning,
	Fix:      analyzer.FixSometimes,
	Doc: analyzer.Doc{
		Why: `A suppression that matches no finding is either stale (the statement changed) or
wrong (a typo in the rule name, a comment on the wrong line): in both cases it
hides nothing today and will hide the wrong thing tomorrow.`,
		Recipe: `Remove the comment, or fix the rule name or its placement: the comment goes on
the line above the statement, or at the end of the statement's first line.`,
		Help: "remove the suppression, or fix its rule name or placement",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "-- migsafe:ignore drop-table the table is empty\nALTER TABLE users ADD COLUMN nickname text;",
			Good:    "-- migsafe:ignore drop-table the table was never used\nDROP TABLE legacy_users;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "-- migsafe:ignore drop-table the table is empty\nALTER TABLE users ADD COLUMN nickname VARCHAR(30);",
			Good:    "-- migsafe:ignore drop-table the table was never used\nDROP TABLE legacy_users;",
		}},
	},
	Finish: func(p *analyzer.FilePass) {
		for _, s := range p.Suppressions {
			kind := "migsafe:ignore"
			if s.File {
				kind = "migsafe:ignore-file"
			}
			if len(s.Rules) == 0 {
				p.Report(analyzer.Finding{Span: s.Span, Message: kind + " names no rule; write " + kind + " RULE[,RULE] reason"})
				continue
			}
			for i, name := range s.Rules {
				r := p.Lookup(name)
				switch {
				case r == nil:
					msg := kind + " names unknown rule \"" + name + "\""
					if sug := suggest(name, p.Known); sug != "" {
						msg += "; did you mean " + sug + "?"
					}
					p.Report(analyzer.Finding{Span: s.Span, Message: msg})
				case !p.Enabled(r.Code) || !r.AppliesTo(p.Target.Dialect):
					// a disabled rule cannot match; not worth a finding
				case s.Used[i] == 0:
					where := "the statement it covers"
					if s.File {
						where = "this file"
					}
					f := analyzer.Finding{Span: s.Span, Message: kind + " " + name + " suppresses nothing: " + r.Name + " reports no finding in " + where}
					if len(s.Rules) == 1 {
						f.Fixes = []analyzer.Fix{{Description: "Remove the suppression", Edits: []analyzer.Edit{{Span: commentLine(p.File.Src, s.Span), NewText: ""}}}}
					}
					p.Report(f)
				}
			}
		}
	},
}

// commentLine widens a comment's span to what removing it should remove:
// the whole line when the comment stands alone on it, else the blanks
// before it, so that no empty line or trailing blank is left behind.
func commentLine(src []byte, sp analyzer.Span) analyzer.Span {
	start := sp.Start
	for start > 0 && (src[start-1] == ' ' || src[start-1] == '\t') {
		start--
	}
	end := sp.End
	for end < len(src) && (src[end] == ' ' || src[end] == '\t' || src[end] == '\r') {
		end++
	}
	alone := (start == 0 || src[start-1] == '\n') && (end == len(src) || src[end] == '\n')
	if !alone {
		return analyzer.Span{Start: start, End: sp.End}
	}
	if end < len(src) {
		end++ // the line break
	}
	return analyzer.Span{Start: start, End: end}
}

// suggest returns the closest rule name or code.
func suggest(name string, known []*analyzer.Rule) string {
	var cands []string
	for _, r := range known {
		cands = append(cands, r.Name, r.Code)
	}
	return analyzer.Suggest(name, cands)
}
