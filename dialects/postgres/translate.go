package postgres

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// translator turns one parse tree into change values.
type translator struct {
	d    *Dialect
	src  []byte
	toks []token // the statement's tokens, comments included
	stmt *analyzer.Statement
	// base is the file offset of the text the parser saw: every Location
	// in the parse tree is relative to it (use t.loc).
	base int
}

func (t *translator) add(c change.Change) { t.stmt.Changes = append(t.stmt.Changes, c) }

// loc converts a parse-tree location into a file offset; -1 (unknown) stays
// negative.
func (t *translator) loc(l int32) int {
	if l < 0 {
		return -1
	}
	return t.base + int(l)
}

func nodeName(n *pgtree.Node) string {
	if n == nil || n.Node == nil {
		return "empty"
	}
	s := fmt.Sprintf("%T", n.Node)
	s = strings.TrimPrefix(s, "*pgtree.Node_")
	return s
}

var kinds = map[string]string{
	"CreateStmt": "CREATE TABLE", "AlterTableStmt": "ALTER TABLE", "IndexStmt": "CREATE INDEX",
	"DropStmt": "DROP", "RenameStmt": "RENAME", "TruncateStmt": "TRUNCATE", "VacuumStmt": "VACUUM",
	"ClusterStmt": "CLUSTER", "LockStmt": "LOCK", "ReindexStmt": "REINDEX",
	"RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW", "VariableSetStmt": "SET",
	"TransactionStmt": "TRANSACTION", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
	"InsertStmt": "INSERT", "MergeStmt": "MERGE", "CopyStmt": "COPY", "SelectStmt": "SELECT",
	"AlterEnumStmt": "ALTER TYPE", "CreateEnumStmt": "CREATE TYPE", "CreateSchemaStmt": "CREATE SCHEMA",
	"CreateFunctionStmt": "CREATE FUNCTION", "ViewStmt": "CREATE VIEW", "CreateTableAsStmt": "CREATE TABLE AS",
	"DoStmt": "DO", "CreateTrigStmt": "CREATE TRIGGER", "CommentStmt": "COMMENT", "GrantStmt": "GRANT",
	"CreateExtensionStmt": "CREATE EXTENSION", "CreateSeqStmt": "CREATE SEQUENCE", "AlterSeqStmt": "ALTER SEQUENCE",
	"CallStmt": "CALL", "CompositeTypeStmt": "CREATE TYPE", "CreateDomainStmt": "CREATE DOMAIN",
	"AlterDomainStmt": "ALTER DOMAIN", "AlterObjectSchemaStmt": "SET SCHEMA", "CreatePolicyStmt": "CREATE POLICY",
	"AlterPolicyStmt": "ALTER POLICY", "AlterOwnerStmt": "OWNER TO", "AlterFunctionStmt": "ALTER FUNCTION",
	"AlterRoleStmt": "ALTER ROLE", "AlterRoleSetStmt": "ALTER ROLE", "CreateRoleStmt": "CREATE ROLE",
	"DropRoleStmt": "DROP ROLE", "ExplainStmt": "EXPLAIN", "VariableShowStmt": "SHOW", "PrepareStmt": "PREPARE",
	"AlterDefaultPrivilegesStmt": "ALTER DEFAULT PRIVILEGES", "GrantRoleStmt": "GRANT",
	"CreateStatsStmt": "CREATE STATISTICS", "CreatePublicationStmt": "CREATE PUBLICATION", "AlterPublicationStmt": "ALTER PUBLICATION",
	"AlterExtensionStmt": "ALTER EXTENSION", "RuleStmt": "CREATE RULE", "DefineStmt": "CREATE",
	"CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE", "AlterSystemStmt": "ALTER SYSTEM",
	"CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE",
}

