package postgres

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

// PostgreSQL table-level lock modes.
const (
	accessExclusive      = "ACCESS EXCLUSIVE"
	exclusive            = "EXCLUSIVE"
	shareRowExclusive    = "SHARE ROW EXCLUSIVE"
	share                = "SHARE"
	shareUpdateExclusive = "SHARE UPDATE EXCLUSIVE"
	rowExclusive         = "ROW EXCLUSIVE"
	accessShare          = "ACCESS SHARE"
)

// blocksOf says what a lock mode blocks for ordinary reads (ACCESS SHARE)
// and writes (ROW EXCLUSIVE).
func blocksOf(mode string) change.Blocks {
	switch mode {
	case accessExclusive:
		return change.BlocksReadsAndWrites
	case exclusive, shareRowExclusive, share:
		return change.BlocksWrites
	default:
		return change.BlocksNothing
	}
}

func effect(mode string, on change.QName, work change.Work) change.Effect {
	return change.Effect{Lock: mode, On: on.String(), Blocks: blocksOf(mode), Work: work}
}

// Analyze implements analyzer.Dialect: it fills in every change's Effect for
// the target version, using the schema before the statement.
func (d *Dialect) Analyze(stmt *analyzer.Statement, cat *catalog.Catalog) {
	for _, ch := range stmt.Changes {
		m := ch.Base()
		m.Effect = d.effectOf(ch, cat, stmt.Session)
		if x, ok := ch.(*change.AddConstraint); ok {
			usingIndexColumns(x, cat)
		}
	}
}

// usingIndexColumns fills in the columns of ADD CONSTRAINT … USING INDEX,
// which only the index knows, so that the schema model makes a primary
// key's columns NOT NULL, as PostgreSQL does.
func usingIndexColumns(x *change.AddConstraint, cat *catalog.Catalog) {
	k := &x.Constraint
	if k.UsingIndex == "" || len(k.Columns) > 0 {
		return
	}
	if ix := cat.Index(change.QName{Schema: x.Table.Schema, Name: k.UsingIndex}); ix != nil {
		k.Columns = slices.Clone(ix.Columns)
	}
}

