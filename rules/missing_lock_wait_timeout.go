package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// MissingLockWaitTimeout flags the first DDL statement of a MySQL migration
// on an existing table while no lock_wait_timeout is set.
var MissingLockWaitTimeout = &analyzer.Rule{
	Code:     "MY401",
	Name:     "missing-lock-wait-timeout",
	Summary:  "DDL runs without lock_wait_timeout, so a long transaction can stall every query on the table",
	Dialects: myOnly,
	Severity: analyzer.SeverityWarning,
	Off:      true,
	Fix:      analyzer.FixAlways,
	Doc: analyzer.Doc{
		Why: `Every ALTER TABLE, even an INSTANT one, needs an exclusive metadata lock at its
start and end. While one transaction that touched the table is still open, the
ALTER waits for it, and every new query on the table queues behind the waiting
ALTER: the table is effectively down. MySQL's default lock_wait_timeout is one
year.`,
		Recipe: `Set a short timeout at the start of the migration, and let the tool retry:

~~~sql
SET SESSION lock_wait_timeout = 5;
ALTER TABLE users ADD COLUMN nickname VARCHAR(30), ALGORITHM=INSTANT;
~~~

It can also be set for the migration user or in the tool's connection string
(then leave this rule off, as it is by default).`,
		Help: "start the migration with SET SESSION lock_wait_timeout = 5",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);",
			Good:    "SET SESSION lock_wait_timeout = 5;\nALTER TABLE users ADD COLUMN nickname VARCHAR(30);",
		}},
		Notes: "Off by default: many teams set the timeout in the migration tool's connection instead. Reported once per migration, at the first DDL statement on an existing table.",
	},
	Check: func(p *analyzer.Pass) {
		ddl := func(s *analyzer.Statement) (change.QName, bool) {
			if s.SyntaxError != nil || s.Session.LockWaitTimeout != "" {
				return change.QName{}, false
			}
			for _, ch := range s.Changes {
				switch x := ch.(type) {
				case *change.AlterOptions:
					if !p.IsNew(x.Table) {
						return x.Table, true
					}
				case *change.DropTable:
					if !p.IsNew(x.Table) {
						return x.Table, true
					}
				case *change.RenameTable:
					if !p.IsNew(x.Table) {
						return x.Table, true
					}
				case *change.Truncate:
					return change.QName{}, true
				case *change.TableRewrite:
					return x.Table, true
				}
			}
			return change.QName{}, false
		}
		t, ok := ddl(p.Stmt)
		if !ok {
			return
		}
		seen := p.File.Memo(lockWaitTimeoutKey{}, func() any { return &scanned{} }).(*scanned)
		if seen.upTo(p.File, p.Stmt.Index, func(s *analyzer.Statement) bool { _, ok := ddl(s); return ok }) {
			return
		}
		seen.found = true
		p.Report(analyzer.Finding{
			Span:    p.Stmt.Span,
			Message: "No lock_wait_timeout is set before this DDL on " + t.String() + ": it waits for a metadata lock behind any open transaction on the table (up to a year by default), and every query on the table queues behind it meanwhile",
			Objects: []string{t.String()},
			Fixes: []analyzer.Fix{{Description: "Set lock_wait_timeout before the statement",
				Edits: []analyzer.Edit{{Span: analyzer.Span{Start: p.Stmt.Span.Start, End: p.Stmt.Span.Start}, NewText: "SET SESSION lock_wait_timeout = 5;\n"}}}},
		})
	},
}

type lockWaitTimeoutKey struct{}
