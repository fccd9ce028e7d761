package mysql

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

// Lock wordings.
const (
	mdlBrief  = "metadata lock (exclusive only briefly, at the start and the end)"
	mdlShared = "shared table lock (LOCK=SHARED)"
	mdlExcl   = "exclusive table lock (LOCK=EXCLUSIVE)"
	mdlOnly   = "exclusive metadata"
)

// clause is the physics of one change of an ALTER statement.
type clause struct {
	ch   change.Change
	op   op
	row  row
	fall row
	why  string // what the clause does, for "because of …"
	note string
	// dropped marks the index clause of a DROP COLUMN, which does not keep
	// the column's drop from being instant (checked on MariaDB 10.11)
	dropped bool
}

// Analyze implements analyzer.Dialect: it gives every change its effect on
// the target version. The clauses of one ALTER TABLE (or CREATE/DROP INDEX)
// run as one operation whose algorithm is the most expensive of theirs; the
// statement's AlterOptions change carries that combined effect, and says
// when the server would refuse an explicit ALGORITHM= or LOCK=.
func (d *Dialect) Analyze(stmt *analyzer.Statement, cat *catalog.Catalog) {
	cls, opts := d.alterClauses(stmt, cat)
	if opts == nil {
		return
	}
	worst, comb, fall := combine(cls)
	if worst == nil {
		// nothing but options (ALTER TABLE t ALGORITHM=INSTANT)
		opts.Effect = change.Effect{Algorithm: instant, Lock: mdlBrief, On: opts.Table.String(), Request: "ALGORITHM=INSTANT"}
		return
	}
	opts.Refused = d.refused(capOf(comb), opts, worst.op)
	opts.Effect = d.effect(comb, fall, opts.Algorithm, opts.Lock, opts.Table, worst.note)
	if opts.Refused == "" && requested(opts) == opts.Effect.Request {
		// the statement already asks for the cheap path: the server
		// fails instead of copying
		opts.Effect.Request = ""
	}
	d.dropIndexForm(stmt, opts)
	because := "the statement runs as " + algPhrase(capOf(comb)) + " because of " + worst.why
	for _, c := range cls {
		// every clause reports what the statement as a whole does
		e := opts.Effect
		if c != worst && capOf(c.row).level() < capOf(comb).level() {
			e.Note = strings.TrimPrefix(c.note+"; "+because, "; ")
			e.Clause = c.row.alg
		} else if c != worst {
			e.Note = c.note
		} else if c.row.alg == instant && comb.alg != instant {
			// instant alone, but the other clauses make it run its
			// non-instant way
			e.Clause = instant
			e.Note = strings.TrimPrefix(c.fall.note+"; "+c.why+" is instant alone, but not with the statement's other clauses", "; ")
		}
		c.ch.Base().Effect = e
	}
}

// dropIndexForm: MariaDB takes no ALGORITHM= or LOCK= on DROP INDEX … ON t
// (ERROR 1064, checked on MariaDB 10.11), so the advice and a refusal name
// the ALTER TABLE form that takes them.
func (d *Dialect) dropIndexForm(stmt *analyzer.Statement, opts *change.AlterOptions) {
	if !d.mariadb() || stmt.Kind != "DROP INDEX" {
		return
	}
	var name string
	for _, ch := range stmt.Changes {
		if x, ok := ch.(*change.DropIndex); ok {
			name = x.Name.Name
		}
	}
	alter := "ALTER TABLE " + opts.Table.String() + " DROP INDEX " + name + ", "
	if opts.Algorithm != "" || opts.Lock != "" {
		opts.Refused = "MariaDB takes no ALGORITHM= or LOCK= on DROP INDEX … ON " + opts.Table.String() + " (ERROR 1064): write " + alter + "ALGORITHM=INPLACE, LOCK=NONE"
	}
	if opts.Effect.Request != "" {
		opts.Effect.Request = alter + opts.Effect.Request
	}
}

// alterClauses classifies the changes of a statement: the clauses of an
// ALTER TABLE (CREATE/DROP INDEX) get their own effect, the other changes
// theirs. opts is the statement's AlterOptions, nil for other statements.
func (d *Dialect) alterClauses(stmt *analyzer.Statement, cat *catalog.Catalog) (cls []*clause, opts *change.AlterOptions) {
	for _, ch := range stmt.Changes {
		if o, ok := ch.(*change.AlterOptions); ok {
			opts = o
			continue
		}
		if c := d.classify(ch, stmt, cat); c != nil {
			// an inline PRIMARY KEY or UNIQUE in ADD COLUMN or MODIFY adds
			// an index too (before the column, so that the column's own
			// effect is the one it keeps)
			cls = append(cls, d.inlineKeys(c, stmt, cat)...)
			cls = append(cls, c)
			ch.Base().Effect = d.effect(c.row, c.fall, "", "", tableOf(ch), c.note)
			continue
		}
		ch.Base().Effect = d.otherEffect(ch)
	}
	if opts != nil {
		// DROP PRIMARY KEY with ADD PRIMARY KEY in the same statement is
		// one in-place rebuild.
		d.replacePrimaryKey(cls)
	}
	return cls, opts
}

