package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// VacuumFullOrCluster flags VACUUM FULL and CLUSTER.
var VacuumFullOrCluster = &analyzer.Rule{
	Code:     "PG111",
	Name:     "vacuum-full-or-cluster",
	Summary:  "VACUUM FULL and CLUSTER rewrite the table while blocking reads and writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Both rewrite the whole table and all its indexes under an ACCESS EXCLUSIVE lock:
the table is unavailable for the duration, which grows with its size.`,
		Recipe: `Reclaim space online with the pg_repack or pg_squeeze extension, or let plain
VACUUM (no lock on reads or writes) keep up; run maintenance outside migrations.`,
		Help: "use pg_repack or pg_squeeze instead, outside the migration",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "VACUUM FULL events;",
			Good:    "VACUUM (ANALYZE) events;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		for _, ch := range p.Stmt.Changes {
			switch x := ch.(type) {
			case *change.Vacuum:
				if x.Full {
					at(p, x, "VACUUM FULL "+lockPhrase(x.Effect))
				}
			case *change.Cluster:
				at(p, x, "CLUSTER "+lockPhrase(x.Effect))
			}
		}
	},
}
