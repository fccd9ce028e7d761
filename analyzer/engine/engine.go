// Package engine runs rules over migrations: parse every part (in parallel),
// then replay them in order into the schema model, checking the parts to lint
// statement by statement, and finally match suppressions.
package engine

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/migrations"
)

// RuleConfig is a rule enabled for a run, with its effective severity.
type RuleConfig struct {
	Rule     *analyzer.Rule
	Severity analyzer.Severity
}

// Options configure a run.
type Options struct {
	Dialect analyzer.Dialect
	// Rules are the enabled rules, already filtered to the dialect.
	Rules []RuleConfig
	// Known are all the rules migsafe has, enabled or not: suppressions may
	// name any of them, by name or by code.
	Known []*analyzer.Rule
	// Workers is the number of files parsed at once; 0 means GOMAXPROCS.
	Workers int
	// History dates the deploys the files' Deploy numbers refer to; nil
	// means every deploy is undated (the time rules are skipped).
	History *analyzer.History
	// Forget drops each file's statements and comments once it is linted
	// (analyzer.File.Forget), for a caller that needs only the findings:
	// memory then holds the statements of the files parsed ahead, not of
	// the whole history. Result.Stmts keeps their numbers.
	Forget bool
}

// Result is what a run produced.
type Result struct {
	Files    []*analyzer.File
	Findings []analyzer.Finding // sorted by path, line, column, code
	Catalog  *catalog.Catalog   // the schema after the last part
	// Errors are internal failures (a rule that panicked). Findings are
	// still complete for every other rule.
	Errors []error
	// Notes are notices rules gave that are not findings (a time rule that
	// could not run), each once, in the order given.
	Notes   []string
	History *analyzer.History
	// Stmts is the number of statements of each file, in the order of
	// Files (with Options.Forget, what len(f.Stmts) was).
	Stmts []int
}

// Run lints files in order. Parts with Lint unset are replayed only.
// Parsing runs on every core and is pipelined with the replay: file i is
// checked as soon as it and the files before it are parsed.
func Run(ctx context.Context, files []*analyzer.File, opt Options) (*Result, error) {
	if opt.Dialect == nil {
		return nil, fmt.Errorf("engine: no dialect")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make([]chan error, len(files))
	for i := range done {
		done[i] = make(chan error, 1)
	}
	go parseAll(ctx, files, done, opt)
	res := &Result{Files: files, Catalog: catalog.New(), History: opt.History, Stmts: make([]int, len(files))}
	if res.History == nil {
		res.History = undatedHistory(files)
	}
	r := &run{opt: opt, known: map[string]*analyzer.Rule{}, enabled: map[string]bool{}, notes: map[string]bool{}}
	for _, k := range opt.Known {
		r.known[strings.ToLower(k.Code)] = k
		r.known[k.Name] = k
	}
	for _, rc := range opt.Rules {
		r.enabled[rc.Rule.Code] = true
	}
	for i, f := range files {
		select {
		case err := <-done[i]:
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		res.lintFile(f, r)
		res.Stmts[i] = len(f.Stmts)
		if opt.Forget {
			f.Forget()
		}
	}
	sortFindings(res.Findings, files)
	return res, nil
}

// parseAll parses files on every core, in order, and signals each file's
// completion on its done channel.
func parseAll(ctx context.Context, files []*analyzer.File, done []chan error, opt Options) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan int)
	for range workers {
		go func() {
			for i := range jobs {
				done[i] <- parseOne(files[i], opt.Dialect)
			}
		}()
	}
	defer close(jobs)
	for i := range files {
		select {
		case jobs <- i:
		case <-ctx.Done():
			return
		}
	}
}

func parseOne(f *analyzer.File, d analyzer.Dialect) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error in the %s parser adapter: %v\n%s", f.Path, d.Name(), r, debug.Stack())
		}
	}()
	if f.Lines == nil {
		f.Lines = analyzer.NewLineIndex(f.Src)
	}
	rng := f.Range
	if rng == (analyzer.Span{}) {
		rng = analyzer.Span{Start: 0, End: len(f.Src)}
		f.Range = rng
	}
	f.Stmts, f.Comments = d.Parse(f.Src, rng)
	for i, s := range f.Stmts {
		s.Index = i
	}
	return nil
}