// inlineKeys are the index clauses of an ADD COLUMN or MODIFY/CHANGE that
// declares the column PRIMARY KEY or UNIQUE, and of a DROP COLUMN of an
// indexed column (its index is dropped or rebuilt with it).
func (d *Dialect) inlineKeys(c *clause, stmt *analyzer.Statement, cat *catalog.Catalog) []*clause {
	var out []*clause
	add := func(o op, why string) {
		k := &clause{ch: c.ch, op: o, why: why}
		r, f, ok := d.lookup(o)
		if !ok {
			r = row{op: o, alg: copyAlg, rebuild: true}
			f = r
		}
		k.row, k.fall, k.note = r, f, r.note
		out = append(out, k)
	}
	var col *change.Column
	switch x := c.ch.(type) {
	case *change.AddConstraint:
		if x.Constraint.Kind == change.ConstraintForeignKey && !indexedBy(x.Table, x.Constraint.Columns, stmt, cat) {
			// checked on MariaDB 10.11: the key needs an index on its
			// columns, which the server builds
			add(opAddIndex, "the index the foreign key needs")
		}
		return out
	case *change.AddColumn:
		col = &x.Column
	case *change.AlterColumnType:
		col = x.NewColumn
	case *change.DropColumn:
		t := cat.Table(x.Table)
		if t == nil {
			return nil
		}
		// checked on MariaDB 10.11: the column's indexes go with it, which
		// is not instant
		rebuild := func(why string) {
			r := row{op: opDropColumn, alg: inplace, rebuild: true, dml: true, note: why + " rebuilds the table"}
			out = append(out, &clause{ch: c.ch, op: opDropColumn, why: why, row: r, fall: r, note: r.note})
		}
		for _, k := range t.Constraints {
			if k.Kind != change.ConstraintPrimaryKey || !slices.ContainsFunc(k.Columns, func(n string) bool { return strings.EqualFold(n, x.Column) }) {
				continue
			}
			if len(k.Columns) == 1 {
				add(opDropPrimaryKey, "dropping the primary key with the column")
			} else {
				rebuild("dropping the column from the primary key")
			}
			return out
		}
		for _, ix := range cat.IndexesOf(t) {
			if !slices.ContainsFunc(ix.Columns, func(n string) bool { return strings.EqualFold(n, x.Column) }) {
				continue
			}
			if d.mariadb() && len(ix.Columns) == 1 {
				add(opDropIndex, "dropping index "+ix.Name+" with the column")
				out[len(out)-1].dropped = true
			} else {
				// MySQL drops a column in place only by rebuilding the
				// table; an index that keeps other columns is rebuilt
				rebuild("dropping the column from index " + ix.Name)
			}
			return out
		}
		return nil
	}
	if col == nil {
		return nil
	}
	if col.PrimaryKey {
		add(opAddPrimaryKey, "the PRIMARY KEY of "+col.Name)
	}
	if col.Unique {
		add(opAddIndex, "the UNIQUE index of "+col.Name)
	}
	if col.References != nil {
		// an inline REFERENCES (honoured by MariaDB and MySQL 9) adds a
		// foreign key
		o := opAddForeignKey
		if fkChecksOff(stmt) {
			o = opAddForeignKeyNoCheck
		}
		add(o, "the FOREIGN KEY of "+col.Name)
		if !col.Unique && !col.PrimaryKey {
			add(opAddIndex, "the index the foreign key needs")
		}
	}
	return out
}

// combine is what the server can do for the clauses together: the most
// expensive algorithm of them, concurrent DML only if every clause allows
// it. worst is the clause that decides; nil when there is none.
//
// A statement is instant only if every clause is: otherwise each clause
// runs its non-instant way (checked on MariaDB 10.11: ADD COLUMN with
// ADD INDEX rebuilds the table; MySQL documents the same).
func combine(cls []*clause) (worst *clause, comb, fall row) {
	allInstant := true
	for _, c := range cls {
		if c.row.alg != instant && !c.dropped {
			allInstant = false
		}
	}
	eff := func(c *clause) row {
		if !allInstant && c.row.alg == instant {
			return c.fall
		}
		return c.row
	}
	for _, c := range cls {
		if worst == nil || capOf(eff(c)).level() > capOf(eff(worst)).level() || (capOf(eff(c)).level() == capOf(eff(worst)).level() && eff(worst).dml && !eff(c).dml) {
			worst = c
		}
	}
	if worst == nil {
		return nil, row{}, row{}
	}
	comb, fall = eff(worst), worst.fall
	for _, c := range cls {
		comb.dml = comb.dml && eff(c).dml
		fall.dml = fall.dml && c.fall.dml
		if c.fall.rebuild {
			fall.rebuild = true
		}
	}
	return worst, comb, fall
}

// requested is the cheap-path request the statement's options make, in
// the words of Effect.Request.
func requested(o *change.AlterOptions) string {
	switch {
	case o.Algorithm == "INSTANT" && o.Lock == "":
		return "ALGORITHM=INSTANT"
	case (o.Algorithm == "INPLACE" || o.Algorithm == "NOCOPY") && o.Lock == "NONE":
		return "ALGORITHM=INPLACE, LOCK=NONE"
	}
	return "-"
}

func capOf(r row) capability { return capability{alg: r.alg, rebuild: r.rebuild, dml: r.dml} }

func algPhrase(c capability) string {
	switch {
	case c.alg == instant:
		return "ALGORITHM=INSTANT"
	case c.alg == inplace && c.rebuild:
		return "ALGORITHM=INPLACE with a table rebuild"
	case c.alg == inplace:
		return "ALGORITHM=INPLACE"
	}
	return "ALGORITHM=COPY"
}

func (d *Dialect) replacePrimaryKey(cls []*clause) {
	var drop, add *clause
	for _, c := range cls {
		switch c.op {
		case opDropPrimaryKey:
			drop = c
		case opAddPrimaryKey:
			add = c
		}
	}
	if drop == nil || add == nil {
		return
	}
	if r, f, ok := d.lookup(opReplacePrimaryKey); ok {
		drop.op, drop.row, drop.fall = opReplacePrimaryKey, r, f
		drop.note = "dropping and adding the primary key in one statement is one in-place rebuild"
	}
}

