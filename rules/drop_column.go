package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// DropColumn flags ALTER TABLE … DROP COLUMN outside the contract step of an
// expand-contract change.
var DropColumn = &analyzer.Rule{
	Code:     "MS201",
	Name:     "drop-column",
	Summary:  "Dropping a column breaks the application code still running against it",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `During a rolling deploy the previous version of the application keeps running
next to the new one, and it still reads and writes the column: its queries fail
with "column does not exist" (ORMs that list every column fail on every query of
the table). A rollback after the drop cannot bring the data back.`,
		Recipe: `Drop a column only as the last step of expand-contract, in a deploy of its own:

1. Stop reading the column in the application and deploy.
2. Stop writing it (ORMs: mark it ignored, e.g. Rails \'ignored_columns\') and deploy.
3. Record the deprecation in a migration: \'-- migsafe:deprecate users.email\'.
4. In a later deploy, once no running code knows the column, drop it.`,
		Help: "drop the column only in a later deploy, after the application has stopped reading and writing it (expand-contract step 6)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users DROP COLUMN email;",
			Good:    "-- the application no longer writes users.email\n-- migsafe:deprecate users.email\nSELECT 1;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users DROP COLUMN legacy_flags;",
			Good:    "CREATE TABLE scratch (id BIGINT, tmp INT);\nALTER TABLE scratch DROP COLUMN tmp;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.DropColumn) {
			c := contractOf(p, x.Table, x.Column)
			if c.verdict != contractNeverDeprecated {
				return // new, complete, or another sequence rule's verdict
			}
			what, advice := c.missingSteps(p)
			atHelp(p, x, sentence("Dropping column "+x.Table.String()+"."+x.Column+" breaks running application code that still reads or writes it, and a rollback cannot bring its data back", x)+"; "+what, advice,
				x.Table.String()+"."+x.Column)
		})
	},
}