type txCounter struct{ n int }

func (t *txCounter) next() int { t.n++; return t.n }

// run is the state of one Run call.
type run struct {
	opt     Options
	tx      txCounter
	known   map[string]*analyzer.Rule // by lower-case code and by name
	enabled map[string]bool           // by code
	notes   map[string]bool

	// the passes of the rules with a Check, built once, and the file they
	// are on with its findings so far
	checks   []*analyzer.Pass
	file     *analyzer.File
	findings []analyzer.Finding
	// spare is the last file's findings buffer, for the next file (its
	// findings were copied into the result)
	spare []analyzer.Finding
}

// passes returns the run's passes, built on first use.
func (r *run) passes(res *Result, target analyzer.Target) []*analyzer.Pass {
	if r.checks != nil {
		return r.checks
	}
	r.checks = []*analyzer.Pass{}
	for _, rc := range r.opt.Rules {
		if rc.Rule.Check == nil {
			continue
		}
		report := func(fd analyzer.Finding) {
			r.findings = append(r.findings, res.complete(fd, rc, r.file))
		}
		p := analyzer.NewPass(rc.Rule, target, nil, nil, nil, report)
		p.History = res.History
		p.SetNote(func(msg string) { res.note(r, msg) })
		r.checks = append(r.checks, p)
	}
	return r.checks
}

func (r *run) lookup(nameOrCode string) *analyzer.Rule {
	if k := r.known[strings.ToLower(nameOrCode)]; k != nil {
		return k
	}
	return r.known[nameOrCode]
}

func (res *Result) lintFile(f *analyzer.File, r *run) {
	opt := r.opt
	assignTransactions(f, &r.tx, opt.Dialect)
	var sups []*analyzer.Suppression
	if f.Lint {
		sups = parseSuppressions(f, r.lookup)
	}
	var fileFindings []analyzer.Finding
	target := opt.Dialect.Target()
	cat := res.Catalog
	if f.Direction == analyzer.Down {
		// A down migration is checked against the schema after its up
		// migration, and what it does is not part of the history.
		cat = res.Catalog.Overlay()
	}
	// one pass per rule for the whole run, moved from statement to
	// statement and from file to file (a pass and its closures for every
	// rule and file were a third of a run's allocations)
	var passes []*analyzer.Pass
	if f.Lint {
		passes = r.passes(res, target)
		r.file, r.findings = f, r.spare[:0]
		for _, p := range passes {
			p.File, p.Catalog, p.Deploy = f, cat, f.Deploy
		}
	}
	marks := parseMarkers(f)
	markerNote := func(msg string) { res.note(r, msg) }
	for _, s := range f.Stmts {
		marks = applyMarkers(marks, s.Span.Start, s.Index, f, cat, markerNote)
		opt.Dialect.Analyze(s, cat)
		if f.Lint {
			for _, p := range passes {
				p.Stmt = s
				if err := runCheck(p.Rule, p); err != nil {
					pos := f.Lines.Position(s.Span.Start)
					res.Errors = append(res.Errors, fmt.Errorf("%s:%d:%d: %w", f.Path, pos.Line, pos.Column, err))
				}
			}
		}
		at := catalog.Origin{Path: f.Path, Deploy: f.Deploy, Stmt: s.Index, Tx: s.Tx.ID, Line: f.Lines.Position(s.Span.Start).Line}
		for _, ch := range s.Changes {
			cat.Apply(ch, at)
		}
		if s.SyntaxError != nil {
			// the replay goes on without it, and says so
			cat.Unmodeled = append(cat.Unmodeled, catalog.Unmodeled{Origin: at, Kind: "syntax error", Reason: s.SyntaxError.Message})
			if q, ok := lostTable(f.Text(s.Span)); ok && cat.Table(q) == nil {
				// a CREATE TABLE that does not parse still names its
				// table: keep it as created here, without columns, so
				// that later statements on it are not judged as on an
				// old table
				cat.Apply(&change.CreateTable{Table: q}, at)
				if f.Lint {
					res.note(r, fmt.Sprintf("%s:%d: the CREATE TABLE of %s does not parse, so the model lost its columns: later statements on %s are checked as on a table created there, with unknown columns", f.Path, at.Line, q, q))
				}
			}
		}
	}
	applyMarkers(marks, len(f.Src)+1, len(f.Stmts), f, cat, markerNote)
	if !f.Lint {
		return
	}
	fileFindings, r.findings = r.findings, nil
	fileFindings = applySuppressions(fileFindings, sups, r.lookup)
	fileFindings = foldSecondary(fileFindings, r.lookup)
	for _, rc := range opt.Rules {
		if rc.Rule.Finish == nil {
			continue
		}
		report := func(fd analyzer.Finding) {
			fileFindings = append(fileFindings, res.complete(fd, rc, f))
		}
		fp := analyzer.NewFilePass(rc.Rule, target, f, sups, fileFindings, report)
		fp.Lookup = r.lookup
		fp.Enabled = func(code string) bool { return r.enabled[code] }
		fp.Known = opt.Known
		if err := runFinish(rc.Rule, fp); err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("%s: %w", f.Path, err))
		}
	}
	res.Findings = append(res.Findings, fileFindings...)
	r.spare = fileFindings[:0]
}

