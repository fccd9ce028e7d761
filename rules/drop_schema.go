package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// DropSchema flags DROP SCHEMA and DROP DATABASE.
var DropSchema = &analyzer.Rule{
	Code:     "MS203",
	Name:     "drop-schema",
	Summary:  "Dropping a schema deletes every object in it",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `A schema holds tables, views, functions and types. Dropping it removes all of
them (with CASCADE) or fails unpredictably as soon as it is not empty; either way
no running application version survives it and a rollback cannot restore data.
In MySQL and MariaDB a schema is a database: DROP DATABASE (or DROP SCHEMA)
removes every table in it, whatever it holds. A PostgreSQL DROP DATABASE removes
every schema of that database with its data; it cannot run in a transaction, so a
failed migration cannot roll it back.`,
		Recipe: `Retire the objects one by one with the expand-contract sequence (stop using,
deprecate, drop in a later deploy), then drop the empty schema without CASCADE.`,
		Help: "drop the objects of the schema one by one through expand-contract, then the empty schema without CASCADE",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "DROP SCHEMA reporting CASCADE;",
			Good:    "CREATE SCHEMA reporting;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "DROP DATABASE reporting;",
			Good:    "CREATE DATABASE reporting;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.DropSchema) {
			if isMySQL(p) {
				at(p, x, "Dropping database "+x.Name+" deletes every table, view, trigger and routine in it, at once and without a way back", x.Name)
				return
			}
			at(p, x, "Dropping schema "+x.Name+" deletes every table, view and function in it", x.Name)
		})
		// PostgreSQL: a database holds schemas
		each(p, func(x *change.Other) {
			if x.Kind == "DROP DATABASE" && !isMySQL(p) {
				at(p, x, "Dropping database "+x.Object.Name+" deletes every schema, table and row in it, outside any transaction and without a way back", x.Object.Name)
			}
		})
	},
}
