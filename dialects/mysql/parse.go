package mysql

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // the parser's literal values

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// parsers are reused: a TiDB parser is not safe for concurrent use, and
// files are parsed in parallel.
var parsers = sync.Pool{New: func() any { return parser.New() }}

// Parse implements analyzer.Dialect: the scanner splits the part into
// statements, and each is parsed on its own, so a statement the TiDB parser
// rejects becomes a syntax error at its position and the others are still
// linted.
func (d *Dialect) Parse(src []byte, rng analyzer.Span) ([]*analyzer.Statement, []analyzer.Comment) {
	rng.Start = max(0, min(rng.Start, len(src)))
	rng.End = max(rng.Start, min(rng.End, len(src)))
	if len(src) > math.MaxInt32 {
		// token offsets are int32
		return []*analyzer.Statement{{Span: rng, Kind: "unparsable",
			SyntaxError: &analyzer.SyntaxError{Message: "the file is 2 GiB or more, more than the MySQL scanner reads: split it", Offset: rng.Start}}}, nil
	}
	segs, comments := scan(src, rng.Start, rng.End)
	var cs []analyzer.Comment
	for _, c := range comments {
		sp := change.Span{Start: int(c.start), End: int(c.end)}
		cs = append(cs, analyzer.Comment{Span: sp, Text: string(src[c.start:c.end])})
	}
	stmts := make([]*analyzer.Statement, 0, len(segs))
	p := parsers.Get().(*parser.Parser)
	defer parsers.Put(p)
	p.SetMariaDB(d.mariadb())
	for _, seg := range segs {
		stmts = append(stmts, d.statement(p, src, seg))
	}
	return stmts, cs
}

// statement parses and translates one statement.
func (d *Dialect) statement(p *parser.Parser, src []byte, seg stmtSeg) (st *analyzer.Statement) {
	st = &analyzer.Statement{Span: change.Span{Start: seg.start, End: seg.end}}
	if seg.lexErr != "" {
		st.Kind = "unparsable"
		st.SyntaxError = &analyzer.SyntaxError{Message: seg.lexErr, Offset: seg.lexErrOff}
		return st
	}
	text, rw := rewrite(src, seg, d.target)
	b := 0
	if text == string(src[seg.start:seg.end]) {
		b = depthBound(src, seg.toks)
	} else {
		b = rewrittenBound([]byte(text))
	}
	if b > maxDepth {
		// never handed to the parser
		st.Kind = "unparsable"
		st.SyntaxError = &analyzer.SyntaxError{Message: tooDeep(b), Offset: seg.start}
		return st
	}
	defer func() {
		if r := recover(); r != nil {
			// The TiDB parser panicked: report it as what it is, on this
			// statement only, and go on with the file.
			st.Changes = nil
			st.Kind = "unparsable"
			st.SyntaxError = &analyzer.SyntaxError{Message: fmt.Sprintf("the TiDB parser failed on this statement (%v)", r), Offset: seg.start}
		}
	}()
	nodes, _, err := p.Parse(text, "", "")
	if err != nil {
		if k := storedProgram(src, seg); k != "" {
			// The TiDB parser has no grammar for triggers, events and
			// compound stored-program bodies: the statement is valid
			// MySQL, recognised by its first words, and opaque.
			st.Kind = k
			st.Changes = []change.Change{&change.Unknown{Kind: k, Reason: "the TiDB parser has no grammar for " + strings.ToLower(k) + " bodies: the statement was recognised by its first words and not checked"}}
			return st
		}
		st.Kind = "unparsable"
		msg, off := syntaxError(text, err)
		if dashDash().MatchString(text) {
			msg += "; note that in MySQL -- starts a comment only when a space or tab follows it"
		}
		if _, w := ddlWait(src, seg); w && !d.mariadb() {
			msg += "; WAIT n and NOWAIT after the table name are MariaDB syntax, which MySQL rejects (for MariaDB, give --target-version mariadb-10.11 or the like)"
		}
		if dropIndexWithoutOn(src, seg) {
			msg += "; DROP INDEX needs ON table in MySQL and MariaDB (DROP INDEX name ON table)"
		}
		st.SyntaxError = &analyzer.SyntaxError{Message: msg, Offset: seg.start + off}
		return st
	}
	if len(nodes) == 0 {
		if rw.skipped {
			// only versioned comments the target server does not run
			st.Kind = "COMMENT"
			st.Changes = []change.Change{&change.Other{Kind: st.Kind}}
			return st
		}
		if strings.HasPrefix(text, "/*!") || strings.HasPrefix(text, "/*M!") {
			// a versioned comment the parser skips as too new for it
			st.Kind = "EXECUTABLE COMMENT"
			st.Changes = []change.Change{&change.Unknown{Kind: st.Kind, Reason: "a versioned /*!…*/ comment the TiDB parser does not execute"}}
			return st
		}
		st.Kind = "unparsable"
		st.SyntaxError = &analyzer.SyntaxError{Message: "not a statement (the TiDB parser found nothing to run)", Offset: seg.start}
		return st
	}
	t := &translator{d: d, src: src, seg: seg, rw: rw, stmt: st}
	for _, n := range nodes {
		t.translate(n)
	}
	if t.tooNew != "" {
		st.Changes = nil
		st.Kind = "unparsable"
		st.SyntaxError = &analyzer.SyntaxError{Message: t.tooNew + ": " + d.target.String() + " rejects it", Offset: t.tooNewAt}
		return st
	}
	if what, off := mariadbOnly(st); what != "" && !d.mariadb() {
		// the TiDB parser accepts MariaDB's IF [NOT] EXISTS clauses and
		// sequences; MySQL does not
		st.Changes = nil
		st.Kind = "unparsable"
		st.SyntaxError = &analyzer.SyntaxError{Message: what + " is MariaDB syntax, which MySQL rejects (for MariaDB, give --target-version mariadb-10.11 or the like)", Offset: off}
	}
	return st
}