func runCheck(r *analyzer.Rule, p *analyzer.Pass) (err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("internal error in rule %s (%s): %v\n%s", r.Name, r.Code, x, debug.Stack())
		}
	}()
	r.Check(p)
	return nil
}

func runFinish(r *analyzer.Rule, p *analyzer.FilePass) (err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("internal error in rule %s (%s): %v\n%s", r.Name, r.Code, x, debug.Stack())
		}
	}()
	r.Finish(p)
	return nil
}

// complete fills the fields of a finding that come from the engine.
func (res *Result) complete(fd analyzer.Finding, rc RuleConfig, f *analyzer.File) analyzer.Finding {
	fd.Code, fd.Name, fd.Severity = rc.Rule.Code, rc.Rule.Name, rc.Severity
	fd.Path = f.Path
	fd.Direction = f.Direction
	if !fd.Span.Valid() {
		fd.Span = analyzer.Span{Start: f.Range.Start, End: f.Range.Start}
	}
	fd.Start = f.Lines.Position(fd.Span.Start)
	fd.End = f.Lines.Position(fd.Span.End)
	if fd.Stmt >= 0 && fd.Stmt < len(f.Stmts) {
		fd.StmtText = f.Text(f.Stmts[fd.Stmt].Span)
	}
	return fd
}