func (d *Dialect) effectOf(ch change.Change, cat *catalog.Catalog, sess analyzer.Session) change.Effect {
	v := d.target
	switch x := ch.(type) {
	case *change.CreateTable:
		return createTableEffect(x)
	case *change.AddColumn:
		e := effect(accessExclusive, x.Table, change.WorkNone)
		if why := d.addColumnRewrite(x.Column, cat); why != "" {
			e.Work, e.Note = change.WorkRewrite, why
		} else if x.Column.Unique || x.Column.PrimaryKey {
			e.Work = change.WorkIndexBuild
		} else if x.Column.Check || (x.Column.References != nil && x.Column.Default != nil && !x.Column.Default.Null) {
			// a foreign key on a new column without a default has only
			// NULLs to check: PostgreSQL skips the validation scan
			e.Work = change.WorkScan
		}
		if x.Column.References != nil {
			e.Note = appendNote(e.Note, "and a SHARE ROW EXCLUSIVE lock on "+x.Column.References.String())
		}
		return e
	case *change.DropConstraint:
		e := effect(accessExclusive, x.Table, change.WorkNone)
		if ref := foreignKeyRef(cat, x); ref != nil {
			// its triggers on the referenced table go too (checked on a
			// real server)
			e.Note = "and an ACCESS EXCLUSIVE lock on " + ref.String()
		}
		return e
	case *change.DropTable:
		e := effect(accessExclusive, x.Table, change.WorkNone)
		if refs := referenced(cat, x.Table, ""); len(refs) > 0 {
			// its foreign keys' triggers on those tables go too (checked
			// on a real server)
			e.Note = "and an ACCESS EXCLUSIVE lock on " + strings.Join(refs, ", ") + ", which its foreign keys reference"
		}
		if x.Cascade {
			if refs := referencing(cat, x.Table); len(refs) > 0 {
				e.Note = appendNote(e.Note, "and an ACCESS EXCLUSIVE lock on "+strings.Join(refs, ", ")+", whose foreign keys to it CASCADE drops")
			}
		}
		return e
	case *change.DropColumn:
		e := effect(accessExclusive, x.Table, change.WorkNone)
		if refs := referenced(cat, x.Table, x.Column); len(refs) > 0 {
			e.Note = "and an ACCESS EXCLUSIVE lock on " + strings.Join(refs, ", ") + ", which its foreign key references"
		}
		return e
	case *change.RenameColumn, *change.RenameTable, *change.DropNotNull,
		*change.SetDefault, *change.Truncate:
		return effect(accessExclusive, tableOf(ch), change.WorkNone)
	case *change.AlterColumnType:
		e := effect(accessExclusive, x.Table, change.WorkRewrite)
		if note, ok := d.binaryCoercible(x, cat, sess); ok {
			e.Work, e.Note = change.WorkNone, note
			if from := currentType(cat, x); from != nil && opclassChanges(*from, x.NewType) && indexed(cat, x.Table, x.Column) {
				// citext indexes compare case-insensitively: an index
				// of the column is built again (checked on a real
				// server)
				e.Work = change.WorkIndexBuild
				note = appendNote(note, "its indexes are built again for "+x.NewType.String())
				e.Note = note
			}
			if k := checkOn(cat, x.Table, x.Column); k != "" {
				// PostgreSQL adds the column's CHECK constraints again,
				// which checks them against every row
				e.Work = change.WorkScan
				e.Note = appendNote(note, "CHECK constraint "+k+" is checked again against every row")
			}
			if ix := exprIndexOn(cat, x.Table, x.Column); ix != "" && e.Work < change.WorkIndexBuild {
				// PostgreSQL reuses an index's storage only when no
				// expression or predicate of it reads the column
				// (checked on a real server)
				e.Work = change.WorkIndexBuild
				e.Note = appendNote(e.Note, "index "+ix+", whose expression or predicate reads the column, is built again")
			}
			if x.Collate != "" {
				// a new collation changes how the column sorts: its
				// indexes are rebuilt (checked on a real server)
				if indexed(cat, x.Table, x.Column) {
					e.Work = change.WorkIndexBuild
					e.Note = appendNote(note, "its indexes are rebuilt for collation "+x.Collate)
				} else {
					e.Note = appendNote(note, "any index on it is rebuilt for collation "+x.Collate)
				}
			}
		} else {
			e.Note = note
		}
		return e
	case *change.SetNotNull:
		e := effect(accessExclusive, x.Table, change.WorkScan)
		if c := columnOf(cat, x.Table, x.Column); c != nil && c.NotNull && !c.Origin.Base {
			// checked on a real server
			e.Work = change.WorkNone
			e.Note = "the column is NOT NULL already: nothing to check"
		} else if v.AtLeast(12, 0, 0) && validNotNullCheck(cat, x.Table, x.Column) != "" {
			e.Work = change.WorkNone
			e.Note = "a validated CHECK (" + x.Column + " IS NOT NULL) lets PostgreSQL skip the scan"
		}
		return e
	case *change.AddConstraint:
		return d.addConstraint(x, cat)
	case *change.ValidateConstraint:
		e := effect(shareUpdateExclusive, x.Table, change.WorkScan)
		if t := cat.Table(x.Table); t != nil {
			if k := t.Constraint(x.Name); k != nil && k.Validated && !k.Origin.Base {
				// checked on a real server
				e.Work, e.Note = change.WorkNone, "the constraint is valid already: nothing to check"
			}
		}
		return e
	case *change.CreateIndex:
		if x.Concurrently {
			return effect(shareUpdateExclusive, x.Table, change.WorkIndexBuild)
		}
		e := effect(share, x.Table, change.WorkIndexBuild)
		if t := cat.Table(x.Table); t != nil && t.Partitioned {
			if x.Only {
				e.Work = change.WorkNone
				e.Note = "ON ONLY creates an invalid index on the partitioned table alone; the partitions' indexes are attached to it later"
			} else {
				e.Note = "and a SHARE lock on each partition while it builds the index on every partition"
			}
		}
		return e
	case *change.DropIndex:
		mode := accessExclusive
		if x.Concurrently {
			mode = shareUpdateExclusive
		}
		if ix := cat.Index(x.Name); ix != nil {
			return effect(mode, ix.Table, change.WorkNone)
		}
		// The index was not created by these migrations: its table is
		// unknown, and the lock is on that table.
		return effect(mode, change.QName{Name: "the table of " + x.Name.String()}, change.WorkNone)
	case *change.Reindex:
		on := reindexOn(x, cat)
		if x.Concurrently {
			return effect(shareUpdateExclusive, on, change.WorkIndexBuild)
		}
		e := effect(share, on, change.WorkIndexBuild)
		// every query that plans with the table locks all its indexes:
		// reads of the table wait too (checked on a real server)
		e.Blocks = change.BlocksReadsAndWrites
		e.Note = "and an ACCESS EXCLUSIVE lock on each index it rebuilds, which every query on the table waits for (planning locks all of a table's indexes)"
		if x.Target == "SYSTEM" {
			e.Note = "and an ACCESS EXCLUSIVE lock on each system catalog index it rebuilds, which every query that reads that catalog waits for"
		}
		return e
	case *change.RefreshMatView:
		if x.Concurrently {
			// EXCLUSIVE lets reads (ACCESS SHARE) go on, and nobody
			// writes to a materialized view: it blocks nothing. It runs
			// the query again and applies the difference to the view's
			// rows, without rewriting it (checked on a real server).
			e := effect(exclusive, x.Name, change.WorkScan)
			e.Blocks = change.BlocksNothing
			e.Note = "runs the view's query again and applies the difference to its rows"
			return e
		}
		return effect(accessExclusive, x.Name, change.WorkRewrite)
	case *change.DetachPartition:
		if x.Concurrently {
			// it waits for the queries that use the partitioned table,
			// then, in its second transaction, for an ACCESS EXCLUSIVE
			// lock on the partition (checked on a real server)
			e := effect(accessExclusive, x.Partition, change.WorkNone)
			e.Note = "in its second transaction, after a SHARE UPDATE EXCLUSIVE lock on " + x.Table.String() + " that blocks neither reads nor writes"
			return e
		}
		return effect(accessExclusive, x.Table, change.WorkNone)
	case *change.AttachPartition:
		// the partitioned table is not read; the partition is locked
		// ACCESS EXCLUSIVE and scanned to check its rows against the
		// bounds (unless a validated CHECK implies them). Since
		// PostgreSQL 12 that is the lock that blocks, when the partition
		// is a table in use; before, the partitioned table is locked
		// ACCESS EXCLUSIVE too.
		if !v.AtLeast(12, 0, 0) {
			e := effect(accessExclusive, x.Table, change.WorkNone)
			e.Note = "and an ACCESS EXCLUSIVE lock on " + x.Partition.String() + " while it scans it to check its rows against the partition bounds"
			return e
		}
		e := effect(accessExclusive, x.Partition, change.WorkScan)
		e.Note = "to check its rows against the partition bounds, unless a validated CHECK constraint implies them; and a SHARE UPDATE EXCLUSIVE lock on " + x.Table.String()
		return e
	case *change.Vacuum:
		var on change.QName
		if len(x.Tables) > 0 {
			on = x.Tables[0]
		}
		if x.Full {
			return effect(accessExclusive, on, change.WorkRewrite)
		}
		return effect(shareUpdateExclusive, on, change.WorkScan)
	case *change.Cluster:
		var on change.QName
		if x.Table != nil {
			on = *x.Table
		}
		return effect(accessExclusive, on, change.WorkRewrite)
	case *change.LockTable:
		var on change.QName
		if len(x.Tables) > 0 {
			on = x.Tables[0]
		}
		return effect(x.Mode, on, change.WorkNone)
	case *change.TableRewrite:
		return effect(accessExclusive, x.Table, change.WorkRewrite)
	case *change.Other:
		if x.Object.Name == "" {
			break
		}
		// each checked on a real server
		switch x.Kind {
		case "COMMENT", "ANALYZE", "CREATE STATISTICS", "CREATE PUBLICATION", "ALTER PUBLICATION":
			// blocks no read or write; ANALYZE reads a sample of the rows
			return effect(shareUpdateExclusive, x.Object, change.WorkNone)
		case "SELECT", "COPY TO", "CREATE SEQUENCE":
			// waits only for ACCESS EXCLUSIVE; it reads what it asks
			// for (CREATE SEQUENCE … OWNED BY reads nothing)
			return effect(accessShare, x.Object, change.WorkNone)
		case "CREATE RULE":
			return effect(accessExclusive, x.Object, change.WorkNone)
		case "EXPLAIN", "PREPARE":
			// planning locks what the statement would lock first
			if x.Writes {
				return effect(rowExclusive, x.Object, change.WorkNone)
			}
			return effect(accessShare, x.Object, change.WorkNone)
		}
	case *change.AlterDomain:
		return domainEffect(x, cat)
	case *change.AlterTableOther:
		e := effect(otherLock(x.Action), x.Table, change.WorkNone)
		if x.Action == "ALTER INDEX AttachPartition" {
			// checked on a real server
			e.Note = "the partition's index is locked ACCESS EXCLUSIVE, which briefly blocks queries on the partition that plan with it; no index is built"
		}
		return e
	case *change.DropSchema:
		return effect(accessExclusive, change.QName{Name: x.Name}, change.WorkNone)
	case *change.DropView:
		return effect(accessExclusive, x.Name, change.WorkNone)
	case *change.CreateView:
		// OR REPLACE of a view the migrations created locks it ACCESS
		// EXCLUSIVE (checked on a real server); a new view locks nothing
		// anyone uses
		if t := cat.Table(x.Name); x.Replace && t != nil && t.View {
			return effect(accessExclusive, x.Name, change.WorkNone)
		}
	case *change.DML:
		return effect(rowExclusive, x.Table, change.WorkNone)
	case *change.DropOther:
		if x.Table != nil {
			// DROP TRIGGER, POLICY or RULE … ON t (checked on a real server)
			return effect(accessExclusive, *x.Table, change.WorkNone)
		}
		switch {
		case x.Kind == "SEQUENCE" && len(x.Names) > 0:
			e := effect(accessExclusive, change.QName{Name: x.Names[0]}, change.WorkNone)
			e.Note = "which nextval() waits for"
			return e
		case (x.Kind == "TYPE" || x.Kind == "DOMAIN") && x.Cascade && len(x.Names) > 0:
			// CASCADE drops the columns of the type, each under its
			// table's ACCESS EXCLUSIVE lock (checked on a real server)
			return onTypeUsers(accessExclusive, change.WorkNone, x.Names[0], cat)
		}
	case *change.AlterSequence:
		// nextval() waits for it: inserts that draw from the sequence
		// are blocked (checked on a real server)
		e := effect(shareRowExclusive, x.Name, change.WorkNone)
		e.Note = "which nextval() waits for: inserts that draw from the sequence are blocked"
		return e
	case *change.RenameEnumValue:
		return enumEffect(x.Type)
	case *change.AddEnumValue:
		return enumEffect(x.Type)
	case *change.RenameOther:
		switch x.Kind {
		case "CONSTRAINT":
			if x.Table != nil {
				return effect(accessExclusive, *x.Table, change.WorkNone)
			}
		case "INDEX":
			// PostgreSQL 12 renames an index under SHARE UPDATE EXCLUSIVE
			mode := shareUpdateExclusive
			if !v.AtLeast(12, 0, 0) {
				mode = accessExclusive
			}
			q := change.QName{Name: x.Old}
			if x.Table != nil {
				q.Schema = x.Table.Schema
			}
			return effect(mode, q, change.WorkNone)
		}
	}
	return change.Effect{}
}

