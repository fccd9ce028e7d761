package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// WholeTableUpdate flags an UPDATE without WHERE of a table that existed
// before the deploy.
var WholeTableUpdate = &analyzer.Rule{
	Code:     "MS401",
	Name:     "whole-table-update",
	Summary:  "An UPDATE of every row runs as one long transaction that locks every row",
	Dialects: both,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `An UPDATE without WHERE changes every row in one transaction: each row stays locked
until it commits, so the application's writes to any of them wait for the whole
statement; PostgreSQL leaves a dead copy of every row behind (the table doubles
until vacuum catches up), MySQL fills its undo log, and replicas apply the whole
change at once and fall behind.`,
		Recipe: `Update in batches of a few thousand rows, each committed on its own, until a batch
changes nothing (a job, or a migration that runs outside a transaction):

~~~sql
-- PostgreSQL
UPDATE users SET plan = 'free'
WHERE id IN (SELECT id FROM users WHERE plan IS NULL ORDER BY id LIMIT 5000);

-- MySQL, MariaDB
UPDATE users SET plan = 'free' WHERE plan IS NULL ORDER BY id LIMIT 5000;
~~~

For a constant value on a new column, a DEFAULT on the ADD COLUMN fills the
existing rows without touching them (PostgreSQL 11+, MySQL 8.0.12+ and MariaDB
10.3+ with ALGORITHM=INSTANT).`,
		Help: "update in batches of a few thousand rows, each committed on its own, until a batch changes nothing",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "UPDATE users SET plan = 'free';",
			Good:    "UPDATE users SET plan = 'free'\nWHERE id IN (SELECT id FROM users WHERE plan IS NULL ORDER BY id LIMIT 5000);",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "UPDATE users SET plan = 'free';",
			Good:    "UPDATE users SET plan = 'free' WHERE plan IS NULL ORDER BY id LIMIT 5000;",
		}},
		Notes: "Tables created in the same deploy, the migration tools' version tables and down migrations (which restore the data of what the rollback re-creates, as in backfill-with-ddl) are exempt. Only an UPDATE without WHERE is reported: migsafe does not judge whether a WHERE matches every row.",
	},
	Check: func(p *analyzer.Pass) {
		if p.File.Direction == analyzer.Down {
			return // restoring the data of what the rollback re-creates
		}
		each(p, func(x *change.DML) {
			if x.Verb != "UPDATE" || x.HasWhere || p.IsNew(x.Table) || versionTable(x.Table) {
				return
			}
			at(p, x, "UPDATE of every row of "+x.Table.String()+" runs as one transaction: every row stays locked, and the application's writes to it wait, until the whole statement commits", x.Table.String())
		})
	},
}