// effect builds the effect of a capability under explicit options.
func (d *Dialect) effect(r, fall row, alg, lock string, table change.QName, note string) change.Effect {
	c := capOf(r)
	e := change.Effect{On: table.String(), Note: note}
	switch {
	case c.alg == instant:
		e.Request = "ALGORITHM=INSTANT"
	case c.alg == inplace && c.dml:
		e.Request = "ALGORITHM=INPLACE, LOCK=NONE"
	}
	// what the server runs given the options (when it accepts them)
	switch alg {
	case "COPY":
		c = capability{alg: copyAlg, rebuild: true, dml: false}
	case "INPLACE", "NOCOPY":
		if c.alg == instant && !d.mariadb() {
			c = capOf(fall)
		}
	}
	if c.alg == instant && (lock == "SHARED" || lock == "EXCLUSIVE") && alg == "" {
		c = capOf(fall)
	}
	e.Algorithm = c.alg
	if d.mariadb() && c.alg == inplace && !c.rebuild {
		e.Algorithm = "NOCOPY"
	}
	switch {
	case lock == "EXCLUSIVE":
		e.Lock, e.Blocks = mdlExcl, change.BlocksReadsAndWrites
	case c.alg == instant && lock == "":
		e.Lock, e.Blocks = mdlBrief, change.BlocksNothing
	case lock == "SHARED" || !c.dml:
		e.Lock, e.Blocks = mdlShared, change.BlocksWrites
	default:
		e.Lock, e.Blocks = mdlBrief, change.BlocksNothing
	}
	switch {
	case c.alg == instant:
		e.Work = change.WorkNone
	case c.rebuild || c.alg == copyAlg:
		e.Work = change.WorkRewrite
	case r.op == opAddIndex || r.op == opAddSpatial || r.op == opAddFulltext:
		e.Work = change.WorkIndexBuild
	default:
		e.Work = change.WorkNone
	}
	return e
}

// refused says why the server refuses explicit options, or "".
func (d *Dialect) refused(c capability, o *change.AlterOptions, worst op) string {
	t := d.target.String()
	what := opNames[worst]
	switch o.Algorithm {
	case "INSTANT":
		if !d.mariadb() && o.Lock != "" && o.Lock != "DEFAULT" {
			return "MySQL refuses ALGORITHM=INSTANT together with LOCK=" + o.Lock + " (ERROR 1221): drop the LOCK= clause"
		}
		if !d.mariadb() && !d.target.AtLeast(8, 0, 12) {
			return t + " has no ALGORITHM=INSTANT (it arrived in MySQL 8.0.12)"
		}
		if c.alg != instant {
			return t + " cannot run " + what + " with ALGORITHM=INSTANT (it needs " + algPhrase(c) + "), so the statement fails (ERROR 1845/1846)"
		}
	case "NOCOPY":
		if !d.mariadb() {
			return "ALGORITHM=NOCOPY is MariaDB syntax; MySQL rejects it"
		}
		if c.level() > 1 {
			return t + " cannot run " + what + " with ALGORITHM=NOCOPY (it needs " + algPhrase(c) + "), so the statement fails"
		}
	case "INPLACE":
		if c.alg == copyAlg {
			return t + " cannot run " + what + " in place (it needs ALGORITHM=COPY), so ALGORITHM=INPLACE makes the statement fail (ERROR 1846)"
		}
	}
	if o.Lock == "NONE" && (!c.dml || o.Algorithm == "COPY") {
		return t + " cannot let writes through while it runs " + what + ", so LOCK=NONE makes the statement fail (ERROR 1846)"
	}
	return ""
}

func tableOf(ch change.Change) change.QName {
	switch x := ch.(type) {
	case *change.AddColumn:
		return x.Table
	case *change.DropColumn:
		return x.Table
	case *change.RenameColumn:
		return x.Table
	case *change.AlterColumnType:
		return x.Table
	case *change.SetDefault:
		return x.Table
	case *change.AddConstraint:
		return x.Table
	case *change.DropConstraint:
		return x.Table
	case *change.CreateIndex:
		return x.Table
	case *change.DropIndex:
		if x.Table != nil {
			return *x.Table
		}
	case *change.RenameOther:
		if x.Table != nil {
			return *x.Table
		}
	case *change.RenameTable:
		return x.Table
	case *change.TableRewrite:
		return x.Table
	case *change.ConvertCharset:
		return x.Table
	case *change.AlterTableOther:
		return x.Table
	}
	return change.QName{}
}

