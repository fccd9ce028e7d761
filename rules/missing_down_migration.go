package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// MissingDownMigration flags a versioned up migration without a down
// migration, in layouts that have them.
var MissingDownMigration = &analyzer.Rule{
	Code:     "MS604",
	Name:     "missing-down-migration",
	Summary:  "A versioned migration has no down migration to roll it back",
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `Without a down migration a rollback of this version does nothing to the schema,
and the tools do not say so: golang-migrate runs an empty migration and still moves
the recorded version back, goose and dbmate record the version as rolled back. The
application version you roll back to then meets a schema it does not expect, and
the next \'up\' fails on objects that already exist.`,
		Recipe: `Write the down migration next to the up one (golang-migrate and popx:
\'NNN_name.down.sql\'; goose: a \'-- +goose Down\' section; dbmate: \'-- migrate:down\').
When a change really cannot be undone (a data migration), write a down migration that
says so in a comment and does nothing, so the choice is explicit; migsafe accepts
an empty down part.`,
		Help: "add the down migration that undoes this one, or an empty one that says why it cannot be undone",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "-- 000007_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan text;",
			Good:    "-- 000007_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan text;\n-- 000007_add_plan.down.sql --\nALTER TABLE users DROP COLUMN plan;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "-- 000007_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan varchar(20);",
			Good:    "-- 000007_add_plan.up.sql --\nALTER TABLE users ADD COLUMN plan varchar(20);\n-- 000007_add_plan.down.sql --\nALTER TABLE users DROP COLUMN plan;",
		}},
		Notes: `Checked for golang-migrate, goose, dbmate and popx layouts. Flyway's undo
migrations are a paid feature and plain .sql files have no down migrations, so those
layouts are not checked. An up migration with no statements needs no down.`,
	},
	// A file-level finding: it belongs to no statement, so that its
	// fingerprint survives edits of the file. Finish runs after statement
	// suppressions are matched, so the rule honours a
	// "-- migsafe:ignore-file missing-down-migration reason" itself.
	Finish: func(p *analyzer.FilePass) {
		f := p.File
		if f.Direction != analyzer.Up || f.MissingDown == "" || len(f.Stmts) == 0 {
			return
		}
		fd := analyzer.Finding{
			Message: "Version " + f.Version + " has no down migration (" + f.Layout + " would look for " + f.MissingDown + "): rolling it back would change nothing while the tool records it as rolled back",
		}
		for _, s := range p.Suppressions {
			if !s.File {
				continue
			}
			for i, name := range s.Rules {
				if r := p.Lookup(name); r != nil && r.Code == p.Rule.Code {
					s.Used[i]++
					if fd.Suppressed == nil {
						fd.Suppressed = s
					}
				}
			}
		}
		p.Report(fd)
	},
}
