package mysql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// translator turns one parsed statement into change values.
type translator struct {
	d    *Dialect
	src  []byte
	seg  stmtSeg
	rw   rewrites
	stmt *analyzer.Statement
	// tooNew is syntax the target server does not have yet, "" if none
	tooNew   string
	tooNewAt int
}

// since records syntax that MySQL has from mysql and MariaDB from maria.
func (t *translator) since(what string, at change.Span, mysql, maria ver) {
	v := mysql
	if t.d.mariadb() {
		v = maria
	}
	if t.tooNew != "" || t.d.target.AtLeast(v[0], v[1], v[2]) {
		return
	}
	server, num := "MySQL", fmt.Sprintf("%d.%d", v[0], v[1])
	if t.d.mariadb() {
		server = "MariaDB"
	}
	if v[2] != 0 {
		num += fmt.Sprintf(".%d", v[2])
	}
	t.tooNew, t.tooNewAt = what+" needs "+server+" "+num+" or later", t.stmt.Span.Start
	if at.Valid() {
		t.tooNewAt = at.Start
	}
}

func (t *translator) add(c change.Change) { t.stmt.Changes = append(t.stmt.Changes, c) }

func (t *translator) setKind(k string) {
	if t.stmt.Kind == "" {
		t.stmt.Kind = k
	}
}

func tableName(n *ast.TableName) change.QName {
	if n == nil {
		return change.QName{}
	}
	return change.QName{Schema: n.Schema.O, Name: n.Name.O}
}

// restore prints a node back as SQL.
func restore(n ast.Node) string {
	if n == nil {
		return ""
	}
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.RestoreStringSingleQuotes|format.RestoreStringWithoutDefaultCharset|format.RestoreKeyWordUppercase|format.RestoreNameBackQuotes, &sb)); err != nil {
		return ""
	}
	return sb.String()
}