// classify finds the Online DDL operation of a change of an ALTER TABLE,
// CREATE INDEX or DROP INDEX statement; nil for other changes.
func (d *Dialect) classify(ch change.Change, stmt *analyzer.Statement, cat *catalog.Catalog) *clause {
	if !isAlterKind(stmt.Kind) {
		return nil
	}
	c := &clause{ch: ch}
	switch x := ch.(type) {
	case *change.AddColumn:
		c.op, c.why = addColumnOp(x.Column), "ADD COLUMN "+x.Column.Name
	case *change.DropColumn:
		c.op, c.why = opDropColumn, "DROP COLUMN "+x.Column
		if t := cat.Table(x.Table); t != nil {
			if col := t.Column(x.Column); col != nil && col.Generated == "virtual" {
				c.op = opDropColumnVirtual
			}
		}
	case *change.RenameColumn:
		c.op, c.why = opRenameColumn, "RENAME COLUMN "+x.Old
	case *change.AlterColumnType:
		c.op, c.note = d.modifyOp(x, stmt, cat)
		c.why = "MODIFY " + x.Column
	case *change.SetDefault:
		c.op, c.why = opSetDefault, "ALTER COLUMN "+x.Column
	case *change.AddConstraint:
		switch x.Constraint.Kind {
		case change.ConstraintPrimaryKey:
			c.op = opAddPrimaryKey
		case change.ConstraintUnique:
			c.op = opAddIndex
		case change.ConstraintForeignKey:
			c.op = opAddForeignKey
			if fkChecksOff(stmt) {
				c.op = opAddForeignKeyNoCheck
			}
		case change.ConstraintCheck:
			c.op = opAddCheck
		default:
			return nil
		}
		c.why = "ADD " + x.Constraint.Kind.String()
	case *change.DropConstraint:
		switch x.Kind {
		case change.ConstraintPrimaryKey:
			c.op = opDropPrimaryKey
		case change.ConstraintForeignKey:
			c.op = opDropForeignKey
		default:
			c.op = opDropCheck
		}
		c.why = "DROP " + x.Kind.String()
	case *change.CreateIndex:
		switch x.Kind {
		case change.IndexFulltext:
			c.op = opAddFulltext
		case change.IndexSpatial:
			c.op = opAddSpatial
		default:
			c.op = opAddIndex
		}
		c.why = "ADD INDEX"
	case *change.DropIndex:
		c.op, c.why = opDropIndex, "DROP INDEX "+x.Name.Name
	case *change.RenameOther:
		c.op, c.why = opRenameIndex, "RENAME INDEX"
	case *change.RenameTable:
		c.op, c.why = opRenameTable, "RENAME TO"
	case *change.TableRewrite:
		c.op, c.why = opRebuild, x.Action
		if x.Action == "ROW_FORMAT" || x.Action == "KEY_BLOCK_SIZE" {
			c.op = opRowFormat
		}
		switch x.Action {
		case "ORDER BY":
			c.op = opChangeType // a copy
			c.note = "ORDER BY copies the table in the new order"
		case "PARTITION BY", "REMOVE PARTITIONING":
			c.op = opChangeType // a copy
			c.note = "(re)partitioning copies every row into the new layout"
		}
	case *change.ConvertCharset:
		c.op, c.why = opConvertCharset, "CONVERT TO CHARACTER SET"
		if x.Column == "" && d.convertUnchanged(x, cat) {
			// checked on MariaDB 10.11: only the default is restated
			x.Unchanged = true
			c.op, c.note = opTableCharset, "the table and its columns already have "+x.Charset+" and that collation: no row is converted"
		} else if o, note, ok := d.convertCollation(x, cat); ok {
			c.op, c.note = o, note
			x.Unchanged = o != opChangeType
		}
	case *change.AlterTableOther:
		switch x.Action {
		case "DEFAULT CHARACTER SET", "DEFAULT COLLATE":
			c.op = opTableCharset
		case "AUTO_INCREMENT":
			c.op = opAutoIncrement
		default:
			c.op = opTableMetadata
		}
		c.why = x.Action
	default:
		return nil
	}
	r, f, ok := d.lookup(c.op)
	if !ok {
		// the operation does not exist on that version (e.g. CHECK before
		// 8.0.16): assume a copy
		r = row{op: c.op, alg: copyAlg, rebuild: true}
		f = r
	}
	switch {
	case hasFulltext(tableOf(ch), cat) && c.op == opAddFulltext:
		// only the first FULLTEXT index rebuilds the table (it adds the
		// hidden FTS_DOC_ID column)
		r.rebuild, f.rebuild = false, false
		r.note, f.note = "the table already has a FULLTEXT index, so this one is built without a rebuild, but writes wait for the whole build", ""
	case hasFulltext(tableOf(ch), cat):
		r, f = withFulltext(r), withFulltext(f)
	case d.mariadb() && indexedVirtual(tableOf(ch), cat):
		r, f = mariadbIndexedVirtual(r), mariadbIndexedVirtual(f)
		if x, ok := ch.(*change.DropColumn); ok && c.op == opDropColumn && !beforeIndexedVirtual(x, cat) {
			// checked on MariaDB 10.11: a column after the indexed VIRTUAL
			// columns is dropped by an in-place rebuild that blocks writes
			r = row{op: c.op, flavor: r.flavor, since: r.since, alg: inplace, rebuild: true, note: "with an indexed VIRTUAL column, MariaDB rebuilds the table while writes wait"}
			f = r
		}
	}
	if c.op == opAddIndex && becomesClusteredKey(ch, cat) {
		// checked on MariaDB 10.11 (InnoDB, so MySQL too): the first UNIQUE
		// index on NOT NULL columns of a table without a primary key
		// becomes its clustered index
		if pr, pf, ok := d.lookup(opAddPrimaryKey); ok {
			r, f = pr, pf
			r.note = "on a table without a primary key, a UNIQUE index on NOT NULL columns becomes the clustered index, which rebuilds the table"
		}
	}
	c.row, c.fall = r, f
	if c.note == "" {
		c.note = r.note
	}
	return c
}

// indexedBy reports whether an index of the table, or one the statement
// adds, starts with the columns.
func indexedBy(q change.QName, cols []string, stmt *analyzer.Statement, cat *catalog.Catalog) bool {
	starts := func(ix []string) bool {
		if len(ix) < len(cols) || len(cols) == 0 {
			return false
		}
		for i, c := range cols {
			if !strings.EqualFold(ix[i], c) {
				return false
			}
		}
		return true
	}
	if t := cat.Table(q); t != nil {
		for _, ix := range cat.IndexesOf(t) {
			if starts(ix.Columns) {
				return true
			}
		}
		for _, k := range t.Constraints {
			if (k.Kind == change.ConstraintPrimaryKey || k.Kind == change.ConstraintUnique) && starts(k.Columns) {
				return true
			}
		}
	} else {
		return true // unknown table: assume the index exists
	}
	for _, ch := range stmt.Changes {
		switch x := ch.(type) {
		case *change.CreateIndex:
			if starts(x.Columns) {
				return true
			}
		case *change.AddConstraint:
			if x.Constraint.Kind != change.ConstraintForeignKey && starts(x.Constraint.Columns) {
				return true
			}
		}
	}
	return false
}

func fkChecksOff(stmt *analyzer.Statement) bool {
	return stmt.Session.ForeignKeyChecks == "0" || strings.EqualFold(stmt.Session.ForeignKeyChecks, "off")
}

// indexedVirtual reports whether a table has an index on a VIRTUAL column.
func indexedVirtual(q change.QName, cat *catalog.Catalog) bool {
	t := cat.Table(q)
	if t == nil {
		return false
	}
	for _, ix := range cat.IndexesOf(t) {
		for _, n := range ix.Columns {
			if col := t.Column(n); col != nil && col.Generated == "virtual" {
				return true
			}
		}
	}
	return false
}

