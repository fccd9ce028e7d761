package rules

import (
	"strconv"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

func itoa(n int) string { return strconv.Itoa(n) }

// MissingLockTimeout flags the first statement of a migration that waits for
// a blocking lock on an existing table while no lock_timeout is set.
var MissingLockTimeout = &analyzer.Rule{
	Code:     "PG404",
	Name:     "missing-lock-timeout",
	Summary:  "A blocking lock is requested without lock_timeout, so a long query can stall the whole table",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Fix:      analyzer.FixAlways,
	Doc: analyzer.Doc{
		Why: `Even a quick ALTER TABLE must wait for its lock until every running query on the
table finishes. While it waits, every new query on the table queues behind it: one
slow report turns a millisecond migration into an outage. lock_timeout makes the
migration give up instead (and the tool can retry).`,
		Recipe: `Start the migration with a lock timeout (and, if you like, a statement timeout):

~~~sql
SET lock_timeout = '5s';
ALTER TABLE users ADD COLUMN nickname text;
~~~

Inside a transaction \'SET LOCAL lock_timeout = '5s'\' limits it to that transaction.
It can also be set once on the migration role: \'ALTER ROLE migrator SET lock_timeout = '5s'\'
(then suppress this rule in the configuration).`,
		Help: "start the migration with SET lock_timeout = '5s' (or SET LOCAL inside the transaction)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users ADD COLUMN nickname text;",
			Good:    "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;",
		}},
		Notes: "Reported once per migration, at the first statement that needs it. Tables created in the same deploy and locks that block neither reads nor writes (CONCURRENTLY, VALIDATE CONSTRAINT) do not count. CREATE TABLE counts when it locks an existing table: PARTITION OF locks the partitioned table ACCESS EXCLUSIVE, a foreign key locks the referenced table SHARE ROW EXCLUSIVE; so does CREATE TRIGGER. CREATE OR REPLACE VIEW counts when it replaces a view of an earlier deploy (PostgreSQL locks it ACCESS EXCLUSIVE). So do DROP TRIGGER, DROP POLICY and DROP RULE … ON a table (ACCESS EXCLUSIVE on the table), ALTER SEQUENCE … RESTART (nextval() waits for it), DETACH PARTITION … CONCURRENTLY (its second transaction waits for an ACCESS EXCLUSIVE lock on the partition), CREATE RULE … ON a table (ACCESS EXCLUSIVE), ALTER DOMAIN … ADD CONSTRAINT without NOT VALID, SET NOT NULL and VALIDATE CONSTRAINT (a SHARE lock on each table with a column of the domain, while it reads it) and DROP TYPE or DOMAIN … CASCADE (ACCESS EXCLUSIVE on the tables whose columns it drops). DROP SEQUENCE does not: the schema model does not keep sequences, and one a column's default uses cannot be dropped without CASCADE.",
	},
	Check: func(p *analyzer.Pass) {
		ch := needsTimeout(p, p.Stmt)
		if ch == nil {
			return
		}
		// reported at the first one; the earlier statements are looked at
		// once per file, not once per statement (n² on a long file)
		seen := p.File.Memo(lockTimeoutKey{}, func() any { return &scanned{} }).(*scanned)
		if seen.upTo(p.File, p.Stmt.Index, func(s *analyzer.Statement) bool { return needsTimeout(p, s) != nil }) {
			return
		}
		seen.found = true
		e := ch.Base().Effect
		f := analyzer.Finding{
			Span:    p.Stmt.Span,
			Message: "No lock_timeout is set before this statement, which takes " + article(e.Lock) + " " + e.Lock + " lock on " + e.On + " (blocks " + e.Blocks.String() + "); while it waits for the lock behind running queries, " + queued(e) + " queues behind it",
			Objects: []string{e.On},
			Effect:  &e,
			Fixes: []analyzer.Fix{{Description: "Set lock_timeout before the statement",
				Edits: []analyzer.Edit{{Span: analyzer.Span{Start: p.Stmt.Span.Start, End: p.Stmt.Span.Start}, NewText: "SET lock_timeout = '5s';\n"}}}},
		}
		p.Report(f)
	},
}

// needsTimeout returns the change of s that waits for a blocking lock on an
// existing table with no lock_timeout in force, or nil.
type lockTimeoutKey struct{}

// scanned is how far a rule has looked through a file's statements for
// one that matches, and whether it found one.
type scanned struct {
	next  int
	found bool
}

// upTo reports whether one of the statements before index end matches,
// looking only at those not looked at before.
func (sc *scanned) upTo(f *analyzer.File, end int, match func(*analyzer.Statement) bool) bool {
	for ; !sc.found && sc.next < end && sc.next < len(f.Stmts); sc.next++ {
		if match(f.Stmts[sc.next]) {
			sc.found = true
		}
	}
	return sc.found
}

func needsTimeout(p *analyzer.Pass, s *analyzer.Statement) change.Change {
	if s.Session.LockTimeout != "" || s.SyntaxError != nil {
		return nil
	}
	for _, ch := range s.Changes {
		e := ch.Base().Effect
		if e.Blocks == change.BlocksNothing || e.On == "" {
			continue
		}
		switch x := ch.(type) {
		case *change.DML:
			continue
		case *change.AlterSequence:
			// other forms mostly follow the CREATE SEQUENCE of the same
			// migration, which the model does not keep
			if !x.Restart {
				continue
			}
		case *change.DropOther:
			// DROP SEQUENCE: the model does not keep sequences, and one
			// a column's default uses cannot be dropped without CASCADE;
			// what is left is mostly a sequence the migration created or
			// one nothing uses any more
			if x.Kind == "SEQUENCE" {
				continue
			}
		case *change.CreateTable:
			// the new table is nobody's; a lock on the partitioned table
			// or on a referenced table is someone's
			if e.On == x.Table.String() {
				continue
			}
		}
		if t, ok := ddlTable(ch); ok && newAt(p, t, s) {
			continue
		}
		if newAt(p, qname(e.On), s) {
			continue
		}
		return ch
	}
	return nil
}

// newAt reports whether table t was new when statement s ran. The catalog
// is the one before the pass's statement: a table this file creates only
// after s (a table dropped and created again) was not new yet at s.
func newAt(p *analyzer.Pass, t change.QName, s *analyzer.Statement) bool {
	if !p.IsNew(t) {
		return false
	}
	o := p.Catalog.Table(t).Origin
	return s == p.Stmt || o.Path != p.File.Path || o.Stmt < s.Index
}

// qname reads back a table name an effect names ("app.users").
func qname(s string) change.QName {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return change.QName{Schema: s[:i], Name: s[i+1:]}
	}
	return change.QName{Name: s}
}

// queued says what waits behind a lock request: a request for a lock that
// blocks only writes lets reads through.
func queued(e change.Effect) string {
	if e.Blocks == change.BlocksWrites {
		return "every new write to " + e.On
	}
	return "every new query on " + e.On
}
