package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// CascadeDrop flags DROP … CASCADE and TRUNCATE … CASCADE.
var CascadeDrop = &analyzer.Rule{
	Code:     "PG201",
	Name:     "cascade-drop",
	Summary:  "CASCADE silently drops or empties every dependent object",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `CASCADE removes whatever depends on the object — views, foreign keys, other
tables' data with TRUNCATE — without listing it. What else goes depends on the
state of production, not on what the migration says.`,
		Recipe: `Drop the dependent objects explicitly, each by name, and then the object itself
without CASCADE, so the migration fails if something unexpected still depends on it.`,
		Help: "drop the dependent objects explicitly and remove CASCADE",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "DROP VIEW active_users CASCADE;",
			Good:    "DROP VIEW active_users;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		for _, ch := range p.Stmt.Changes {
			what := ""
			switch x := ch.(type) {
			case *change.DropTable:
				if x.Cascade && !p.IsNew(x.Table) {
					what = "DROP TABLE " + x.Table.String()
				}
			case *change.DropColumn:
				if x.Cascade && !p.IsNew(x.Table) {
					what = "DROP COLUMN " + x.Table.String() + "." + x.Column
				}
			case *change.DropSchema:
				if x.Cascade {
					what = "DROP SCHEMA " + x.Name
				}
			case *change.DropIndex:
				if x.Cascade {
					what = "DROP INDEX " + x.Name.String()
				}
			case *change.DropConstraint:
				if x.Cascade && !p.IsNew(x.Table) {
					what = "DROP CONSTRAINT " + x.Name
				}
			case *change.DropView:
				if x.Cascade && !p.IsNew(x.Name) {
					what = "DROP VIEW " + x.Name.String()
				}
			case *change.DropOther:
				if x.Cascade {
					what = "DROP " + x.Kind + " " + quoteList(x.Names)
				}
			case *change.Truncate:
				if x.Cascade {
					what = "TRUNCATE … CASCADE"
				}
			}
			if what != "" {
				at(p, ch, what+" with CASCADE also removes every object that depends on it, whatever production holds")
			}
		}
	},
}
