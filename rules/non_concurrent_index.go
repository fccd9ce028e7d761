package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// NonConcurrentIndex flags CREATE INDEX without CONCURRENTLY on an existing
// table.
var NonConcurrentIndex = &analyzer.Rule{
	Code:     "PG101",
	Name:     "non-concurrent-index",
	Summary:  "CREATE INDEX without CONCURRENTLY blocks writes while the index builds",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Fix:      analyzer.FixSometimes,
	Doc: analyzer.Doc{
		Why: `A plain CREATE INDEX takes a SHARE lock on the table: reads go on, but every
INSERT, UPDATE and DELETE waits until the whole index is built — minutes on a
large table.`,
		Recipe: `Use CREATE INDEX CONCURRENTLY. It cannot run inside a transaction, so put it in a
migration file of its own (golang-migrate: one statement per file; goose:
\'-- +goose NO TRANSACTION\'; dbmate: \'-- migrate:up transaction:false\'). If it fails
it leaves an INVALID index behind: drop it and retry.

~~~sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);
~~~`,
		Help: "use CREATE INDEX CONCURRENTLY, in a migration that runs outside a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "CREATE INDEX users_email_idx ON users (email);",
			Good:    "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
		}},
		Notes: `Indexes on tables created earlier in the same deploy are not flagged: nobody uses
those tables yet. On PostgreSQL 14.0 to 14.3, CONCURRENTLY can corrupt indexes:
upgrade to 14.4 or later first.

A partitioned table cannot be indexed CONCURRENTLY. Create the index ON ONLY the
partitioned table (instant: an invalid index on the parent alone, not flagged),
then CREATE INDEX CONCURRENTLY on each partition and ALTER INDEX parent_idx ATTACH
PARTITION each partition's index; the parent's index becomes valid once every
partition has one.`,
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.CreateIndex) {
			if x.Concurrently || p.IsNew(x.Table) {
				return
			}
			partitioned := false
			if t := p.Catalog.Table(x.Table); t != nil && t.Partitioned {
				if x.Only {
					return // builds nothing: the partitions' indexes come later
				}
				partitioned = true
			}
			f := analyzer.Finding{
				Span:    x.Span,
				Message: "Creating index " + x.Name + " on " + x.Table.String() + " without CONCURRENTLY " + lockPhrase(x.Effect),
				Objects: []string{x.Table.String()},
			}
			e := x.Effect
			f.Effect = &e
			if partitioned {
				// CONCURRENTLY is not supported on a partitioned table:
				// no fix, and the message says so
				f.Message += "; a partitioned table cannot be indexed CONCURRENTLY: build the index partition by partition"
				p.Report(f)
				return
			}
			if p.Stmt.Kind == "DO" {
				// a DO block runs as one function call: no CONCURRENTLY
				f.Message += "; CONCURRENTLY cannot run inside a DO block: move the statement out of it"
				p.Report(f)
				return
			}
			// The fix is only offered where CONCURRENTLY can run.
			if !p.Stmt.Tx.InTransaction() && x.Span.End > x.Span.Start {
				f.Fixes = []analyzer.Fix{{Description: "Add CONCURRENTLY",
					Edits: []analyzer.Edit{{Span: analyzer.Span{Start: x.Span.End, End: x.Span.End}, NewText: " CONCURRENTLY"}}}}
			}
			p.Report(f)
		})
	},
}
