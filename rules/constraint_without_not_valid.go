package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ConstraintWithoutNotValid flags FOREIGN KEY and CHECK constraints added to
// an existing table without NOT VALID.
var ConstraintWithoutNotValid = &analyzer.Rule{
	Code:     "PG107",
	Name:     "constraint-without-not-valid",
	Summary:  "Adding a FOREIGN KEY or CHECK constraint validates every row while blocking writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Fix:      analyzer.FixSometimes,
	Doc: analyzer.Doc{
		Why: `Adding a CHECK constraint takes an ACCESS EXCLUSIVE lock (no reads, no writes)
and a FOREIGN KEY a SHARE ROW EXCLUSIVE lock on both tables (no writes), and both
hold it while every existing row is checked.`,
		Recipe: `Add the constraint NOT VALID (instant: only new rows are checked), then validate
it in a separate transaction, which takes only a SHARE UPDATE EXCLUSIVE lock and
lets reads and writes go on:

~~~sql
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
-- next migration (or after COMMIT):
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
~~~`,
		Help: "add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);",
			Good:    "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
		}},
		Notes: "A CHECK written in ADD COLUMN, and a REFERENCES on an added column that has a default, are reported too: a column constraint cannot be NOT VALID. A REFERENCES on an added column without a default is not: every value is NULL and PostgreSQL skips the scan (checked against a real server).",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.AddConstraint) {
			k := x.Constraint
			if (k.Kind != change.ConstraintForeignKey && k.Kind != change.ConstraintCheck) || k.NotValid || p.IsNew(x.Table) {
				return
			}
			name := k.Name
			if name == "" {
				name = "a " + k.Kind.String() + " constraint"
			}
			f := analyzer.Finding{
				Span:    x.Span,
				Message: "Adding " + k.Kind.String() + " constraint " + name + " to " + x.Table.String() + " without NOT VALID " + lockPhrase(x.Effect),
				Objects: []string{x.Table.String()},
			}
			e := x.Effect
			f.Effect = &e
			if x.Span.End > x.Span.Start {
				f.Fixes = []analyzer.Fix{{Description: "Add NOT VALID (then VALIDATE CONSTRAINT in a separate transaction)",
					Edits: []analyzer.Edit{{Span: analyzer.Span{Start: x.Span.End, End: x.Span.End}, NewText: " NOT VALID"}}}}
			}
			p.Report(f)
		})
		// a constraint written in ADD COLUMN cannot be NOT VALID: a CHECK
		// (or a foreign key on a column with a default) is checked on
		// every row under the ADD COLUMN's ACCESS EXCLUSIVE lock
		each(p, func(x *change.AddColumn) {
			c := x.Column
			if x.Effect.Work != change.WorkScan || (!c.Check && c.References == nil) || p.IsNew(x.Table) {
				return
			}
			what := "an inline CHECK constraint"
			if !c.Check {
				what = "an inline foreign key and a default"
			}
			at(p, x, "Adding column "+x.Table.String()+"."+c.Name+" with "+what+" "+lockPhrase(x.Effect)+"; add the column first, then the constraint NOT VALID",
				x.Table.String()+"."+c.Name)
		})
	},
}
