package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// TableRewrite flags ALTER TABLE actions that rewrite an existing table
// without changing what the application sees: SET TABLESPACE, SET LOGGED,
// SET UNLOGGED, SET ACCESS METHOD, ALTER COLUMN … SET EXPRESSION.
var TableRewrite = &analyzer.Rule{
	Code:     "PG113",
	Name:     "table-rewrite",
	Summary:  "SET TABLESPACE, SET LOGGED/UNLOGGED and SET ACCESS METHOD rewrite the table while blocking reads and writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `These ALTER TABLE actions copy every row and rebuild every index (SET TABLESPACE
copies the files; SET LOGGED also writes the whole table to the WAL) while an ACCESS
EXCLUSIVE lock blocks all reads and writes of the table: the table is unavailable
for as long as the copy takes, which grows with its size.`,
		Recipe: `Treat it as planned maintenance, not a migration: run it off-peak on a small
table, or build a new table with the wanted properties, copy the rows in batches
while triggers keep it in step, and swap the names in one short transaction.
For tablespaces, new tables and indexes can be created in the new tablespace
(\'default_tablespace\') while old ones stay where they are.`,
		Help: "run the rewrite as planned maintenance, or copy into a new table in batches and swap",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE events SET UNLOGGED;",
			Good:    "CREATE UNLOGGED TABLE events_cache (LIKE events INCLUDING ALL);",
		}},
		Notes: "Tables created in the same deploy are exempt. ALTER COLUMN … SET EXPRESSION (PostgreSQL 17) recomputes a stored generated column for every row.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.TableRewrite) {
			if p.IsNew(x.Table) {
				return
			}
			at(p, x, sentence(x.Action+" rewrites the whole table "+x.Table.String(), x), x.Table.String())
		})
	},
}
