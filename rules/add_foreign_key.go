package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// AddForeignKey flags adding a foreign key to an existing table with
// foreign_key_checks on (MySQL and MariaDB copy the table).
var AddForeignKey = &analyzer.Rule{
	Code:     "MY104",
	Name:     "add-foreign-key",
	Summary:  "Adding a foreign key with foreign_key_checks on copies the table while writes wait",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `With foreign_key_checks on (the default), InnoDB can only add a foreign key by
copying the table (ALGORITHM=COPY) so that every existing row is checked: writes
to the table wait for the whole copy, and the referenced table is locked too.`,
		Recipe: `When the existing rows are known to be valid (check with a query first), add the
key without the copy in a session of its own:

~~~sql
SET foreign_key_checks = 0;
ALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id), ALGORITHM=INPLACE, LOCK=NONE;
SET foreign_key_checks = 1;
~~~

The server then does not validate existing rows, and a connection pooler must not
hand that session to anyone else in between. Otherwise use an online schema
change tool.`,
		Help: "check the rows, then add the key with SET foreign_key_checks = 0 and ALGORITHM=INPLACE, LOCK=NONE (no copy), or use an online schema change tool",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id);",
			Good:    "SET foreign_key_checks = 0;\nALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id), ALGORITHM=INPLACE, LOCK=NONE;\nSET foreign_key_checks = 1;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		report := func(ch change.Change, table change.QName, refTable *change.QName, how string) {
			if p.IsNew(table) {
				return
			}
			if v := p.Stmt.Session.ForeignKeyChecks; v == "0" || v == "OFF" || v == "off" {
				return
			}
			ref := ""
			if refTable != nil {
				ref = " referencing " + refTable.String()
			}
			at(p, ch, sentence("Adding a foreign key on "+table.String()+ref+how+" with foreign_key_checks on copies the table to check every row", ch), table.String())
		}
		each(p, func(x *change.AddConstraint) {
			if x.Constraint.Kind == change.ConstraintForeignKey {
				report(x, x.Table, x.Constraint.RefTable, "")
			}
		})
		// an inline REFERENCES, which MariaDB and MySQL 9 honour (the
		// dialect leaves it out where the server ignores it)
		each(p, func(x *change.AddColumn) {
			if x.Column.References != nil {
				report(x, x.Table, x.Column.References, " (the inline REFERENCES of "+x.Column.Name+")")
			}
		})
	},
}
