package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// DropNotNull flags making a column nullable.
var DropNotNull = &analyzer.Rule{
	Code:     "PG302",
	Name:     "drop-not-null",
	Summary:  "Dropping NOT NULL lets new code write NULLs that running code does not expect",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `The change itself is instant, but it is not backward compatible: as soon as new
code writes NULL, old application instances (and reports, replicas' consumers,
other services) that assume a value break on those rows, and a rollback leaves
the NULLs behind.`,
		Recipe: `Make sure every reader handles NULL first (deploy that), then drop NOT NULL in a
later deploy; or keep the column NOT NULL and use a sentinel value.`,
		Help: "first deploy readers that handle NULL, then drop NOT NULL in a later deploy",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;",
			Good:    "ALTER TABLE orders ALTER COLUMN shipped_at SET DEFAULT now();",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.DropNotNull) {
			if p.IsNew(x.Table) || newColumn(p, x.Table, x.Column) {
				return
			}
			if t := p.Catalog.Table(x.Table); t != nil {
				if c := t.Column(x.Column); c != nil && !c.Origin.Base && !c.NotNull {
					return // the migrations made it nullable already: nothing changes
				}
			}
			at(p, x, "Dropping NOT NULL on "+x.Table.String()+"."+x.Column+" lets NULLs reach running code that assumes a value", x.Table.String()+"."+x.Column)
		})
	},
}