func tableOf(ch change.Change) change.QName {
	switch x := ch.(type) {
	case *change.RenameColumn:
		return x.Table
	case *change.RenameTable:
		return x.Table
	case *change.DropNotNull:
		return x.Table
	case *change.SetDefault:
		return x.Table
	case *change.Truncate:
		if len(x.Tables) > 0 {
			return x.Tables[0]
		}
	}
	return change.QName{}
}

// createTableEffect is the lock CREATE TABLE takes on tables that exist:
// PARTITION OF locks the partitioned table ACCESS EXCLUSIVE, and a foreign
// key locks the table it references SHARE ROW EXCLUSIVE. The new table
// itself is locked too, but nobody uses it yet.
func createTableEffect(x *change.CreateTable) change.Effect {
	if x.PartitionOf != nil {
		e := effect(accessExclusive, *x.PartitionOf, change.WorkNone)
		e.Note = "creating a partition locks its partitioned table"
		return e
	}
	var refs []string
	for _, c := range x.Columns {
		if c.References != nil && catalog.Key(*c.References) != catalog.Key(x.Table) {
			refs = appendNew(refs, c.References.String())
		}
	}
	for _, k := range x.Constraints {
		if k.RefTable != nil && catalog.Key(*k.RefTable) != catalog.Key(x.Table) {
			refs = appendNew(refs, k.RefTable.String())
		}
	}
	if len(refs) > 0 {
		e := change.Effect{Lock: shareRowExclusive, On: refs[0], Blocks: blocksOf(shareRowExclusive)}
		e.Note = "a foreign key locks the table it references: " + strings.Join(refs, ", ")
		return e
	}
	return effect(accessExclusive, x.Table, change.WorkNone)
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// reindexOn names what REINDEX locks: the table of the index (SHARE) when
// the index is known, the table, or every table of a schema or database.
func reindexOn(x *change.Reindex, cat *catalog.Catalog) change.QName {
	kind, name, _ := strings.Cut(x.Target, " ")
	switch kind {
	case "TABLE":
		if x.Table != nil {
			return *x.Table
		}
	case "INDEX":
		q := change.QName{Name: name}
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			q = change.QName{Schema: name[:i], Name: name[i+1:]}
		}
		if ix := cat.Index(q); ix != nil {
			return ix.Table
		}
		return change.QName{Name: "the table of " + name}
	case "SCHEMA":
		return change.QName{Name: "every table of schema " + name}
	}
	return change.QName{Name: "every table of the database"}
}