func (t *translator) translate(n *pgtree.Node) {
	name := nodeName(n)
	t.stmt.Kind = kinds[name]
	if t.stmt.Kind == "" {
		t.stmt.Kind = name
	}
	switch x := n.Node.(type) {
	case *pgtree.Node_CreateStmt:
		t.createTable(x.CreateStmt)
	case *pgtree.Node_CreateTableAsStmt:
		st := x.CreateTableAsStmt
		q := rangeVar(st.GetInto().GetRel())
		if st.Objtype == pgtree.ObjectType_OBJECT_MATVIEW {
			t.add(&change.CreateView{Name: q, Materialized: true})
		} else {
			t.add(&change.CreateTable{Table: q, AsSelect: true, IfNotExists: st.IfNotExists})
		}
	case *pgtree.Node_ViewStmt:
		t.add(&change.CreateView{Name: rangeVar(x.ViewStmt.View), Replace: x.ViewStmt.Replace})
	case *pgtree.Node_AlterTableStmt:
		t.alterTable(x.AlterTableStmt)
	case *pgtree.Node_IndexStmt:
		t.createIndex(x.IndexStmt)
	case *pgtree.Node_DropStmt:
		t.drop(x.DropStmt)
	case *pgtree.Node_RenameStmt:
		t.rename(x.RenameStmt)
	case *pgtree.Node_TruncateStmt:
		tr := &change.Truncate{Cascade: x.TruncateStmt.Behavior == pgtree.DropBehavior_DROP_CASCADE}
		for _, r := range x.TruncateStmt.Relations {
			tr.Tables = append(tr.Tables, rangeVar(r.GetRangeVar()))
		}
		t.add(tr)
	case *pgtree.Node_VacuumStmt:
		v := x.VacuumStmt
		if !v.IsVacuumcmd {
			var first change.QName
			if len(v.Rels) > 0 {
				first = rangeVar(v.Rels[0].GetVacuumRelation().GetRelation())
			}
			t.add(&change.Other{Kind: "ANALYZE", Object: first})
			return
		}
		vc := &change.Vacuum{}
		for _, o := range v.Options {
			if de := o.GetDefElem(); de != nil && de.Defname == "full" && defBool(de) {
				vc.Full = true
			}
		}
		for _, r := range v.Rels {
			if vr := r.GetVacuumRelation(); vr != nil && vr.Relation != nil {
				vc.Tables = append(vc.Tables, rangeVar(vr.Relation))
			}
		}
		t.add(vc)
	case *pgtree.Node_ClusterStmt:
		c := &change.Cluster{}
		if x.ClusterStmt.Relation != nil {
			q := rangeVar(x.ClusterStmt.Relation)
			c.Table = &q
		}
		t.add(c)
	case *pgtree.Node_LockStmt:
		l := &change.LockTable{Mode: lockModeName(x.LockStmt.Mode)}
		for _, r := range x.LockStmt.Relations {
			l.Tables = append(l.Tables, rangeVar(r.GetRangeVar()))
		}
		t.add(l)
	case *pgtree.Node_ReindexStmt:
		r := x.ReindexStmt
		c := &change.Reindex{}
		for _, p := range r.Params {
			if de := p.GetDefElem(); de != nil && de.Defname == "concurrently" && defBool(de) {
				c.Concurrently = true
			}
		}
		switch r.Kind {
		case pgtree.ReindexObjectType_REINDEX_OBJECT_TABLE:
			q := rangeVar(r.Relation)
			c.Table, c.Target = &q, "TABLE "+q.String()
		case pgtree.ReindexObjectType_REINDEX_OBJECT_INDEX:
			c.Target = "INDEX " + rangeVar(r.Relation).String()
		case pgtree.ReindexObjectType_REINDEX_OBJECT_SCHEMA:
			c.Target = "SCHEMA " + r.Name
		case pgtree.ReindexObjectType_REINDEX_OBJECT_SYSTEM:
			c.Target = "SYSTEM"
		default:
			c.Target = "DATABASE"
		}
		t.add(c)
	case *pgtree.Node_RefreshMatViewStmt:
		t.add(&change.RefreshMatView{Name: rangeVar(x.RefreshMatViewStmt.Relation), Concurrently: x.RefreshMatViewStmt.Concurrent})
	case *pgtree.Node_VariableSetStmt:
		t.setParam(x.VariableSetStmt)
	case *pgtree.Node_TransactionStmt:
		t.add(&change.Transaction{Kind: txKind(x.TransactionStmt.Kind)})
	case *pgtree.Node_UpdateStmt:
		u := x.UpdateStmt
		t.add(updateDML(u))
	case *pgtree.Node_DeleteStmt:
		u := x.DeleteStmt
		t.add(&change.DML{Verb: "DELETE", Table: rangeVar(u.Relation), HasWhere: u.WhereClause != nil})
	case *pgtree.Node_InsertStmt:
		t.add(insertDML(x.InsertStmt))
	case *pgtree.Node_MergeStmt:
		t.add(&change.DML{Verb: "MERGE", Table: rangeVar(x.MergeStmt.Relation), HasWhere: true})
	case *pgtree.Node_CopyStmt:
		if x.CopyStmt.IsFrom && x.CopyStmt.Relation != nil {
			t.add(&change.DML{Verb: "COPY", Table: rangeVar(x.CopyStmt.Relation)})
		} else {
			t.add(&change.Other{Kind: "COPY TO", Object: rangeVar(x.CopyStmt.Relation)})
		}
	case *pgtree.Node_SelectStmt:
		t.selectStmt(x.SelectStmt)
	case *pgtree.Node_AlterEnumStmt:
		e := x.AlterEnumStmt
		q := namesToQName(e.TypeName)
		if e.OldVal != "" {
			t.add(&change.RenameEnumValue{Type: q, Old: e.OldVal, New: e.NewVal})
		} else {
			t.add(&change.AddEnumValue{Type: q, Value: e.NewVal})
		}
	case *pgtree.Node_CreateEnumStmt:
		e := &change.CreateEnum{Name: namesToQName(x.CreateEnumStmt.TypeName)}
		for _, v := range x.CreateEnumStmt.Vals {
			e.Values = append(e.Values, v.GetString_().GetSval())
		}
		t.add(e)
	case *pgtree.Node_CreateSchemaStmt:
		t.add(&change.CreateSchema{Name: x.CreateSchemaStmt.Schemaname})
		for _, el := range x.CreateSchemaStmt.SchemaElts {
			inSchema(el, x.CreateSchemaStmt.Schemaname)
			t.translateNested(el)
		}
	case *pgtree.Node_CreateFunctionStmt:
		t.add(createFunction(x.CreateFunctionStmt))
	case *pgtree.Node_CreateTrigStmt:
		// not an ALTER TABLE, but it locks the table like one
		t.add(&change.AlterTableOther{Table: rangeVar(x.CreateTrigStmt.Relation), Action: "CREATE TRIGGER"})
	case *pgtree.Node_CreatePolicyStmt:
		t.add(&change.AlterTableOther{Table: rangeVar(x.CreatePolicyStmt.Table), Action: "CREATE POLICY"})
	case *pgtree.Node_AlterPolicyStmt:
		t.add(&change.AlterTableOther{Table: rangeVar(x.AlterPolicyStmt.Table), Action: "ALTER POLICY"})
	case *pgtree.Node_AlterObjectSchemaStmt:
		t.setSchema(x.AlterObjectSchemaStmt)
	case *pgtree.Node_AlterSeqStmt:
		as := &change.AlterSequence{Name: rangeVar(x.AlterSeqStmt.Sequence)}
		for _, o := range x.AlterSeqStmt.Options {
			if de := o.GetDefElem(); de != nil && de.Defname == "restart" {
				as.Restart = true
			}
		}
		t.add(as)
	case *pgtree.Node_DoStmt:
		t.doBlock(x.DoStmt)
	case *pgtree.Node_GrantStmt,
		*pgtree.Node_GrantRoleStmt, *pgtree.Node_CreateExtensionStmt, *pgtree.Node_AlterExtensionStmt,
		*pgtree.Node_CreateDomainStmt,
		*pgtree.Node_AlterOwnerStmt,
		*pgtree.Node_AlterDefaultPrivilegesStmt, *pgtree.Node_CreateRoleStmt, *pgtree.Node_AlterRoleStmt,
		*pgtree.Node_AlterRoleSetStmt, *pgtree.Node_DropRoleStmt,
		*pgtree.Node_NotifyStmt, *pgtree.Node_CheckPointStmt, *pgtree.Node_CompositeTypeStmt,
		*pgtree.Node_DefineStmt, *pgtree.Node_AlterFunctionStmt, *pgtree.Node_CreateCastStmt,
		*pgtree.Node_CreateEventTrigStmt,
		*pgtree.Node_DeallocateStmt, *pgtree.Node_ExecuteStmt,
		*pgtree.Node_DiscardStmt, *pgtree.Node_ListenStmt, *pgtree.Node_UnlistenStmt,
		*pgtree.Node_CallStmt, *pgtree.Node_AlterDatabaseSetStmt, *pgtree.Node_AlterDatabaseStmt,
		*pgtree.Node_CreatedbStmt, *pgtree.Node_VariableShowStmt,
		*pgtree.Node_AlterTsconfigurationStmt, *pgtree.Node_AlterTsdictionaryStmt, *pgtree.Node_AlterCollationStmt,
		*pgtree.Node_CreateOpClassStmt, *pgtree.Node_AlterOpFamilyStmt, *pgtree.Node_CreateOpFamilyStmt,
		*pgtree.Node_CreateForeignTableStmt, *pgtree.Node_CreateForeignServerStmt, *pgtree.Node_CreateUserMappingStmt,
		*pgtree.Node_ImportForeignSchemaStmt, *pgtree.Node_CreateFdwStmt, *pgtree.Node_CreateTableSpaceStmt,
		*pgtree.Node_SecLabelStmt, *pgtree.Node_AlterEventTrigStmt, *pgtree.Node_ReassignOwnedStmt,
		*pgtree.Node_DropOwnedStmt, *pgtree.Node_CreateConversionStmt, *pgtree.Node_CreateTransformStmt,
		*pgtree.Node_CreateAmStmt, *pgtree.Node_CreatePlangStmt, *pgtree.Node_AlterStatsStmt,
		*pgtree.Node_AlterTypeStmt, *pgtree.Node_AlterOperatorStmt, *pgtree.Node_ConstraintsSetStmt,
		*pgtree.Node_LoadStmt, *pgtree.Node_CreateSubscriptionStmt, *pgtree.Node_AlterSubscriptionStmt,
		*pgtree.Node_DropSubscriptionStmt, *pgtree.Node_AlterSystemStmt, *pgtree.Node_DropTableSpaceStmt:
		t.add(&change.Other{Kind: t.stmt.Kind})
	case *pgtree.Node_CreateSeqStmt:
		o := &change.Other{Kind: t.stmt.Kind}
		for _, n := range x.CreateSeqStmt.Options {
			if de := n.GetDefElem(); de != nil && de.Defname == "owned_by" {
				if items := de.Arg.GetList().GetItems(); len(items) > 1 {
					o.Object = namesToQName(items[:len(items)-1]) // OWNED BY t.id
				}
			}
		}
		t.add(o)
	case *pgtree.Node_ExplainStmt:
		for _, o := range x.ExplainStmt.Options {
			if de := o.GetDefElem(); de != nil && de.Defname == "analyze" && defBool(de) {
				// EXPLAIN ANALYZE runs the statement
				t.translateNested(x.ExplainStmt.Query)
				return
			}
		}
		t.add(t.planned(x.ExplainStmt.Query))
	case *pgtree.Node_PrepareStmt:
		t.add(t.planned(x.PrepareStmt.Query))
	case *pgtree.Node_RuleStmt:
		t.add(&change.Other{Kind: t.stmt.Kind, Object: rangeVar(x.RuleStmt.Relation)})
	case *pgtree.Node_CreateStatsStmt:
		t.add(&change.Other{Kind: t.stmt.Kind, Object: firstTable(x.CreateStatsStmt.Relations, nil)})
	case *pgtree.Node_CreatePublicationStmt:
		t.add(&change.Other{Kind: t.stmt.Kind, Object: publishedTable(x.CreatePublicationStmt.Pubobjects)})
	case *pgtree.Node_AlterPublicationStmt:
		t.add(&change.Other{Kind: t.stmt.Kind, Object: publishedTable(x.AlterPublicationStmt.Pubobjects)})
	case *pgtree.Node_AlterDomainStmt:
		t.add(alterDomain(x.AlterDomainStmt))
	case *pgtree.Node_DropdbStmt:
		t.add(&change.Other{Kind: t.stmt.Kind, Object: change.QName{Name: x.DropdbStmt.Dbname}})
	case *pgtree.Node_CommentStmt:
		t.add(&change.Other{Kind: t.stmt.Kind, Object: commentedTable(x.CommentStmt)})
	default:
		t.add(&change.Unknown{Kind: name, Reason: "statement kind not modelled"})
	}
}