// assignTransactions computes each statement's transaction and session
// settings from the part's TxMode and its own BEGIN/COMMIT statements.
// A dialect that implements analyzer.Transactions (MySQL) says which
// statements commit implicitly: they end the transaction they would be in
// and run outside any, and the statements after them run in autocommit
// until the file opens a transaction again.
func assignTransactions(f *analyzer.File, txc *txCounter, d analyzer.Dialect) {
	n := 0
	for _, s := range f.Stmts {
		if s.SyntaxError == nil {
			n++
		}
	}
	txm, _ := d.(analyzer.Transactions)
	multiExec := txm == nil || txm.MultiStatementTransaction()
	mode, why := f.TxMode, f.TxModeWhy
	if mode == analyzer.TxModeByStatement {
		mode, why = byStatement(f, d.Target())
	}
	// the tool's transaction around the whole part
	toolTx := mode == analyzer.TxModeWholeFile || mode == analyzer.TxModeStatementsInTx
	implicit := toolTx || (mode == analyzer.TxModeMultiExecImplicit && n > 1 && multiExec)
	newImplicit := func() analyzer.TxContext {
		if !implicit {
			return analyzer.TxContext{}
		}
		return analyzer.TxContext{Kind: analyzer.TxImplicit, ID: txc.next(), Why: why}
	}
	cur := newImplicit()
	var sess, local analyzer.Session
	localTx := 0
	for _, s := range f.Stmts {
		var kind change.TxKind
		for _, ch := range s.Changes {
			if t, ok := ch.(*change.Transaction); ok {
				kind = t.Kind
			}
		}
		switch {
		case kind == 0 && txm != nil && txm.CommitsImplicitly(s):
			s.Tx = analyzer.TxContext{}
			implicit = false
			cur = analyzer.TxContext{}
		case kind == change.TxBegin:
			if cur.Kind == analyzer.TxImplicit && toolTx {
				// already inside the tool's transaction: BEGIN is a no-op warning
				s.Tx = cur
			} else {
				cur = analyzer.TxContext{Kind: analyzer.TxExplicit, ID: txc.next()}
				s.Tx = cur
			}
		case kind == change.TxCommit || kind == change.TxRollback:
			s.Tx = cur
			switch {
			case cur.Kind == analyzer.TxImplicit && mode == analyzer.TxModeStatementsInTx:
				// it ends the tool's transaction: the statements after run
				// on the same connection, outside any (goose)
				implicit = false
				cur = analyzer.TxContext{}
			default:
				// the transaction ends and its locks go; what follows runs
				// in a new one: the tool's session with autocommit off
				// (pgjdbc under Flyway) begins another, and the rest of a
				// one-Exec query string (dbmate, popx) runs in an implicit
				// one
				cur = newImplicit()
			}
		default:
			s.Tx = cur
		}
		if localTx != s.Tx.ID || s.Tx.ID == 0 {
			local = analyzer.Session{}
			localTx = s.Tx.ID
		}
		s.Session = merge(sess, local)
		for _, ch := range s.Changes {
			sp, ok := ch.(*change.SetParam)
			if !ok {
				continue
			}
			if sp.Local {
				if s.Tx.ID != 0 {
					setSession(&local, sp)
				}
			} else {
				setSession(&sess, sp)
			}
		}
	}
}

// byStatement decides how Flyway runs a PostgreSQL part from its
// statements (migrations.FlywayNonTransactional): in one transaction
// when each can run in one, without one when none can. A part with both
// kinds Flyway refuses to run (its "mixed" setting is false by default):
// the statement at which it stops gets Refused, and the others are
// checked as Flyway would run them with mixed=true, without a
// transaction.
func byStatement(f *analyzer.File, t analyzer.Target) (analyzer.TxMode, string) {
	var inTx, outTx *analyzer.Statement
	outWhat := ""
	for _, s := range f.Stmts {
		s.Refused = ""
		what := migrations.FlywayNonTransactional(f.Text(s.Span), t)
		switch {
		case what == "" && inTx == nil:
			inTx = s
			if outTx != nil {
				s.Refused = fmt.Sprintf("this statement runs in a transaction and %s on line %d outside one", outWhat, f.Lines.Line(outTx.Span.Start))
			}
		case what != "" && outTx == nil:
			outTx, outWhat = s, what
			if inTx != nil {
				s.Refused = fmt.Sprintf("%s must run outside a transaction and the statement on line %d inside one", what, f.Lines.Line(inTx.Span.Start))
			}
		}
	}
	if outTx == nil {
		return analyzer.TxModeWholeFile, "Flyway runs each migration in one transaction"
	}
	return analyzer.TxModeAutocommit, ""
}

func setSession(s *analyzer.Session, sp *change.SetParam) {
	switch {
	case sp.Name == "timezone" && sp.Reset, sp.Name == "all":
		s.TimeZone = ""
	case sp.Name == "timezone":
		s.TimeZone = sp.Value
	}
	v := sp.Value
	if sp.Reset || (v == "0" && sp.Name != "foreign_key_checks") || strings.EqualFold(v, "default") {
		// 0 disables a timeout; foreign_key_checks=0 is a setting of its own
		v = ""
	}
	switch sp.Name {
	case "lock_timeout":
		s.LockTimeout = v
	case "statement_timeout":
		s.StatementTimeout = v
	case "lock_wait_timeout":
		s.LockWaitTimeout = v
	case "foreign_key_checks":
		s.ForeignKeyChecks = v
	}
}