// enumEffect: changing an enum locks the type, not the tables that use it.
func enumEffect(t change.QName) change.Effect {
	return change.Effect{Lock: exclusive, On: "type " + t.String(), Blocks: change.BlocksNothing,
		Note: "on the type only; the tables that use it are not locked"}
}

// otherLock is the lock of the ALTER TABLE actions that are harmless.
func otherLock(action string) string {
	// "ALTER INDEX SetRelOptions": the action is the last word;
	// "SetRelOptions AccessExclusive" sets a parameter that needs it
	action = action[strings.LastIndexByte(action, ' ')+1:]
	switch action {
	case "SetStatistics", "SetOptions", "ResetOptions", "AttachPartition", "ClusterOn", "DropCluster", "SetRelOptions", "ResetRelOptions", "ReplaceRelOptions", "ValidateConstraint":
		return shareUpdateExclusive
	case "EnableTrig", "EnableAlwaysTrig", "EnableReplicaTrig", "DisableTrig", "EnableTrigAll", "DisableTrigAll",
		"EnableTrigUser", "DisableTrigUser", "TRIGGER":
		return shareRowExclusive
	}
	// INHERIT and NO INHERIT lock the child ACCESS EXCLUSIVE (the parent
	// only SHARE UPDATE EXCLUSIVE), like everything else
	return accessExclusive
}