// mariadbOnly finds MariaDB syntax MySQL rejects in a translated statement:
// what it is, and where.
func mariadbOnly(st *analyzer.Statement) (string, int) {
	at := func(ch change.Change) int {
		if sp := ch.Base().Span; sp.Valid() {
			return sp.Start
		}
		return st.Span.Start
	}
	for _, ch := range st.Changes {
		if what := mariadbClause(ch, st.Kind); what != "" {
			return what, at(ch)
		}
	}
	return "", 0
}

func mariadbClause(ch change.Change, kind string) string {
	when := func(b bool, what string) string {
		if b {
			return what
		}
		return ""
	}
	switch x := ch.(type) {
	case *change.AddColumn:
		return when(x.IfNotExists, "ADD COLUMN IF NOT EXISTS")
	case *change.DropColumn:
		return when(x.IfExists, "DROP COLUMN IF EXISTS")
	case *change.CreateIndex:
		if kind == "CREATE INDEX" {
			return when(x.IfNotExists, "CREATE INDEX IF NOT EXISTS")
		}
		return when(x.IfNotExists, "ADD INDEX IF NOT EXISTS")
	case *change.DropIndex:
		return when(x.IfExists, "DROP INDEX IF EXISTS")
	case *change.DropConstraint:
		return when(x.IfExists, "DROP FOREIGN KEY IF EXISTS")
	case *change.Other:
		return when(x.Kind == "CREATESEQUENCE", "CREATE SEQUENCE") + when(x.Kind == "DROPSEQUENCE", "DROP SEQUENCE")
	}
	return ""
}

// dashDash finds "--x" at the start of a line: a comment in other SQL
// dialects, an operator in MySQL.
var dashDash = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*--[^\s-]`) })

var nearRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)^line \d+ column \d+ near "(.*)"(.*?)(?: \(total length (\d+)\))?$`)
})