// createFunction records a function's declared volatility and, for a
// LANGUAGE sql function PostgreSQL inlines into its callers, the body: a
// default that calls it is as volatile as the body (ADD COLUMN … DEFAULT
// f() does not rewrite when f's body is SELECT now(), whatever f declares
// as long as the body is no more volatile than that).
func createFunction(f *pgtree.CreateFunctionStmt) *change.CreateFunction {
	cf := &change.CreateFunction{Name: namesToQName(f.Funcname), Volatility: "volatile"}
	var lang, body string
	inlinable := !f.GetReturnType().GetSetof() && !f.IsProcedure
	for _, o := range f.Options {
		de := o.GetDefElem()
		if de == nil {
			continue
		}
		switch de.Defname {
		case "volatility":
			cf.Volatility = de.GetArg().GetString_().GetSval()
		case "language":
			lang = strings.ToLower(de.GetArg().GetString_().GetSval())
		case "as":
			if l := de.GetArg().GetList(); l != nil && len(l.Items) == 1 {
				body = l.Items[0].GetString_().GetSval()
			}
		case "security":
			if defBool(de) {
				inlinable = false // SECURITY DEFINER
			}
		case "set":
			inlinable = false // SET configuration_parameter
		}
	}
	if lang != "sql" || !inlinable {
		return cf
	}
	var expr *pgtree.Node
	if rs := f.GetSqlBody().GetReturnStmt(); rs != nil {
		expr = rs.Returnval // RETURN expr
	} else if body != "" {
		expr = inlinableSelect(body)
	}
	if expr != nil {
		cf.Inline = exprOf(expr)
	}
	return cf
}

