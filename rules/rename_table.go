package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// RenameTable flags renaming a table that running code uses.
var RenameTable = &analyzer.Rule{
	Code:     "MS301",
	Name:     "rename-table",
	Summary:  "Renaming a table breaks the application code still using the old name",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Old application instances keep querying the old name during the deploy and
fail with "relation does not exist"; new instances fail the same way if the
deploy is rolled back after the rename.`,
		Recipe: `PostgreSQL: rename the table and, in the same transaction, create a view with the
old name (simple views are updatable), so both versions work; drop the view in a
later deploy. Otherwise: create the new table, write to both, backfill, switch
reads, stop writing the old one, drop it in a later deploy.

~~~sql
BEGIN;
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;
COMMIT;
~~~

MySQL and MariaDB commit every DDL statement on its own, so the rename and the
view cannot be made atomic: between them, queries on the old name fail. Use the
expand-contract sequence there (a new table, writes to both, backfill, switch
reads, drop the old table in a later deploy).`,
		Help: "keep the old name working: create a view with the old name in the same transaction, or go through expand-contract with a new table",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE customers RENAME TO clients;",
			Good:    "CREATE TABLE clients (id bigint PRIMARY KEY);",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "RENAME TABLE customers TO clients;",
			Good:    "CREATE TABLE clients (id BIGINT PRIMARY KEY);",
		}},
	},
	Check: func(p *analyzer.Pass) {
		for i, ch := range p.Stmt.Changes {
			x, ok := ch.(*change.RenameTable)
			if !ok || p.IsNew(x.Table) {
				continue
			}
			if viewWithOldName(p, i, x.Table) {
				continue
			}
			what := "Renaming table " + x.Table.String() + " to " + x.New.Name
			if x.New.Schema != "" && x.New.Schema != x.Table.Schema {
				what = "Moving table " + x.Table.String() + " to schema " + x.New.Schema
			}
			at(p, x, sentence(what+" breaks running application code that still uses the old name", x),
				x.Table.String())
		}
	},
}

// viewWithOldName reports whether a later statement of the same transaction
// creates a view named like the old table (the compatible rename recipe).
// The file's views are indexed once by transaction and name.
func viewWithOldName(p *analyzer.Pass, _ int, old change.QName) bool {
	if p.Stmt.Tx.ID == 0 {
		return false
	}
	idx := p.File.Memo(viewsKey{}, func() any {
		v := viewsByTx{}
		for i, s := range p.File.Stmts {
			for _, ch := range s.Changes {
				if x, ok := ch.(*change.CreateView); ok && !x.Materialized {
					k := viewKey{s.Tx.ID, x.Name.Name}
					v[k] = i // the last one: any after the rename will do
				}
			}
		}
		return v
	}).(viewsByTx)
	last, ok := idx[viewKey{p.Stmt.Tx.ID, old.Name}]
	return ok && last > p.Stmt.Index
}

type viewsKey struct{}

// viewsByTx holds, for each transaction and view name, the index of the
// last statement that creates the view.
type viewsByTx map[viewKey]int

type viewKey struct {
	tx   int
	name string
}
