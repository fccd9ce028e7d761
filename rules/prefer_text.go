package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// PreferText suggests text over varchar(n) and char(n).
var PreferText = &analyzer.Rule{
	Code:     "PG502",
	Name:     "prefer-text",
	Summary:  "varchar(n) and char(n) make length changes a migration; text with a CHECK does not",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Off:      true,
	Doc: analyzer.Doc{
		Why: `In PostgreSQL varchar(n) is text with a length check that cannot be changed
online when it shrinks; char(n) pads with spaces and is slower, never faster.`,
		Recipe: "Use text, with a CHECK (length(col) <= n) constraint when a limit matters: a CHECK can be replaced NOT VALID without a long lock.",
		Help:   "use text, with a CHECK constraint on its length if needed",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "CREATE TABLE users (name varchar(100));",
			Good:    "CREATE TABLE users (name text CHECK (length(name) <= 100));",
		}},
	},
	Check: styleCheck(func(t change.Type) bool { return change.TypeIs(t, "varchar", "bpchar") && len(t.Mods) > 0 },
		func(c typedColumn) string {
			return "Column " + c.table.String() + "." + c.name + " is " + c.typ.String() + "; text with a CHECK on its length is easier to change"
		}),
}
