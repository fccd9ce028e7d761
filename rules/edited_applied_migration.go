package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// EditedAppliedMigration flags a migration that the --since reference
// already had and that was changed since.
var EditedAppliedMigration = &analyzer.Rule{
	Code:     "MS605",
	Name:     "edited-applied-migration",
	Summary:  "A migration that was already shipped has been edited",
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Migration tools run each version once and remember it. Databases that already
applied this migration never run the edited text, while new databases (CI, a new
region, a restored staging) do: from now on environments have different schemas,
and nothing reports it until a later migration or a query fails on one of them.`,
		Recipe: `Revert the edit and write a new migration that makes the change on top of the
shipped one. If the shipped migration is broken everywhere, fix it with a new
migration as well, so every environment converges.`,
		Help: "revert the edit and put the change in a new migration",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "-- deploy 2024-05-01: 000003_add_plan.up.sql\n-- edited: 000003_add_plan.up.sql\n-- 000003_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';",
			Good:    "-- 000003_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan text;\n-- 000004_plan_default.up.sql --\nALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free';",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "-- deploy 2024-05-01: 000003_add_plan.up.sql\n-- edited: 000003_add_plan.up.sql\n-- 000003_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan varchar(20) NOT NULL DEFAULT 'free';",
			Good:    "-- 000003_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan varchar(20);\n-- 000004_plan_default.up.sql --\nALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free';",
		}},
		Notes: `Needs \'--since REF\': a migration counts as shipped when REF has it, and as
edited when this branch changed it: its content differs from REF's and from the
commit where the branch left REF (uncommitted changes included), so a migration REF
changed after the branch left it is not reported. Files that are new since REF are
the change being linted, not edits.`,
	},
	Check: func(p *analyzer.Pass) {
		if p.File.Edited == "" || p.Stmt.Index != 0 {
			return
		}
		p.Report(analyzer.Finding{Message: editedMessage(p.File)})
	},
	Finish: func(p *analyzer.FilePass) {
		// an edit that removed every statement
		if p.File.Edited != "" && len(p.File.Stmts) == 0 {
			p.Report(analyzer.Finding{Message: editedMessage(p.File)})
		}
	},
}

func editedMessage(f *analyzer.File) string {
	return f.Path + " was already in " + f.Edited + " and has been changed since: databases that applied it will never run the change, new ones will, so their schemas drift apart"
}
