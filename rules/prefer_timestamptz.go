package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// PreferTimestamptz suggests timestamptz over timestamp.
var PreferTimestamptz = &analyzer.Rule{
	Code:     "PG503",
	Name:     "prefer-timestamptz",
	Summary:  "timestamp without time zone loses the offset of the instants it stores",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Off:      true,
	Doc: analyzer.Doc{
		Why: `timestamp stores a wall-clock reading without its offset: the same value means
different instants for clients in different time zones, and converting the column
later rewrites the table unless the session time zone is UTC.`,
		Recipe: "Use timestamptz (timestamp with time zone); it stores an instant and costs the same 8 bytes.",
		Help:   "use timestamptz",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "CREATE TABLE events (created_at timestamp);",
			Good:    "CREATE TABLE events (created_at timestamptz);",
		}},
	},
	Check: styleCheck(func(t change.Type) bool { return change.TypeIs(t, "timestamp") },
		func(c typedColumn) string {
			return "Column " + c.table.String() + "." + c.name + " is timestamp without time zone; use timestamptz"
		}),
}
