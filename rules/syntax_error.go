package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// SyntaxError reports statements the dialect's parser rejects.
var SyntaxError = &analyzer.Rule{
	Code:     "MS900",
	Name:     "syntax-error",
	Summary:  "The statement does not parse, so it was not checked",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `migsafe parses migrations with the database's own grammar (PostgreSQL 17's parser
through libpg_query). A statement it cannot parse will most likely fail on the
server too; in any case none of its effects were checked, and the schema model
does not know what it did. MySQL and MariaDB migrations are parsed with the
TiDB parser (MySQL 8.0 grammar), one statement at a time, so one statement it
rejects does not hide the others.`,
		Recipe: `Fix the statement. If it is valid for your server but newer than migsafe's
parser, or a template placeholder that your tool fills in, suppress it with
\'-- migsafe:ignore syntax-error reason\' on the line above.`,
		Help: "fix the statement, or suppress with -- migsafe:ignore syntax-error if your server accepts it",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users ADD COLUMN;",
			Good:    "ALTER TABLE users ADD COLUMN nickname text;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD COLUMN;",
			Good:    "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);",
		}},
		Notes: `MySQL/MariaDB: the TiDB parser does not know some valid syntax; such a
statement is reported here and the rest of the file is still checked. Known
gaps: MariaDB-only syntax (CREATE OR REPLACE TABLE, ALTER TABLE … WAIT n,
DROP FOREIGN KEY IF EXISTS, INVISIBLE columns) and expression defaults that
are not a single function call (DEFAULT (a + 1); DEFAULT (UUID()) parses).
migsafe works around
ALGORITHM=NOCOPY, ALTER ONLINE TABLE, SPATIAL indexes and spatial column types
itself. Triggers, events and stored routines with compound bodies, which the
TiDB parser has no grammar for, are recognised by their first words and left
unchecked instead of reported.`,
	},
	Check: func(p *analyzer.Pass) {
		se := p.Stmt.SyntaxError
		if se == nil {
			return
		}
		p.Report(analyzer.Finding{
			Span:    analyzer.Span{Start: se.Offset, End: max(se.Offset, p.Stmt.Span.End)},
			Message: "Syntax error: " + se.Message + " (the statement was not checked)",
		})
	},
}
