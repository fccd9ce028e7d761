package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ExclusionConstraint flags EXCLUDE constraints added to existing tables.
var ExclusionConstraint = &analyzer.Rule{
	Code:     "PG110",
	Name:     "exclusion-constraint",
	Summary:  "Adding an EXCLUDE constraint builds its index while blocking reads and writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `An exclusion constraint is backed by an index that is built under an ACCESS
EXCLUSIVE lock. Unlike CHECK and FOREIGN KEY it cannot be added NOT VALID, and
unlike UNIQUE it cannot be attached from an index built CONCURRENTLY.`,
		Recipe: `There is no online way on an existing table. Either add it while the table is
small, or create a new table with the constraint, copy the rows in batches while
writing to both, and swap the tables in a later deploy.`,
		Help: "there is no online way: add it to a new table and migrate the rows, or schedule a maintenance window",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);",
			Good:    "CREATE TABLE bookings2 (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.AddConstraint) {
			if x.Constraint.Kind != change.ConstraintExclusion || p.IsNew(x.Table) {
				return
			}
			at(p, x, "Adding EXCLUDE constraint "+x.Constraint.Name+" to "+x.Table.String()+" "+lockPhrase(x.Effect), x.Table.String())
		})
	},
}