func (t *translator) translate(n ast.StmtNode) {
	switch x := n.(type) {
	case *ast.CreateTableStmt:
		t.setKind("CREATE TABLE")
		t.createTable(x)
	case *ast.AlterTableStmt:
		t.setKind("ALTER TABLE")
		t.alterTable(x)
	case *ast.CreateIndexStmt:
		t.setKind("CREATE INDEX")
		ci := &change.CreateIndex{Table: tableName(x.Table), Name: x.IndexName, Columns: indexColumns(x.IndexPartSpecifications),
			IfNotExists: x.IfNotExists}
		switch x.KeyType {
		case ast.IndexKeyTypeUnique:
			ci.Unique = true
		case ast.IndexKeyTypeFulltext:
			ci.Kind = change.IndexFulltext
		case ast.IndexKeyTypeSpatial:
			ci.Kind = change.IndexSpatial
		}
		t.add(ci)
		t.indexOptions(ci.Table, x.LockAlg)
	case *ast.DropIndexStmt:
		t.setKind("DROP INDEX")
		q := tableName(x.Table)
		t.add(&change.DropIndex{Name: change.QName{Schema: q.Schema, Name: x.IndexName}, Table: &q, IfExists: x.IfExists})
		t.indexOptions(q, x.LockAlg)
	case *ast.DropTableStmt:
		if x.IsView {
			t.setKind("DROP VIEW")
			for _, tn := range x.Tables {
				t.add(&change.DropView{Name: tableName(tn)})
			}
			return
		}
		t.setKind("DROP TABLE")
		for _, tn := range x.Tables {
			t.add(&change.DropTable{Table: tableName(tn), IfExists: x.IfExists})
		}
	case *ast.DropDatabaseStmt:
		t.setKind("DROP DATABASE")
		t.add(&change.DropSchema{Name: x.Name.O, IfExists: x.IfExists})
	case *ast.CreateDatabaseStmt:
		t.setKind("CREATE DATABASE")
		t.add(&change.CreateSchema{Name: x.Name.O})
	case *ast.TruncateTableStmt:
		t.setKind("TRUNCATE")
		t.add(&change.Truncate{Tables: []change.QName{tableName(x.Table)}})
	case *ast.RenameTableStmt:
		t.setKind("RENAME TABLE")
		parts := t.renamePairs()
		for i, tt := range x.TableToTables {
			r := &change.RenameTable{Table: tableName(tt.OldTable), New: tableName(tt.NewTable)}
			if len(parts) == len(x.TableToTables) {
				r.Span = spanOf(parts[i])
			}
			t.add(r)
		}
	case *ast.OptimizeTableStmt:
		t.setKind("OPTIMIZE TABLE")
		for _, tn := range x.Tables {
			t.add(&change.TableRewrite{Table: tableName(tn), Action: "OPTIMIZE TABLE"})
		}
	case *ast.CreateViewStmt:
		t.setKind("CREATE VIEW")
		t.add(&change.CreateView{Name: tableName(x.ViewName), Replace: x.OrReplace})
	case *ast.SetStmt:
		t.setKind("SET")
		for _, v := range x.Variables {
			if !v.IsSystem {
				// a user variable (SET @x = …) or SET NAMES / CHARACTER SET
				t.add(&change.Other{Kind: "SET @variable"})
				continue
			}
			sp := &change.SetParam{Name: strings.ToLower(v.Name), Value: valueText(v.Value)}
			if v.IsGlobal {
				sp.Name = "global." + sp.Name
			}
			t.add(sp)
		}
	case *ast.BeginStmt:
		t.setKind("BEGIN")
		t.add(&change.Transaction{Kind: change.TxBegin})
	case *ast.CommitStmt:
		t.setKind("COMMIT")
		t.add(&change.Transaction{Kind: change.TxCommit})
	case *ast.RollbackStmt:
		t.setKind("ROLLBACK")
		kind := change.TxRollback
		if x.SavepointName != "" {
			kind = change.TxSavepoint
		}
		t.add(&change.Transaction{Kind: kind})
	case *ast.SavepointStmt, *ast.ReleaseSavepointStmt:
		t.setKind("SAVEPOINT")
		t.add(&change.Transaction{Kind: change.TxSavepoint})
	case *ast.InsertStmt:
		t.setKind("INSERT")
		d := &change.DML{Verb: "INSERT", Table: firstTable(x.Table)}
		for _, c := range x.Columns {
			d.Columns = append(d.Columns, c.Name.O)
		}
		if x.IsReplace {
			d.Verb = "REPLACE"
		}
		if x.Select != nil {
			d.From = tablesIn(x.Select)
		}
		t.add(d)
	case *ast.UpdateStmt:
		t.setKind("UPDATE")
		d := &change.DML{Verb: "UPDATE", Table: firstTable(x.TableRefs), HasWhere: x.Where != nil}
		self := updatedNames(x.TableRefs)
		for _, a := range x.List {
			d.Columns = append(d.Columns, a.Column.Name.O)
			d.Values = append(d.Values, change.Value{Reads: ownColumnsIn(a.Expr, self), Copy: isCopy(a.Expr, self)})
			d.From = appendTables(d.From, tablesIn(a.Expr), d.Table)
		}
		d.From = appendTables(d.From, tablesIn(x.TableRefs), d.Table)
		t.add(d)
	case *ast.DeleteStmt:
		t.setKind("DELETE")
		t.add(&change.DML{Verb: "DELETE", Table: firstTable(x.TableRefs), HasWhere: x.Where != nil})
	case *ast.LockTablesStmt:
		t.setKind("LOCK TABLES")
		l := &change.LockTable{Mode: "WRITE"}
		for _, tl := range x.TableLocks {
			l.Tables = append(l.Tables, tableName(tl.Table))
			if tl.Type == ast.TableLockRead || tl.Type == ast.TableLockReadLocal {
				l.Mode = "READ"
			}
		}
		t.add(l)
	case *ast.ExecuteStmt:
		t.setKind("EXECUTE")
		t.add(&change.Unknown{Kind: "EXECUTE", Reason: "a prepared statement built at run time is opaque to static analysis"})
	case *ast.ProcedureInfo:
		t.setKind("CREATE PROCEDURE")
		t.add(&change.Other{Kind: "CREATE PROCEDURE"})
	case *ast.DropProcedureStmt:
		t.setKind("DROP PROCEDURE")
		t.add(&change.DropOther{Kind: "PROCEDURE", Names: []string{tableName(x.ProcedureName).String()}})
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.ShowStmt, *ast.ExplainStmt, *ast.UseStmt, *ast.GrantStmt,
		*ast.RevokeStmt, *ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt, *ast.GrantRoleStmt,
		*ast.FlushStmt, *ast.AnalyzeTableStmt, *ast.PrepareStmt, *ast.DeallocateStmt, *ast.DoStmt,
		*ast.UnlockTablesStmt, *ast.AlterDatabaseStmt, *ast.CallStmt, *ast.SetDefaultRoleStmt, *ast.SetPwdStmt,
		*ast.SetRoleStmt, *ast.KillStmt, *ast.AdminStmt, *ast.CreateSequenceStmt, *ast.DropSequenceStmt:
		k := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast."), "Stmt"))
		t.setKind(k)
		t.add(&change.Other{Kind: k})
	default:
		k := strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast.")
		t.setKind(k)
		t.add(&change.Unknown{Kind: k, Reason: "migsafe does not translate this statement"})
	}
}

