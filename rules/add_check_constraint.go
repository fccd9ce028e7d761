package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// AddCheckConstraint flags ADD CONSTRAINT … CHECK on MySQL and MariaDB,
// which copies the table to check every row.
var AddCheckConstraint = &analyzer.Rule{
	Code:     "MY109",
	Name:     "add-check-constraint",
	Summary:  "Adding a CHECK constraint copies the table to check every row while writes wait",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `MySQL 8.0.16+ and MariaDB check a new CHECK constraint against every row with
ALGORITHM=COPY: the table is copied while writes wait (LOCK=SHARED), for as long
as the copy takes. Neither server has PostgreSQL's NOT VALID, so there is no
online way to add an enforced CHECK to a table in use.`,
		Recipe: `Enforce the rule in the application first, clean up the rows that break it in
batches, then add the constraint with an online schema change tool (gh-ost,
pt-online-schema-change), or off-peak on a small table. On MySQL 8.0.16+ a CHECK
added NOT ENFORCED documents the rule without checking existing rows.`,
		Help: "enforce the rule in the application, clean the rows in batches, and add the constraint with an online schema change tool",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Target:  "mariadb-10.11",
			Bad:     "ALTER TABLE orders ADD CONSTRAINT orders_total_pos CHECK (total >= 0);",
			Good:    "CREATE TABLE refunds (id BIGINT PRIMARY KEY, amount DECIMAL(10, 2), CONSTRAINT refunds_amount_pos CHECK (amount >= 0));",
		}},
		Notes: "Tables created in the same deploy are exempt. MySQL 5.7 parses CHECK and ignores it: nothing is reported there. MySQL 8.0 before 8.0.16 ignores it too, but the target 8.0 stands for every 8.0 release, so it is reported.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.AddConstraint) {
			e := x.Effect
			if x.Constraint.Kind != change.ConstraintCheck || p.IsNew(x.Table) || e.Algorithm == "" || e.Algorithm == "INSTANT" {
				return
			}
			if p.Target.Flavor == analyzer.MySQL && !p.Target.AtLeast(8, 0, 0) {
				return // parsed and ignored
			}
			at(p, x, sentence("Adding a CHECK constraint to "+x.Table.String()+" checks every row", x), x.Table.String())
		})
	},
}