// addColumnRewrite says why adding the column rewrites the table, or "".
func (d *Dialect) addColumnRewrite(c change.Column, cat *catalog.Catalog) string {
	switch {
	case c.Generated == "stored":
		return "a stored generated column is computed for every existing row"
	case c.Identity != "":
		return "an identity column is filled from its sequence for every existing row"
	case c.Type.Serial:
		return "a " + c.Type.Text + " column is filled from its sequence for every existing row"
	}
	if c.Default == nil || c.Default.Null {
		return ""
	}
	if !d.target.AtLeast(11, 0, 0) {
		return "before PostgreSQL 11 any default is written into every existing row"
	}
	if f := volatileFunc(c.Default, cat); f != "" {
		return "the default calls " + f + "(), which is volatile, so every existing row gets its own value"
	}
	return ""
}

// volatileFunc returns the first function of e that is (or may be) volatile.
// A function the migrations created is judged by its declared volatility,
// or by its body when PostgreSQL inlines it; otherwise built-ins are known
// by name, whatever schema an extension put them in; anything else is
// assumed volatile.
func volatileFunc(e *change.Expr, cat *catalog.Catalog) string {
	return volatileFuncDepth(e, cat, 0)
}

func volatileFuncDepth(e *change.Expr, cat *catalog.Catalog, depth int) string {
	for _, f := range e.Funcs {
		q := change.QName{Name: f}
		if i := strings.LastIndexByte(f, '.'); i >= 0 {
			q = change.QName{Schema: f[:i], Name: f[i+1:]}
		}
		if uf := cat.Function(q); uf != nil {
			if uf.Volatility == "volatile" && (uf.Inline == nil || depth > 8 || volatileFuncDepth(uf.Inline, cat, depth+1) != "") {
				return f
			}
			continue
		}
		if volatile[q.Name] {
			return f
		}
		if nonVolatile[q.Name] {
			continue
		}
		return f // unknown function: assume volatile
	}
	return ""
}

// checkOn returns the name of a validated CHECK constraint that reads the
// column, or "".
func checkOn(cat *catalog.Catalog, table change.QName, col string) string {
	t := cat.Table(table)
	if t == nil {
		return ""
	}
	for _, k := range t.Constraints {
		if k.Kind == change.ConstraintCheck && k.Validated &&
			slices.ContainsFunc(k.Columns, func(c string) bool { return strings.EqualFold(c, col) }) {
			return k.Name
		}
	}
	return ""
}

