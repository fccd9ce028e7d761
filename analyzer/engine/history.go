package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

// Markers are comments that record expand-contract steps the SQL cannot
// show: the application stopped writing an object (step 5), or a backfill
// ran that the model cannot read (step 3, e.g. in a DO block).
const (
	directiveDeprecate = "migsafe:deprecate"
	directiveBackfill  = "migsafe:backfill"
)

// marker is one parsed marker comment.
type marker struct {
	off     int // where the comment starts
	line    int
	kind    string   // directiveDeprecate or directiveBackfill
	targets []string // as written: TABLE, TABLE.COLUMN, SCHEMA.TABLE.COLUMN
	from    []string // backfill: the columns read
	text    string
}

// parseMarkers finds the marker comments of a part, in source order.
func parseMarkers(f *analyzer.File) []marker {
	var out []marker
	for _, c := range f.Comments {
		if !strings.Contains(c.Text, "migsafe:") {
			continue
		}
		body := commentBody(c.Text)
		var kind string
		switch {
		case hasDirective(body, directiveDeprecate):
			kind = directiveDeprecate
		case hasDirective(body, directiveBackfill):
			kind = directiveBackfill
		default:
			continue
		}
		m := marker{off: c.Span.Start, line: f.Lines.Position(c.Span.Start).Line, kind: kind, text: strings.TrimSpace(body)}
		rest := strings.TrimLeft(body[len(kind):], ": \t")
		if kind == directiveDeprecate {
			// TARGET[, TARGET…] [free text]
			m.targets = targetList(&rest)
		} else {
			// TABLE.COLUMN from COLUMN[, COLUMN…] [free text]
			m.targets = targetList(&rest)
			if w, r, _ := strings.Cut(strings.TrimSpace(rest), " "); strings.EqualFold(w, "from") {
				r = strings.TrimSpace(r)
				for _, t := range targetList(&r) {
					m.from = append(m.from, lastPart(t))
				}
			}
		}
		out = append(out, m)
	}
	return out
}

func hasDirective(body, d string) bool {
	if !strings.HasPrefix(body, d) {
		return false
	}
	rest := body[len(d):]
	return rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == ':'
}

// targetList reads a comma-separated list of dotted names from the front
// of *s and leaves the rest in *s. A part of a name may be quoted as in
// SQL ("Users"."Name", `users`.`name`); the quotes are dropped.
func targetList(s *string) []string {
	var out []string
	rest := *s
	for {
		rest = strings.TrimLeft(rest, " \t")
		word, n := dottedName(rest)
		if n == 0 {
			break
		}
		out = append(out, word)
		rest = rest[n:]
		t := strings.TrimLeft(rest, " \t")
		if strings.HasPrefix(t, ",") {
			rest = t[1:]
			continue
		}
		rest = t
		break
	}
	*s = rest
	return out
}

// dottedName reads a name of dot-separated parts, each an identifier or a
// quoted identifier, from the front of s: the name without quotes and the
// number of bytes read; 0 when s does not start with one, or when the name
// runs into other text ("users.name;").
func dottedName(s string) (string, int) {
	var parts []string
	i := 0
	for {
		part, n := namePart(s[i:])
		if n == 0 {
			return "", 0
		}
		parts = append(parts, part)
		i += n
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		break
	}
	if i < len(s) && !strings.ContainsRune(" \t,", rune(s[i])) {
		return "", 0
	}
	return strings.Join(parts, "."), i
}

// namePart reads an identifier or a quoted identifier ("a""b", `a“ b`).
func namePart(s string) (string, int) {
	if s == "" {
		return "", 0
	}
	if q := s[0]; q == '"' || q == '`' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] != q {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == q { // a doubled quote
				b.WriteByte(q)
				i++
				continue
			}
			if b.Len() == 0 {
				return "", 0
			}
			return b.String(), i + 1
		}
		return "", 0 // unterminated
	}
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !identRune(r) {
			break
		}
		n += size
	}
	return s[:n], n
}

