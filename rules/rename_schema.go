package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// RenameSchema flags ALTER SCHEMA … RENAME TO.
var RenameSchema = &analyzer.Rule{
	Code:     "PG303",
	Name:     "rename-schema",
	Summary:  "Renaming a schema breaks every query that names the old schema",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Running application instances keep qualifying tables, views and functions with the
old schema name, or find them through a search_path that names it: every such
query fails with "relation does not exist" as soon as the rename commits, and
again on the new version if the deploy is rolled back.`,
		Recipe: `Move the objects with expand-contract instead: create the new schema, create the
objects there (or views in the new schema over the old tables), switch the
application to the new names, then drop what is left of the old schema in a later
deploy.`,
		Help: "keep the old schema name working: create the new schema beside it and move the application over before dropping the old one",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER SCHEMA billing RENAME TO invoicing;",
			Good:    "CREATE SCHEMA invoicing;",
		}},
		Notes: "A schema created in the same deploy is exempt.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.RenameOther) {
			if x.Kind != "SCHEMA" {
				return
			}
			if o := p.Catalog.Schema(x.Old); o != nil && !o.Base && o.Deploy == p.Deploy {
				return
			}
			at(p, x, "Renaming schema "+x.Old+" to "+x.New+" breaks every running query that names "+x.Old+" or finds its objects through the search_path", x.Old)
		})
	},
}
