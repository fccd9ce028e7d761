package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// RenameColumn flags renaming a column that running code uses.
var RenameColumn = &analyzer.Rule{
	Code:     "MS302",
	Name:     "rename-column",
	Summary:  "Renaming a column breaks the application code still using the old name",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `The rename is instant, but old application instances keep using the old name
until the deploy finishes (and again after a rollback): their queries fail with
"column does not exist".`,
		Recipe: `Rename with expand-contract (\'migsafe scaffold rename-column TABLE OLD NEW\'
writes the migrations):

1. Add the new column, nullable. 2. Write both columns (application, or a trigger
that copies one into the other). 3. Backfill old rows in batches. 4. Read the new
column. 5. Stop writing the old one and mark it \'-- migsafe:deprecate t.old\'.
6. Drop the old column in a later deploy.`,
		Help:  "add the new column, write both, backfill, switch reads, then drop the old column in a later deploy (migsafe scaffold rename-column)",
		Notes: "MySQL/MariaDB: ALTER TABLE … CHANGE old new <definition> renames the column too and is reported like RENAME COLUMN.",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users RENAME COLUMN name TO full_name;",
			Good:    "ALTER TABLE users ADD COLUMN full_name text;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users CHANGE name full_name VARCHAR(100);",
			Good:    "ALTER TABLE users ADD COLUMN full_name VARCHAR(100), ALGORITHM=INSTANT;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		// MySQL CHANGE old new … is translated into a RenameColumn too.
		each(p, func(x *change.RenameColumn) {
			if p.IsNew(x.Table) || newColumn(p, x.Table, x.Old) {
				return
			}
			atHelp(p, x, sentence("Renaming column "+x.Table.String()+"."+x.Old+" to "+x.New+" breaks running application code that still uses the old name", x),
				"'migsafe scaffold rename-column "+x.Table.String()+" "+x.Old+" "+x.New+"' writes the migrations",
				x.Table.String()+"."+x.Old)
		})
	},
}