func lastPart(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// resolve reads a marker target against the schema: TABLE, TABLE.COLUMN or
// SCHEMA.TABLE.COLUMN; "a.b" is SCHEMA.TABLE when the model knows that
// table and TABLE.COLUMN otherwise.
func resolve(target string, cat *catalog.Catalog) (change.QName, string) {
	fold := func(s string) string { return strings.ToLower(s) }
	parts := strings.Split(target, ".")
	switch len(parts) {
	case 1:
		return change.QName{Name: fold(parts[0])}, ""
	case 2:
		q := change.QName{Schema: fold(parts[0]), Name: fold(parts[1])}
		tab := cat.Table(change.QName{Name: fold(parts[0])})
		if cat.Table(q) != nil && (tab == nil || tab.Column(parts[1]) == nil) {
			return q, ""
		}
		return change.QName{Name: fold(parts[0])}, fold(parts[1])
	default:
		n := len(parts)
		return change.QName{Schema: fold(parts[n-3]), Name: fold(parts[n-2])}, fold(parts[n-1])
	}
}

// applyMarkers applies the markers that come before offset off, into cat,
// as if they were statement stmt; it returns the markers still to apply.
func applyMarkers(ms []marker, off, stmt int, f *analyzer.File, cat *catalog.Catalog, note func(string)) []marker {
	for len(ms) > 0 && ms[0].off < off {
		m := ms[0]
		ms = ms[1:]
		at := catalog.Origin{Path: f.Path, Deploy: f.Deploy, Stmt: stmt, Line: m.line}
		if d, ok := f.MarkerDeploys[m.line]; ok {
			at.Deploy = d // added to the file after it shipped
		}
		if len(m.targets) == 0 || (m.kind == directiveBackfill && len(m.from) == 0) {
			want := "TABLE or TABLE.COLUMN"
			if m.kind == directiveBackfill {
				want = "TABLE.COLUMN from COLUMN"
			}
			cat.Unmodeled = append(cat.Unmodeled, catalog.Unmodeled{Origin: at, Kind: "-- " + m.kind, Reason: "marker ignored: expected " + want + " after it, got " + strings.TrimSpace(strings.TrimPrefix(m.text, m.kind))})
			continue
		}
		for _, t := range m.targets {
			table, col := resolve(t, cat)
			if msg := unknownColumn(cat, table, col); msg != "" {
				// a typo would leave the drop judged as never deprecated
				// (or the backfill unseen) with no word why
				pos := f.Lines.Position(m.off)
				reason := "marker ignored: " + msg
				cat.Unmodeled = append(cat.Unmodeled, catalog.Unmodeled{Origin: at, Kind: "-- " + m.kind, Reason: reason})
				note(fmt.Sprintf("%s:%d:%d: -- %s %s: %s", f.Path, pos.Line, pos.Column, m.kind, t, reason))
				continue
			}
			if m.kind == directiveDeprecate {
				cat.Deprecate(table, col, at)
				continue
			}
			if col == "" {
				cat.Unmodeled = append(cat.Unmodeled, catalog.Unmodeled{Origin: at, Kind: "-- " + m.kind, Reason: "marker ignored: " + t + " names no column (want TABLE.COLUMN from COLUMN)"})
				continue
			}
			cat.RecordBackfill(table, col, m.from, at)
		}
	}
	return ms
}

// unknownColumn says why a marker's TABLE.COLUMN names nothing, when the
// history created the table (so it knows every column) and the column is
// not one of them; "" otherwise, also for tables the history never saw
// created (they existed before the migrations read).
func unknownColumn(cat *catalog.Catalog, table change.QName, col string) string {
	if col == "" {
		return ""
	}
	tab := cat.Table(table)
	if tab == nil || tab.Origin.Base || tab.Column(col) != nil {
		return ""
	}
	var names []string
	for _, c := range tab.Columns {
		names = append(names, c.Name)
	}
	msg := table.String() + " has no column " + col
	if sug := analyzer.Suggest(col, names); sug != "" {
		msg += " (did you mean " + table.String() + "." + sug + "?)"
	}
	return msg
}

// note records a notice once.
func (res *Result) note(r *run, msg string) {
	if r.notes[msg] {
		return
	}
	r.notes[msg] = true
	res.Notes = append(res.Notes, msg)
}

// undatedHistory is the history when the caller gives none: as many
// undated deploys as the files use.
func undatedHistory(files []*analyzer.File) *analyzer.History {
	n := 0
	for _, f := range files {
		n = max(n, f.Deploy)
	}
	return analyzer.Undated(n)
}

func identRune(r rune) bool {
	return r == '_' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}
