package analyzer

import (
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

// Span is a half-open byte range in a file's source.
type Span = change.Span

// Statement is one parsed statement of a migration.
type Statement struct {
	Index   int  // position in its part, from 0
	Span    Span // from the first token to the end of the last one (no leading comments, no ';')
	Kind    string
	Changes []change.Change
	// SyntaxError is set when the statement does not parse; Changes is then empty.
	SyntaxError *SyntaxError

	// Filled by the engine.
	Tx      TxContext
	Session Session
	// Refused, set on the statement at which the migration tool gives up
	// on the whole part before running any of it, says why.
	Refused string
}

// SyntaxError is the parser's complaint about a statement.
type SyntaxError struct {
	Message string
	Offset  int // byte offset in the file where the parser stopped
}

// TxKind says how a statement is wrapped in a transaction when it runs.
type TxKind int

const (
	TxNone     TxKind = iota // autocommit: the statement is its own transaction
	TxExplicit               // inside BEGIN … COMMIT written in the file
	TxImplicit               // the migration tool runs the file in one transaction
)

func (k TxKind) String() string {
	switch k {
	case TxExplicit:
		return "explicit transaction"
	case TxImplicit:
		return "implicit transaction"
	default:
		return "no transaction"
	}
}

// TxContext identifies the transaction a statement runs in. ID is unique
// across the whole run; statements with the same non-zero ID share a
// transaction.
type TxContext struct {
	Kind TxKind
	ID   int
	// Why explains an implicit transaction ("golang-migrate runs a
	// multi-statement file as one implicit transaction").
	Why string
}

// InTransaction reports whether the statement shares a transaction with others.
func (t TxContext) InTransaction() bool { return t.Kind != TxNone }

// Session is the state of the session settings rules care about, as set by
// earlier statements of the same migration.
type Session struct {
	LockTimeout      string // PostgreSQL lock_timeout
	StatementTimeout string
	LockWaitTimeout  string // MySQL lock_wait_timeout
	ForeignKeyChecks string // MySQL foreign_key_checks
	TimeZone         string // PostgreSQL TimeZone, as written
}

// Direction of a migration part.
type Direction int

const (
	Up Direction = iota
	Down
)

func (d Direction) String() string {
	if d == Down {
		return "down"
	}
	return "up"
}

// TxMode is how the migration tool runs a part.
type TxMode int

const (
	// TxModeAutocommit: each statement commits on its own unless the file
	// opens a transaction itself (psql -f, golang-migrate single statement).
	TxModeAutocommit TxMode = iota
	// TxModeWholeFile: the tool wraps the whole part in one transaction
	// (goose and dbmate by default, golang-migrate's single Exec of a
	// multi-statement file).
	TxModeWholeFile
	// TxModeMultiExecImplicit: the tool sends the whole part in one Exec
	// call, which PostgreSQL runs as one implicit transaction when it holds
	// more than one statement (golang-migrate's default).
	TxModeMultiExecImplicit
	// TxModeStatementsInTx: the tool opens one transaction for the part
	// and sends its statements one at a time on it (goose): a COMMIT or
	// ROLLBACK in the part ends that transaction, and the statements after
	// it run in autocommit until the part opens one itself.
	TxModeStatementsInTx
	// TxModeByStatement: the tool decides from the part's statements
	// (Flyway on PostgreSQL): one transaction when each of them can run in
	// one, none when none can, and it refuses to run a part that holds
	// both (Statement.Refused).
	TxModeByStatement
)

// File is one part of a migration to lint or to replay: a whole .sql file, or
// the Up or Down section of a goose/dbmate file. Offsets are into Src, the
// whole file, so positions are always file positions.
type File struct {
	Path      string // as given on the command line or discovered, slash-separated
	Src       []byte // the whole file, BOM removed
	BOM       bool
	Range     Span // the part of Src this migration part covers
	Direction Direction
	TxMode    TxMode
	TxModeWhy string
	Version   string // migration version, when the layout has one
	Lint      bool   // false: history, replayed only
	Deploy    int    // deploy number; objects created in the current deploy are new
	// Layout is the migration tool whose conventions the part follows
	// ("golang-migrate", "goose", …); empty for a lone file.
	Layout string
	// MissingDown, for an up part of a layout with down migrations that
	// has none, says where its down part would be ("000003_x.down.sql").
	MissingDown string
	// Edited names the --since reference that already had this migration
	// when the file was changed since (edited-applied-migration).
	Edited string
	// MarkerDeploys dates the -- migsafe: markers added to the file after
	// it shipped: the line of the marker → the deploy that added it (a
	// deprecation written into an old migration is not as old as it).
	MarkerDeploys map[int]int
	Stmts         []*Statement
	Comments      []Comment
	Lines         *LineIndex

	memo map[any]any
}

// Memo returns what build returns, built once per file and key: an index
// of the file's statements a rule would otherwise rebuild for every
// statement (quadratic time on a long file). A file's statements are
// checked in order on one goroutine, so Memo is not safe for concurrent
// use.
func (f *File) Memo(key any, build func() any) any {
	if v, ok := f.memo[key]; ok {
		return v
	}
	if f.memo == nil {
		f.memo = map[any]any{}
	}
	v := build()
	f.memo[key] = v
	return v
}

// Forget drops what the engine filled in f: its statements, comments and
// memo (not its line index). A caller that keeps only the findings of a
// history calls it once they are made, so that a run over many histories
// holds the parse trees of one at a time.
func (f *File) Forget() { f.Stmts, f.Comments, f.memo = nil, nil, nil }

// Text returns the source text of a span.
func (f *File) Text(s Span) string {
	if s.Start < 0 || s.End > len(f.Src) || s.Start > s.End {
		return ""
	}
	return string(f.Src[s.Start:s.End])
}

// Comment is a comment in the source, found by the dialect's scanner.
type Comment struct {
	Span Span
	Text string // including the comment markers
}

// Target is the server and version advice is given for.
type Target struct {
	Dialect string // postgres | mysql
	Flavor  string // postgres | mysql | mariadb
	Major   int
	Minor   int
	Patch   int
	Text    string // as the user wrote it, for messages
}

// AtLeast reports whether the target version is ≥ major.minor.patch.
func (t Target) AtLeast(major, minor, patch int) bool {
	if t.Major != major {
		return t.Major > major
	}
	if t.Minor != minor {
		return t.Minor > minor
	}
	return t.Patch >= patch
}

func (t Target) String() string { return t.Text }

// Pass is what a rule sees while checking one statement.
type Pass struct {
	Rule    *Rule
	Target  Target
	File    *File
	Stmt    *Statement
	Catalog *catalog.Catalog // the schema just before Stmt; read it, never change it
	Deploy  int              // the deploy File belongs to
	// History knows every deploy's date and the minimum deprecation age.
	History *History
	report  func(Finding)
	note    func(string)
}

// Note records a notice for the user that is not a finding (for example
// that a time rule could not run because deploy dates are unknown).
// Identical notes are printed once.
func (p *Pass) Note(msg string) {
	if p.note != nil {
		p.note(msg)
	}
}

// SetNote is used by the engine to collect notes.
func (p *Pass) SetNote(f func(string)) { p.note = f }

// NewPass is used by the engine and by tests that drive a rule directly.
// f may be nil when the caller sets File (and Deploy) before each use.
func NewPass(r *Rule, t Target, f *File, s *Statement, c *catalog.Catalog, report func(Finding)) *Pass {
	p := &Pass{Rule: r, Target: t, File: f, Stmt: s, Catalog: c, report: report}
	if f != nil {
		p.Deploy = f.Deploy
	}
	return p
}

// Report records a finding of the pass's rule. The span defaults to the
// statement; the help defaults to the rule's Doc.Help.
func (p *Pass) Report(f Finding) {
	if !f.Span.Valid() {
		f.Span = p.Stmt.Span
	}
	if f.Help == "" {
		f.Help = p.Rule.Doc.Help
	}
	f.Stmt = p.Stmt.Index
	p.report(f)
}

// IsNew reports whether a table was created in the current deploy, so that
// locking it or rewriting it hurts nobody yet.
func (p *Pass) IsNew(t change.QName) bool {
	tab := p.Catalog.Table(t)
	return tab != nil && tab.Origin.Deploy == p.Deploy && !tab.Origin.Base
}

// Known reports whether the catalog has the table (from history or from
// earlier in this migration).
func (p *Pass) Known(t change.QName) bool { return p.Catalog.Table(t) != nil }

// FilePass is what a rule's Finish hook sees.
type FilePass struct {
	Rule         *Rule
	Target       Target
	File         *File
	Suppressions []*Suppression
	Findings     []Finding // findings of the file so far, suppressed ones included
	// Lookup finds a known rule by name or code; Enabled says whether a rule
	// (by code) runs in this configuration; Known lists every rule.
	Lookup  func(nameOrCode string) *Rule
	Enabled func(code string) bool
	Known   []*Rule
	report  func(Finding)
}

// NewFilePass is used by the engine.
func NewFilePass(r *Rule, t Target, f *File, sup []*Suppression, fs []Finding, report func(Finding)) *FilePass {
	return &FilePass{Rule: r, Target: t, File: f, Suppressions: sup, Findings: fs, report: report}
}

// Report records a finding.
func (p *FilePass) Report(f Finding) {
	if f.Help == "" {
		f.Help = p.Rule.Doc.Help
	}
	f.Stmt = -1
	p.report(f)
}
