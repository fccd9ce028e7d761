package rules

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// AddColumnRewrite flags ADD COLUMN forms that rewrite an existing table.
var AddColumnRewrite = &analyzer.Rule{
	Code:     "MS101",
	Name:     "add-column-rewrite",
	Summary:  "Adding this column rewrites the whole table under an exclusive lock",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Fix:      analyzer.FixNone,
	Doc: analyzer.Doc{
		Why: `Since PostgreSQL 11 a column with a constant (or stable) default is added
instantly. A volatile default (\'gen_random_uuid()\', \'random()\', \'clock_timestamp()\'),
a serial, an identity or a stored generated column must compute a value for every
existing row: PostgreSQL rewrites the table and its indexes while an ACCESS
EXCLUSIVE lock blocks all reads and writes. Before PostgreSQL 11 any non-null
default rewrites.`,
		Recipe: `1. Add the column without the default (or with a constant one).
2. Set the default for new rows: \'ALTER TABLE t ALTER COLUMN c SET DEFAULT gen_random_uuid()\'.
3. Backfill existing rows in batches.
4. Add NOT NULL safely if needed (see set-not-null).
For generated values, use a plain column kept up to date by a trigger, backfilled in batches.`,
		Help: "add the column without the volatile default, SET DEFAULT separately, then backfill in batches (generated values: a plain column kept by a trigger)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
			Good:    "ALTER TABLE users ADD COLUMN token uuid;\nALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD COLUMN token BINARY(16) DEFAULT (UUID_TO_BIN(UUID()));",
			Good:    "ALTER TABLE users ADD COLUMN token BINARY(16);",
		}},
		Notes: "Functions migsafe does not know (and that the migrations did not create with a volatility) are assumed volatile; a function created without IMMUTABLE or STABLE is VOLATILE, as in PostgreSQL, unless PostgreSQL inlines it (a LANGUAGE sql function whose body is a single SELECT or RETURN of an expression), in which case its body decides. PostgreSQL rewrites a table once per ALTER TABLE however many columns need it, so a statement gets one finding per table, at the first such column.",
	},
	Check: func(p *analyzer.Pass) {
		if isMySQL(p) {
			each(p, func(x *change.AddColumn) { addColumnRewriteMySQL(p, x) })
			return
		}
		// PostgreSQL rewrites a table once per ALTER TABLE, however many of
		// its columns need it: one finding per table, at the first one.
		var first []*change.AddColumn
		cols := map[*change.AddColumn][]string{}
		each(p, func(x *change.AddColumn) {
			if x.Base().Effect.Work != change.WorkRewrite || p.IsNew(x.Table) {
				return
			}
			for _, f := range first {
				if f.Table == x.Table {
					cols[f] = append(cols[f], x.Column.Name)
					return
				}
			}
			first = append(first, x)
			cols[x] = []string{x.Column.Name}
		})
		for _, x := range first {
			names := cols[x]
			objects := make([]string, len(names))
			for i, n := range names {
				objects[i] = x.Table.String() + "." + n
			}
			what := "Adding column " + objects[0]
			if len(names) > 1 {
				what = "Adding columns " + x.Table.String() + "." + listNames(names, 3) + " (one rewrite for the statement)"
			}
			at(p, x, what+" "+lockPhrase(x.Base().Effect), objects...)
		}
	},
}

// listNames lists names, at most max of them: "a, b, c and 27 more".
func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return strings.Join(names[:max], ", ") + " and " + itoa(len(names)-max) + " more"
}

// addColumnRewriteMySQL flags the ADD COLUMN forms that MySQL and MariaDB
// cannot add instantly whatever the version: a STORED generated column, an
// AUTO_INCREMENT column, an expression default (DEFAULT (…)) that is not
// INSTANT on the target.
func addColumnRewriteMySQL(p *analyzer.Pass, x *change.AddColumn) {
	c := x.Column
	var why string
	switch {
	case c.Generated == "stored":
		why = "a STORED generated column is computed and written for every existing row"
	case c.AutoIncrement:
		why = "an AUTO_INCREMENT column gets a value written into every existing row"
	case c.Default != nil && strings.HasPrefix(c.Default.Text, "(") && !c.Default.Const:
		why = "the expression default " + c.Default.Text + " is evaluated and written for every existing row"
	default:
		return
	}
	e := x.Base().Effect
	if p.IsNew(x.Table) || e.Algorithm == "INSTANT" {
		return
	}
	at(p, x, sentence("Adding column "+x.Table.String()+"."+c.Name+" rewrites the table: "+why, x), x.Table.String()+"."+c.Name)
}
