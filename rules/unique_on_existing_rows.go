package rules

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// UniqueOnExistingRows flags a unique index or constraint over columns that
// already hold data: it fails when two rows share a value.
var UniqueOnExistingRows = &analyzer.Rule{
	Code:     "MS305",
	Name:     "unique-on-existing-rows",
	Summary:  "A unique index or constraint on columns that already hold data fails if two rows share a value",
	Dialects: both,
	Severity: analyzer.SeverityWarning,
	// on a statement another rule reports a cost for, one more cause of it
	Secondary: true,
	Doc: analyzer.Doc{
		Why: `Nothing in the schema says the existing rows are distinct. If two rows share a
value, the migration fails after reading the whole table. On PostgreSQL a failed
CREATE UNIQUE INDEX CONCURRENTLY also leaves an INVALID index behind, and running
the migration again with IF NOT EXISTS skips it silently (checked on PostgreSQL
15). On MySQL and MariaDB the ALTER fails with a duplicate-key error, after the
statements before it in the file were committed.`,
		Recipe: `Look for duplicates before the migration ships, and clean them up in a
migration of their own:

~~~sql
SELECT email, count(*) FROM users GROUP BY email HAVING count(*) > 1;
~~~

Then build the index. On PostgreSQL, if a CONCURRENTLY build failed, drop the
INVALID index it left (DROP INDEX CONCURRENTLY) before trying again.`,
		Help: "check for duplicates first (SELECT cols, count(*) … GROUP BY cols HAVING count(*) > 1); after a failed CONCURRENTLY build, drop the INVALID index before retrying",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);",
			Good:    "-- the index was built, and found no duplicates, in an earlier migration\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD UNIQUE KEY users_email_key (email);",
			Good:    "-- until the duplicates are cleaned up, a plain index serves the lookups\nALTER TABLE users ADD INDEX users_email (email);",
		}},
		Notes: `Not reported on a table or column created in the same deploy (atlas's MF101
makes the same exemption), nor when the columns include every column of a
primary key or another unique index or constraint of the table (the rows are
distinct already). USING INDEX attaches an index that is unique already.`,
	},
	Check: func(p *analyzer.Pass) {
		for _, ch := range p.Stmt.Changes {
			var (
				table change.QName
				cols  []string // "expr" for an expression
				reads []string // the columns expressions and predicates read
				what  string
			)
			switch x := ch.(type) {
			case *change.CreateIndex:
				if !x.Unique {
					continue
				}
				table, cols, reads, what = x.Table, x.Columns, x.Reads, "Unique index "+x.Name
			case *change.AddConstraint:
				k := x.Constraint
				if (k.Kind != change.ConstraintUnique && k.Kind != change.ConstraintPrimaryKey) || k.UsingIndex != "" {
					continue
				}
				table, cols, what = x.Table, k.Columns, "Constraint "+k.Name
				if k.Name == "" {
					what = "The constraint"
				}
			default:
				continue
			}
			if p.IsNew(table) || createdHere(p, table) || len(cols) == 0 || distinctAlready(p, table, cols) {
				continue
			}
			if slices.ContainsFunc(append(slices.Clone(cols), reads...), func(c string) bool { return newColumn(p, table, c) }) {
				continue
			}
			var shown []string
			exprs := 0
			for _, c := range cols {
				if c == "expr" {
					exprs++
					continue
				}
				shown = append(shown, c)
			}
			switch exprs {
			case 0:
			case 1:
				shown = append(shown, "an expression")
			default:
				shown = append(shown, itoa(exprs)+" expressions")
			}
			at(p, ch, what+" on "+table.String()+" ("+strings.Join(shown, ", ")+") fails if existing rows share a value", table.String())
			return
		}
	},
}

// distinctAlready reports whether the table's rows are distinct on cols
// already: a primary key or a unique index or constraint covers a subset of
// them.
func distinctAlready(p *analyzer.Pass, table change.QName, cols []string) bool {
	t := p.Catalog.Table(table)
	if t == nil {
		return false
	}
	plain := slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == "expr" })
	covers := func(keys []string) bool {
		return len(keys) > 0 && !slices.ContainsFunc(keys, func(k string) bool {
			return !slices.ContainsFunc(plain, func(c string) bool { return strings.EqualFold(c, k) })
		})
	}
	for _, k := range t.Constraints {
		if (k.Kind == change.ConstraintPrimaryKey || k.Kind == change.ConstraintUnique) && covers(k.Columns) {
			return true
		}
	}
	for _, ix := range p.Catalog.IndexesOf(t) {
		if ix.Unique && len(ix.Reads) == 0 && covers(ix.Columns) {
			return true
		}
	}
	return false
}
