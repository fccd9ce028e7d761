package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// RenameEnumValue flags ALTER TYPE … RENAME VALUE.
var RenameEnumValue = &analyzer.Rule{
	Code:     "PG301",
	Name:     "rename-enum-value",
	Summary:  "Renaming an enum value breaks the application code still writing the old label",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Old application instances keep writing and comparing the old label during the
deploy; their INSERTs fail with "invalid input value for enum" and their queries
silently match nothing.`,
		Recipe: `Add the new value (\'ALTER TYPE status ADD VALUE 'archived'\'), deploy code that
accepts both, migrate rows in batches, deploy code that writes only the new value,
and stop using the old one (enum values cannot be dropped: leave it or recreate the
type in a later deploy).`,
		Help: "add the new value, accept both in the application, migrate rows, then stop using the old value",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TYPE order_status RENAME VALUE 'cancelled' TO 'canceled';",
			Good:    "ALTER TYPE order_status ADD VALUE 'canceled';",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.RenameEnumValue) {
			if e := p.Catalog.Enum(x.Type); e != nil && !e.Origin.Base && e.Origin.Deploy == p.Deploy {
				return
			}
			at(p, x, "Renaming value '"+x.Old+"' of enum "+x.Type.String()+" to '"+x.New+"' breaks running code that still writes or compares '"+x.Old+"'", x.Type.String())
		})
	},
}