// beforeIndexedVirtual reports whether a dropped column stands before an
// indexed VIRTUAL column of its table.
func beforeIndexedVirtual(x *change.DropColumn, cat *catalog.Catalog) bool {
	t := cat.Table(x.Table)
	if t == nil {
		return true
	}
	indexed := map[string]bool{}
	for _, ix := range cat.IndexesOf(t) {
		for _, n := range ix.Columns {
			indexed[strings.ToLower(n)] = true
		}
	}
	seen := false
	for _, col := range t.Columns {
		if strings.EqualFold(col.Name, x.Column) {
			seen = true
			continue
		}
		if seen && col.Generated == "virtual" && indexed[strings.ToLower(col.Name)] {
			return true
		}
	}
	return false
}

// becomesClusteredKey reports whether a UNIQUE index added to a table
// without a primary key (nor a UNIQUE index on NOT NULL columns already)
// is on NOT NULL columns only, which makes it InnoDB's clustered index.
func becomesClusteredKey(ch change.Change, cat *catalog.Catalog) bool {
	var q change.QName
	var cols []string
	switch x := ch.(type) {
	case *change.CreateIndex:
		if !x.Unique || x.Kind != change.IndexPlain {
			return false
		}
		q, cols = x.Table, x.Columns
	case *change.AddConstraint:
		if x.Constraint.Kind != change.ConstraintUnique {
			return false
		}
		q, cols = x.Table, x.Constraint.Columns
	default:
		return false
	}
	t := cat.Table(q)
	if t == nil || len(cols) == 0 {
		return false
	}
	notNull := func(cols []string) bool {
		for _, n := range cols {
			col := t.Column(n)
			if col == nil || !col.NotNull {
				return false
			}
		}
		return true
	}
	for _, k := range t.Constraints {
		if k.Kind == change.ConstraintPrimaryKey || (k.Kind == change.ConstraintUnique && notNull(k.Columns)) {
			return false
		}
	}
	for _, ix := range cat.IndexesOf(t) {
		if ix.Unique && notNull(ix.Columns) {
			return false
		}
	}
	return notNull(cols)
}

// hasFulltext reports whether a table has a FULLTEXT index.
func hasFulltext(q change.QName, cat *catalog.Catalog) bool {
	t := cat.Table(q)
	return t != nil && t.HasFulltext()
}

// withFulltext is what the server can do on a table with a FULLTEXT index
// (checked on MariaDB 10.11; MySQL documents the same): no instant ADD or
// DROP COLUMN, and no rebuild with concurrent writes.
func withFulltext(r row) row {
	const why = "with a FULLTEXT index, columns are not added or dropped instantly and the table is not rebuilt with writes allowed"
	switch r.op {
	case opAddColumn, opAddColumnExprDefault, opAddColumnPositioned, opDropColumn, opReorderColumn:
		if r.alg == instant {
			return row{op: r.op, flavor: r.flavor, since: r.since, alg: inplace, rebuild: true, note: why}
		}
	}
	if r.rebuild && r.dml {
		r.dml, r.note = false, why
	}
	return r
}

// mariadbIndexedVirtual is what MariaDB can do on a table with an indexed
// VIRTUAL column (checked on MariaDB 10.11): no instant ADD or DROP COLUMN
// (adding at the end rebuilds, the rest copies), and no rebuild with
// LOCK=NONE ("online rebuild with indexed virtual columns").
func mariadbIndexedVirtual(r row) row {
	const why = "with an indexed VIRTUAL column, MariaDB cannot add or drop columns instantly nor rebuild the table with writes allowed"
	switch r.op {
	case opAddColumn, opAddColumnExprDefault:
		return row{op: r.op, flavor: r.flavor, since: r.since, alg: inplace, rebuild: true, note: why}
	case opAddColumnPositioned, opDropColumn:
		return row{op: r.op, flavor: r.flavor, since: r.since, alg: copyAlg, rebuild: true, note: why}
	}
	if r.rebuild && r.dml {
		r.dml, r.note = false, why
	}
	return r
}

func isAlterKind(k string) bool {
	switch k {
	case "ALTER TABLE", "CREATE INDEX", "DROP INDEX":
		return true
	}
	return false
}

func addColumnOp(c change.Column) op {
	switch {
	case c.AutoIncrement:
		return opAddColumnAutoInc
	case c.Generated == "stored":
		return opAddColumnStored
	case c.Generated == "virtual":
		return opAddColumnVirtual
	case c.Default != nil && strings.HasPrefix(c.Default.Text, "(") && c.Default.Volatile:
		return opAddColumnVolatileDflt
	case c.Default != nil && strings.HasPrefix(c.Default.Text, "(") && !c.Default.Const:
		return opAddColumnExprDefault
	case c.Position != "":
		return opAddColumnPositioned
	}
	return opAddColumn
}

// currentColumn finds the column a MODIFY/CHANGE restates, following a
// rename in the same statement (CHANGE old new).
func currentColumn(x *change.AlterColumnType, stmt *analyzer.Statement, cat *catalog.Catalog) *catalog.Column {
	t := cat.Table(x.Table)
	if t == nil {
		return nil
	}
	name := x.Column
	for _, ch := range stmt.Changes {
		if r, ok := ch.(*change.RenameColumn); ok && strings.EqualFold(r.New, x.Column) {
			name = r.Old
		}
	}
	return t.Column(name)
}

