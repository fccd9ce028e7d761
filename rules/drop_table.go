package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// DropTable flags DROP TABLE of a table that existed before this deploy.
var DropTable = &analyzer.Rule{
	Code:     "MS202",
	Name:     "drop-table",
	Summary:  "Dropping a table breaks the application code still using it and loses its data",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Old application instances still query the table during a rolling deploy and fail,
and a rollback cannot restore the rows. DROP TABLE also waits for an exclusive
lock on the table, queueing every query behind it while it waits.`,
		Recipe: `1. Remove every use of the table from the application and deploy.
2. Record the deprecation: \'-- migsafe:deprecate audit_log\'.
3. Optionally rename it to \'audit_log_deprecated\' for one release so a forgotten reader fails loudly but recoverably.
4. In a later deploy, back it up if the data may matter, then drop it.`,
		Help: "drop the table only in a later deploy, after no running code uses it (expand-contract step 6)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "DROP TABLE audit_log;",
			Good:    "CREATE TABLE scratch (id bigint);\nDROP TABLE scratch;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "DROP TABLE audit_log;",
			Good:    "CREATE TABLE scratch (id BIGINT);\nDROP TABLE scratch;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.DropTable) {
			c := contractOf(p, x.Table, "")
			if c.verdict != contractNeverDeprecated {
				return // new, complete, or another sequence rule's verdict
			}
			what, advice := c.missingSteps(p)
			atHelp(p, x, sentence("Dropping table "+x.Table.String()+" breaks running application code that still uses it and deletes its data", x)+"; "+what, advice, x.Table.String())
		})
	},
}