// inlinableSelect returns the expression of a function body that is a
// single SELECT expr with no other clause, or nil.
func inlinableSelect(body string) *pgtree.Node {
	tree, err := parseString(body)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	sel := tree.Stmts[0].GetStmt().GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil ||
		len(sel.GroupClause) > 0 || sel.HavingClause != nil || len(sel.WindowClause) > 0 || len(sel.SortClause) > 0 ||
		sel.LimitCount != nil || sel.LimitOffset != nil || len(sel.DistinctClause) > 0 || sel.WithClause != nil ||
		len(sel.ValuesLists) > 0 || sel.Op != pgtree.SetOperation_SETOP_NONE {
		return nil
	}
	return sel.TargetList[0].GetResTarget().GetVal()
}

// setSchema translates ALTER … SET SCHEMA: for a table or a view it is a
// rename as far as the application is concerned.
func (t *translator) setSchema(a *pgtree.AlterObjectSchemaStmt) {
	switch a.ObjectType {
	case pgtree.ObjectType_OBJECT_TABLE, pgtree.ObjectType_OBJECT_VIEW, pgtree.ObjectType_OBJECT_MATVIEW,
		pgtree.ObjectType_OBJECT_FOREIGN_TABLE:
		q := rangeVar(a.Relation)
		t.add(&change.RenameTable{Table: q, New: change.QName{Schema: a.Newschema, Name: q.Name}})
	default:
		t.add(&change.Other{Kind: t.stmt.Kind})
	}
}

// inSchema qualifies the objects a CREATE SCHEMA element creates with the
// schema being created, as PostgreSQL does.
func inSchema(n *pgtree.Node, schema string) {
	var rvs []*pgtree.RangeVar
	switch x := n.Node.(type) {
	case *pgtree.Node_CreateStmt:
		rvs = append(rvs, x.CreateStmt.Relation)
	case *pgtree.Node_IndexStmt:
		rvs = append(rvs, x.IndexStmt.Relation)
	case *pgtree.Node_ViewStmt:
		rvs = append(rvs, x.ViewStmt.View)
	case *pgtree.Node_CreateSeqStmt:
		rvs = append(rvs, x.CreateSeqStmt.Sequence)
	case *pgtree.Node_CreateTrigStmt:
		rvs = append(rvs, x.CreateTrigStmt.Relation)
	}
	for _, rv := range rvs {
		if rv != nil && rv.Schemaname == "" {
			rv.Schemaname = schema
		}
	}
}

