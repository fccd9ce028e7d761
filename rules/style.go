package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// typedColumn is a column whose type a statement sets.
type typedColumn struct {
	table change.QName
	name  string
	typ   change.Type
	span  change.Span
	ch    change.Change
}

// typedColumns lists the columns a statement declares or retypes.
func typedColumns(p *analyzer.Pass) []typedColumn {
	var out []typedColumn
	for _, ch := range p.Stmt.Changes {
		switch x := ch.(type) {
		case *change.CreateTable:
			for _, c := range x.Columns {
				sp := c.Span
				if !sp.Valid() {
					sp = x.Span
				}
				out = append(out, typedColumn{x.Table, c.Name, c.Type, sp, ch})
			}
		case *change.AddColumn:
			out = append(out, typedColumn{x.Table, x.Column.Name, x.Column.Type, x.Span, ch})
		case *change.AlterColumnType:
			out = append(out, typedColumn{x.Table, x.Column, x.NewType, x.Span, ch})
		}
	}
	return out
}

// styleCheck builds the Check of a type-preference rule.
func styleCheck(match func(change.Type) bool, msg func(typedColumn) string) func(*analyzer.Pass) {
	return func(p *analyzer.Pass) {
		for _, c := range typedColumns(p) {
			if match(c.typ) {
				p.Report(analyzer.Finding{Span: c.span, Message: msg(c), Objects: []string{c.table.String() + "." + c.name}})
			}
		}
	}
}
