package postgres

import (
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/migsafe/migsafe/analyzer/change"
)

// updateDML records what an UPDATE writes and what it reads, so that the
// replay knows a backfill (UPDATE t SET new = old) from other updates.
func updateDML(u *pg_query.UpdateStmt) *change.DML {
	d := &change.DML{Verb: "UPDATE", Table: rangeVar(u.Relation), HasWhere: u.WhereClause != nil}
	for _, n := range u.TargetList {
		rt := n.GetResTarget()
		if rt == nil {
			continue
		}
		d.Columns = appendUnique(d.Columns, rt.Name)
		for _, c := range columnRefs(rt.Val) {
			d.Reads = appendUnique(d.Reads, c)
		}
	}
	for _, f := range u.FromClause {
		d.From = appendTables(d.From, relations(f))
	}
	return d
}

// insertDML records INSERT's column list and the tables its SELECT reads.
func insertDML(in *pg_query.InsertStmt) *change.DML {
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

// columnRefs returns the last name of every column reference in a tree
// (u.name → name), lower case as the parser folded it.
func columnRefs(n *pg_query.Node) []string {
	var out []string
	visit(n, func(m protoreflect.Message) {
		if cr, ok := m.Interface().(*pg_query.ColumnRef); ok && len(cr.Fields) > 0 {
			if s := cr.Fields[len(cr.Fields)-1].GetString_(); s != nil {
				out = appendUnique(out, strings.ToLower(s.Sval))
			}
		}
	})
	return out
}

// relations returns every table a tree reads (RangeVar nodes).
func relations(n *pg_query.Node) []change.QName {
	var out []change.QName
	visit(n, func(m protoreflect.Message) {
		if rv, ok := m.Interface().(*pg_query.RangeVar); ok {
			out = appendTables(out, []change.QName{rangeVar(rv)})
		}
	})
	return out
}

// visit calls f on every message of a parse tree.
func visit(n *pg_query.Node, f func(protoreflect.Message)) {
	if n == nil {
		return
	}
	var rec func(m protoreflect.Message)
	rec = func(m protoreflect.Message) {
		f(m)
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					rec(l.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				rec(v.Message())
			}
			return true
		})
	}
	rec(n.ProtoReflect())
}