// translateNested handles the elements of CREATE SCHEMA … CREATE TABLE ….
func (t *translator) translateNested(n *pgtree.Node) {
	kind := t.stmt.Kind
	t.translate(n)
	t.stmt.Kind = kind
}

func (t *translator) selectStmt(s *pgtree.SelectStmt) {
	if into := s.GetIntoClause(); into != nil && into.Rel != nil {
		// SELECT … INTO t creates a table, as CREATE TABLE t AS does
		t.add(&change.CreateTable{Table: rangeVar(into.Rel), AsSelect: true, Temporary: into.Rel.Relpersistence == "t"})
		return
	}
	// SELECT set_config('lock_timeout', '5s', false) sets a setting too.
	for _, rt := range s.TargetList {
		fc := rt.GetResTarget().GetVal().GetFuncCall()
		if fc == nil || funcName(fc.Funcname) != "set_config" || len(fc.Args) != 3 {
			continue
		}
		name := fc.Args[0].GetAConst().GetSval().GetSval()
		val := fc.Args[1].GetAConst().GetSval().GetSval()
		local := fc.Args[2].GetAConst().GetBoolval().GetBoolval()
		if name != "" {
			t.add(&change.SetParam{Name: strings.ToLower(name), Value: val, Local: local})
		}
	}
	if len(t.stmt.Changes) == 0 {
		var ctes []string
		for _, c := range s.GetWithClause().GetCtes() {
			ctes = append(ctes, c.GetCommonTableExpr().GetCtename())
		}
		t.add(&change.Other{Kind: "SELECT", Object: firstTable(s.FromClause, ctes)})
	}
}

func (t *translator) setParam(v *pgtree.VariableSetStmt) {
	sp := &change.SetParam{Name: strings.ToLower(v.Name), Local: v.IsLocal}
	switch v.Kind {
	case pgtree.VariableSetKind_VAR_SET_VALUE:
		var vals []string
		for _, a := range v.Args {
			vals = append(vals, constString(a))
		}
		sp.Value = strings.Join(vals, ", ")
	case pgtree.VariableSetKind_VAR_SET_DEFAULT, pgtree.VariableSetKind_VAR_RESET:
		sp.Reset = true
	case pgtree.VariableSetKind_VAR_RESET_ALL:
		sp.Name, sp.Reset = "all", true
	default:
		// SET TRANSACTION …, SET … FROM CURRENT
		t.add(&change.Other{Kind: "SET " + strings.ToUpper(v.Name)})
		return
	}
	t.add(sp)
}

func txKind(k pgtree.TransactionStmtKind) change.TxKind {
	switch k {
	case pgtree.TransactionStmtKind_TRANS_STMT_BEGIN, pgtree.TransactionStmtKind_TRANS_STMT_START:
		return change.TxBegin
	case pgtree.TransactionStmtKind_TRANS_STMT_COMMIT:
		return change.TxCommit
	case pgtree.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return change.TxRollback
	case pgtree.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return change.TxSavepoint
	default:
		return change.TxOther
	}
}

