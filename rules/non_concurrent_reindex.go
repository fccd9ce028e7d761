package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// NonConcurrentReindex flags REINDEX without CONCURRENTLY.
var NonConcurrentReindex = &analyzer.Rule{
	Code:     "PG103",
	Name:     "non-concurrent-reindex",
	Summary:  "REINDEX without CONCURRENTLY blocks reads and writes of the table while it rebuilds",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `REINDEX takes a SHARE lock on the table (no writes) and an ACCESS EXCLUSIVE lock
on each index it rebuilds for the whole rebuild. Planning any query on the table
locks all of its indexes, so reads of the table wait too, not only the reads that
would use the index (checked on PostgreSQL 15).`,
		Recipe: `PostgreSQL 12 and later: \'REINDEX INDEX CONCURRENTLY users_email_idx;\' outside a
transaction (avoid 14.0 to 14.3, where it can corrupt indexes). Before 12: create a
new index CONCURRENTLY, drop the old one CONCURRENTLY, rename the new one.`,
		Help: "use REINDEX … CONCURRENTLY (PostgreSQL 12+), outside a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "REINDEX INDEX users_email_idx;",
			Good:    "REINDEX INDEX CONCURRENTLY users_email_idx;",
		}},
		Notes: "REINDEX SYSTEM is reported without the CONCURRENTLY advice: PostgreSQL cannot rebuild system catalogs concurrently, so it belongs in a maintenance window.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.Reindex) {
			if x.Concurrently || (x.Table != nil && p.IsNew(*x.Table)) {
				return
			}
			if x.Target == "SYSTEM" {
				p.Report(analyzer.Finding{Span: x.Span, Objects: []string{"SYSTEM"},
					Message: "REINDEX SYSTEM locks each system catalog index ACCESS EXCLUSIVE while it rebuilds it, which blocks every query that reads that catalog",
					Help:    "run it in a maintenance window: PostgreSQL rejects CONCURRENTLY for system catalogs"})
				return
			}
			at(p, x, "REINDEX "+x.Target+" without CONCURRENTLY takes a SHARE lock on "+x.Effect.On+" and an ACCESS EXCLUSIVE lock on each index it rebuilds, which blocks reads and writes of the table while it rebuilds (planning a query locks all of its table's indexes)", x.Target)
		})
	},
}