// referenced returns the other tables the foreign keys of a table (of one
// of its columns, when col is set) reference, as the model knows them.
func referenced(cat *catalog.Catalog, table change.QName, col string) []string {
	t := cat.Table(table)
	if t == nil {
		return nil
	}
	var out []string
	for _, k := range t.Constraints {
		if k.Kind != change.ConstraintForeignKey || k.RefTable == nil || catalog.Key(*k.RefTable) == catalog.Key(table) {
			continue
		}
		if col != "" && !slices.ContainsFunc(k.Columns, func(c string) bool { return strings.EqualFold(c, col) }) {
			continue
		}
		out = appendNew(out, k.RefTable.String())
	}
	return out
}

// referencing returns the other tables whose foreign keys reference a table,
// as the model knows them.
func referencing(cat *catalog.Catalog, table change.QName) []string {
	var out []string
	key := catalog.Key(table)
	// none when the history has asked too many such questions
	// (catalog.EachTable): the note is left out
	cat.EachTable(func(t *catalog.Table) {
		for _, k := range t.Constraints {
			if k.Kind == change.ConstraintForeignKey && k.RefTable != nil && catalog.Key(*k.RefTable) == key && catalog.Key(t.Name) != key {
				out = appendNew(out, t.Name.String())
			}
		}
	})
	slices.Sort(out)
	return out
}

// foreignKeyRef returns the table a dropped foreign key references, when the
// model knows the constraint and it references another table.
func foreignKeyRef(cat *catalog.Catalog, x *change.DropConstraint) *change.QName {
	t := cat.Table(x.Table)
	if t == nil {
		return nil
	}
	k := t.Constraint(x.Name)
	if k == nil || k.Kind != change.ConstraintForeignKey || k.RefTable == nil || catalog.Key(*k.RefTable) == catalog.Key(x.Table) {
		return nil
	}
	return k.RefTable
}

// indexed reports whether an index the model knows covers the column.
func indexed(cat *catalog.Catalog, table change.QName, col string) bool {
	t := cat.Table(table)
	if t == nil {
		return false
	}
	for _, ix := range cat.IndexesOf(t) {
		if slices.ContainsFunc(ix.Columns, func(c string) bool { return strings.EqualFold(c, col) }) {
			return true
		}
	}
	return false
}

// exprIndexOn returns the name of an index whose expressions or predicate
// read the column, or "".
func exprIndexOn(cat *catalog.Catalog, table change.QName, col string) string {
	t := cat.Table(table)
	if t == nil {
		return ""
	}
	for _, ix := range cat.IndexesOf(t) {
		if slices.ContainsFunc(ix.Reads, func(c string) bool { return strings.EqualFold(c, col) }) {
			return ix.Name
		}
	}
	return ""
}

// validNotNullCheck returns the name of a validated CHECK (col IS NOT NULL).
func validNotNullCheck(cat *catalog.Catalog, table change.QName, col string) string {
	t := cat.Table(table)
	if t == nil {
		return ""
	}
	for _, k := range t.Constraints {
		if k.Kind == change.ConstraintCheck && k.Validated && strings.EqualFold(k.NotNullOf, col) {
			return k.Name
		}
	}
	return ""
}

func (d *Dialect) addConstraint(x *change.AddConstraint, cat *catalog.Catalog) change.Effect {
	k := x.Constraint
	switch k.Kind {
	case change.ConstraintForeignKey:
		e := effect(shareRowExclusive, x.Table, change.WorkScan)
		if k.RefTable != nil {
			e.Note = "and a SHARE ROW EXCLUSIVE lock on " + k.RefTable.String()
		}
		if k.NotValid {
			e.Work = change.WorkNone
		}
		return e
	case change.ConstraintCheck:
		if k.NotValid {
			return effect(accessExclusive, x.Table, change.WorkNone)
		}
		return effect(accessExclusive, x.Table, change.WorkScan)
	case change.ConstraintUnique, change.ConstraintPrimaryKey:
		if k.UsingIndex != "" {
			e := effect(accessExclusive, x.Table, change.WorkNone)
			if k.Kind == change.ConstraintPrimaryKey {
				if cols := nullableIndexColumns(cat, x.Table, k.UsingIndex); len(cols) > 0 {
					e.Work = change.WorkScan
					e.Note = "the primary key makes " + strings.Join(cols, ", ") + " NOT NULL, which scans the table"
				}
			}
			return e
		}
		return effect(accessExclusive, x.Table, change.WorkIndexBuild)
	case change.ConstraintExclusion:
		return effect(accessExclusive, x.Table, change.WorkIndexBuild)
	}
	return effect(accessExclusive, x.Table, change.WorkNone)
}

