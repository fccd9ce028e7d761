package rules

import (
	"sort"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// MultipleAlterSameTable flags a second ALTER TABLE of the same table in one
// MySQL migration.
var MultipleAlterSameTable = &analyzer.Rule{
	Code:     "MY501",
	Name:     "multiple-alter-same-table",
	Summary:  "Several ALTER TABLE statements on the same table each pay for their own rebuild and metadata lock",
	Dialects: myOnly,
	Severity: analyzer.SeverityWarning,
	// on a statement another rule reports a cost for, one more cause of it
	Secondary: true,
	Doc: analyzer.Doc{
		Why: `MySQL and MariaDB DDL is not transactional: each ALTER TABLE commits on its own,
waits for its own metadata lock and, unless it is INSTANT, rebuilds the table on
its own. Three ALTERs of a large table are three rebuilds (and three rounds of
replica lag) where one combined statement would rebuild once, and a failure
between them leaves the schema half-migrated.`,
		Recipe: `Combine the clauses into one ALTER TABLE:

~~~sql
ALTER TABLE users
  ADD COLUMN nickname VARCHAR(30),
  ADD INDEX idx_nickname (nickname),
  ALGORITHM=INPLACE, LOCK=NONE;
~~~`,
		Help: "combine the clauses into one ALTER TABLE statement",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD COLUMN nickname VARCHAR(30);\nALTER TABLE users ADD INDEX idx_nickname (nickname);",
			Good:    "ALTER TABLE users ADD COLUMN nickname VARCHAR(30), ADD INDEX idx_nickname (nickname);",
		}},
		Notes: "CREATE INDEX and DROP INDEX count as ALTER TABLE. Reported once per table and migration, at its second ALTER. Tables created in the same deploy are not reported. When another rule reports that statement's cost, this finding is folded into it (one statement, one finding that names every cause).",
	},
	Check: func(p *analyzer.Pass) {
		o := stmtOptions(p.Stmt)
		if o == nil || o.Table.Name == "" || p.IsNew(o.Table) {
			return
		}
		// Reported once per table, at its second ALTER, listing them all.
		alters := p.File.Memo(altersKey{}, func() any { return altersByTable(p.File) }).(map[string][]*analyzer.Statement)[tableKey(o.Table)]
		before := sort.Search(len(alters), func(i int) bool { return alters[i].Index >= p.Stmt.Index })
		if before != 1 {
			return
		}
		lines := make([]string, len(alters))
		for i, s := range alters {
			lines[i] = itoa(p.File.Lines.Line(s.Span.Start))
		}
		// say what each statement costs: an index build or an instant
		// change does not rebuild the table
		cost := "waits for its own metadata lock"
		switch o.Base().Effect.Work {
		case change.WorkRewrite:
			cost += " and rebuilds the table again"
		case change.WorkIndexBuild:
			cost += " and reads the whole table again to build its index"
		}
		at(p, o, "Table "+o.Table.String()+" is altered by "+itoa(len(lines))+" statements in this migration (lines "+strings.Join(lines, ", ")+"): this one "+cost, o.Table.String())
	},
}

type altersKey struct{}

// altersByTable indexes the ALTERs of a file by table, in statement order.
func altersByTable(f *analyzer.File) map[string][]*analyzer.Statement {
	m := map[string][]*analyzer.Statement{}
	for _, s := range f.Stmts {
		if o := stmtOptions(s); o != nil {
			k := tableKey(o.Table)
			m[k] = append(m[k], s)
		}
	}
	return m
}

// tableKey is a table's name as sameTable compares it.
func tableKey(t change.QName) string {
	return strings.ToLower(strings.ToUpper(t.Schema)) + "\x00" + strings.ToLower(strings.ToUpper(t.Name))
}

func sameTable(a, b change.QName) bool {
	return strings.EqualFold(a.Name, b.Name) && strings.EqualFold(a.Schema, b.Schema)
}