// syntaxError turns the parser's error into a message and the byte offset
// (in text) where it stopped. TiDB says `line L column C near "REST"`, where
// REST is the input from the offending token to the end (cut at 2048 bytes,
// with the total length given).
func syntaxError(text string, err error) (string, int) {
	msg := strings.TrimSpace(err.Error())
	m := nearRE().FindStringSubmatch(msg)
	if m == nil {
		// e.g. "[parser:1800]Unknown ALGORITHM 'ALGORITHM'"
		if i := strings.Index(msg, "]"); strings.HasPrefix(msg, "[") && i > 0 {
			msg = msg[i+1:]
		}
		return msg, 0
	}
	rest, extra := m[1], strings.TrimSpace(m[2])
	n := len(rest)
	if m[3] != "" {
		n, _ = strconv.Atoi(m[3])
	}
	off := len(text) - n
	if off < 0 || off > len(text) {
		off = 0
	}
	near := strings.TrimSpace(rest)
	if i := strings.IndexAny(near, "\n"); i >= 0 {
		near = near[:i]
	}
	if len(near) > 40 {
		near = near[:40] + "…"
	}
	out := "syntax error"
	if near == "" {
		out += " at the end of the statement"
	} else {
		out += " near \"" + near + "\""
	}
	if extra != "" {
		out += " (" + extra + ")"
	}
	return out + " (TiDB parser)", off
}

// storedProgram recognises the statements the TiDB parser has no grammar
// for but that are ordinary in MySQL migrations: CREATE TRIGGER / EVENT and
// stored procedures and functions with compound bodies, DROP TRIGGER /
// EVENT. It returns the statement kind, or "".
func storedProgram(src []byte, seg stmtSeg) string {
	var words []string
	for _, t := range seg.toks {
		if t.kind == tokComment {
			continue
		}
		if t.kind == tokWord {
			words = append(words, strings.ToUpper(string(src[t.start:t.end])))
		} else {
			words = append(words, "")
		}
		if len(words) == 12 {
			break
		}
	}
	if len(words) < 2 {
		return ""
	}
	switch words[0] {
	case "CREATE":
		for _, w := range words[1:] {
			switch w {
			case "TRIGGER", "EVENT", "PROCEDURE", "FUNCTION":
				return "CREATE " + w
			case "TABLE", "VIEW", "INDEX", "DATABASE", "SCHEMA", "USER":
				return ""
			}
		}
	case "DROP", "ALTER":
		switch words[1] {
		case "TRIGGER", "EVENT":
			return words[0] + " " + words[1]
		}
	}
	return ""
}

// rewrites are the position-preserving edits made to a statement before
// the TiDB parser sees it, for MySQL and MariaDB syntax it does not know.
type rewrites struct {
	nocopy  bool              // ALGORITHM=NOCOPY (MariaDB), parsed as COPY
	wait    bool              // WAIT n / NOWAIT after the table name (MariaDB), removed
	skipped bool              // a versioned comment the target does not run, blanked
	online  bool              // ALTER ONLINE TABLE (MariaDB): LOCK=NONE
	spatial []int             // file offsets of SPATIAL index keywords removed
	geo     map[string]string // column name (lower case) → spatial type written
}

// spatialTypes are MySQL's spatial column types, which TiDB does not know;
// they are parsed as BLOB (padded to the same length) and restored in the
// translation.
var spatialTypes = map[string]bool{
	"GEOMETRY": true, "POINT": true, "LINESTRING": true, "POLYGON": true, "MULTIPOINT": true,
	"MULTILINESTRING": true, "MULTIPOLYGON": true, "GEOMETRYCOLLECTION": true, "GEOMCOLLECTION": true,
}