// nullableIndexColumns returns the columns of an index that the migrations
// created nullable. Columns the model does not know are given the benefit
// of the doubt.
func nullableIndexColumns(cat *catalog.Catalog, table change.QName, index string) []string {
	t := cat.Table(table)
	ix := cat.Index(change.QName{Schema: table.Schema, Name: index})
	if t == nil || ix == nil {
		return nil
	}
	var out []string
	for _, c := range ix.Columns {
		col := t.Column(c)
		if col != nil && !col.NotNull && !col.Origin.Base {
			out = append(out, c)
		}
	}
	return out
}

// columnOf returns a column the model knows, or nil.
func columnOf(cat *catalog.Catalog, table change.QName, col string) *catalog.Column {
	if t := cat.Table(table); t != nil {
		return t.Column(col)
	}
	return nil
}

// currentType returns the type the model knows for the column an ALTER
// COLUMN TYPE changes, or nil.
func currentType(cat *catalog.Catalog, x *change.AlterColumnType) *change.Type {
	if c := columnOf(cat, x.Table, x.Column); c != nil && c.Type.Name != "" {
		return &c.Type
	}
	return nil
}

// opclassChanges reports whether a binary-coercible type change moves the
// column's indexes to another operator class: citext compares without
// case, text and varchar with it; timestamp and timestamptz have operator
// classes of their own.
func opclassChanges(from, to change.Type) bool {
	return (from.Name == "citext") != (to.Name == "citext") || from.Name != to.Name && (from.Name == "timestamptz" || to.Name == "timestamptz")
}

// utcZones are the time zones with a fixed offset of zero, in which
// PostgreSQL 12 and later change timestamp to timestamptz (and back)
// without a rewrite.
var utcZones = map[string]bool{
	"utc": true, "etc/utc": true, "gmt": true, "etc/gmt": true, "uct": true, "etc/uct": true,
	"universal": true, "etc/universal": true, "zulu": true, "etc/zulu": true, "greenwich": true,
	"etc/greenwich": true, "gmt0": true, "etc/gmt0": true, "gmt+0": true, "gmt-0": true,
	"etc/gmt+0": true, "etc/gmt-0": true, "0": true,
}

// binaryCoercible decides whether ALTER COLUMN TYPE can skip the rewrite,
// which needs the column's current type from the replayed history.
func (d *Dialect) binaryCoercible(x *change.AlterColumnType, cat *catalog.Catalog, sess analyzer.Session) (string, bool) {
	col := columnOf(cat, x.Table, x.Column)
	if x.Using {
		return "a USING expression rewrites every row", false
	}
	if col == nil || col.Type.Name == "" {
		return "the column's current type is unknown (not created by these migrations), so a rewrite is assumed", false
	}
	from, to := col.Type, x.NewType
	if from.Array != to.Array {
		return "", false
	}
	ok := false
	switch {
	case from.Name == to.Name && slices.Equal(from.Mods, to.Mods):
		ok = true
	case from.Name == "varchar" && to.Name == "text",
		from.Name == "text" && to.Name == "varchar" && len(to.Mods) == 0,
		from.Name == "citext" && to.Name == "text", from.Name == "text" && to.Name == "citext",
		from.Name == "varchar" && to.Name == "citext",
		from.Name == "citext" && to.Name == "varchar" && len(to.Mods) == 0,
		from.Name == "cidr" && to.Name == "inet",
		from.Name == "xml" && to.Name == "text":
		ok = true
	case from.Name == to.Name && (from.Name == "varchar" || from.Name == "varbit"):
		ok = len(to.Mods) == 0 || (len(from.Mods) > 0 && to.Mods[0] >= from.Mods[0])
	case from.Name == to.Name && (from.Name == "timestamp" || from.Name == "timestamptz" || from.Name == "time" || from.Name == "timetz"):
		// more fractional digits, or the default (6): no rewrite
		ok = len(to.Mods) == 0 || (len(from.Mods) > 0 && to.Mods[0] >= from.Mods[0])
	case from.Name == "interval" && to.Name == "interval":
		ok = intervalCoercible(from.Mods, to.Mods)
	case from.Name == "numeric" && to.Name == "numeric":
		switch {
		case len(to.Mods) == 0:
			ok = true
		case len(from.Mods) > 0:
			fs, ts := scale(from.Mods), scale(to.Mods)
			ok = fs == ts && to.Mods[0] >= from.Mods[0]
		}
	}
	if ok {
		return "no rewrite: " + from.String() + " → " + to.String() + " is binary coercible", true
	}
	if (from.Name == "timestamp" && to.Name == "timestamptz" || from.Name == "timestamptz" && to.Name == "timestamp") &&
		from.Array == to.Array {
		// PostgreSQL 12 skips it when the session's time zone is UTC
		// (and the precision does not drop)
		keeps := len(to.Mods) == 0 || (len(from.Mods) > 0 && to.Mods[0] >= from.Mods[0])
		if keeps && d.target.AtLeast(12, 0, 0) && utcZones[strings.ToLower(strings.TrimSpace(sess.TimeZone))] {
			return "no rewrite: the session's TimeZone is " + sess.TimeZone + ", so " + from.String() + " → " + to.String() + " keeps every stored value", true
		}
		return from.String() + " → " + to.String() + " rewrites every row, unless the session's TimeZone is UTC (PostgreSQL 12 and later then skip the rewrite)", false
	}
	return from.String() + " → " + to.String() + " rewrites every row", false
}

