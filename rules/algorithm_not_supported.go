package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// AlgorithmNotSupported flags ALGORITHM= and LOCK= options the target server
// refuses for the statement, so that the migration fails.
var AlgorithmNotSupported = &analyzer.Rule{
	Code:     "MY108",
	Name:     "algorithm-not-supported",
	Summary:  "The server refuses the statement's ALGORITHM= or LOCK= option, so the migration fails",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Requesting ALGORITHM=INSTANT or ALGORITHM=INPLACE, LOCK=NONE is the right way to
make sure an ALTER never silently copies the table: the server fails instead.
But when the operation has no such path on the production server (an older
version, a type change, DROP PRIMARY KEY), the migration fails in production
(ERROR 1845/1846 "… is not supported for this operation. Try ALGORITHM=COPY"),
often after it passed on a newer development server. MySQL also refuses
ALGORITHM=INSTANT together with any LOCK= clause (ERROR 1221).`,
		Recipe: `Check the operation against the target version (--target-version): split the
statement so that the cheap clauses keep their ALGORITHM= and the expensive one
goes through an online schema change tool or the expand-contract sequence; drop
LOCK= next to ALGORITHM=INSTANT.`,
		Help: "remove or change the option, or split the statement so that each part has an algorithm the server supports",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Target:  "8.0.30",
			Bad:     "ALTER TABLE users ADD COLUMN nickname VARCHAR(30), ALGORITHM=INSTANT, LOCK=NONE;",
			Good:    "ALTER TABLE users ADD COLUMN nickname VARCHAR(30), ALGORITHM=INSTANT;",
		}},
		Notes: "What the server supports comes from the InnoDB Online DDL tables encoded in the MySQL dialect (checked against a real MariaDB 10.11 in the test suite).",
	},
	Check: func(p *analyzer.Pass) {
		o := stmtOptions(p.Stmt)
		if o == nil || o.Refused == "" {
			return
		}
		at(p, o, "The migration fails on "+p.Target.String()+": "+o.Refused, o.Table.String())
	},
}