// modifyOp classifies MODIFY/CHANGE by comparing the restated column with
// the one the history created, and records whether the type is unchanged.
func (d *Dialect) modifyOp(x *change.AlterColumnType, stmt *analyzer.Statement, cat *catalog.Catalog) (op, string) {
	cur := currentColumn(x, stmt, cat)
	nc := x.NewColumn
	if cur == nil || cur.Type.Name == "" || nc == nil {
		return opChangeType, "the column's current type is unknown (not created by these migrations), so a type change is assumed"
	}
	from, to := cur.Type, x.NewType
	tableCS, assumed := "", ""
	if t := cat.Table(x.Table); t != nil {
		tableCS = t.Charset
		if tableCS == "" {
			// the history does not say: the server's default
			tableCS = d.serverCharset()
			assumed = " (" + tableCS + " assumed: the table's character set is not in the history, and it is " + d.target.String() + "'s default)"
		}
		if t.InPrimaryKey(cur.Name) {
			// a primary key column stays NOT NULL when MODIFY omits it
			c := *nc
			c.NotNull = true
			nc = &c
		}
	}
	fromCS, toCS := columnCharset(from, tableCS), columnCharset(to, tableCS)
	var tcs, tcoll string
	if t := cat.Table(x.Table); t != nil {
		tcs, tcoll = d.tableCollation(t)
	}
	if isCharType(to.Name) && to.Charset == "" && toCS != "" {
		// MODIFY without CHARACTER SET gives the column the table's default
		x.NewType.Charset = toCS
		if x.NewColumn != nil {
			x.NewColumn.Type.Charset = toCS
		}
		if to.Collation == "" && toCS == tcs {
			// and its collation
			x.NewType.Collation = tcoll
			if x.NewColumn != nil {
				x.NewColumn.Type.Collation = tcoll
			}
		}
	}
	collOp, collNote := op(0), ""
	if t := cat.Table(x.Table); t != nil && isCharType(from.Name) && isCharType(to.Name) && fromCS == toCS {
		_, fromColl := d.columnCollation(from, tcs, tcoll)
		_, toColl := d.columnCollation(to, tcs, tcoll)
		if fromColl != toColl {
			collOp, collNote = d.collationOp(t, cur.Name, cat)
		}
	}
	if isCharType(from.Name) && isCharType(to.Name) && fromCS != toCS {
		if fromCS != "" && toCS != "" && from.Name == to.Name && slices.Equal(from.Mods, to.Mods) && slices.Equal(from.Values, to.Values) {
			// only the character set changes: charset-conversion's finding
			x.SameType = true
			if fromCS == "utf8mb3" && toCS == "utf8mb4" && cur.NotNull == nc.NotNull && nc.Position == "" {
				return opCharsetUtf8mb4, ""
			}
		}
		switch {
		case to.Charset == "" && toCS != "":
			return opChangeType, "without CHARACTER SET, MODIFY/CHANGE gives the column the table's default character set, so " + fromCS + " → " + toCS + " converts every row (restate CHARACTER SET " + fromCS + " to keep it)"
		case to.Charset == "" && from.Charset != "":
			return opChangeType, "without CHARACTER SET, MODIFY/CHANGE gives the column the table's default character set, so unless that is " + fromCS + " every row is converted (restate CHARACTER SET " + fromCS + " to keep it)"
		case fromCS != "" && toCS != "" && from.Charset == "":
			return opChangeType, "the character set changes from " + fromCS + " to " + toCS + ", which converts every row" + assumed
		case fromCS != "" && toCS != "":
			return opChangeType, "the character set changes from " + fromCS + " to " + toCS + ", which converts every row"
		}
	}
	same := from.Name == to.Name && slices.Equal(from.Mods, to.Mods) && slices.Equal(from.Values, to.Values) &&
		from.Unsigned == to.Unsigned
	if from.Name == to.Name && isIntType(from.Name) && from.Unsigned == to.Unsigned && slices.Equal(to.Values, from.Values) {
		// int(11) and int: the display width is not part of the type
		same = true
	}
	switch {
	case same && nc.AutoIncrement && !cur.AutoIncrement:
		return opChangeType, "adding AUTO_INCREMENT to an existing column copies the table"
	case same && !nc.AutoIncrement && cur.AutoIncrement && !d.mariadb():
		// MySQL compares the AUTO_INCREMENT flag as part of the
		// type (Field_num::is_equal); MariaDB drops it instantly
		return opChangeType, "removing AUTO_INCREMENT from a column copies the table on MySQL"
	case same && collOp == opChangeType:
		return collOp, collNote
	case same:
		x.SameType = true
		// checked on MariaDB 10.11: a NULL change with a collation change
		// is the NULL change's rebuild
		switch {
		case cur.NotNull && !nc.NotNull && !nc.PrimaryKey:
			return opMakeNull, ""
		case !cur.NotNull && (nc.NotNull || nc.PrimaryKey):
			return opMakeNotNull, "fails if a row holds NULL (strict mode)"
		case nc.Position != "":
			return opReorderColumn, ""
		case collOp != 0:
			return collOp, collNote
		}
		return opSetDefault, ""
	case from.Name == "varchar" && to.Name == "varchar" && len(from.Mods) == 1 && len(to.Mods) == 1:
		cs := toCS
		if cs == "" {
			// neither the column nor the table says: the widest common
			// character set, so that advice stays conservative
			cs = "utf8mb4"
		}
		if to.Mods[0] >= from.Mods[0] && (lengthBytes(from.Mods[0], cs) == lengthBytes(to.Mods[0], cs) || d.shortPrefixKept(from.Mods[0], cs)) {
			x.SameType = true
			switch {
			// checked on MariaDB 10.11: a NULL change with the growth is an
			// in-place rebuild that lets writes through
			case cur.NotNull && !nc.NotNull:
				return opMakeNull, ""
			case !cur.NotNull && nc.NotNull:
				return opMakeNotNull, "fails if a row holds NULL (strict mode)"
			case nc.Position != "":
				// checked on MariaDB 10.11: the move decides
				return opReorderColumn, ""
			}
			return opExtendVarchar, ""
		}
		if to.Mods[0] >= from.Mods[0] {
			return opChangeType, "VARCHAR(" + itoa(from.Mods[0]) + ") → VARCHAR(" + itoa(to.Mods[0]) + ") in " + cs + " crosses the 255-byte boundary of the length prefix, which copies the table"
		}
		return opChangeType, "shrinking a VARCHAR copies the table (and may truncate values)"
	case (from.Name == "enum" || from.Name == "set") && from.Name == to.Name && appended(from.Values, to.Values):
		if storageSize(from) == storageSize(to) {
			x.SameType = true
			// checked on MariaDB 10.11: a NULL change or a move in the same
			// clause decides
			switch {
			case cur.NotNull && !nc.NotNull:
				return opMakeNull, ""
			case !cur.NotNull && nc.NotNull:
				return opMakeNotNull, "fails if a row holds NULL (strict mode)"
			case nc.Position != "":
				return opReorderColumn, ""
			}
			return opEnumAppend, ""
		}
		return opChangeType, "the new members change the " + strings.ToUpper(from.Name) + "'s storage size, which copies the table"
	case from.Name == "enum" || from.Name == "set":
		if from.Name == to.Name {
			return opChangeType, "removing, reordering or inserting " + strings.ToUpper(from.Name) + " members (anything but appending) copies the table"
		}
	}
	return opChangeType, from.String() + " → " + to.String() + " converts every row"
}

