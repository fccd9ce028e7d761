package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// NonConcurrentReindex flags REINDEX without CONCURRENTLY.
var NonConcurrentReindex = &analyzer.Rule{
	Code:     "PG103",
	Name:     "non-concurrent-reindex",
	Summary:  "REINDEX without CONCURRENTLY blocks writes, and reads that use the index",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `REINDEX takes a SHARE lock on the table (no writes) and an ACCESS EXCLUSIVE lock
on each index it rebuilds (no reads through that index) for the whole rebuild.`,
		Recipe: `PostgreSQL 12 and later: \'REINDEX INDEX CONCURRENTLY users_email_idx;\' outside a
transaction (avoid 14.0 to 14.3, where it can corrupt indexes). Before 12: create a
new index CONCURRENTLY, drop the old one CONCURRENTLY, rename the new one.`,
		Help: "use REINDEX … CONCURRENTLY (PostgreSQL 12+), outside a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "REINDEX INDEX users_email_idx;",
			Good:    "REINDEX INDEX CONCURRENTLY users_email_idx;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.Reindex) {
			if x.Concurrently || (x.Table != nil && p.IsNew(*x.Table)) {
				return
			}
			at(p, x, "REINDEX "+x.Target+" without CONCURRENTLY "+lockPhrase(x.Effect), x.Target)
		})
	},
}
