package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ColumnReorder flags FIRST/AFTER where the target cannot place the column
// instantly.
var ColumnReorder = &analyzer.Rule{
	Code:     "MY102",
	Name:     "column-reorder",
	Summary:  "Placing a column with FIRST or AFTER rebuilds the table on this server version",
	Dialects: myOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `Column order is cosmetic, but changing it is not: before MySQL 8.0.29 (MariaDB
10.4) an ADD COLUMN … AFTER x or a MODIFY … FIRST rebuilds the whole table
(ALGORITHM=INPLACE with a rebuild: heavy I/O, replica lag, hours on a large
table), where appending the column at the end would have been instant (MySQL
8.0.12+, MariaDB 10.3+).`,
		Recipe: `Append new columns at the end and order columns in the queries that care:

~~~sql
ALTER TABLE users ADD COLUMN nickname VARCHAR(30), ALGORITHM=INSTANT;
~~~`,
		Help: "drop FIRST/AFTER and append the column at the end (ALGORITHM=INSTANT), or target a server that reorders instantly",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Target:  "8.0.28",
			Bad:     "ALTER TABLE users ADD COLUMN nickname VARCHAR(30) AFTER email;",
			Good:    "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);",
		}},
		Notes: "Not reported where the target places columns instantly (MySQL 8.0.29+, MariaDB 10.4+).",
	},
	Check: func(p *analyzer.Pass) {
		report := func(ch change.Change, t change.QName, col, pos string) {
			if p.IsNew(t) || newColumn(p, t, col) {
				return
			}
			if e := ch.Base().Effect; e.Algorithm == "INSTANT" || e.Clause == "INSTANT" {
				return // instant on its own; another clause makes the statement expensive
			}
			at(p, ch, sentence("Placing "+t.String()+"."+col+" "+pos+" is not instant on "+p.Target.String(), ch), t.String()+"."+col)
		}
		for _, ch := range p.Stmt.Changes {
			switch x := ch.(type) {
			case *change.AddColumn:
				if x.Column.Position != "" {
					report(x, x.Table, x.Column.Name, x.Column.Position)
				}
			case *change.AlterColumnType:
				if x.NewColumn != nil && x.NewColumn.Position != "" && x.SameType {
					report(x, x.Table, x.Column, x.NewColumn.Position)
				}
			}
		}
	},
}