func appended(from, to []string) bool {
	return len(to) > len(from) && slices.Equal(from, to[:len(from)])
}

// storageSize is the bytes an ENUM or SET value takes.
func storageSize(t change.Type) int {
	n := len(t.Values)
	if t.Name == "enum" {
		if n <= 255 {
			return 1
		}
		return 2
	}
	b := (n + 7) / 8
	if b > 4 {
		return 8
	}
	return b
}

// columnCharset is the character set a column type has: its own, else the
// table's default, "" when neither is known.
func columnCharset(t change.Type, table string) string {
	return charsetName(cmp.Or(t.Charset, table))
}

func isCharType(n string) bool {
	switch n {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

// defaultCollation is a character set's default collation on the target.
func (d *Dialect) defaultCollation(cs string) string {
	switch cs {
	case "binary":
		return "binary"
	case "latin1":
		return "latin1_swedish_ci"
	case "utf8mb4":
		if !d.mariadb() && d.target.AtLeast(8, 0, 0) {
			return "utf8mb4_0900_ai_ci"
		}
	}
	return cs + "_general_ci"
}

// tableCollation is a table's default character set and collation: what
// the history says, else the server's defaults.
func (d *Dialect) tableCollation(t *catalog.Table) (cs, coll string) {
	cs = cmp.Or(t.Charset, d.serverCharset())
	coll = t.Collation
	if coll == "" || !strings.HasPrefix(coll, cs+"_") && coll != "binary" {
		coll = d.defaultCollation(cs)
	}
	return cs, coll
}

// columnCollation is the character set and collation a text column has:
// its own, else the table's.
func (d *Dialect) columnCollation(ty change.Type, tcs, tcoll string) (cs, coll string) {
	cs = cmp.Or(ty.Charset, tcs)
	switch {
	case ty.Collation != "":
		coll = ty.Collation
	case ty.Charset == "":
		coll = tcoll
	default:
		// CHARACTER SET without COLLATE: the character set's default
		coll = d.defaultCollation(cs)
	}
	return cs, coll
}

// collationOp is what changing only the collation of a column costs
// (checked on MariaDB 10.11): nothing but metadata when no index has the
// column, the indexes rebuilt when a secondary index has it, a copy when
// the primary key has it, and an error when a foreign key uses it.
func (d *Dialect) collationOp(t *catalog.Table, col string, cat *catalog.Catalog) (op, string) {
	has := func(cols []string) bool {
		return slices.ContainsFunc(cols, func(n string) bool { return strings.EqualFold(n, col) })
	}
	for _, k := range t.Constraints {
		if k.Kind == change.ConstraintForeignKey && has(k.Columns) {
			return opChangeType, collationFKNote
		}
	}
	referenced := false // by another table's foreign key
	looked := cat.EachTable(func(o *catalog.Table) {
		for _, k := range o.Constraints {
			if k.Kind != change.ConstraintForeignKey || k.RefTable == nil || !strings.EqualFold(k.RefTable.Name, t.Name.Name) {
				continue
			}
			// the referenced columns, else (an inline REFERENCES) the
			// primary key
			if has(k.RefColumns) || (len(k.RefColumns) == 0 && t.InPrimaryKey(col)) {
				referenced = true
			}
		}
	})
	if referenced {
		return opChangeType, collationFKNote
	}
	if !looked {
		// the history asked too many questions about every table
		// (catalog.EachTable): the costlier operation, said as such
		return opChangeType, "whether a foreign key uses the column was not looked up (too many tables asked about in this history), so a copy is assumed"
	}
	if t.InPrimaryKey(col) {
		return opChangeType, "changing the collation of a primary key column copies the table"
	}
	for _, ix := range cat.IndexesOf(t) {
		if has(ix.Columns) {
			return opCollationIndexed, ""
		}
	}
	return opCollation, ""
}

// collationFKNote says why a collation change of a foreign key's column
// fails.
const collationFKNote = "the server refuses to change the collation of a column a foreign key uses (ERROR 1832/1833), so the migration cannot run as written: drop the foreign key, change both columns, then add it back"

// convertCollation is the cost of a CONVERT TO that changes only
// collations (every text column already has the character set): the
// most expensive of its columns' collation changes. ok is false when a
// character set changes.
func (d *Dialect) convertCollation(x *change.ConvertCharset, cat *catalog.Catalog) (o op, note string, ok bool) {
	t := cat.Table(x.Table)
	if t == nil || x.Column != "" {
		return 0, "", false
	}
	want := cmp.Or(x.Collation, d.defaultCollation(x.Charset))
	tcs, tcoll := d.tableCollation(t)
	o = opTableCharset
	rank := map[op]int{opTableCharset: 0, opCollation: 1, opCollationIndexed: 2, opChangeType: 3}
	for _, col := range t.Columns {
		if !isCharType(col.Type.Name) {
			continue
		}
		cs, coll := d.columnCollation(col.Type, tcs, tcoll)
		if cs != x.Charset {
			return 0, "", false
		}
		if coll == want {
			continue
		}
		co, cn := d.collationOp(t, col.Name, cat)
		if rank[co] > rank[o] || (co == opChangeType && cn == collationFKNote) {
			o, note = co, cn
		}
	}
	if o == opTableCharset {
		// the columns already have it: only the table's default changes
		note = "the columns already have " + want + ": no row is converted"
	}
	return o, note, true
}

// convertUnchanged reports whether CONVERT TO names the character set and
// collation that the table and every text column of it already have.
func (d *Dialect) convertUnchanged(x *change.ConvertCharset, cat *catalog.Catalog) bool {
	t := cat.Table(x.Table)
	if t == nil {
		return false
	}
	want := cmp.Or(x.Collation, d.defaultCollation(x.Charset))
	tcs, tcoll := d.tableCollation(t)
	if tcs != x.Charset || tcoll != want {
		return false
	}
	for _, col := range t.Columns {
		if !isCharType(col.Type.Name) {
			continue
		}
		if cs, coll := d.columnCollation(col.Type, tcs, tcoll); cs != x.Charset || coll != want {
			return false
		}
	}
	return true
}

// serverCharset is the target's default character set, which a table
// gets when neither it nor its database says (utf8mb4 on MariaDB 10.6+ as
// Debian and the official images configure it, and on MySQL 8).
func (d *Dialect) serverCharset() string {
	if (d.mariadb() && d.target.AtLeast(10, 6, 0)) || (!d.mariadb() && d.target.AtLeast(8, 0, 0)) {
		return "utf8mb4"
	}
	return "latin1"
}

// bytesPerChar is the longest character of a character set.
func bytesPerChar(cs string) int {
	switch cs {
	case "latin1", "ascii", "binary", "latin2", "latin5", "latin7", "cp1250", "cp1251", "cp1252", "cp1256", "cp1257", "hebrew", "greek", "tis620", "koi8r", "koi8u", "armscii8", "swe7", "dec8", "hp8", "keybcs2", "macce", "macroman", "cp850", "cp852", "cp866", "geostd8":
		return 1
	case "ucs2", "big5", "gbk", "sjis", "cp932", "euckr":
		return 2
	case "utf8", "utf8mb3", "ujis", "eucjpms":
		return 3
	}
	return 4
}

// shortPrefixKept reports whether a VARCHAR of n characters may grow past
// 255 bytes in place: MariaDB 10.4 and later store a value shorter than 128
// bytes with a one-byte length prefix in either class, so a column whose
// values can never reach 128 bytes grows instantly (checked on MariaDB
// 10.11: utf8mb4 VARCHAR(31) → VARCHAR(64) is instant, VARCHAR(32) is not).
func (d *Dialect) shortPrefixKept(n int, cs string) bool {
	return d.mariadb() && d.target.AtLeast(10, 4, 0) && n*bytesPerChar(cs) <= 127
}

// lengthBytes is the size of a VARCHAR's length prefix: 1 byte up to 255
// bytes of data, 2 beyond.
func lengthBytes(chars int, cs string) int {
	if chars*bytesPerChar(cs) <= 255 {
		return 1
	}
	return 2
}

func itoa(n int) string { return strconv.Itoa(n) }

// otherEffect is the effect of statements outside the Online DDL tables.
func (d *Dialect) otherEffect(ch change.Change) change.Effect {
	switch x := ch.(type) {
	case *change.CreateTable:
		return change.Effect{Lock: mdlOnly, On: x.Table.String()}
	case *change.DropTable:
		return change.Effect{Lock: mdlOnly, On: x.Table.String(), Blocks: change.BlocksReadsAndWrites}
	case *change.DropView:
		return change.Effect{Lock: mdlOnly, On: x.Name.String(), Blocks: change.BlocksReadsAndWrites}
	case *change.Truncate:
		var on string
		if len(x.Tables) > 0 {
			on = x.Tables[0].String()
		}
		return change.Effect{Lock: mdlOnly, On: on, Blocks: change.BlocksReadsAndWrites, Note: "TRUNCATE drops and recreates the table"}
	case *change.RenameTable:
		// RENAME TABLE takes no ALGORITHM=: a brief exclusive metadata lock
		return change.Effect{Lock: mdlOnly, On: x.Table.String(), Blocks: change.BlocksReadsAndWrites, Note: "RENAME TABLE only changes the data dictionary"}
	case *change.TableRewrite:
		// OPTIMIZE TABLE: InnoDB recreates the table in place
		r, _, _ := d.lookup(opRebuild)
		return d.effect(r, r, "", "", x.Table, "InnoDB runs OPTIMIZE TABLE as a full rebuild (recreate + analyze); OPTIMIZE takes no options, so write ALTER TABLE "+x.Table.String()+" FORCE with them instead")
	case *change.DropSchema:
		return change.Effect{Lock: mdlOnly, On: "every table of " + x.Name, Blocks: change.BlocksReadsAndWrites}
	case *change.LockTable:
		var on string
		if len(x.Tables) > 0 {
			on = x.Tables[0].String()
		}
		if x.Mode == "READ" {
			return change.Effect{Lock: "table lock (LOCK TABLES … READ)", On: on, Blocks: change.BlocksWrites}
		}
		return change.Effect{Lock: "table lock (LOCK TABLES … WRITE)", On: on, Blocks: change.BlocksReadsAndWrites}
	case *change.DML:
		return change.Effect{Lock: "row locks", On: x.Table.String()}
	}
	return change.Effect{}
}
