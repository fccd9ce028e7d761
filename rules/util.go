package rules

import (
	"fmt"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// pgOnly, myOnly and both are the dialect lists of the rules.
var (
	pgOnly = []string{analyzer.Postgres}
	myOnly = []string{analyzer.MySQL}
	both   = []string{analyzer.Postgres, analyzer.MySQL}
)

// each calls f for every change of type T in the pass's statement.
func each[T change.Change](p *analyzer.Pass, f func(T)) {
	for _, ch := range p.Stmt.Changes {
		if x, ok := ch.(T); ok {
			f(x)
		}
	}
}

// at reports a finding located at a change's clause, with its effect.
func at(p *analyzer.Pass, ch change.Change, msg string, objects ...string) {
	m := ch.Base()
	f := analyzer.Finding{Span: m.Span, Message: msg, Objects: objects}
	if m.Effect.Known() {
		e := m.Effect
		f.Effect = &e
	}
	if m.Effect.Algorithm != "" {
		// MySQL DDL: the metadata lock every statement takes is said once
		// per run, not in every finding; how to request the cheap path is
		// part of the recipe
		p.Note(mdlNote)
		if a := onlineAdvice(m.Effect); a != "" {
			f.Help = joinHelp(p.Rule.Doc.Help, a)
		}
	}
	p.Report(f)
}

// lockPhrase describes an effect: "takes an ACCESS EXCLUSIVE lock on users,
// which blocks reads and writes, and rewrites the whole table and its indexes
// while holding it".
func lockPhrase(e change.Effect) string {
	if !e.Known() {
		return ""
	}
	var b strings.Builder
	if e.Algorithm != "" {
		fmt.Fprintf(&b, "runs with ALGORITHM=%s", e.Algorithm)
		if e.Lock != "" {
			fmt.Fprintf(&b, " under a %s", e.Lock)
		}
	} else {
		fmt.Fprintf(&b, "takes %s %s lock", article(e.Lock), e.Lock)
		if e.On != "" {
			fmt.Fprintf(&b, " on %s", e.On)
		}
	}
	b.WriteString(blocksClause(e.Blocks, ", which blocks neither reads nor writes"))
	switch e.Work {
	case change.WorkNone:
		switch e.Blocks {
		case change.BlocksReadsAndWrites:
			b.WriteString(" (briefly: no scan or rewrite)")
		case change.BlocksWrites:
			b.WriteString(" (briefly: no scan or rewrite)")
		}
	default:
		fmt.Fprintf(&b, ", and %s while holding it", e.Work)
	}
	if e.Note != "" {
		fmt.Fprintf(&b, " (%s)", e.Note)
	}
	return b.String()
}

func article(s string) string {
	if s == "" {
		return "a"
	}
	switch s[0] {
	case 'A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u':
		return "an"
	}
	return "a"
}

// sentence joins a message and the lock phrase of a change.
func sentence(msg string, ch change.Change) string {
	if e := ch.Base().Effect; e.Algorithm != "" {
		return msg + "; " + onlinePhrase(e)
	}
	lp := lockPhrase(ch.Base().Effect)
	if lp == "" {
		return msg
	}
	return msg + "; it " + lp
}

// newColumn reports whether a column was added in the current deploy.
func newColumn(p *analyzer.Pass, t change.QName, col string) bool {
	tab := p.Catalog.Table(t)
	if tab == nil {
		return false
	}
	c := tab.Column(col)
	return c != nil && !c.Origin.Base && c.Origin.Deploy == p.Deploy
}

func quoteList(xs []string) string {
	return strings.Join(xs, ", ")
}

// blocksClause says what a lock blocks; none is the wording for nothing.
func blocksClause(bl change.Blocks, none string) string {
	switch bl {
	case change.BlocksReadsAndWrites:
		return ", which blocks reads and writes"
	case change.BlocksWrites:
		return ", which blocks writes"
	}
	return none
}

// joinHelp joins a rule's help and the advice of one finding.
func joinHelp(help, advice string) string {
	switch {
	case advice == "":
		return help
	case help == "":
		return advice
	}
	return help + "; " + advice
}

// atHelp is at with advice of the finding's own added to the rule's help:
// what to do about this statement, which the message leaves out.
func atHelp(p *analyzer.Pass, ch change.Change, msg, advice string, objects ...string) {
	m := ch.Base()
	f := analyzer.Finding{Span: m.Span, Message: msg, Objects: objects}
	if m.Effect.Known() {
		e := m.Effect
		f.Effect = &e
	}
	f.Help = joinHelp(p.Rule.Doc.Help, advice)
	if m.Effect.Algorithm != "" {
		p.Note(mdlNote)
		f.Help = joinHelp(f.Help, onlineAdvice(m.Effect))
	}
	p.Report(f)
}