// renamePairs splits RENAME TABLE a TO b, c TO d after its TABLE keyword
// into the tokens of each pair.
func (t *translator) renamePairs() [][]token {
	real := realTokens(t.seg)
	for i, tk := range real {
		if tk.kind == tokWord && strings.EqualFold(string(t.src[tk.start:tk.end]), "TABLE") {
			return splitCommas(t.src, real[i+1:])
		}
	}
	return nil
}

// valueText is a SET value as written, unquoted.
func valueText(e ast.ExprNode) string {
	if e == nil {
		return ""
	}
	if v, ok := e.(ast.ValueExpr); ok {
		return fmt.Sprint(v.GetValue())
	}
	s := restore(e)
	return strings.Trim(s, "'`")
}

func firstTable(r *ast.TableRefsClause) change.QName {
	if r == nil || r.TableRefs == nil {
		return change.QName{}
	}
	var find func(n ast.ResultSetNode) change.QName
	find = func(n ast.ResultSetNode) change.QName {
		switch x := n.(type) {
		case *ast.TableSource:
			if tn, ok := x.Source.(*ast.TableName); ok {
				return tableName(tn)
			}
		case *ast.Join:
			if q := find(x.Left); q.Name != "" {
				return q
			}
			if x.Right != nil {
				return find(x.Right)
			}
		}
		return change.QName{}
	}
	return find(r.TableRefs)
}

// collector gathers the table references below a node.
type collector struct {
	tables []change.QName
}

func (c *collector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		c.tables = append(c.tables, tableName(x))
	}
	return n, false
}

func (c *collector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func tablesIn(n ast.Node) []change.QName {
	if n == nil {
		return nil
	}
	c := &collector{}
	n.Accept(c)
	return c.tables
}

// isCopy reports whether an assigned value is one column of the updated
// table (named by self) as is, or cast.
func isCopy(e ast.ExprNode, self map[string]bool) bool {
	switch x := e.(type) {
	case *ast.ColumnNameExpr:
		return x.Name.Table.L == "" || self[x.Name.Table.L]
	case *ast.FuncCastExpr:
		return isCopy(x.Expr, self)
	case *ast.ParenthesesExpr:
		return isCopy(x.Expr, self)
	}
	return false
}

// updatedNames are the names the updated table (the first of an UPDATE's
// tables) goes by: its alias, else its name.
func updatedNames(r *ast.TableRefsClause) map[string]bool {
	self := map[string]bool{}
	if r == nil || r.TableRefs == nil {
		return self
	}
	n := ast.ResultSetNode(r.TableRefs)
	for {
		j, ok := n.(*ast.Join)
		if !ok {
			break
		}
		n = j.Left
	}
	if ts, ok := n.(*ast.TableSource); ok {
		if ts.AsName.L != "" {
			self[ts.AsName.L] = true
		} else if tn, ok := ts.Source.(*ast.TableName); ok {
			self[tn.Name.L] = true
		}
	}
	return self
}

// ownCollector gathers the columns of the updated table an expression
// reads: unqualified or qualified by one of its names, outside subqueries
// (which read other tables).
type ownCollector struct {
	self map[string]bool
	cols []string
}

func (c *ownCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr:
		return n, true
	case *ast.ColumnNameExpr:
		if q := x.Name.Table.L; q == "" || c.self[q] {
			c.cols = append(c.cols, x.Name.Name.O)
		}
	}
	return n, false
}