func merge(a, b analyzer.Session) analyzer.Session {
	if b.LockTimeout != "" {
		a.LockTimeout = b.LockTimeout
	}
	if b.StatementTimeout != "" {
		a.StatementTimeout = b.StatementTimeout
	}
	if b.LockWaitTimeout != "" {
		a.LockWaitTimeout = b.LockWaitTimeout
	}
	if b.ForeignKeyChecks != "" {
		a.ForeignKeyChecks = b.ForeignKeyChecks
	}
	if b.TimeZone != "" {
		a.TimeZone = b.TimeZone
	}
	return a
}

// sortFindings orders findings like the migrations they are in (apply
// order), then by position and code.
func sortFindings(fs []analyzer.Finding, files []*analyzer.File) {
	rank := make(map[string]int, len(files))
	for i, f := range files {
		if _, ok := rank[f.Path]; !ok {
			rank[f.Path] = i
		}
	}
	slices.SortStableFunc(fs, func(a, b analyzer.Finding) int {
		if ra, rb := rank[a.Path], rank[b.Path]; ra != rb {
			return ra - rb
		}
		if a.Start.Offset != b.Start.Offset {
			return a.Start.Offset - b.Start.Offset
		}
		return strings.Compare(a.Code, b.Code)
	})
}

// createTableRE reads the table name of a CREATE TABLE statement.
var createTableRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile("(?is)^\\s*CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:(?:GLOBAL|LOCAL)\\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?((?:(?:\"[^\"]+\"|`[^`]+`|[\\w$]+)\\s*\\.\\s*)?(?:\"[^\"]+\"|`[^`]+`|[\\w$]+))")
})

// lostTable returns the table a CREATE TABLE that does not parse names.
func lostTable(stmt string) (change.QName, bool) {
	m := createTableRE().FindStringSubmatch(stmt)
	if m == nil {
		return change.QName{}, false
	}
	var parts []string
	for _, p := range strings.Split(m[1], ".") {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && (p[0] == '"' || p[0] == '`') {
			p = p[1 : len(p)-1]
		} else {
			p = strings.ToLower(p)
		}
		parts = append(parts, p)
	}
	if len(parts) == 2 {
		return change.QName{Schema: parts[0], Name: parts[1]}, true
	}
	return change.QName{Name: parts[0]}, true
}

// foldSecondary folds the findings of secondary rules into another finding
// of the same statement that has a lock or work behind it, is at least as
// severe and is not suppressed: one statement, one cost, one finding that
// names every cause.
func foldSecondary(fs []analyzer.Finding, lookup func(string) *analyzer.Rule) []analyzer.Finding {
	secondary := func(f *analyzer.Finding) *analyzer.Rule {
		if r := lookup(f.Code); r != nil && r.Secondary {
			return r
		}
		return nil
	}
	for i := range fs {
		f := &fs[i]
		r := secondary(f)
		if f.Stmt < 0 || f.Suppressed != nil || r == nil {
			continue
		}
		for j := range fs {
			g := &fs[j]
			if j == i || g.Stmt != f.Stmt || g.Suppressed != nil || g.Effect == nil || secondary(g) != nil || g.Severity < f.Severity {
				continue
			}
			g.Message += "; also, " + lowerFirst(f.Message)
			if h := r.Doc.Help; h != "" && !strings.Contains(g.Help, h) {
				g.Help += "; " + h
			}
			for _, o := range f.Objects {
				if !slices.Contains(g.Objects, o) {
					g.Objects = append(g.Objects, o)
				}
			}
			g.Also = append(g.Also, f.Code)
			f.Code = "" // folded
			break
		}
	}
	// the folded ones removed in place
	return slices.DeleteFunc(fs, func(f analyzer.Finding) bool { return f.Code == "" })
}

// lowerFirst lowers the first letter of a message unless the word is a
// name in capitals (ALTER, NOT NULL).
func lowerFirst(s string) string {
	if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' || (s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
