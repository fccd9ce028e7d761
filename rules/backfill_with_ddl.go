package rules

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// BackfillWithDDL flags a backfill in the same migration as the column it
// fills.
var BackfillWithDDL = &analyzer.Rule{
	Code:     "MS603",
	Name:     "backfill-with-ddl",
	Summary:  "A backfill runs in the same migration that adds the column it fills",
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `A backfill (expand-contract step 3) belongs after the application writes the new
column (step 2). Run in the migration that adds the column (step 1), it fills the
rows that exist at that moment, but the application version still running does not
know the column: every row it inserts or updates afterwards is left unfilled, and
the later switch to reading the new column sees holes. A large backfill also makes
the schema change as slow as the data change, and a failure halfway leaves a
migration that is neither applied nor rolled back.`,
		Recipe: `1. Migration A: add the column (nullable, no volatile default).
2. Deploy the application that writes both columns, or add a trigger that keeps them
   in step (\'migsafe scaffold rename-column\' writes one for PostgreSQL).
3. Migration B, in a later deploy or after the trigger: backfill in batches, each
   committed on its own.`,
		Help: "backfill in a separate migration that runs after the application (or a trigger) writes the new column",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = name;",
			Good:    "-- 0007_add_full_name.up.sql --\nALTER TABLE users ADD COLUMN full_name text;\n-- 0008_backfill_full_name.up.sql --\nUPDATE users SET full_name = name WHERE full_name IS NULL;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD COLUMN full_name varchar(200);\nUPDATE users SET full_name = name;",
			Good:    "-- 0007_add_full_name.up.sql --\nALTER TABLE users ADD COLUMN full_name varchar(200);\n-- 0008_backfill_full_name.up.sql --\nUPDATE users SET full_name = name WHERE full_name IS NULL;",
		}},
		Notes: `A table created in the same deploy has no rows the application wrote, so filling
it is not flagged. Down migrations are not checked: restoring data into a column the
rollback re-creates is what they are for.`,
	},
	Check: func(p *analyzer.Pass) {
		if p.File.Direction == analyzer.Down {
			return
		}
		each(p, func(x *change.DML) {
			if x.Verb != "UPDATE" || p.IsNew(x.Table) {
				return
			}
			tab := p.Catalog.Table(x.Table)
			if tab == nil {
				return
			}
			var filled []string
			line, defaults := 0, 0
			for _, name := range x.Columns {
				col := tab.Column(name)
				if col == nil || col.Origin.Base || col.Origin.Path != p.File.Path || col.Origin.Deploy != p.Deploy {
					continue
				}
				filled = append(filled, x.Table.String()+"."+col.Name)
				if col.Default != nil && !col.Default.Null {
					defaults++
				}
				if line == 0 {
					line = col.Origin.Line
				}
			}
			if len(filled) == 0 {
				return
			}
			// a column added with a default is not left empty: rows
			// written after the backfill get the default instead
			missed := "stay unfilled"
			switch {
			case defaults == len(filled):
				missed = "get the column's default instead of the backfilled value"
			case defaults > 0:
				missed = "stay unfilled or get a column's default instead of the backfilled value"
			}
			at(p, x, "This UPDATE backfills "+strings.Join(filled, ", ")+" in the same migration that adds it (line "+itoa(line)+"): rows the running application writes after it, not knowing the column yet, "+missed+", and the schema change waits for the whole backfill", filled...)
		})
	},
}
