package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// SyntaxError reports statements the dialect's parser rejects.
var SyntaxError = &analyzer.Rule{
	Code:     "MS900",
	Name:     "syntax-error",
	Summary:  "The statement does not parse, so it was not checked",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `migsafe parses migrations with the database's own grammar (PostgreSQL 17's parser
through libpg_query). A statement it cannot parse will most likely fail on the
server too; in any case none of its effects were checked, and the schema model
does not know what it did.`,
		Recipe: `Fix the statement. If it is valid for your server but newer than migsafe's
parser, or a template placeholder that your tool fills in, suppress it with
\'-- migsafe:ignore syntax-error reason\' on the line above.`,
		Help: "fix the statement, or suppress with -- migsafe:ignore syntax-error if your server accepts it",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users ADD COLUMN;",
			Good:    "ALTER TABLE users ADD COLUMN nickname text;",
		}},
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
