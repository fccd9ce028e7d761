package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ContractTooSoon flags a drop whose deprecation has not been deployed for
// the minimum age yet.
var ContractTooSoon = &analyzer.Rule{
	Code:     "MS602",
	Name:     "contract-too-soon",
	Summary:  "A column or table is dropped before its deprecation has been deployed for the minimum age",
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `The deprecation marker says the application stopped writing the object, but the
versions from before it may still run: canaries, workers draining queues, cron jobs,
clients that deploy on their own schedule, and any rollback target. Dropping the
object days after the deprecation shipped breaks those and leaves no version to roll
back to that works with the schema.`,
		Recipe: `Wait until the deprecation has been in production for the minimum age (7 days by
default, \'migrations.min-deprecation-age\' in .migsafe.yaml) and no running or
rollback-target version uses the object, then ship the drop. \'migsafe status\'
shows when each drop becomes allowed.`,
		Help: "ship the drop once the deprecation is older than the minimum age (migsafe status shows the date)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad: `-- deploy 2024-06-07 4f1c2d9: 0006_deprecate_name.up.sql
-- pending: 0007_drop_name.up.sql
-- now: 2024-06-10
-- 0006_deprecate_name.up.sql --
-- migsafe:deprecate users.name
COMMENT ON COLUMN users.name IS 'deprecated';
-- 0007_drop_name.up.sql --
ALTER TABLE users DROP COLUMN name;`,
			Good: `-- deploy 2024-05-20 4f1c2d9: 0006_deprecate_name.up.sql
-- pending: 0007_drop_name.up.sql
-- now: 2024-06-10
-- 0006_deprecate_name.up.sql --
-- migsafe:deprecate users.name
COMMENT ON COLUMN users.name IS 'deprecated';
-- 0007_drop_name.up.sql --
ALTER TABLE users DROP COLUMN name;`,
		}, {
			Dialect: analyzer.MySQL,
			Bad: `-- deploy 2024-06-07: 0006_deprecate_audit.up.sql
-- pending: 0007_drop_audit.up.sql
-- now: 2024-06-10
-- 0006_deprecate_audit.up.sql --
-- migsafe:deprecate audit_log
DO 0;
-- 0007_drop_audit.up.sql --
DROP TABLE audit_log;`,
			Good: `-- deploy 2024-05-01: 0006_deprecate_audit.up.sql
-- pending: 0007_drop_audit.up.sql
-- now: 2024-06-10
-- 0006_deprecate_audit.up.sql --
-- migsafe:deprecate audit_log
DO 0;
-- 0007_drop_audit.up.sql --
DROP TABLE audit_log;`,
		}},
		Notes: `The age is the time between the deploy of the deprecation (the date of the commit
that added it, on the first-parent history) and this deploy (now, for the migrations
added or changed since \'--since REF\'). Without git the dates are unknown: the rule
is skipped and migsafe says so. See contract-same-deploy for what a deploy is.`,
	},
	Check: func(p *analyzer.Pass) {
		report := func(ch change.Change, table change.QName, column, what string) {
			c := contractOf(p, table, column)
			if c.verdict != contractTooSoon {
				return
			}
			at(p, ch, what+" "+c.object+" "+analyzer.FormatAge(c.age)+" after its deprecation shipped ("+where(c.deprecated)+", "+deployOf(p, c.deprecated)+"); the minimum is "+analyzer.FormatAge(p.History.MinimumAge())+", so older application versions and rollback targets may still use it: the drop is allowed from "+analyzer.FormatMoment(c.allowed), c.object)
		}
		each(p, func(x *change.DropColumn) { report(x, x.Table, x.Column, "Dropping column") })
		each(p, func(x *change.DropTable) { report(x, x.Table, "", "Dropping table") })
	},
}