func (c *ownCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func ownColumnsIn(e ast.ExprNode, self map[string]bool) []string {
	if e == nil {
		return nil
	}
	c := &ownCollector{self: self}
	e.Accept(c)
	return c.cols
}

// appendTables adds tables not yet listed, leaving out skip.
func appendTables(xs, add []change.QName, skip change.QName) []change.QName {
	for _, q := range add {
		if q == skip || slices.Contains(xs, q) {
			continue
		}
		xs = append(xs, q)
	}
	return xs
}

func indexColumns(parts []*ast.IndexPartSpecification) []string {
	var out []string
	for _, p := range parts {
		if p.Column != nil {
			out = append(out, p.Column.Name.O)
		} else if p.Expr != nil {
			out = append(out, "("+restore(p.Expr)+")")
		}
	}
	return out
}

// indexOptions records CREATE/DROP INDEX … ALGORITHM= LOCK= as the
// statement's AlterOptions (always present, so the statement's combined
// effect has a place).
func (t *translator) indexOptions(q change.QName, la *ast.IndexLockAndAlgorithm) {
	o := &change.AlterOptions{Table: q}
	if la != nil {
		o.Algorithm = algorithmName(la.AlgorithmTp, t.rw.nocopy)
		o.Lock = lockName(la.LockTp)
	}
	t.add(o)
}

func algorithmName(a ast.AlgorithmType, nocopy bool) string {
	switch a {
	case ast.AlgorithmTypeCopy:
		if nocopy {
			return "NOCOPY"
		}
		return "COPY"
	case ast.AlgorithmTypeInplace:
		return "INPLACE"
	case ast.AlgorithmTypeInstant:
		return "INSTANT"
	}
	return ""
}

func lockName(l ast.LockType) string {
	switch l {
	case ast.LockTypeNone:
		return "NONE"
	case ast.LockTypeShared:
		return "SHARED"
	case ast.LockTypeExclusive:
		return "EXCLUSIVE"
	}
	return ""
}

func (t *translator) createTable(x *ast.CreateTableStmt) {
	ct := &change.CreateTable{Table: tableName(x.Table), IfNotExists: x.IfNotExists, AsSelect: x.Select != nil,
		Temporary: x.TemporaryKeyword != ast.TemporaryNone}
	if x.ReferTable != nil {
		// CREATE TABLE t LIKE u: the columns are u's
		ct.AsSelect = true
	}
	ct.Charset, ct.Collation = tableCharset(x.Options), tableCollation(x.Options)
	var indexes []*change.CreateIndex
	for _, cd := range x.Cols {
		ct.Columns = append(ct.Columns, t.column(cd, nil))
	}
	for _, c := range x.Constraints {
		k, ix := t.constraint(ct.Table, c, change.Span{})
		if k != nil {
			ct.Constraints = append(ct.Constraints, *k)
		}
		if ix != nil {
			indexes = append(indexes, ix)
		}
	}
	t.add(ct)
	for _, ix := range indexes {
		t.add(ix)
	}
}

// tableCharset is the default character set of CREATE TABLE options
// (DEFAULT CHARSET=, or the character set of DEFAULT COLLATE=), "" when
// they do not say.
func tableCharset(opts []*ast.TableOption) string {
	cs := ""
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionCharset:
			return charsetName(o.StrValue)
		case ast.TableOptionCollate:
			if c, _, ok := strings.Cut(o.StrValue, "_"); ok {
				cs = charsetName(c)
			}
		}
	}
	return cs
}

// tableCollation is the COLLATE= of CREATE TABLE options, "" when they do
// not say.
func tableCollation(opts []*ast.TableOption) string {
	for _, o := range opts {
		if o.Tp == ast.TableOptionCollate {
			return collationName(o.StrValue)
		}
	}
	return ""
}

// collationName is a collation's name in lower case, utf8_ spelled
// utf8mb3_.
func collationName(c string) string {
	c = strings.ToLower(c)
	if strings.HasPrefix(c, "utf8_") {
		return "utf8mb3_" + strings.TrimPrefix(c, "utf8_")
	}
	return c
}

