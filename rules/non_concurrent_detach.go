package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// NonConcurrentDetach flags DETACH PARTITION without CONCURRENTLY.
var NonConcurrentDetach = &analyzer.Rule{
	Code:     "PG105",
	Name:     "non-concurrent-detach",
	Summary:  "DETACH PARTITION without CONCURRENTLY blocks reads and writes of the whole partitioned table",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the parent table, so every
query on any partition waits for it, and it waits for every running query.`,
		Recipe: `PostgreSQL 14 and later: \'ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;\'
outside a transaction (if interrupted, finish with \'… DETACH PARTITION … FINALIZE\').`,
		Help: "use DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+), outside a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE measurements DETACH PARTITION measurements_2020;",
			Good:    "ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.DetachPartition) {
			if x.Concurrently || p.IsNew(x.Table) {
				return
			}
			msg := "Detaching partition " + x.Partition.String() + " from " + x.Table.String() + " without CONCURRENTLY " + lockPhrase(x.Effect)
			if !p.Target.AtLeast(14, 0, 0) {
				msg += "; DETACH … CONCURRENTLY needs PostgreSQL 14, so plan this for a quiet period on " + p.Target.String()
			}
			at(p, x, msg, x.Table.String())
		})
	},
}
