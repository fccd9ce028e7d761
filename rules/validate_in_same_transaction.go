package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ValidateInSameTransaction flags VALIDATE CONSTRAINT run in the transaction
// that added the constraint NOT VALID.
var ValidateInSameTransaction = &analyzer.Rule{
	Code:     "PG402",
	Name:     "validate-in-same-transaction",
	Summary:  "VALIDATE CONSTRAINT in the transaction that added it NOT VALID keeps the strong lock during the scan",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `NOT VALID exists so that the long validation scan runs under the weak SHARE
UPDATE EXCLUSIVE lock. In the same transaction as the ADD CONSTRAINT, the ACCESS
EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE (FOREIGN KEY) lock of the ADD is still
held until COMMIT, so the scan blocks writes after all.`,
		Recipe: `Commit between the two statements: put VALIDATE CONSTRAINT in the next migration
file, or COMMIT before it when the file runs outside a tool-managed transaction.`,
		Help: "run VALIDATE CONSTRAINT in a separate transaction (next migration file, or after COMMIT)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;\nCOMMIT;",
			Good:    "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;\nCOMMIT;\nALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		if !p.Stmt.Tx.InTransaction() {
			return
		}
		each(p, func(x *change.ValidateConstraint) {
			t := p.Catalog.Table(x.Table)
			if t == nil || p.IsNew(x.Table) {
				return
			}
			k := t.Constraint(x.Name)
			if k == nil || k.Origin.Base || k.Origin.Tx != p.Stmt.Tx.ID || k.Origin.Path != p.File.Path {
				return
			}
			at(p, x, "VALIDATE CONSTRAINT "+x.Name+" runs in the same "+p.Stmt.Tx.Kind.String()+" that added it NOT VALID, so the lock of the ADD CONSTRAINT is held during the whole validation scan of "+x.Table.String(),
				x.Table.String())
		})
	},
}
