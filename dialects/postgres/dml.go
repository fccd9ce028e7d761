package postgres

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// updateDML records what an UPDATE writes and what it reads, so that the
// replay knows a backfill (UPDATE t SET new = old) from other updates.
func updateDML(u *pgtree.UpdateStmt) *change.DML {
	d := &change.DML{Verb: "UPDATE", Table: rangeVar(u.Relation), HasWhere: u.WhereClause != nil}
	// a column reference qualified by another name reads a table of the
	// FROM clause (UPDATE t SET a = o.id FROM o): not a copy of t's column
	self := map[string]bool{}
	if u.Relation != nil {
		self[strings.ToLower(u.Relation.Relname)] = true
		if u.Relation.Alias != nil {
			self = map[string]bool{strings.ToLower(u.Relation.Alias.Aliasname): true}
		}
	}
	own := func(cr *pgtree.ColumnRef) bool {
		if len(cr.Fields) < 2 {
			return true
		}
		q := cr.Fields[len(cr.Fields)-2].GetString_()
		return q != nil && self[strings.ToLower(q.Sval)]
	}
	for _, n := range u.TargetList {
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		d.Columns = append(d.Columns, rt.Name)
		d.Values = append(d.Values, change.Value{Reads: ownColumnRefs(rt.Val, own), Copy: isCopy(rt.Val, own)})
		d.From = appendTables(d.From, subqueryRelations(rt.Val))
	}
	for _, f := range u.FromClause {
		d.From = appendTables(d.From, relations(f))
	}
	return d
}

// insertDML records INSERT's column list and the tables its SELECT reads.
func insertDML(in *pgtree.InsertStmt) *change.DML {
	d := &change.DML{Verb: "INSERT", Table: rangeVar(in.Relation)}
	for _, n := range in.Cols {
		if rt := n.GetResTarget(); rt != nil {
			d.Columns = appendUnique(d.Columns, rt.Name)
		}
	}
	if in.SelectStmt != nil {
		d.From = appendTables(d.From, relations(in.SelectStmt))
	}
	return d
}

func appendUnique(xs []string, x string) []string {
	if x == "" || slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

func appendTables(xs, add []change.QName) []change.QName {
	for _, q := range add {
		if !slices.Contains(xs, q) {
			xs = append(xs, q)
		}
	}
	return xs
}

// columnRefs returns the last name of every column reference in an
// expression (u.name → name), outside subqueries, which read other tables.
func columnRefs(n *pgtree.Node) []string {
	return ownColumnRefs(n, func(*pgtree.ColumnRef) bool { return true })
}

// ownColumnRefs is columnRefs limited to the references own accepts.
func ownColumnRefs(n *pgtree.Node, own func(*pgtree.ColumnRef) bool) []string {
	var out []string
	pgtree.Walk(n, func(m any) bool {
		if _, sub := m.(*pgtree.SubLink); sub {
			return false
		}
		if cr, ok := m.(*pgtree.ColumnRef); ok && len(cr.Fields) > 0 && own(cr) {
			if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
				out = appendUnique(out, strings.ToLower(s.Sval))
			}
		}
		return true
	})
	return out
}

// subqueryRelations returns the tables the subqueries of an expression read.
func subqueryRelations(n *pgtree.Node) []change.QName {
	var out []change.QName
	pgtree.Walk(n, func(m any) bool {
		if sl, ok := m.(*pgtree.SubLink); ok {
			out = appendTables(out, relations(sl.Subselect))
			return false
		}
		return true
	})
	return out
}

// isCopy reports whether a value is a bare column of the table, possibly
// cast.
func isCopy(n *pgtree.Node, own func(*pgtree.ColumnRef) bool) bool {
	for n != nil {
		switch x := n.Node.(type) {
		case *pgtree.Node_ColumnRef:
			return own(x.ColumnRef)
		case *pgtree.Node_TypeCast:
			n = x.TypeCast.Arg
		default:
			return false
		}
	}
	return false
}

// relations returns every table a tree reads (RangeVar nodes).
func relations(n *pgtree.Node) []change.QName {
	var out []change.QName
	pgtree.Walk(n, func(m any) bool {
		if rv, ok := m.(*pgtree.RangeVar); ok {
			out = appendTables(out, []change.QName{rangeVar(rv)})
		}
		return true
	})
	return out
}