func scale(m []int) int {
	if len(m) > 1 {
		return m[1]
	}
	return 0
}

func appendNote(note, more string) string {
	if note == "" {
		return more
	}
	return note + "; " + more
}

// intervalCoercible mirrors PostgreSQL's interval_support: a change of an
// interval's typmod (fields and fractional precision, as the grammar writes
// them: [range mask, precision]) needs no rewrite when its least field stays
// or gets smaller and, for ranges down to SECOND, its precision does not
// drop.
func intervalCoercible(from, to []int) bool {
	if len(to) == 0 {
		return true
	}
	least := func(m []int) int {
		if len(m) == 0 {
			return 0
		}
		return intervalLeastField(m[0])
	}
	precision := func(m []int) int {
		if len(m) > 1 {
			return m[1]
		}
		return 6 // the full precision
	}
	oldLeast, newLeast := least(from), least(to)
	return newLeast <= oldLeast && (oldLeast > 0 || precision(to) >= 6 || precision(to) >= precision(from))
}

// intervalLeastField is the smallest unit of an interval range mask:
// 0 SECOND, 1 MINUTE, 2 HOUR, 3 DAY, 4 MONTH, 5 YEAR (the bits are
// PostgreSQL's datetime.h field numbers).
func intervalLeastField(mask int) int {
	const (
		month, year, day, hour, minute, second = 1 << 1, 1 << 2, 1 << 3, 1 << 10, 1 << 11, 1 << 12
	)
	switch {
	case mask == 0x7FFF || mask&second != 0:
		return 0
	case mask&minute != 0:
		return 1
	case mask&hour != 0:
		return 2
	case mask&day != 0:
		return 3
	case mask&month != 0:
		return 4
	case mask&year != 0:
		return 5
	}
	return 0
}

// domainEffect is what ALTER DOMAIN does to the tables with a column of
// the domain: one that checks the stored values reads each of them under
// a SHARE lock, which blocks writes (checked on a real server).
func domainEffect(x *change.AlterDomain, cat *catalog.Catalog) change.Effect {
	if !x.Checks {
		return change.Effect{}
	}
	return onTypeUsers(share, change.WorkScan, x.Domain.String(), cat)
}

// onTypeUsers is a lock on each table of the schema model with a column of
// the named type or domain, or no effect when there is none.
func onTypeUsers(mode string, work change.Work, typ string, cat *catalog.Catalog) change.Effect {
	// column types are canonical lower-case names
	name := strings.ToLower(typ[strings.LastIndexByte(typ, '.')+1:])
	var users []change.QName
	// none when the history has asked too many such questions
	// (catalog.EachTable): no claim is made
	cat.EachTable(func(t *catalog.Table) {
		if t.View {
			return
		}
		for _, c := range t.Columns {
			if c.Type.Name == name {
				users = append(users, t.Name)
				return
			}
		}
	})
	if len(users) == 0 {
		return change.Effect{}
	}
	first := slices.MinFunc(users, func(a, b change.QName) int {
		return cmp.Or(strings.Compare(a.Schema, b.Schema), strings.Compare(a.Name, b.Name))
	})
	e := effect(mode, first, work)
	if len(users) > 1 {
		e.Note = "and on every other table with a column of " + typ + " (" + strconv.Itoa(len(users)) + " in all)"
	}
	return e
}
