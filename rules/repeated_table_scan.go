package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// RepeatedTableScan flags a second PostgreSQL ALTER TABLE that scans or
// rewrites a table another ALTER of the same migration already scanned or
// rewrote: one ALTER with both clauses does it in one pass.
var RepeatedTableScan = &analyzer.Rule{
	Code:     "PG114",
	Name:     "repeated-table-scan",
	Summary:  "Several ALTER TABLE statements each scan or rewrite the same table; one ALTER would do it once",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	// on a statement another rule reports a cost for, one more cause of it
	Secondary: true,
	Doc: analyzer.Doc{
		Why: `PostgreSQL runs the clauses of one ALTER TABLE together: every SET NOT NULL and
validated CHECK is proved in one scan, every type change in one rewrite (and a
rewrite proves the constraints on the way). Written as separate statements,
each one scans or rewrites the whole table again under its ACCESS EXCLUSIVE
lock: two SET NOT NULL statements read the table twice, two type changes
write it twice, and reads and writes wait for all of it.`,
		Recipe: `Put the clauses in one ALTER TABLE:

~~~sql
ALTER TABLE authors
  ALTER COLUMN name SET NOT NULL,
  ALTER COLUMN email SET NOT NULL;
~~~

Better still, avoid the scans (see set-not-null and change-column-type).`,
		Help: "combine the clauses into one ALTER TABLE statement, so the table is scanned or rewritten once",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE authors ALTER COLUMN name SET NOT NULL;\nALTER TABLE authors ALTER COLUMN email SET NOT NULL;",
			Good:    "ALTER TABLE authors ALTER COLUMN name SET NOT NULL, ALTER COLUMN email SET NOT NULL;",
		}},
		Notes: "Only statements that scan or rewrite the table count: index builds and catalog-only changes are not made cheaper by combining. Reported once per table and migration, at the second such statement, which names the first. Tables created in the same deploy are not reported. When another rule reports that statement's cost, this finding is folded into it. Checked on PostgreSQL 15: two SET NOT NULL statements add two sequential scans to the table's counter, one ALTER with both clauses adds one.",
	},
	Check: func(p *analyzer.Pass) {
		// the physics of a statement is known once the engine reaches it:
		// the index covers the statements before this one
		ix := p.File.Memo(tablePassesKey{}, func() any { return &tablePasses{byTable: map[string][]int{}} }).(*tablePasses)
		ix.upTo(p.File, p.Stmt.Index)
		for _, ch := range p.Stmt.Changes {
			t, ok := passTable(ch)
			if !ok || p.IsNew(t) {
				continue
			}
			before := ix.byTable[tableKey(t)]
			if len(before) != 1 {
				continue
			}
			at(p, ch, "Table "+t.String()+" was already scanned or rewritten by the ALTER TABLE at line "+itoa(before[0])+": this one reads the whole table again, where one ALTER with both clauses would do it once", t.String())
			return
		}
	},
}

type tablePassesKey struct{}

// tablePasses indexes, by table, the lines of the statements of a file that
// scan or rewrite a table, up to the statement being checked.
type tablePasses struct {
	next    int
	byTable map[string][]int
}

func (ix *tablePasses) upTo(f *analyzer.File, index int) {
	for ; ix.next < index && ix.next < len(f.Stmts); ix.next++ {
		s := f.Stmts[ix.next]
		seen := map[string]bool{}
		for _, ch := range s.Changes {
			if t, ok := passTable(ch); ok && !seen[tableKey(t)] {
				seen[tableKey(t)] = true
				ix.byTable[tableKey(t)] = append(ix.byTable[tableKey(t)], f.Lines.Line(s.Span.Start))
			}
		}
	}
}

// passTable returns the table an ALTER TABLE clause scans or rewrites.
func passTable(ch change.Change) (change.QName, bool) {
	if _, ok := ch.(*change.CreateIndex); ok {
		return change.QName{}, false
	}
	if w := ch.Base().Effect.Work; w != change.WorkScan && w != change.WorkRewrite {
		return change.QName{}, false
	}
	switch x := ch.(type) {
	case *change.AddColumn, *change.AlterColumnType, *change.SetNotNull, *change.TableRewrite:
		return ddlTable(ch)
	case *change.AddConstraint:
		// a CHECK is proved in the ALTER's one pass; a foreign key is
		// checked by a query of its own
		if x.Constraint.Kind == change.ConstraintCheck {
			return x.Table, true
		}
	}
	return change.QName{}, false
}
