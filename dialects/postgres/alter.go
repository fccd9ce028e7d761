package postgres

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// clauseSpans returns the span of each ALTER TABLE action: actions follow the
// relation name and are separated by top-level commas. If the count does not
// match the parse tree, every action gets the statement's span.
func (t *translator) clauseSpans(rel *pgtree.RangeVar, n int) []change.Span {
	out := make([]change.Span, n)
	for i := range out {
		out[i] = t.stmt.Span
	}
	if rel == nil {
		return out
	}
	var toks []token
	for _, x := range t.toks {
		if x.kind != tokComment && x.kind != tokCComment {
			toks = append(toks, x)
		}
	}
	i := 0
	for i < len(toks) && int(toks[i].start) < t.loc(rel.Location) {
		i++
	}
	if i >= len(toks) {
		return out
	}
	i++ // the name (or its first part)
	for i+1 < len(toks) && toks[i].kind == tokDot {
		i += 2 // . name
	}
	if i < len(toks) && toks[i].kind == tokStar {
		i++ // *
	}
	var spans []change.Span
	depth := 0
	start := i
	for j := i; j < len(toks); j++ {
		switch toks[j].kind {
		case tokLParen, tokLBracket:
			depth++
		case tokRParen, tokRBracket:
			depth--
		case tokComma:
			if depth == 0 {
				if j > start {
					spans = append(spans, change.Span{Start: int(toks[start].start), End: int(toks[j-1].end)})
				}
				start = j + 1
			}
		}
	}
	if start < len(toks) {
		spans = append(spans, change.Span{Start: int(toks[start].start), End: int(toks[len(toks)-1].end)})
	}
	if len(spans) == n {
		return spans
	}
	return out
}

func (t *translator) alterTable(a *pgtree.AlterTableStmt) {
	table := rangeVar(a.Relation)
	spans := t.clauseSpans(a.Relation, len(a.Cmds))
	switch a.Objtype {
	case pgtree.ObjectType_OBJECT_TABLE, pgtree.ObjectType_OBJECT_FOREIGN_TABLE:
	default:
		// ALTER INDEX / VIEW / SEQUENCE / MATERIALIZED VIEW … actions
		kind := strings.ReplaceAll(strings.TrimPrefix(a.Objtype.String(), "OBJECT_"), "_", " ")
		for i, cn := range a.Cmds {
			cmd := cn.GetAlterTableCmd()
			action := "ALTER " + kind
			if cmd != nil {
				action += " " + subtypeName(cmd.Subtype) + relOptionsLock(cmd)
			}
			c := &change.AlterTableOther{Table: table, Action: action}
			c.Span = spans[i]
			t.add(c)
		}
		return
	}
	for i, cn := range a.Cmds {
		cmd := cn.GetAlterTableCmd()
		if cmd == nil {
			u := &change.Unknown{Kind: "ALTER TABLE", Reason: "unexpected node " + nodeName(cn)}
			u.Span = spans[i]
			t.add(u)
			continue
		}
		c := t.alterCmd(table, cmd)
		c.Base().Span = spans[i]
		t.add(c)
	}
}

// accessExclusiveOptions are the storage parameters whose change takes an
// ACCESS EXCLUSIVE lock; the others take SHARE UPDATE EXCLUSIVE
// (reloptions.c; checked on a real server).
var accessExclusiveOptions = map[string]bool{
	"user_catalog_table": true, "security_barrier": true, "security_invoker": true,
	"check_option": true, "fastupdate": true, "buffering": true, "gin_pending_list_limit": true,
}

// relOptionsLock is " AccessExclusive" for SET/RESET (…) of a storage
// parameter that needs it, so that the action's lock is known.
func relOptionsLock(cmd *pgtree.AlterTableCmd) string {
	switch cmd.Subtype {
	case pgtree.AlterTableType_AT_SetRelOptions, pgtree.AlterTableType_AT_ResetRelOptions,
		pgtree.AlterTableType_AT_ReplaceRelOptions:
	default:
		return ""
	}
	for _, n := range cmd.Def.GetList().GetItems() {
		if de := n.GetDefElem(); de != nil && accessExclusiveOptions[strings.ToLower(de.Defname)] {
			return " AccessExclusive"
		}
	}
	return ""
}

// plainUsing reports whether a USING expression is the column itself,
// possibly cast to the new type: PostgreSQL converts it exactly as it would
// without USING, so a binary-coercible change still skips the rewrite.
func plainUsing(n *pgtree.Node, col string, to change.Type) bool {
	if tc := n.GetTypeCast(); tc != nil {
		ct := typeOf(tc.TypeName)
		if ct.Name != to.Name || ct.Array != to.Array || !slices.Equal(ct.Mods, to.Mods) {
			return false
		}
		n = tc.Arg
	}
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) != 1 {
		return false
	}
	return cr.Fields[0].GetString_().GetSval() == col
}

func subtypeName(s pgtree.AlterTableType) string {
	return strings.TrimPrefix(s.String(), "AT_")
}

