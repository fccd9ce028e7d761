package mysql

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/migsafe/migsafe/analyzer/change"
)

// clauses splits an ALTER TABLE statement's tokens after the table name
// into its comma-separated clauses (commas inside parentheses do not count).
func (t *translator) clauses() [][]token {
	real := t.seg.toks
	// skip ALTER [ONLINE|IGNORE] TABLE name[.name]
	i, seenTable := 0, false
	for i < len(real) {
		tk := real[i]
		i++
		if tk.kind == tokComment {
			continue
		}
		if !seenTable {
			if tk.kind == tokWord && strings.EqualFold(string(t.src[tk.start:tk.end]), "TABLE") {
				seenTable = true
				// the name, possibly qualified
				for i < len(real) && real[i].kind == tokComment {
					i++
				}
				i++
				for i+1 < len(real) && real[i].kind == tokPunct && t.src[real[i].start] == '.' {
					i += 2
				}
			}
			continue
		}
		i--
		break
	}
	return splitCommas(t.src, real[min(i, len(real)):])
}

// splitCommas splits tokens at the commas outside parentheses.
func splitCommas(src []byte, toks []token) [][]token {
	var out [][]token
	var cur []token
	depth := 0
	for _, tk := range toks {
		if tk.kind == tokPunct {
			switch src[tk.start] {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				if depth == 0 {
					out = append(out, cur)
					cur = nil
					continue
				}
			}
		}
		cur = append(cur, tk)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func spanOf(ts []token) change.Span {
	first, last := -1, -1
	for i, tk := range ts {
		if tk.kind == tokComment {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
	}
	if first < 0 {
		return change.Span{}
	}
	return change.Span{Start: int(ts[first].start), End: int(ts[last].end)}
}

func (t *translator) alterTable(x *ast.AlterTableStmt) {
	table := tableName(x.Table)
	cls := t.clauses()
	mapped := len(cls) == len(x.Specs)
	opts := &change.AlterOptions{Table: table}
	if t.rw.online {
		opts.Lock = "NONE"
	}
	for i, sp := range x.Specs {
		var span change.Span
		var toks []token
		if mapped {
			toks = cls[i]
			span = spanOf(toks)
		}
		meta := change.Meta{Span: span}
		switch sp.Tp {
		case ast.AlterTableAddColumns:
			for _, cd := range sp.NewColumns {
				c := t.column(cd, toks)
				c.Span = span
				if sp.Position != nil {
					c.Position = position(sp.Position)
				}
				t.add(&change.AddColumn{Meta: meta, Table: table, Column: c, IfNotExists: sp.IfNotExists})
			}
			for _, c := range sp.NewConstraints {
				t.addConstraint(table, c, span)
			}
		case ast.AlterTableAddConstraint:
			t.addConstraint(table, sp.Constraint, span)
		case ast.AlterTableDropColumn:
			t.add(&change.DropColumn{Meta: meta, Table: table, Column: sp.OldColumnName.Name.O, IfExists: sp.IfExists})
		case ast.AlterTableDropPrimaryKey:
			t.add(&change.DropConstraint{Meta: meta, Table: table, Name: "PRIMARY", Kind: change.ConstraintPrimaryKey})
		case ast.AlterTableDropIndex:
			q := table
			t.add(&change.DropIndex{Meta: meta, Name: change.QName{Schema: table.Schema, Name: sp.Name}, Table: &q, IfExists: sp.IfExists})
		case ast.AlterTableDropForeignKey:
			t.add(&change.DropConstraint{Meta: meta, Table: table, Name: sp.Name, Kind: change.ConstraintForeignKey, IfExists: sp.IfExists})
		case ast.AlterTableDropCheck:
			t.add(&change.DropConstraint{Meta: meta, Table: table, Name: sp.Constraint.Name, Kind: change.ConstraintCheck})
		case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
			if len(sp.NewColumns) == 0 {
				break
			}
			c := t.column(sp.NewColumns[0], toks)
			c.Span = span
			if sp.Position != nil {
				c.Position = position(sp.Position)
			}
			col := c.Name
			if sp.Tp == ast.AlterTableChangeColumn && sp.OldColumnName != nil {
				if old := sp.OldColumnName.Name.O; !strings.EqualFold(old, c.Name) {
					t.add(&change.RenameColumn{Meta: meta, Table: table, Old: old, New: c.Name})
				}
			}
			t.add(&change.AlterColumnType{Meta: meta, Table: table, Column: col, NewType: c.Type, NewColumn: &c})
		case ast.AlterTableRenameColumn:
			t.since("RENAME COLUMN", span, ver{8, 0, 0}, ver{10, 5, 2})
			t.add(&change.RenameColumn{Meta: meta, Table: table, Old: sp.OldColumnName.Name.O, New: sp.NewColumnName.Name.O})
		case ast.AlterTableRenameTable:
			t.add(&change.RenameTable{Meta: meta, Table: table, New: tableName(sp.NewTable)})
		case ast.AlterTableAlterColumn:
			if len(sp.NewColumns) == 0 {
				break
			}
			cd := sp.NewColumns[0]
			sd := &change.SetDefault{Meta: meta, Table: table, Column: cd.Name.Name.O}
			for _, o := range cd.Options {
				if o.Tp == ast.ColumnOptionDefaultValue {
					sd.Default = t.defaultExpr(o.Expr, t.parenDefault(toks, "DEFAULT"))
				}
			}
			t.add(sd)
		case ast.AlterTableLock:
			opts.Lock = lockName(sp.LockType)
			opts.Span = span
		case ast.AlterTableAlgorithm:
			opts.Algorithm = algorithmName(sp.Algorithm, t.rw.nocopy)
			if !opts.Span.Valid() {
				opts.Span = span
			}
		case ast.AlterTableOption:
			t.tableOptions(table, sp.Options, meta)
		case ast.AlterTableForce:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "FORCE"})
		case ast.AlterTableRenameIndex:
			t.since("RENAME INDEX", span, ver{5, 7, 0}, ver{10, 5, 2})
			q := table
			t.add(&change.RenameOther{Meta: meta, Kind: "INDEX", Old: sp.FromKey.O, New: sp.ToKey.O, Table: &q})
		case ast.AlterTableIndexInvisible:
			t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "ALTER INDEX VISIBILITY"})
		case ast.AlterTableAlterCheck:
			t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "ALTER CHECK ENFORCED"})
		case ast.AlterTableEnableKeys, ast.AlterTableDisableKeys:
			t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "ENABLE/DISABLE KEYS"})
		case ast.AlterTableOrderByColumns:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "ORDER BY"})
		case ast.AlterTablePartition:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "PARTITION BY"})
		case ast.AlterTableRemovePartitioning:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "REMOVE PARTITIONING"})
		default:
			t.add(&change.Unknown{Meta: meta, Kind: "ALTER TABLE", Reason: "migsafe does not translate this ALTER TABLE clause (partitioning, tablespaces, …)"})
		}
	}
	t.add(opts)
}

