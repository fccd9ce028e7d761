package rules

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// TruncateTable flags TRUNCATE in a migration.
var TruncateTable = &analyzer.Rule{
	Code:     "MS204",
	Name:     "truncate-table",
	Summary:  "TRUNCATE deletes every row and cannot be rolled back by a down migration",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `TRUNCATE removes all rows at once under an exclusive lock. A migration that does
it cannot be undone by a down migration, and running it against the wrong
environment is a classic outage.`,
		Recipe: `Delete data with a batched, idempotent DELETE in a data migration or a job, after a
backup, or retire the table with expand-contract instead.`,
		Help: "delete rows in batches from a job, or retire the table through expand-contract",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "TRUNCATE sessions;",
			Good:    "DELETE FROM sessions WHERE expires_at < now() - interval '30 days';",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "TRUNCATE TABLE sessions;",
			Good:    "DELETE FROM sessions WHERE expires_at < NOW() - INTERVAL 30 DAY LIMIT 10000;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.Truncate) {
			var names []string
			for _, t := range x.Tables {
				if !p.IsNew(t) {
					names = append(names, t.String())
				}
			}
			if len(names) == 0 {
				return
			}
			at(p, x, sentence("TRUNCATE deletes every row of "+strings.Join(names, ", "), x), names...)
		})
	},
}
