package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// MixedTransactionMigration flags a Flyway migration that Flyway refuses
// to run because it mixes statements Flyway runs in a transaction with
// statements it runs outside one (the engine sets Statement.Refused).
var MixedTransactionMigration = &analyzer.Rule{
	Code:     "PG406",
	Name:     "mixed-transaction-migration",
	Summary:  "Flyway refuses a migration that mixes statements it runs in a transaction with ones it runs outside",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Flyway runs a PostgreSQL migration in one transaction, except when a statement must
run outside one: CREATE or DROP INDEX CONCURRENTLY, VACUUM, CREATE DATABASE and a few
others, which Flyway recognises by their first words. A migration that holds both
kinds is refused before any of it runs, with "Detected both transactional and
non-transactional statements within the same migration (even though mixed is
false)": the deploy stops at this migration.`,
		Recipe: `Move the statement that must run outside a transaction into a migration of its own:

~~~sql
-- V7__add_plan.sql
ALTER TABLE accounts ADD COLUMN plan text;
-- V8__index_plan.sql
CREATE INDEX CONCURRENTLY accounts_plan_idx ON accounts (plan);
~~~

When the other statements must run with it (a \'SET lock_timeout\' before the
index build), set \'executeInTransaction=false\' in the script's configuration,
\'V8__index_plan.sql.conf\': Flyway then runs the whole migration without a
transaction and does not look at its statements. Setting \'mixed=true\' in
Flyway's configuration does the same for every such migration. Either way a
failure halfway leaves the first half applied, and nothing rolls it back.`,
		Help: "move the statement that must run outside a transaction into a migration of its own, or set executeInTransaction=false in the migration's .conf to run all of it without a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "-- V7__plan.sql --\nALTER TABLE accounts ADD COLUMN plan text;\nCREATE INDEX CONCURRENTLY accounts_plan_idx ON accounts (plan);",
			Good:    "-- V7__plan.sql --\nALTER TABLE accounts ADD COLUMN plan text;\n-- V8__plan_index.sql --\nCREATE INDEX CONCURRENTLY accounts_plan_idx ON accounts (plan);",
		}},
		Notes: `Checked for Flyway layouts on PostgreSQL, as Flyway decides it: by the statement's
leading words (REINDEX … CONCURRENTLY and DETACH PARTITION … CONCURRENTLY are not
among them, so Flyway runs them in the transaction, where concurrent-in-transaction
reports them). A script whose \'V….sql.conf\' sets executeInTransaction is not
checked: Flyway follows the setting. Flyway's own \'mixed\' setting is not read;
with mixed=true, disable this rule.`,
	},
	Check: func(p *analyzer.Pass) {
		if p.Stmt.Refused == "" {
			return
		}
		p.Report(analyzer.Finding{
			Span:    p.Stmt.Span,
			Message: "Flyway refuses to run this migration, none of it: " + p.Stmt.Refused + ", and Flyway does not mix them unless mixed=true",
		})
	},
}
