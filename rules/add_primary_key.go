package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// AddPrimaryKey flags ADD PRIMARY KEY that builds its index under ACCESS
// EXCLUSIVE.
var AddPrimaryKey = &analyzer.Rule{
	Code:     "PG109",
	Name:     "add-primary-key",
	Summary:  "Adding a primary key builds its index while blocking reads and writes",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `ALTER TABLE … ADD PRIMARY KEY builds a unique index under an ACCESS EXCLUSIVE
lock, and first makes every key column NOT NULL, which scans the table under the
same lock.`,
		Recipe: `1. Make the key columns NOT NULL without a long lock (see set-not-null).
2. \'CREATE UNIQUE INDEX CONCURRENTLY items_pkey ON items (id);\'
3. \'ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;\'`,
		Help: "make the columns NOT NULL safely, CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX",
		Notes: `A partitioned table supports neither CREATE INDEX CONCURRENTLY nor ADD
CONSTRAINT … USING INDEX (checked on a real server): the finding says so.`,
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE items ADD PRIMARY KEY (id);",
			Good:    "ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_pkey;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		for _, ch := range p.Stmt.Changes {
			switch x := ch.(type) {
			case *change.AddConstraint:
				if x.Constraint.Kind != change.ConstraintPrimaryKey || p.IsNew(x.Table) {
					continue
				}
				if x.Constraint.UsingIndex != "" {
					// the index is built; only NOT NULL on its columns may scan
					if x.Effect.Work == change.WorkScan {
						at(p, x, "Adding a primary key to "+x.Table.String()+" USING INDEX "+x.Constraint.UsingIndex+" "+lockPhrase(x.Effect), x.Table.String())
					}
					continue
				}
				at(p, x, "Adding a primary key to "+x.Table.String()+" "+lockPhrase(x.Effect)+noUsingIndex(p, x.Table), x.Table.String())
			case *change.AddColumn:
				if !x.Column.PrimaryKey || p.IsNew(x.Table) {
					continue
				}
				at(p, x, "Adding primary key column "+x.Table.String()+"."+x.Column.Name+" "+lockPhrase(x.Effect)+noUsingIndex(p, x.Table), x.Table.String()+"."+x.Column.Name)
			}
		}
	},
}

// noUsingIndex says, for a partitioned table, that the recipe of building the
// index CONCURRENTLY and adding the constraint USING INDEX does not work.
func noUsingIndex(p *analyzer.Pass, table change.QName) string {
	if t := p.Catalog.Table(table); t != nil && t.Partitioned {
		return "; a partitioned table supports neither CREATE INDEX CONCURRENTLY nor ADD CONSTRAINT … USING INDEX"
	}
	return ""
}
