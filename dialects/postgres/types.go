package postgres

import (
	"fmt"
	"strings"

	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// canonical maps the names the grammar produces to one base name.
var canonical = map[string]string{
	"int": "int4", "integer": "int4", "int4": "int4", "serial": "int4", "serial4": "int4",
	"bigint": "int8", "int8": "int8", "bigserial": "int8", "serial8": "int8",
	"smallint": "int2", "int2": "int2", "smallserial": "int2", "serial2": "int2",
	"varchar": "varchar", "character varying": "varchar",
	"bpchar": "bpchar", "char": "bpchar", "character": "bpchar",
	"text": "text", "numeric": "numeric", "decimal": "numeric",
	"timestamp": "timestamp", "timestamptz": "timestamptz",
	"time": "time", "timetz": "timetz", "bool": "bool", "boolean": "bool",
	"float4": "float4", "real": "float4", "float8": "float8", "double precision": "float8",
	"json": "json", "jsonb": "jsonb", "uuid": "uuid", "bytea": "bytea", "date": "date",
	"interval": "interval", "bit": "bit", "varbit": "varbit", "inet": "inet", "cidr": "cidr",
	"citext": "citext", "xml": "xml", "money": "money", "tsvector": "tsvector",
}

var display = map[string]string{
	"int4": "integer", "int8": "bigint", "int2": "smallint", "bpchar": "char", "bool": "boolean",
	"float4": "real", "float8": "double precision",
}

func typeOf(tn *pgtree.TypeName) change.Type {
	if tn == nil {
		return change.Type{}
	}
	names := stringList(tn.Names)
	if len(names) == 0 {
		return change.Type{}
	}
	raw := strings.ToLower(names[len(names)-1])
	t := change.Type{Name: raw, Array: len(tn.ArrayBounds) > 0}
	if c, ok := canonical[raw]; ok {
		t.Name = c
		t.Serial = strings.Contains(raw, "serial")
	}
	for _, m := range tn.Typmods {
		if c := m.GetAConst(); c != nil && c.GetIval() != nil {
			t.Mods = append(t.Mods, int(c.GetIval().Ival))
		}
	}
	if t.Name == "interval" {
		// interval typmods are [range mask, precision], not a length
		t.Text = intervalText(t.Mods, t.Array)
		return t
	}
	name := t.Name
	if d, ok := display[name]; ok {
		name = d
	}
	if t.Serial {
		name = raw
	}
	if len(t.Mods) > 0 {
		var ms []string
		for _, m := range t.Mods {
			ms = append(ms, fmt.Sprint(m))
		}
		name += "(" + strings.Join(ms, ",") + ")"
	}
	if t.Array {
		name += "[]"
	}
	t.Text = name
	return t
}

// exprOf summarises an expression: the functions it calls and whether it is
// a plain constant. Volatility is decided later, with the catalog at hand.
func exprOf(n *pgtree.Node) *change.Expr {
	e := &change.Expr{}
	if n == nil {
		return e
	}
	e.Const = isConst(n)
	if c := n.GetAConst(); c != nil && c.Isnull {
		e.Null = true
	}
	walk(n, func(x *pgtree.Node) {
		switch v := x.Node.(type) {
		case *pgtree.Node_FuncCall:
			e.Funcs = append(e.Funcs, qualifiedFuncName(v.FuncCall.Funcname))
		case *pgtree.Node_NextValueExpr:
			e.Funcs = append(e.Funcs, "nextval")
		}
	})
	if e.Const {
		e.Text = constString(n)
	} else if len(e.Funcs) > 0 {
		e.Text = e.Funcs[0] + "()"
	}
	return e
}

// qualifiedFuncName is a function's name as called, lower case, with its
// schema when one is written (pg_catalog, where the built-ins live, is
// dropped): "now", "app.make_code".
func qualifiedFuncName(ns []*pgtree.Node) string {
	q := namesToQName(ns)
	name := strings.ToLower(q.Name)
	if s := strings.ToLower(q.Schema); s != "" && s != "pg_catalog" {
		return s + "." + name
	}
	return name
}

func isConst(n *pgtree.Node) bool {
	switch v := n.Node.(type) {
	case *pgtree.Node_AConst:
		return true
	case *pgtree.Node_TypeCast:
		return isConst(v.TypeCast.Arg)
	case *pgtree.Node_AArrayExpr:
		for _, el := range v.AArrayExpr.Elements {
			if !isConst(el) {
				return false
			}
		}
		return true
	}
	return false
}

// walk visits every node of an expression tree that migsafe cares about.
// It follows the node kinds that can appear in a default, a check or a
// generated column expression.
func walk(n *pgtree.Node, f func(*pgtree.Node)) {
	if n == nil || n.Node == nil {
		return
	}
	f(n)
	switch v := n.Node.(type) {
	case *pgtree.Node_FuncCall:
		for _, a := range v.FuncCall.Args {
			walk(a, f)
		}
	case *pgtree.Node_TypeCast:
		walk(v.TypeCast.Arg, f)
	case *pgtree.Node_AExpr:
		walk(v.AExpr.Lexpr, f)
		walk(v.AExpr.Rexpr, f)
	case *pgtree.Node_BoolExpr:
		for _, a := range v.BoolExpr.Args {
			walk(a, f)
		}
	case *pgtree.Node_CoalesceExpr:
		for _, a := range v.CoalesceExpr.Args {
			walk(a, f)
		}
	case *pgtree.Node_CaseExpr:
		walk(v.CaseExpr.Arg, f)
		for _, w := range v.CaseExpr.Args {
			walk(w, f)
		}
		walk(v.CaseExpr.Defresult, f)
	case *pgtree.Node_CaseWhen:
		walk(v.CaseWhen.Expr, f)
		walk(v.CaseWhen.Result, f)
	case *pgtree.Node_AArrayExpr:
		for _, a := range v.AArrayExpr.Elements {
			walk(a, f)
		}
	case *pgtree.Node_List:
		for _, a := range v.List.Items {
			walk(a, f)
		}
	case *pgtree.Node_MinMaxExpr:
		for _, a := range v.MinMaxExpr.Args {
			walk(a, f)
		}
	case *pgtree.Node_NullTest:
		walk(v.NullTest.Arg, f)
	case *pgtree.Node_CollateClause:
		walk(v.CollateClause.Arg, f)
	case *pgtree.Node_SubLink:
		walk(v.SubLink.Subselect, f)
	case *pgtree.Node_SelectStmt:
		for _, t := range v.SelectStmt.TargetList {
			walk(t, f)
		}
	case *pgtree.Node_ResTarget:
		walk(v.ResTarget.Val, f)
	}
}

// Function volatility of PostgreSQL built-ins that show up in defaults.
// Functions not listed and not created by the migrations are assumed
// volatile: that is the conservative answer.
var nonVolatile = map[string]bool{
	// stable
	"now": true, "current_timestamp": true, "transaction_timestamp": true, "statement_timestamp": true,
	"current_date": true, "current_time": true, "localtimestamp": true, "localtime": true,
	"current_setting": true, "current_user": true, "current_schema": true, "to_char": true, "to_timestamp": true,
	"to_date": true, "date_trunc": true, "timezone": true, "age": true, "jsonb_build_object": true,
	"json_build_object": true, "jsonb_build_array": true, "json_build_array": true,
	// immutable
	"lower": true, "upper": true, "coalesce": true, "nullif": true, "length": true, "abs": true,
	"concat": true, "md5": true, "jsonb": true, "to_jsonb": true, "array": true, "make_interval": true,
	"int4": true, "int8": true, "text": true, "btrim": true, "trim": true, "substring": true,
	"replace": true, "round": true, "floor": true, "ceil": true, "greatest": true, "least": true,
	"pg_catalog.now": true, "array_length": true, "cardinality": true, "encode": true, "decode": true,
	"sha256": true, "date_part": true, "extract": true, "make_date": true, "make_timestamp": true,
	"make_timestamptz": true, "left": true, "right": true, "split_part": true, "regexp_replace": true,
	"to_tsvector": true, "setweight": true, "array_to_string": true, "string_to_array": true,
	"uuid_nil": true, "uuid_ns_url": true, "uuid_ns_dns": true, "interval": true, "bool": true,
}

// volatile are functions known to be volatile: they produce a new value per
// row, so a default that calls them rewrites the table.
var volatile = map[string]bool{
	"random": true, "gen_random_uuid": true, "uuid_generate_v1": true, "uuid_generate_v1mc": true,
	"uuid_generate_v4": true, "uuidv4": true, "uuidv7": true, "clock_timestamp": true, "timeofday": true,
	"nextval": true, "txid_current": true, "gen_random_bytes": true, "random_normal": true, "setseed": true,
}

// intervalText displays an interval type from its typmods: "interval",
// "interval(3)", "interval day to second(3)".
func intervalText(mods []int, array bool) string {
	name := "interval"
	if len(mods) > 0 && mods[0] != 0x7FFF {
		// PostgreSQL's datetime.h field bits, largest unit first
		fields := []struct {
			bit  int
			name string
		}{{2, "year"}, {1, "month"}, {3, "day"}, {10, "hour"}, {11, "minute"}, {12, "second"}}
		var set []string
		for _, f := range fields {
			if mods[0]&(1<<f.bit) != 0 {
				set = append(set, f.name)
			}
		}
		switch len(set) {
		case 0:
		case 1:
			name += " " + set[0]
		default:
			name += " " + set[0] + " to " + set[len(set)-1]
		}
	}
	if len(mods) > 1 {
		name += fmt.Sprintf("(%d)", mods[1])
	}
	if array {
		name += "[]"
	}
	return name
}