func position(p *ast.ColumnPosition) string {
	switch p.Tp {
	case ast.ColumnPositionFirst:
		return "FIRST"
	case ast.ColumnPositionAfter:
		if p.RelativeColumn != nil {
			return "AFTER " + p.RelativeColumn.Name.O
		}
	}
	return ""
}

func (t *translator) addConstraint(table change.QName, c *ast.Constraint, span change.Span) {
	if c == nil {
		return
	}
	k, ix := t.constraint(table, c, span)
	if k != nil {
		t.add(&change.AddConstraint{Meta: change.Meta{Span: span}, Table: table, Constraint: *k})
	}
	if ix != nil {
		ix.Span = span
		t.add(ix)
	}
}

func (t *translator) tableOptions(table change.QName, opts []*ast.TableOption, meta change.Meta) {
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionEngine:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "ENGINE=" + o.StrValue})
		case ast.TableOptionCharset:
			if o.UintValue == ast.TableOptionCharsetWithConvertTo {
				t.add(&change.ConvertCharset{Meta: meta, Table: table, Charset: charsetName(o.StrValue)})
			} else {
				t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "DEFAULT CHARACTER SET", Charset: charsetName(o.StrValue)})
			}
		case ast.TableOptionCollate:
			// with CONVERT TO it is part of the conversion; alone it is a default
			if cv := t.convert(); cv != nil {
				cv.Collation = collationName(o.StrValue)
			} else {
				cs, _, _ := strings.Cut(o.StrValue, "_")
				t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "DEFAULT COLLATE", Charset: charsetName(cs), Collation: collationName(o.StrValue)})
			}
		case ast.TableOptionRowFormat:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "ROW_FORMAT"})
		case ast.TableOptionKeyBlockSize:
			t.add(&change.TableRewrite{Meta: meta, Table: table, Action: "KEY_BLOCK_SIZE"})
		case ast.TableOptionAutoIncrement:
			t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "AUTO_INCREMENT"})
		case ast.TableOptionComment:
			t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "COMMENT"})
		default:
			t.add(&change.AlterTableOther{Meta: meta, Table: table, Action: "TABLE OPTION"})
		}
	}
}

// convert is the statement's CONVERT TO, nil if none.
func (t *translator) convert() *change.ConvertCharset {
	for _, c := range t.stmt.Changes {
		if x, ok := c.(*change.ConvertCharset); ok {
			return x
		}
	}
	return nil
}