// charsetName is a character set's name in lower case, utf8 spelled
// utf8mb3 (what it is, and what MySQL 8.0 and MariaDB call it).
func charsetName(cs string) string {
	cs = strings.ToLower(cs)
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

// constraint translates a table constraint: keys become indexes, the rest
// constraints.
func (t *translator) constraint(table change.QName, c *ast.Constraint, sp change.Span) (*change.Constraint, *change.CreateIndex) {
	name := c.Name
	if c.Option != nil && name == "" {
		name = ""
	}
	cols := indexColumns(c.Keys)
	switch c.Tp {
	case ast.ConstraintPrimaryKey:
		return &change.Constraint{Name: "PRIMARY", Kind: change.ConstraintPrimaryKey, Columns: cols, Span: sp}, nil
	case ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex:
		if name == "" && len(cols) > 0 {
			name = cols[0]
		}
		return &change.Constraint{Name: name, Kind: change.ConstraintUnique, Columns: cols, Span: sp}, nil
	case ast.ConstraintForeignKey:
		k := &change.Constraint{Name: name, Kind: change.ConstraintForeignKey, Columns: cols, Span: sp}
		if c.Refer != nil {
			q := tableName(c.Refer.Table)
			k.RefTable = &q
			k.RefColumns = indexColumns(c.Refer.IndexPartSpecifications)
		}
		return k, nil
	case ast.ConstraintCheck:
		return &change.Constraint{Name: name, Kind: change.ConstraintCheck, Expr: restore(c.Expr), Span: sp}, nil
	case ast.ConstraintIndex, ast.ConstraintKey, ast.ConstraintFulltext, ast.ConstraintVector, ast.ConstraintColumnar:
		ix := &change.CreateIndex{Meta: change.Meta{Span: sp}, Table: table, Name: name, Columns: cols, IfNotExists: c.IfNotExists}
		if c.Tp == ast.ConstraintFulltext {
			ix.Kind = change.IndexFulltext
		}
		if t.spatialIn(sp) {
			ix.Kind = change.IndexSpatial
		}
		return nil, ix
	}
	return nil, nil
}

// spatialIn reports whether a SPATIAL keyword was removed inside sp (the
// whole statement when sp is empty and there was one).
func (t *translator) spatialIn(sp change.Span) bool {
	for _, off := range t.rw.spatial {
		if !sp.Valid() || (off >= sp.Start && off < sp.End) {
			return true
		}
	}
	return false
}

// column translates a column definition; clause is the clause's tokens
// (for what the AST does not keep: whether a default is an expression in
// parentheses).
func (t *translator) column(cd *ast.ColumnDef, clause []token) change.Column {
	c := change.Column{Name: cd.Name.Name.O, Type: t.colType(cd)}
	for _, o := range cd.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			c.NotNull = true
		case ast.ColumnOptionNull:
			c.NotNull = false
		case ast.ColumnOptionPrimaryKey:
			c.PrimaryKey = true
		case ast.ColumnOptionUniqKey:
			c.Unique = true
		case ast.ColumnOptionAutoIncrement:
			c.AutoIncrement = true
		case ast.ColumnOptionDefaultValue:
			c.Default = t.defaultExpr(o.Expr, t.parenDefault(clause, c.Name))
		case ast.ColumnOptionGenerated:
			c.Generated = "virtual"
			if o.Stored {
				c.Generated = "stored"
			}
			c.GenExpr = &change.Expr{Text: restore(o.Expr), Funcs: funcsIn(o.Expr)}
		case ast.ColumnOptionCheck:
			c.Check = true
		case ast.ColumnOptionReference:
			// MySQL before 9.0 parses an inline REFERENCES and ignores it.
			if o.Refer != nil && (t.d.mariadb() || t.d.target.Major >= 9) {
				q := tableName(o.Refer.Table)
				c.References = &q
			}
		case ast.ColumnOptionCollate:
			c.Type.Collation = collationName(o.StrValue)
			if c.Type.Charset == "" {
				if cs, _, ok := strings.Cut(o.StrValue, "_"); ok {
					c.Type.Charset = charsetName(cs)
				}
			}
		}
	}
	return c
}

// parenDefault reports whether the column's DEFAULT in the clause is an
// expression in parentheses (DEFAULT (uuid())), which MySQL evaluates per row.
func (t *translator) parenDefault(clause []token, col string) bool {
	seen := false
	for i, tk := range clause {
		if tk.kind == tokComment {
			continue
		}
		if isIdent(tk) && strings.EqualFold(identText(t.src, tk), col) {
			seen = true
			continue
		}
		if seen && tk.kind == tokWord && strings.EqualFold(string(t.src[tk.start:tk.end]), "DEFAULT") {
			for _, n := range clause[i+1:] {
				if n.kind == tokComment {
					continue
				}
				return n.kind == tokPunct && t.src[n.start] == '('
			}
		}
	}
	return false
}

