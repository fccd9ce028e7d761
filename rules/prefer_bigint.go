package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// PreferBigint suggests bigint over integer and smallint.
var PreferBigint = &analyzer.Rule{
	Code:     "PG501",
	Name:     "prefer-bigint",
	Summary:  "integer and smallint columns can overflow; bigint costs little more",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Off:      true,
	Doc: analyzer.Doc{
		Why: `An integer id runs out at 2,147,483,647. Widening it later is a type change that
rewrites the table and every index under an ACCESS EXCLUSIVE lock (see
change-column-type), on exactly the largest tables.`,
		Recipe: "Use bigint (or bigserial / bigint GENERATED … AS IDENTITY) from the start.",
		Help:   "use bigint",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "CREATE TABLE events (id integer PRIMARY KEY);",
			Good:    "CREATE TABLE events (id bigint PRIMARY KEY);",
		}},
	},
	Check: styleCheck(func(t change.Type) bool { return change.TypeIs(t, "int4", "int2") },
		func(c typedColumn) string {
			return "Column " + c.table.String() + "." + c.name + " is " + c.typ.String() + ", which can overflow; bigint avoids a table rewrite later"
		}),
}
