package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

// AddRequiredColumn flags adding a NOT NULL column without a default to a
// table that already exists.
var AddRequiredColumn = &analyzer.Rule{
	Code:     "MS304",
	Name:     "add-required-column",
	Summary:  "Adding a NOT NULL column without a default fails on a table with rows and breaks old inserts",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `PostgreSQL refuses to add a NOT NULL column without a default to a table that
has rows ("column contains null values"), so the migration fails in production
although it passed on an empty development database. Even where it succeeds,
every INSERT of the old application version omits the column and fails.

MySQL and MariaDB add the column and fill existing rows with the type's zero
value (0, '', a zero date), which is rarely what the data means; the old
version's INSERTs then fail in strict mode ("Field doesn't have a default
value") or silently store the zero value without it.`,
		Recipe: `Add the column nullable (or with a constant default, which is instant since
PostgreSQL 11), deploy code that writes it, backfill old rows in batches, then make
it NOT NULL without a long lock (see set-not-null).`,
		Help: "add the column nullable or with a constant DEFAULT, backfill, then set NOT NULL safely",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE orders ADD COLUMN currency text NOT NULL;",
			Good:    "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE orders ADD COLUMN currency CHAR(3) NOT NULL;",
			Good:    "ALTER TABLE orders ADD COLUMN currency CHAR(3) NOT NULL DEFAULT 'EUR';",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.AddColumn) {
			c := x.Column
			if !c.NotNull || (c.Default != nil && !c.Default.Null) || c.Identity != "" || c.Generated != "" || c.Type.Serial || c.AutoIncrement {
				return
			}
			if p.IsNew(x.Table) {
				return
			}
			if isMySQL(p) {
				at(p, x, sentence("Adding NOT NULL column "+x.Table.String()+"."+c.Name+" without a default makes the old application's INSERTs that omit it fail in strict mode (the default), or store the type's zero value without it", x),
					x.Table.String()+"."+c.Name)
				return
			}
			if line := emptiedBefore(p, x.Table); line > 0 {
				at(p, x, sentence("Adding NOT NULL column "+x.Table.String()+"."+c.Name+" without a default succeeds because the table was emptied earlier in this transaction (line "+itoa(line)+"), but old application code inserting rows without it fails", x),
					x.Table.String()+"."+c.Name)
				return
			}
			at(p, x, sentence("Adding NOT NULL column "+x.Table.String()+"."+c.Name+" without a default fails if the table has rows, and old application code inserting rows without it fails", x),
				x.Table.String()+"."+c.Name)
		})
	},
}

// emptiedBefore returns the line of a statement earlier in the same
// transaction that deletes every row of t (TRUNCATE, DELETE without WHERE),
// or 0. The file's transactions are folded once (foldTx), so many such
// ADD COLUMNs in one transaction cost time in its length, not its square.
func emptiedBefore(p *analyzer.Pass, t change.QName) int {
	if !p.Stmt.Tx.InTransaction() {
		return 0
	}
	txs := foldTx(p, emptiedFoldKey{}, func(s *analyzer.Statement, e *emptiedTables) {
		for _, ch := range s.Changes {
			var tables []change.QName
			switch x := ch.(type) {
			case *change.Truncate:
				tables = x.Tables
			case *change.DML:
				if x.Verb == "DELETE" && !x.HasWhere {
					tables = []change.QName{x.Table}
				}
			}
			for _, q := range tables {
				if e.lines == nil {
					e.lines = map[string]int{}
				}
				if k := catalog.Key(q); e.lines[k] == 0 {
					e.lines[k] = p.File.Lines.Position(s.Span.Start).Line
				}
			}
		}
	})
	if e := txs[p.Stmt.Tx.ID]; e != nil {
		return e.lines[catalog.Key(t)]
	}
	return 0
}

type emptiedFoldKey struct{}

// emptiedTables maps each table emptied so far in a transaction to the
// line of the first statement that emptied it.
type emptiedTables struct{ lines map[string]int }
