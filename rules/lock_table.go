package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// LockTable flags explicit LOCK TABLE in a migration.
var LockTable = &analyzer.Rule{
	Code:     "PG112",
	Name:     "lock-table",
	Summary:  "LOCK TABLE holds a blocking lock until the end of the transaction",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `An explicit LOCK TABLE (ACCESS EXCLUSIVE by default) blocks the application for
the rest of the transaction, including everything the migration does after it.`,
		Recipe: `Take no explicit lock: let each statement take the lock it needs, keep the
transaction short and set lock_timeout so that waiting for the lock fails fast.`,
		Help: "drop the explicit lock; keep transactions short and set lock_timeout",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "BEGIN;\nLOCK TABLE accounts;\nUPDATE accounts SET plan = 'free' WHERE plan IS NULL;\nCOMMIT;",
			Good:    "BEGIN;\nUPDATE accounts SET plan = 'free' WHERE plan IS NULL;\nCOMMIT;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.LockTable) {
			if x.Effect.Blocks == change.BlocksNothing {
				return
			}
			for _, t := range x.Tables {
				if !p.IsNew(t) {
					at(p, x, "LOCK TABLE "+t.String()+" IN "+x.Mode+" MODE blocks "+x.Effect.Blocks.String()+" until the transaction ends", t.String())
					return
				}
			}
		})
	},
}
