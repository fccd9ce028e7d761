package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// PreferJSONB suggests jsonb over json.
var PreferJSONB = &analyzer.Rule{
	Code:     "PG505",
	Name:     "prefer-jsonb",
	Summary:  "json has no equality operator and no indexes; jsonb has both",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Off:      true,
	Doc: analyzer.Doc{
		Why: `json stores the text as given: no equality operator (SELECT DISTINCT and UNION
fail), no GIN indexes, reparsed on every access. Converting later rewrites the table.`,
		Recipe: "Use jsonb.",
		Help:   "use jsonb",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "CREATE TABLE events (payload json);",
			Good:    "CREATE TABLE events (payload jsonb);",
		}},
	},
	Check: styleCheck(func(t change.Type) bool { return change.TypeIs(t, "json") },
		func(c typedColumn) string {
			return "Column " + c.table.String() + "." + c.name + " is json; use jsonb"
		}),
}