func rewrite(src []byte, seg stmtSeg, target analyzer.Target) (string, rewrites) {
	buf := []byte(string(src[seg.start:seg.end]))
	var rw rewrites
	mariadb := target.Flavor == FlavorMariaDB
	for _, t := range seg.toks {
		if t.kind != tokExec {
			continue
		}
		// /*!NNNNN … */ runs on servers from version NNNNN on, /*M!NNNNNN … */
		// only on MariaDB: the markers are blanked so that the parser sees
		// the code the target runs, and a comment it does not run is blanked
		// whole.
		open, run := versionedComment(src[t.start:t.end], target)
		switch {
		case open == 0: // an optimizer hint /*+ … */
		case run:
			for i := int(t.start); i < int(t.start)+open; i++ {
				buf[i-seg.start] = ' '
			}
			buf[int(t.end)-2-seg.start], buf[int(t.end)-1-seg.start] = ' ', ' '
		default:
			rw.skipped = true
			for i := int(t.start); i < int(t.end); i++ {
				if buf[i-seg.start] != '\n' {
					buf[i-seg.start] = ' '
				}
			}
		}
	}
	real := realTokens(seg)
	// each token upper-cased once: the loops below look at every token
	// and its neighbours (a twentieth of a MySQL run went into upper-casing
	// them again)
	words := make([]string, len(real))
	for i := range real {
		words[i] = tokWordAt(src, real, i)
	}
	word := func(i int) string {
		if i < 0 || i >= len(words) {
			return ""
		}
		return words[i]
	}
	blank := func(t token, with string) {
		for i := int(t.start); i < int(t.end); i++ {
			buf[i-seg.start] = ' '
		}
		copy(buf[int(t.start)-seg.start:], with)
	}
	if ws, ok := ddlWait(src, seg); ok && mariadb {
		// MariaDB's ALTER TABLE t WAIT n / NOWAIT … (and the same after the
		// table of the other DDL statements) only bounds the wait for the
		// metadata lock.
		rw.wait = true
		for _, t := range ws {
			blank(t, "")
		}
	}
	for i := range real {
		if word(i) != "DEFAULT" {
			continue
		}
		// DEFAULT ((expr)): MySQL and MariaDB accept redundant parentheses
		// around an expression default, the TiDB parser only one pair.
		// The outer pairs are removed; the default is the same expression.
		for o := i + 1; word(o) == "(" && word(o+1) == "("; o++ {
			oc, ic := closing(src, real, o), closing(src, real, o+1)
			if oc < 0 || ic != oc-1 {
				break
			}
			blank(real[o], "")
			blank(real[oc], "")
		}
	}
	for i, t := range real {
		switch w := word(i); {
		case w == "NOCOPY" && (word(i-1) == "=" && word(i-2) == "ALGORITHM" || word(i-1) == "ALGORITHM"):
			rw.nocopy = true
			blank(t, "COPY")
		case w == "ONLINE" && i == 1 && word(0) == "ALTER":
			rw.online = true
			blank(t, "")
		case w == "SPATIAL" && (word(i+1) == "INDEX" || word(i+1) == "KEY") && word(i-1) != "CREATE":
			rw.spatial = append(rw.spatial, int(t.start))
			blank(t, "")
		case w == "SPATIAL" && word(i-1) == "CREATE":
			rw.spatial = append(rw.spatial, int(t.start))
		case spatialTypes[w] && t.kind == tokWord && i >= 2 && isIdent(real[i-1]) && columnIntro(word(i-2)):
			if rw.geo == nil {
				rw.geo = map[string]string{}
			}
			rw.geo[strings.ToLower(identText(src, real[i-1]))] = strings.ToLower(w)
			blank(t, "BLOB")
		}
	}
	return string(buf), rw
}

func isIdent(t token) bool { return t.kind == tokWord || t.kind == tokQuoted }

// versionedComment reads an executable comment: the length of its opening
// marker (/*!, /*!50700, /*M!100400; 0 for an optimizer hint) and whether
// the target server runs its content.
func versionedComment(c []byte, target analyzer.Target) (open int, run bool) {
	s := string(c)
	mariaOnly := strings.HasPrefix(s, "/*M!")
	switch {
	case mariaOnly:
		open = 4
	case strings.HasPrefix(s, "/*!"):
		open = 3
	default:
		return 0, false
	}
	if !strings.HasSuffix(s, "*/") || len(s) < open+2 {
		return 0, false
	}
	n := open
	for n < len(s)-2 && n < open+6 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if mariaOnly && target.Flavor != FlavorMariaDB {
		return n, false
	}
	if n == open {
		return n, true
	}
	v, err := strconv.Atoi(s[open:n])
	if err != nil {
		return n, true
	}
	return n, target.Major*10000+target.Minor*100+target.Patch >= v
}

// realTokens are a statement's tokens without its comments: its own
// tokens when it has none (read only).
func realTokens(seg stmtSeg) []token {
	i := slices.IndexFunc(seg.toks, func(t token) bool { return t.kind == tokComment })
	if i < 0 {
		return seg.toks
	}
	real := make([]token, i, len(seg.toks))
	copy(real, seg.toks[:i])
	for _, t := range seg.toks[i:] {
		if t.kind != tokComment {
			real = append(real, t)
		}
	}
	return real
}

