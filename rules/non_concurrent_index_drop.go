package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// NonConcurrentIndexDrop flags DROP INDEX without CONCURRENTLY.
var NonConcurrentIndexDrop = &analyzer.Rule{
	Code:     "PG102",
	Name:     "non-concurrent-index-drop",
	Summary:  "DROP INDEX without CONCURRENTLY blocks reads and writes of the table",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is
quick, but the lock request waits behind every running query on the table, and
every new query queues behind it.`,
		Recipe: `Use DROP INDEX CONCURRENTLY (outside a transaction, one per migration file):

~~~sql
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
~~~`,
		Help: "use DROP INDEX CONCURRENTLY, in a migration that runs outside a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "DROP INDEX users_email_idx;",
			Good:    "DROP INDEX CONCURRENTLY users_email_idx;",
		}},
		Notes: `An index of a partitioned table cannot be dropped CONCURRENTLY: the finding says
so, and the lock is taken on the partitioned table and every partition. Only an
index of a table created in the same deploy is exempt: a new index of an old
table (a down migration dropping what its up created) still locks the table.`,
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.DropIndex) {
			if x.Concurrently {
				return
			}
			if ix := p.Catalog.Index(x.Name); ix != nil && p.IsNew(ix.Table) {
				return
			}
			if _, gone := p.Catalog.GoneWith(x.Name); gone && x.IfExists {
				return // the index went away with its table: nothing to drop, no lock
			}
			msg := "Dropping index " + x.Name.String() + " without CONCURRENTLY " + lockPhrase(x.Effect)
			if ix := p.Catalog.Index(x.Name); ix != nil {
				if t := p.Catalog.Table(ix.Table); t != nil && t.Partitioned {
					msg += "; an index of a partitioned table cannot be dropped CONCURRENTLY"
				}
			}
			at(p, x, msg, x.Name.String())
		})
	},
}