func (t *translator) alterCmd(table change.QName, cmd *pgtree.AlterTableCmd) change.Change {
	cascade := cmd.Behavior == pgtree.DropBehavior_DROP_CASCADE
	switch cmd.Subtype {
	case pgtree.AlterTableType_AT_AddColumn:
		if cd := cmd.Def.GetColumnDef(); cd != nil {
			return &change.AddColumn{Table: table, Column: t.column(cd), IfNotExists: cmd.MissingOk}
		}
	case pgtree.AlterTableType_AT_DropColumn:
		return &change.DropColumn{Table: table, Column: cmd.Name, IfExists: cmd.MissingOk, Cascade: cascade}
	case pgtree.AlterTableType_AT_AlterColumnType:
		cd := cmd.Def.GetColumnDef()
		if cd != nil {
			nt := typeOf(cd.TypeName)
			ac := &change.AlterColumnType{Table: table, Column: cmd.Name, NewType: nt,
				Using: cd.RawDefault != nil && !plainUsing(cd.RawDefault, cmd.Name, nt)}
			if cd.CollClause != nil {
				ac.Collate = strings.Join(stringList(cd.CollClause.Collname), ".")
			}
			return ac
		}
	case pgtree.AlterTableType_AT_SetNotNull:
		return &change.SetNotNull{Table: table, Column: cmd.Name}
	case pgtree.AlterTableType_AT_DropNotNull:
		return &change.DropNotNull{Table: table, Column: cmd.Name}
	case pgtree.AlterTableType_AT_ColumnDefault:
		sd := &change.SetDefault{Table: table, Column: cmd.Name}
		if cmd.Def != nil {
			sd.Default = exprOf(cmd.Def)
		}
		return sd
	case pgtree.AlterTableType_AT_AddConstraint:
		if k := cmd.Def.GetConstraint(); k != nil {
			return &change.AddConstraint{Table: table, Constraint: t.constraint(k)}
		}
	case pgtree.AlterTableType_AT_ValidateConstraint:
		return &change.ValidateConstraint{Table: table, Name: cmd.Name}
	case pgtree.AlterTableType_AT_DropConstraint:
		return &change.DropConstraint{Table: table, Name: cmd.Name, IfExists: cmd.MissingOk, Cascade: cascade}
	case pgtree.AlterTableType_AT_AttachPartition:
		return &change.AttachPartition{Table: table, Partition: rangeVar(cmd.Def.GetPartitionCmd().GetName())}
	case pgtree.AlterTableType_AT_DetachPartition:
		pc := cmd.Def.GetPartitionCmd()
		return &change.DetachPartition{Table: table, Partition: rangeVar(pc.GetName()), Concurrently: pc.GetConcurrent()}
	case pgtree.AlterTableType_AT_DetachPartitionFinalize:
		pc := cmd.Def.GetPartitionCmd()
		return &change.DetachPartition{Table: table, Partition: rangeVar(pc.GetName()), Concurrently: true, Finalize: true}
	case pgtree.AlterTableType_AT_SetTableSpace:
		return &change.TableRewrite{Table: table, Action: "SET TABLESPACE"}
	case pgtree.AlterTableType_AT_SetLogged:
		return &change.TableRewrite{Table: table, Action: "SET LOGGED"}
	case pgtree.AlterTableType_AT_SetUnLogged:
		return &change.TableRewrite{Table: table, Action: "SET UNLOGGED"}
	case pgtree.AlterTableType_AT_SetAccessMethod:
		return &change.TableRewrite{Table: table, Action: "SET ACCESS METHOD"}
	case pgtree.AlterTableType_AT_SetExpression:
		return &change.TableRewrite{Table: table, Action: "ALTER COLUMN " + cmd.Name + " SET EXPRESSION"}
	case pgtree.AlterTableType_AT_DropExpression, pgtree.AlterTableType_AT_SetStatistics,
		pgtree.AlterTableType_AT_SetOptions, pgtree.AlterTableType_AT_ResetOptions,
		pgtree.AlterTableType_AT_SetStorage, pgtree.AlterTableType_AT_SetCompression,
		pgtree.AlterTableType_AT_AlterConstraint, pgtree.AlterTableType_AT_ChangeOwner,
		pgtree.AlterTableType_AT_ClusterOn, pgtree.AlterTableType_AT_DropCluster,
		pgtree.AlterTableType_AT_SetRelOptions, pgtree.AlterTableType_AT_ResetRelOptions,
		pgtree.AlterTableType_AT_ReplaceRelOptions, pgtree.AlterTableType_AT_EnableTrig,
		pgtree.AlterTableType_AT_EnableAlwaysTrig, pgtree.AlterTableType_AT_EnableReplicaTrig,
		pgtree.AlterTableType_AT_DisableTrig, pgtree.AlterTableType_AT_EnableTrigAll,
		pgtree.AlterTableType_AT_DisableTrigAll, pgtree.AlterTableType_AT_EnableTrigUser,
		pgtree.AlterTableType_AT_DisableTrigUser, pgtree.AlterTableType_AT_EnableRule,
		pgtree.AlterTableType_AT_EnableAlwaysRule, pgtree.AlterTableType_AT_EnableReplicaRule,
		pgtree.AlterTableType_AT_DisableRule, pgtree.AlterTableType_AT_AddInherit,
		pgtree.AlterTableType_AT_DropInherit, pgtree.AlterTableType_AT_AddOf,
		pgtree.AlterTableType_AT_DropOf, pgtree.AlterTableType_AT_ReplicaIdentity,
		pgtree.AlterTableType_AT_EnableRowSecurity, pgtree.AlterTableType_AT_DisableRowSecurity,
		pgtree.AlterTableType_AT_ForceRowSecurity, pgtree.AlterTableType_AT_NoForceRowSecurity,
		pgtree.AlterTableType_AT_GenericOptions, pgtree.AlterTableType_AT_AlterColumnGenericOptions,
		pgtree.AlterTableType_AT_AddIdentity, pgtree.AlterTableType_AT_SetIdentity,
		pgtree.AlterTableType_AT_DropIdentity:
		return &change.AlterTableOther{Table: table, Action: subtypeName(cmd.Subtype) + relOptionsLock(cmd)}
	}
	return &change.Unknown{Kind: "ALTER TABLE " + subtypeName(cmd.Subtype), Reason: "ALTER TABLE action not modelled"}
}