// perRow are the functions that give each row its own value when a
// default is computed for existing rows. Time functions (NOW(),
// CURRENT_DATE) are evaluated once per statement, so they are not here.
var perRow = map[string]bool{
	"uuid": true, "uuid_short": true, "rand": true, "random_bytes": true, "sys_guid": true,
	"uuid_v4": true, "uuid_v7": true, "sysdate": true,
}

func (t *translator) defaultExpr(e ast.ExprNode, paren bool) *change.Expr {
	if e == nil {
		return nil
	}
	x := &change.Expr{Text: restore(e)}
	switch v := e.(type) {
	case ast.ValueExpr:
		x.Const = true
		x.Null = v.GetValue() == nil
		return x
	case *ast.UnaryOperationExpr:
		if _, ok := v.V.(ast.ValueExpr); ok {
			x.Const = true
			return x
		}
	case *ast.FuncCallExpr:
		if !paren {
			// DEFAULT CURRENT_TIMESTAMP / NOW() without parentheses: the
			// classic temporal default, not an expression default.
			x.Funcs = []string{v.FnName.L}
			return x
		}
	}
	x.Funcs = funcsIn(e)
	for _, f := range x.Funcs {
		if perRow[f] {
			x.Volatile = true
		}
	}
	if paren {
		x.Text = "(" + x.Text + ")"
	}
	return x
}

type funcCollector struct{ names []string }

func (c *funcCollector) Enter(n ast.Node) (ast.Node, bool) {
	if f, ok := n.(*ast.FuncCallExpr); ok {
		c.names = append(c.names, f.FnName.L)
	}
	return n, false
}
func (c *funcCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func funcsIn(e ast.Node) []string {
	if e == nil {
		return nil
	}
	c := &funcCollector{}
	e.Accept(c)
	return c.names
}

// colType describes a column's type.
func (t *translator) colType(cd *ast.ColumnDef) change.Type {
	tp := cd.Tp
	if tp == nil {
		return change.Type{}
	}
	name := types.TypeToStr(tp.GetType(), tp.GetCharset())
	if g := t.rw.geo[strings.ToLower(cd.Name.Name.O)]; g != "" && name == "blob" {
		return change.Type{Name: g, Text: g}
	}
	ty := change.Type{Name: name, Charset: charsetName(tp.GetCharset())}
	if ty.Charset == "binary" && name != "binary" && name != "varbinary" && !strings.HasSuffix(name, "blob") {
		ty.Charset = ""
	}
	switch name {
	case "datetime", "timestamp", "time":
		// the fractional seconds precision, DATETIME(3); the parser's length
		// is the display width (23)
		if dec := tp.GetDecimal(); dec > 0 {
			ty.Mods = append(ty.Mods, dec)
		}
	default:
		if flen := tp.GetFlen(); flen != types.UnspecifiedLength && flen > 0 {
			ty.Mods = append(ty.Mods, flen)
			if dec := tp.GetDecimal(); dec != types.UnspecifiedLength && dec > 0 && (name == "decimal" || name == "double" || name == "float") {
				ty.Mods = append(ty.Mods, dec)
			}
		}
	}
	ty.Values = append(ty.Values, tp.GetElems()...)
	ty.Unsigned = pmysql.HasUnsignedFlag(tp.GetFlag())
	var sb strings.Builder
	sb.WriteString(name)
	switch {
	case len(ty.Values) > 0:
		sb.WriteString("(")
		for i, v := range ty.Values {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("'" + strings.ReplaceAll(v, "'", "''") + "'")
		}
		sb.WriteString(")")
	case len(ty.Mods) > 0 && !isIntType(name):
		sb.WriteString("(")
		for i, m := range ty.Mods {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(strconv.Itoa(m))
		}
		sb.WriteString(")")
	}
	if ty.Unsigned {
		sb.WriteString(" unsigned")
	}
	if ty.Charset != "" && !strings.Contains(name, "binary") && !strings.HasSuffix(name, "blob") {
		sb.WriteString(" character set " + ty.Charset)
	}
	ty.Text = sb.String()
	return ty
}

func isIntType(n string) bool {
	switch n {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "year", "bit":
		return n != "bit"
	}
	return false
}
