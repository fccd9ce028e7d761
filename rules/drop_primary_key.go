package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// DropPrimaryKey flags DROP PRIMARY KEY without a new primary key in the
// same statement.
var DropPrimaryKey = &analyzer.Rule{
	Code:     "MY106",
	Name:     "drop-primary-key",
	Summary:  "Dropping the primary key without adding another copies the table while writes wait",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `InnoDB stores rows in primary key order. Dropping the primary key without adding
another in the same statement can only be done by copying the table
(ALGORITHM=COPY), with writes blocked for the whole copy; the table then gets a
hidden clustered index, row-based replication looks rows up by full scans, and
code that relied on the key's uniqueness can insert duplicates.`,
		Recipe: `Replace the key in one statement, which InnoDB does in place with concurrent
writes:

~~~sql
ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, created_at), ALGORITHM=INPLACE, LOCK=NONE;
~~~`,
		Help: "drop and add the primary key in one ALTER TABLE (an in-place rebuild), with ALGORITHM=INPLACE, LOCK=NONE",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE events DROP PRIMARY KEY;",
			Good:    "ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, created_at), ALGORITHM=INPLACE, LOCK=NONE;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		replaced := false
		each(p, func(x *change.AddConstraint) {
			if x.Constraint.Kind == change.ConstraintPrimaryKey {
				replaced = true
			}
		})
		each(p, func(x *change.AddColumn) { replaced = replaced || x.Column.PrimaryKey })
		if replaced {
			return
		}
		each(p, func(x *change.DropConstraint) {
			if x.Kind != change.ConstraintPrimaryKey || p.IsNew(x.Table) {
				return
			}
			at(p, x, sentence("Dropping the primary key of "+x.Table.String()+" without adding another copies the table", x), x.Table.String())
		})
	},
}