// tokWordAt is token i in upper case ("`" for a backquoted identifier, ""
// out of range).
func tokWordAt(src []byte, real []token, i int) string {
	if i < 0 || i >= len(real) {
		return ""
	}
	t := real[i]
	if t.kind == tokQuoted {
		return "`"
	}
	return strings.ToUpper(string(src[t.start:t.end]))
}

// closing is the index of the ")" that closes the "(" at open, or -1.
func closing(src []byte, real []token, open int) int {
	depth := 0
	for j := open; j < len(real); j++ {
		if real[j].kind != tokPunct {
			continue
		}
		switch src[real[j].start] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// ddlWait finds MariaDB's WAIT n or NOWAIT right after the table name of
// ALTER TABLE, RENAME TABLE, DROP TABLE, TRUNCATE, OPTIMIZE TABLE or after
// the ON table of CREATE/DROP INDEX, and returns its tokens.
func ddlWait(src []byte, seg stmtSeg) ([]token, bool) {
	// most statements have neither word: no need to look closer (upper-
	// casing every token near every other was a tenth of a MySQL run)
	found := false
	for _, t := range seg.toks {
		if w := src[t.start:t.end]; bytes.EqualFold(w, []byte("WAIT")) || bytes.EqualFold(w, []byte("NOWAIT")) {
			found = true
			break
		}
	}
	if !found {
		return nil, false
	}
	real := realTokens(seg)
	word := func(i int) string { return tokWordAt(src, real, i) }
	switch word(0) {
	case "ALTER", "RENAME", "DROP", "TRUNCATE", "OPTIMIZE", "CREATE":
	default:
		return nil, false
	}
	for i := 2; i < len(real); i++ {
		prev := real[i-1]
		closeParen := word(i-1) == ")" && word(1) != "TABLE" // CREATE INDEX … ON t (cols) WAIT n
		// right after a table name: TABLE t, IF EXISTS t, ON t, db.t, a, t
		afterName := isIdent(prev) && (prev.kind != tokWord || !reservedBeforeWait[word(i-1)]) && beforeTableName[word(i-2)]
		if !closeParen && !afterName {
			continue
		}
		switch word(i) {
		case "NOWAIT":
			return []token{real[i]}, true
		case "WAIT":
			if i+1 < len(real) && real[i+1].kind == tokWord && isNumber(src, real[i+1]) {
				return []token{real[i], real[i+1]}, true
			}
		}
	}
	return nil, false
}

// reservedBeforeWait are words after which WAIT/NOWAIT is not MariaDB's DDL
// lock wait (SELECT … FOR UPDATE NOWAIT inside a CREATE … AS SELECT).
var reservedBeforeWait = map[string]bool{"UPDATE": true, "SHARE": true, "MODE": true, "LOCKED": true}

// beforeTableName are the tokens a table name follows in the DDL that
// takes WAIT n / NOWAIT.
var beforeTableName = map[string]bool{"TABLE": true, "TABLES": true, "EXISTS": true, "ON": true, ".": true, ",": true, "TRUNCATE": true}

func isNumber(src []byte, t token) bool {
	for _, c := range src[t.start:t.end] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return t.end > t.start
}

// dropIndexWithoutOn reports a DROP INDEX statement without ON table, which
// PostgreSQL accepts and MySQL and MariaDB do not.
func dropIndexWithoutOn(src []byte, seg stmtSeg) bool {
	real := realTokens(seg)
	if tokWordAt(src, real, 0) != "DROP" || tokWordAt(src, real, 1) != "INDEX" {
		return false
	}
	for i := range real {
		if tokWordAt(src, real, i) == "ON" {
			return false
		}
	}
	return true
}

// columnIntro reports whether a word can precede a column name in a
// column definition.
func columnIntro(w string) bool {
	switch w {
	case "(", ",", "ADD", "COLUMN", "MODIFY", "`":
		return true
	}
	return false
}

// identText is the name of an identifier token, unquoted.
func identText(src []byte, t token) string {
	s := string(src[t.start:t.end])
	if t.kind == tokQuoted && len(s) >= 2 {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}
