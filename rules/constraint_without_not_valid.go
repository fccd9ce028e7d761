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
	Fix:      analyzer.FixAlways,
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
	},
}
