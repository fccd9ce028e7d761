package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// SetNotNull flags SET NOT NULL that scans the table under ACCESS EXCLUSIVE.
var SetNotNull = &analyzer.Rule{
	Code:     "PG106",
	Name:     "set-not-null",
	Summary:  "SET NOT NULL scans the whole table while blocking reads and writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `ALTER COLUMN … SET NOT NULL holds an ACCESS EXCLUSIVE lock while it reads every
row to prove there is no NULL. Since PostgreSQL 12 the scan is skipped when a
validated CHECK (col IS NOT NULL) constraint already proves it.`,
		Recipe: `PostgreSQL 12 and later, each step in its own transaction:

~~~sql
ALTER TABLE orders ADD CONSTRAINT orders_total_not_null CHECK (total IS NOT NULL) NOT VALID;
-- backfill NULLs in batches, then in a separate migration:
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_not_null;  -- SHARE UPDATE EXCLUSIVE: reads and writes go on
ALTER TABLE orders ALTER COLUMN total SET NOT NULL;            -- no scan: the constraint proves it
ALTER TABLE orders DROP CONSTRAINT orders_total_not_null;
~~~

Before PostgreSQL 12 there is no lock-free way: keep the CHECK constraint instead of NOT NULL.`,
		Help: "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a separate transaction, then SET NOT NULL (PostgreSQL 12+)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;",
			Good:    "ALTER TABLE orders ADD CONSTRAINT orders_total_not_null CHECK (total IS NOT NULL) NOT VALID;\nCOMMIT;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_not_null;\nALTER TABLE orders ALTER COLUMN total SET NOT NULL;",
		}},
		Notes: "Tables created in the same deploy are exempt. A column added earlier in the same deploy to an existing table is not: its rows are NULL (SET NOT NULL fails) or were backfilled (it scans them). A column that is NOT NULL already is not scanned again.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.SetNotNull) {
			if x.Base().Effect.Work != change.WorkScan || p.IsNew(x.Table) {
				return
			}
			if newColumn(p, x.Table, x.Column) {
				// the table is old, only the column is new: its rows are
				// NULL (the statement fails) or backfilled (it scans them)
				at(p, x, "Setting "+x.Table.String()+"."+x.Column+" NOT NULL, a column added earlier in this deploy to an existing table, "+lockPhrase(x.Base().Effect)+
					" (and fails if a row is still NULL); add the column as NOT NULL with a DEFAULT instead, or follow the CHECK … NOT VALID recipe", x.Table.String()+"."+x.Column)
				return
			}
			at(p, x, "Setting "+x.Table.String()+"."+x.Column+" NOT NULL "+lockPhrase(x.Base().Effect), x.Table.String()+"."+x.Column)
		})
	},
}
