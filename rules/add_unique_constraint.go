package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// AddUniqueConstraint flags ADD UNIQUE that builds its index under ACCESS
// EXCLUSIVE.
var AddUniqueConstraint = &analyzer.Rule{
	Code:     "PG108",
	Name:     "add-unique-constraint",
	Summary:  "Adding a UNIQUE constraint builds its index while blocking reads and writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `ALTER TABLE … ADD UNIQUE (or ADD COLUMN … UNIQUE) builds a unique index while
holding an ACCESS EXCLUSIVE lock: no reads and no writes until the whole index is
built. It also fails if existing rows contain duplicates.`,
		Recipe: `Build the index concurrently first, then attach it as the constraint (brief lock):

~~~sql
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
~~~`,
		Help: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … UNIQUE USING INDEX",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
			Good:    "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;",
		}},
		Notes: `A partitioned table supports neither CREATE INDEX CONCURRENTLY nor ADD
CONSTRAINT … USING INDEX (checked on a real server): the finding says so.`,
	},
	Check: func(p *analyzer.Pass) {
		for _, ch := range p.Stmt.Changes {
			switch x := ch.(type) {
			case *change.AddConstraint:
				if x.Constraint.Kind != change.ConstraintUnique || x.Constraint.UsingIndex != "" || p.IsNew(x.Table) {
					continue
				}
				at(p, x, "Adding UNIQUE constraint "+x.Constraint.Name+" to "+x.Table.String()+" "+lockPhrase(x.Effect)+noUsingIndex(p, x.Table), x.Table.String())
			case *change.AddColumn:
				if !x.Column.Unique || p.IsNew(x.Table) {
					continue
				}
				at(p, x, "Adding column "+x.Table.String()+"."+x.Column.Name+" with UNIQUE "+lockPhrase(x.Effect)+noUsingIndex(p, x.Table), x.Table.String()+"."+x.Column.Name)
			}
		}
	},
}
