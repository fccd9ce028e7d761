package rules

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// MakeColumnNotNull flags MODIFY/CHANGE … NOT NULL of a column the
// history created nullable (MySQL, MariaDB).
var MakeColumnNotNull = &analyzer.Rule{
	Code:     "MY110",
	Name:     "make-column-not-null",
	Summary:  "Making a nullable column NOT NULL rebuilds the table and fails if a row holds NULL",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `MODIFY or CHANGE of a nullable column to NOT NULL rebuilds the table (InnoDB does
it in place, with concurrent writes, but it reads and writes every row), and in
strict mode the statement fails as soon as a row still holds NULL: the migration
stops halfway through the deploy. Old application instances that still insert
without a value start failing once it succeeds.`,
		Recipe: `Ship it as a sequence: the application writes a value everywhere, a backfill fills
the old rows in batches (\'UPDATE … SET col = … WHERE col IS NULL LIMIT 1000\'
until no row changes), and only then, in a later deploy, MODIFY the column NOT
NULL with ALGORITHM=INPLACE, LOCK=NONE.`,
		Help: "backfill the NULLs in batches first and make the column NOT NULL in a later deploy, with ALGORITHM=INPLACE, LOCK=NONE",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "-- 000001_users.up.sql --\nCREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(100) NULL);\n-- 000002_email_required.up.sql --\nALTER TABLE users MODIFY email VARCHAR(100) NOT NULL;",
			Good:    "ALTER TABLE users MODIFY email VARCHAR(100) NULL DEFAULT NULL;",
		}},
		Notes: "Only columns the migrations created nullable are known to be nullable; a column of a table created in the same deploy is exempt.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.AlterColumnType) {
			if x.NewColumn == nil || !x.NewColumn.NotNull || !x.SameType || p.IsNew(x.Table) {
				return
			}
			t := p.Catalog.Table(x.Table)
			if t == nil {
				return
			}
			// CHANGE old new … NOT NULL: the column has its old name until
			// this statement
			c := t.Column(oldName(p, x.Table, x.Column))
			if c == nil || c.NotNull || c.Origin.Base || t.InPrimaryKey(c.Name) {
				return
			}
			name := x.Column
			if !strings.EqualFold(c.Name, x.Column) {
				name = c.Name + " (renamed to " + x.Column + ")"
			}
			at(p, x, sentence("Making "+x.Table.String()+"."+name+" NOT NULL checks every row", x), x.Table.String()+"."+c.Name)
		})
	},
}

// oldName is the name a column of table has before the pass's statement:
// the old name when the statement renames it to col (MySQL CHANGE old new),
// col otherwise.
func oldName(p *analyzer.Pass, table change.QName, col string) string {
	for _, ch := range p.Stmt.Changes {
		if r, ok := ch.(*change.RenameColumn); ok && sameTable(r.Table, table) && strings.EqualFold(r.New, col) {
			return r.Old
		}
	}
	return col
}