func lockModeName(m int32) string {
	names := []string{"", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
	if m > 0 && int(m) < len(names) {
		return names[m]
	}
	return "ACCESS EXCLUSIVE"
}

func defBool(de *pgtree.DefElem) bool {
	if de.Arg == nil {
		return true
	}
	switch v := constString(de.Arg); strings.ToLower(v) {
	case "false", "off", "0", "no":
		return false
	}
	return true
}

// constString renders a constant (or a cast of one) as text.
func constString(n *pgtree.Node) string {
	if n == nil {
		return ""
	}
	if tc := n.GetTypeCast(); tc != nil {
		return constString(tc.Arg)
	}
	if c := n.GetAConst(); c != nil {
		switch {
		case c.Isnull:
			return "NULL"
		case c.GetSval() != nil:
			return c.GetSval().Sval
		case c.GetIval() != nil:
			return strconv.Itoa(int(c.GetIval().Ival))
		case c.GetFval() != nil:
			return c.GetFval().Fval
		case c.GetBoolval() != nil:
			return strconv.FormatBool(c.GetBoolval().Boolval)
		}
		return ""
	}
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	if i := n.GetInteger(); i != nil {
		return strconv.Itoa(int(i.Ival))
	}
	if b := n.GetBoolean(); b != nil {
		return strconv.FormatBool(b.Boolval)
	}
	return ""
}

func rangeVar(r *pgtree.RangeVar) change.QName {
	if r == nil {
		return change.QName{}
	}
	return change.QName{Schema: r.Schemaname, Name: r.Relname}
}

// planned is EXPLAIN or PREPARE of a statement, which PostgreSQL plans
// without running it, taking the locks the statement would take first.
func (t *translator) planned(q *pgtree.Node) *change.Other {
	o := &change.Other{Kind: t.stmt.Kind}
	sub := &translator{d: t.d, src: t.src, toks: t.toks, stmt: &analyzer.Statement{}, base: t.base}
	sub.translate(q)
	if len(sub.stmt.Changes) > 0 {
		switch x := sub.stmt.Changes[0].(type) {
		case *change.DML:
			o.Object, o.Writes = x.Table, true
		case *change.Other:
			o.Object = x.Object
		}
	}
	return o
}

// firstTable is the first table a FROM clause (or CREATE STATISTICS …
// FROM) reads, joins included, that is not one of its WITH queries
// (ctes), or none.
func firstTable(ns []*pgtree.Node, ctes []string) change.QName {
	for _, n := range ns {
		if r := n.GetRangeVar(); r != nil && (r.Schemaname != "" || !slices.Contains(ctes, r.Relname)) {
			return rangeVar(r)
		}
		if j := n.GetJoinExpr(); j != nil {
			if q := firstTable([]*pgtree.Node{j.Larg, j.Rarg}, ctes); q.Name != "" {
				return q
			}
		}
	}
	return change.QName{}
}

// publishedTable is the first table CREATE or ALTER PUBLICATION names.
func publishedTable(objs []*pgtree.Node) change.QName {
	for _, n := range objs {
		if r := n.GetPublicationObjSpec().GetPubtable().GetRelation(); r != nil {
			return rangeVar(r)
		}
	}
	return change.QName{}
}

// alterDomain translates ALTER DOMAIN; PostgreSQL checks the stored values
// for a new constraint without NOT VALID, SET NOT NULL and VALIDATE.
func alterDomain(a *pgtree.AlterDomainStmt) *change.AlterDomain {
	d := &change.AlterDomain{Domain: namesToQName(a.TypeName)}
	switch a.Subtype {
	case "C":
		d.Action = "ADD CONSTRAINT"
		d.Checks = !a.Def.GetConstraint().GetSkipValidation()
	case "O":
		d.Action, d.Checks = "SET NOT NULL", true
	case "V":
		d.Action, d.Checks = "VALIDATE CONSTRAINT", true
	case "N":
		d.Action = "DROP NOT NULL"
	case "X":
		d.Action = "DROP CONSTRAINT"
	default:
		d.Action = "SET DEFAULT"
	}
	return d
}

// commentedTable is the table COMMENT ON TABLE or COLUMN locks (SHARE
// UPDATE EXCLUSIVE), or nothing for the other objects.
func commentedTable(c *pgtree.CommentStmt) change.QName {
	names := c.GetObject().GetList().GetItems()
	switch c.Objtype {
	case pgtree.ObjectType_OBJECT_TABLE:
		return namesToQName(names)
	case pgtree.ObjectType_OBJECT_COLUMN:
		if len(names) > 1 {
			return namesToQName(names[:len(names)-1])
		}
	}
	return change.QName{}
}

// namesToQName reads a list of String nodes ("schema", "name").
func namesToQName(ns []*pgtree.Node) change.QName {
	var parts []string
	for _, n := range ns {
		parts = append(parts, n.GetString_().GetSval())
	}
	switch len(parts) {
	case 0:
		return change.QName{}
	case 1:
		return change.QName{Name: parts[0]}
	default:
		return change.QName{Schema: parts[len(parts)-2], Name: parts[len(parts)-1]}
	}
}

func funcName(ns []*pgtree.Node) string { return strings.ToLower(namesToQName(ns).Name) }

// --- CREATE TABLE ---

func (t *translator) createTable(c *pgtree.CreateStmt) {
	ct := &change.CreateTable{
		Table:       rangeVar(c.Relation),
		IfNotExists: c.IfNotExists,
		Temporary:   c.GetRelation().GetRelpersistence() == "t",
		Partitioned: c.Partspec != nil,
	}
	if c.Partbound != nil && len(c.InhRelations) > 0 {
		q := rangeVar(c.InhRelations[0].GetRangeVar())
		ct.PartitionOf = &q
	}
	for _, el := range c.TableElts {
		switch {
		case el.GetColumnDef() != nil:
			ct.Columns = append(ct.Columns, t.column(el.GetColumnDef()))
		case el.GetConstraint() != nil:
			ct.Constraints = append(ct.Constraints, t.constraint(el.GetConstraint()))
		}
	}
	for _, el := range c.Constraints {
		if k := el.GetConstraint(); k != nil {
			ct.Constraints = append(ct.Constraints, t.constraint(k))
		}
	}
	t.add(ct)
}

func (t *translator) column(cd *pgtree.ColumnDef) change.Column {
	col := change.Column{Name: cd.Colname, Type: typeOf(cd.TypeName), NotNull: cd.IsNotNull}
	if at := t.loc(cd.Location); at >= 0 {
		col.Span = change.Span{Start: at, End: at + len(cd.Colname)}
	}
	if cd.RawDefault != nil {
		col.Default = exprOf(cd.RawDefault)
	}
	if cd.Identity != "" {
		col.Identity = identityKind(cd.Identity)
	}
	for _, cn := range cd.Constraints {
		k := cn.GetConstraint()
		if k == nil {
			continue
		}
		switch k.Contype {
		case pgtree.ConstrType_CONSTR_NOTNULL:
			col.NotNull = true
		case pgtree.ConstrType_CONSTR_NULL:
			col.NotNull = false
		case pgtree.ConstrType_CONSTR_DEFAULT:
			col.Default = exprOf(k.RawExpr)
		case pgtree.ConstrType_CONSTR_IDENTITY:
			col.Identity = identityKind(k.GeneratedWhen)
		case pgtree.ConstrType_CONSTR_GENERATED:
			col.Generated = "stored"
			col.GenExpr = exprOf(k.RawExpr)
		case pgtree.ConstrType_CONSTR_PRIMARY:
			col.PrimaryKey, col.NotNull = true, true
		case pgtree.ConstrType_CONSTR_UNIQUE:
			col.Unique = true
		case pgtree.ConstrType_CONSTR_FOREIGN:
			q := rangeVar(k.Pktable)
			col.References = &q
		case pgtree.ConstrType_CONSTR_CHECK:
			col.Check = true
		}
	}
	return col
}

func identityKind(s string) string {
	switch s {
	case "a":
		return "always"
	case "d":
		return "by default"
	}
	return s
}

func stringList(ns []*pgtree.Node) []string {
	var out []string
	for _, n := range ns {
		if s := n.GetString_(); s != nil {
			out = append(out, s.Sval)
		}
	}
	return out
}

func (t *translator) constraint(k *pgtree.Constraint) change.Constraint {
	c := change.Constraint{Name: k.Conname, NotValid: k.SkipValidation, UsingIndex: k.Indexname}
	if at := t.loc(k.Location); at >= 0 {
		c.Span = t.spanFrom(at)
	}
	switch k.Contype {
	case pgtree.ConstrType_CONSTR_CHECK:
		c.Kind = change.ConstraintCheck
		c.NotNullOf = isNotNullCheck(k.RawExpr)
		c.Columns = columnRefs(k.RawExpr)
	case pgtree.ConstrType_CONSTR_PRIMARY:
		c.Kind = change.ConstraintPrimaryKey
		c.Columns = stringList(k.Keys)
	case pgtree.ConstrType_CONSTR_UNIQUE:
		c.Kind = change.ConstraintUnique
		c.Columns = stringList(k.Keys)
	case pgtree.ConstrType_CONSTR_FOREIGN:
		c.Kind = change.ConstraintForeignKey
		c.Columns = stringList(k.FkAttrs)
		q := rangeVar(k.Pktable)
		c.RefTable = &q
	case pgtree.ConstrType_CONSTR_EXCLUSION:
		c.Kind = change.ConstraintExclusion
	case pgtree.ConstrType_CONSTR_NOTNULL:
		c.Kind = change.ConstraintNotNull
		c.Columns = stringList(k.Keys)
	}
	return c
}

// isNotNullCheck recognises CHECK (col IS NOT NULL) and returns col.
func isNotNullCheck(n *pgtree.Node) string {
	nt := n.GetNullTest()
	if nt == nil || nt.Nulltesttype != pgtree.NullTestType_IS_NOT_NULL {
		return ""
	}
	cr := nt.Arg.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 {
		return ""
	}
	return cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
}

// --- CREATE INDEX ---

func (t *translator) createIndex(ix *pgtree.IndexStmt) {
	ci := &change.CreateIndex{
		Table:        rangeVar(ix.Relation),
		Name:         ix.Idxname,
		Unique:       ix.Unique,
		Concurrently: ix.Concurrent,
		IfNotExists:  ix.IfNotExists,
		Partial:      ix.WhereClause != nil,
		Only:         ix.Relation != nil && !ix.Relation.Inh,
	}
	for _, p := range ix.IndexParams {
		if e := p.GetIndexElem(); e != nil {
			if e.Name != "" {
				ci.Columns = append(ci.Columns, e.Name)
			} else {
				ci.Columns = append(ci.Columns, "expr")
				for _, c := range columnRefs(e.Expr) {
					ci.Reads = appendUnique(ci.Reads, c)
				}
			}
		}
	}
	for _, c := range columnRefs(ix.WhereClause) {
		ci.Reads = appendUnique(ci.Reads, c)
	}
	if i := t.findKeyword("CONCURRENTLY"); i < 0 && !ci.Concurrently {
		// point at INDEX so that a fix can insert CONCURRENTLY after it
		if j := t.findKeyword("INDEX"); j >= 0 {
			ci.Span = change.Span{Start: t.stmt.Span.Start, End: int(t.toks[j].end)}
		}
	}
	t.add(ci)
}

// --- DROP ---

func (t *translator) drop(d *pgtree.DropStmt) {
	cascade := d.Behavior == pgtree.DropBehavior_DROP_CASCADE
	names := func(o *pgtree.Node) change.QName {
		if l := o.GetList(); l != nil {
			return namesToQName(l.Items)
		}
		if s := o.GetString_(); s != nil {
			return change.QName{Name: s.Sval}
		}
		if tn := o.GetTypeName(); tn != nil {
			return namesToQName(tn.Names)
		}
		if ow := o.GetObjectWithArgs(); ow != nil {
			return namesToQName(ow.Objname)
		}
		return change.QName{}
	}
	switch d.RemoveType {
	case pgtree.ObjectType_OBJECT_TABLE, pgtree.ObjectType_OBJECT_FOREIGN_TABLE:
		for _, o := range d.Objects {
			t.add(&change.DropTable{Table: names(o), IfExists: d.MissingOk, Cascade: cascade})
		}
	case pgtree.ObjectType_OBJECT_INDEX:
		for _, o := range d.Objects {
			t.add(&change.DropIndex{Name: names(o), Concurrently: d.Concurrent, IfExists: d.MissingOk, Cascade: cascade})
		}
	case pgtree.ObjectType_OBJECT_SCHEMA:
		for _, o := range d.Objects {
			t.add(&change.DropSchema{Name: names(o).Name, IfExists: d.MissingOk, Cascade: cascade})
		}
	case pgtree.ObjectType_OBJECT_VIEW, pgtree.ObjectType_OBJECT_MATVIEW:
		for _, o := range d.Objects {
			t.add(&change.DropView{Name: names(o), Materialized: d.RemoveType == pgtree.ObjectType_OBJECT_MATVIEW, Cascade: cascade})
		}
	default:
		kind := strings.TrimPrefix(d.RemoveType.String(), "OBJECT_")
		do := &change.DropOther{Kind: strings.ReplaceAll(kind, "_", " "), Cascade: cascade}
		for _, o := range d.Objects {
			do.Names = append(do.Names, names(o).String())
		}
		switch d.RemoveType {
		case pgtree.ObjectType_OBJECT_TRIGGER, pgtree.ObjectType_OBJECT_POLICY, pgtree.ObjectType_OBJECT_RULE:
			// DROP TRIGGER name ON [schema.]table: the list is the
			// table's name followed by the object's
			if len(d.Objects) == 1 {
				if l := d.Objects[0].GetList(); l != nil && len(l.Items) >= 2 {
					q := namesToQName(l.Items[:len(l.Items)-1])
					do.Table = &q
					do.Names = []string{l.Items[len(l.Items)-1].GetString_().GetSval()}
				}
			}
		}
		t.add(do)
	}
}

// --- RENAME ---

func (t *translator) rename(r *pgtree.RenameStmt) {
	switch r.RenameType {
	case pgtree.ObjectType_OBJECT_TABLE, pgtree.ObjectType_OBJECT_VIEW, pgtree.ObjectType_OBJECT_MATVIEW, pgtree.ObjectType_OBJECT_FOREIGN_TABLE:
		q := rangeVar(r.Relation)
		t.add(&change.RenameTable{Table: q, New: change.QName{Schema: q.Schema, Name: r.Newname}})
	case pgtree.ObjectType_OBJECT_COLUMN:
		if r.RelationType == pgtree.ObjectType_OBJECT_TABLE || r.RelationType == pgtree.ObjectType_OBJECT_VIEW ||
			r.RelationType == pgtree.ObjectType_OBJECT_MATVIEW || r.RelationType == pgtree.ObjectType_OBJECT_FOREIGN_TABLE {
			rc := &change.RenameColumn{Table: rangeVar(r.Relation), Old: r.Subname, New: r.Newname}
			if i := t.findKeyword("RENAME"); i >= 0 {
				rc.Span = change.Span{Start: int(t.toks[i].start), End: t.stmt.Span.End}
			}
			t.add(rc)
			return
		}
		t.add(&change.RenameOther{Kind: "ATTRIBUTE", Old: r.Subname, New: r.Newname})
	case pgtree.ObjectType_OBJECT_INDEX:
		q := rangeVar(r.Relation)
		t.add(&change.RenameOther{Kind: "INDEX", Old: q.Name, New: r.Newname, Table: &change.QName{Schema: q.Schema}})
	case pgtree.ObjectType_OBJECT_TABCONSTRAINT:
		q := rangeVar(r.Relation)
		t.add(&change.RenameOther{Kind: "CONSTRAINT", Old: r.Subname, New: r.Newname, Table: &q})
	default:
		kind := strings.ReplaceAll(strings.TrimPrefix(r.RenameType.String(), "OBJECT_"), "_", " ")
		old := r.Subname
		if old == "" && r.Relation != nil {
			old = rangeVar(r.Relation).String()
		}
		if old == "" && r.Object != nil {
			if l := r.Object.GetList(); l != nil {
				old = namesToQName(l.Items).String()
			} else {
				old = constString(r.Object)
			}
		}
		t.add(&change.RenameOther{Kind: kind, Old: old, New: r.Newname})
	}
}

// --- token helpers ---

// findKeyword returns the index of the first token that is the keyword, or -1.
func (t *translator) findKeyword(kw string) int {
	for i, x := range t.toks {
		if keyword(t.src, x, kw) {
			return i
		}
	}
	return -1
}

// spanFrom returns the span from a byte offset to the end of the clause it
// starts: the next top-level ',' or the end of the statement.
func (t *translator) spanFrom(off int) change.Span {
	depth := 0
	end := t.stmt.Span.End
	started := false
	last := off
	for _, x := range t.toks {
		if int(x.start) < off || x.kind == tokComment || x.kind == tokCComment {
			continue
		}
		switch x.kind {
		case tokLParen, tokLBracket:
			depth++
		case tokRParen, tokRBracket:
			depth--
			if depth < 0 {
				return change.Span{Start: off, End: last}
			}
		case tokComma:
			if depth == 0 && started {
				return change.Span{Start: off, End: last}
			}
		}
		started = true
		last = int(x.end)
	}
	if last > off {
		end = last
	}
	return change.Span{Start: off, End: end}
}
