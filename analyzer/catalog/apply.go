package catalog

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer/change"
)

// Apply replays one change into the model.
func (c *Catalog) Apply(ch change.Change, at Origin) {
	switch x := ch.(type) {
	case *change.CreateTable:
		c.createTable(x, at)
	case *change.CreateView:
		k := Key(x.Name)
		old, ok := c.tables.get(k)
		if !ok || x.Replace {
			if old != nil && x.Replace {
				at = old.Origin
			}
			c.tables.set(k, &Table{Name: x.Name, View: true, Origin: at})
		}
	case *change.DropTable:
		c.dropTable(x.Table)
	case *change.DropView:
		c.dropTable(x.Name)
	case *change.DropSchema:
		s := strings.ToLower(x.Name)
		for _, t := range c.tables.all() {
			if strings.EqualFold(t.Name.Schema, s) {
				c.dropTable(t.Name)
			}
		}
		c.schemas.del(s)
	case *change.CreateSchema:
		c.schemas.set(strings.ToLower(x.Name), at)
	case *change.RenameTable:
		k := Key(x.Table)
		t := c.ensureTable(x.Table)
		c.tables.del(k)
		nn := x.New
		if nn.Schema == "" {
			nn.Schema = x.Table.Schema
		}
		t.Name = nn
		c.tables.set(Key(nn), t)
	case *change.AddColumn:
		t := c.ensureTable(x.Table)
		if t.Column(x.Column.Name) != nil {
			return
		}
		t.Columns = append(t.Columns, columnFrom(x.Column, at))
		c.inlineConstraints(t, x.Column, at)
	case *change.DropColumn:
		t := c.ensureTable(x.Table)
		t.dropColumn(x.Column)
		c.dropColumnFromIndexes(t, x.Column)
	case *change.RenameColumn:
		t := c.ensureTable(x.Table)
		c.renameColumn(t, t.ensureColumn(x.Old), x.New)
	case *change.AlterColumnType:
		t := c.ensureTable(x.Table)
		col := t.ensureColumn(x.Column)
		col.Type = x.NewType
		if nc := x.NewColumn; nc != nil {
			if !strings.EqualFold(nc.Name, x.Column) && nc.Name != "" {
				c.renameColumn(t, col, nc.Name)
			}
			// a primary key column stays NOT NULL whatever MODIFY says
			col.NotNull = nc.NotNull || nc.PrimaryKey || t.InPrimaryKey(col.Name)
			col.AutoIncrement = nc.AutoIncrement
			col.Default = nc.Default
			col.Generated = nc.Generated
		}
	case *change.AlterTableOther:
		if x.Charset != "" {
			// MySQL: a new default character set is for new columns; the
			// existing ones keep the one they had
			t := c.ensureTable(x.Table)
			for _, col := range t.Columns {
				if col.Type.Charset == "" && t.Charset != "" && slices.Contains(mysqlTextTypes, col.Type.Name) {
					col.Type.Charset = t.Charset
					if col.Type.Collation == "" {
						col.Type.Collation = t.Collation
					}
				}
			}
			t.Charset, t.Collation = x.Charset, x.Collation
		}
	case *change.ConvertCharset:
		t := c.ensureTable(x.Table)
		for _, col := range t.Columns {
			if (x.Column == "" || strings.EqualFold(col.Name, x.Column)) && (col.Type.Charset != "" || col.Type.Collation != "") {
				col.Type.Charset, col.Type.Collation = x.Charset, x.Collation
			}
		}
		if x.Column == "" {
			t.Charset, t.Collation = x.Charset, x.Collation
		}
	case *change.SetNotNull:
		c.ensureTable(x.Table).ensureColumn(x.Column).NotNull = true
	case *change.DropNotNull:
		c.ensureTable(x.Table).ensureColumn(x.Column).NotNull = false
	case *change.SetDefault:
		c.ensureTable(x.Table).ensureColumn(x.Column).Default = x.Default
	case *change.AddConstraint:
		t := c.ensureTable(x.Table)
		c.addConstraint(t, x.Constraint, at)
	case *change.ValidateConstraint:
		t := c.ensureTable(x.Table)
		k := t.Constraint(x.Name)
		if k == nil {
			k = &Constraint{Constraint: change.Constraint{Name: x.Name}, Origin: Origin{Base: true}}
			t.Constraints = append(t.Constraints, k)
		}
		k.Validated = true
		v := at
		k.ValidatedAt = &v
	case *change.DropConstraint:
		t := c.ensureTable(x.Table)
		t.Constraints = slices.DeleteFunc(t.Constraints, func(k *Constraint) bool {
			if x.Kind == change.ConstraintPrimaryKey && k.Kind == change.ConstraintPrimaryKey {
				// a table has one primary key, whatever it is named
				// (MySQL's DROP PRIMARY KEY after an inline PRIMARY KEY)
				if k.Name != "" && !strings.EqualFold(k.Name, x.Name) {
					c.dropIndex(change.QName{Schema: x.Table.Schema, Name: k.Name}, t)
				}
				return true
			}
			if x.Name != "" {
				return strings.EqualFold(k.Name, x.Name)
			}
			return x.Kind != 0 && k.Kind == x.Kind
		})
		if x.Name != "" {
			c.dropIndex(change.QName{Schema: x.Table.Schema, Name: x.Name}, t)
		}
	case *change.CreateIndex:
		t := c.ensureTable(x.Table)
		name := x.Name
		if name == "" {
			name = t.Name.Name + "_" + strings.Join(x.Columns, "_") + "_idx"
		}
		q := change.QName{Schema: x.Table.Schema, Name: name}
		if c.Index(q) != nil && x.IfNotExists {
			return
		}
		ix := &Index{Name: name, Table: t.Name, Columns: x.Columns, Unique: x.Unique, Kind: x.Kind, Origin: at, Reads: x.Reads}
		if old := c.Index(q); old != nil && old.Kind == change.IndexFulltext {
			// replaced (the server refuses the name; the model takes the
			// new index): its table counts it no more
			if ot, _ := c.tables.mut(Key(old.Table)); ot != nil {
				ot.fulltext--
			}
		}
		c.indexes.set(Key(q), ix)
		t.Indexes = append(t.Indexes, Key(q))
		if ix.Kind == change.IndexFulltext {
			t.fulltext++
		}
	case *change.DropIndex:
		var t *Table
		if x.Table != nil {
			t, _ = c.tables.mut(Key(*x.Table))
		}
		c.dropIndex(x.Name, t)
	case *change.RenameOther:
		if x.Kind == "INDEX" {
			old := change.QName{Name: x.Old}
			if x.Table != nil {
				old.Schema = x.Table.Schema
			}
			if ix, _ := c.indexes.mut(Key(old)); ix != nil {
				c.indexes.del(Key(old))
				nq := change.QName{Schema: old.Schema, Name: x.New}
				ix.Name = x.New
				c.indexes.set(Key(nq), ix)
				if t, _ := c.tables.mut(Key(ix.Table)); t != nil {
					for i, n := range t.Indexes {
						if n == Key(old) {
							t.Indexes[i] = Key(nq)
						}
					}
				}
			}
		}
	case *change.CreateEnum:
		c.enums.set(Key(x.Name), &Enum{Name: x.Name, Values: slices.Clone(x.Values), Origin: at})
	case *change.AddEnumValue:
		e, _ := c.enums.mut(Key(x.Type))
		if e == nil {
			e = &Enum{Name: x.Type, Origin: Origin{Base: true}}
			c.enums.set(Key(x.Type), e)
		}
		if !slices.Contains(e.Values, x.Value) {
			e.Values = append(e.Values, x.Value)
		}
	case *change.RenameEnumValue:
		if e, _ := c.enums.mut(Key(x.Type)); e != nil {
			for i, v := range e.Values {
				if v == x.Old {
					e.Values[i] = x.New
				}
			}
		}
	case *change.CreateFunction:
		c.functions.set(Key(x.Name), &Function{Name: x.Name, Volatility: x.Volatility, Inline: x.Inline, Origin: at})
	case *change.DropOther:
		if x.Kind == "TYPE" {
			for _, n := range x.Names {
				c.enums.del(Key(splitQName(n)))
			}
		}
		if x.Kind == "FUNCTION" {
			for _, n := range x.Names {
				c.functions.del(Key(splitQName(n)))
			}
		}
	case *change.DML:
		c.applyDML(x, at)
	case *change.Unknown:
		c.Unmodeled = append(c.Unmodeled, Unmodeled{Origin: at, Kind: x.Kind, Reason: x.Reason})
	}
}

// mysqlTextTypes are the MySQL column types that have a character set.
var mysqlTextTypes = []string{"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"}

func splitQName(s string) change.QName {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return change.QName{Schema: s[:i], Name: s[i+1:]}
	}
	return change.QName{Name: s}
}

func columnFrom(cd change.Column, at Origin) *Column {
	return &Column{
		Name:          cd.Name,
		Type:          cd.Type,
		NotNull:       cd.NotNull || cd.PrimaryKey,
		Default:       cd.Default,
		Generated:     cd.Generated,
		Identity:      cd.Identity,
		AutoIncrement: cd.AutoIncrement,
		Origin:        at,
	}
}

func (c *Catalog) createTable(x *change.CreateTable, at Origin) {
	k := Key(x.Table)
	old, _ := c.tables.get(k)
	if old != nil && x.IfNotExists {
		return
	}
	if old != nil {
		c.dropTable(old.Name)
	}
	t := &Table{Name: x.Table, Partitioned: x.Partitioned, Origin: at}
	t.Charset, t.Collation = x.Charset, x.Collation
	c.tables.set(k, t)
	for _, cd := range x.Columns {
		t.Columns = append(t.Columns, columnFrom(cd, at))
		c.inlineConstraints(t, cd, at)
	}
	for _, con := range x.Constraints {
		c.addConstraint(t, con, at)
	}
}

func (c *Catalog) inlineConstraints(t *Table, cd change.Column, at Origin) {
	if cd.PrimaryKey {
		c.addConstraint(t, change.Constraint{Kind: change.ConstraintPrimaryKey, Name: t.Name.Name + "_pkey", Columns: []string{cd.Name}}, at)
	}
	if cd.Unique {
		c.addConstraint(t, change.Constraint{Kind: change.ConstraintUnique, Name: t.Name.Name + "_" + cd.Name + "_key", Columns: []string{cd.Name}}, at)
	}
	if cd.References != nil {
		c.addConstraint(t, change.Constraint{Kind: change.ConstraintForeignKey, Name: t.Name.Name + "_" + cd.Name + "_fkey", Columns: []string{cd.Name}, RefTable: cd.References}, at)
	}
}

func (c *Catalog) addConstraint(t *Table, con change.Constraint, at Origin) {
	if con.Name != "" && t.Constraint(con.Name) != nil {
		return
	}
	t.Constraints = append(t.Constraints, &Constraint{Constraint: con, Validated: !con.NotValid, Origin: at})
	if con.Kind == change.ConstraintPrimaryKey || con.Kind == change.ConstraintNotNull {
		for _, n := range con.Columns {
			t.ensureColumn(n).NotNull = true
		}
	}
	if con.UsingIndex != "" {
		// ADD CONSTRAINT … USING INDEX renames the index to the constraint.
		c.dropIndex(change.QName{Schema: t.Name.Schema, Name: con.UsingIndex}, t)
	}
	if con.Kind == change.ConstraintPrimaryKey || con.Kind == change.ConstraintUnique {
		name := con.Name
		if name == "" {
			return
		}
		q := change.QName{Schema: t.Name.Schema, Name: name}
		c.indexes.set(Key(q), &Index{Name: name, Table: t.Name, Columns: con.Columns, Unique: true, Origin: at})
		t.Indexes = append(t.Indexes, Key(q))
	}
}

func (c *Catalog) dropTable(q change.QName) {
	k := Key(q)
	t, _ := c.tables.get(k)
	if t == nil {
		return
	}
	for _, n := range t.Indexes {
		c.indexes.del(n)
		c.goneWith.set(n, t.Name)
	}
	c.tables.del(k)
}

func (c *Catalog) dropIndex(q change.QName, t *Table) {
	k := Key(q)
	if t == nil {
		if ix, _ := c.indexes.get(k); ix != nil {
			t, _ = c.tables.mut(Key(ix.Table))
		}
	}
	ix, _ := c.indexes.get(k)
	c.indexes.del(k)
	if t != nil && slices.Contains(t.Indexes, k) {
		t.Indexes = slices.DeleteFunc(t.Indexes, func(n string) bool { return n == k })
		if ix != nil && ix.Kind == change.IndexFulltext {
			t.fulltext--
		}
	}
}

// applyDML records backfills: an UPDATE that writes columns from other
// columns of its table, an INSERT … SELECT that fills a table from others.
func (c *Catalog) applyDML(x *change.DML, at Origin) {
	switch x.Verb {
	case "UPDATE":
		t, _ := c.tables.mut(Key(x.Table))
		if t == nil {
			return
		}
		for i, name := range x.Columns {
			col := t.Column(name)
			if col == nil {
				continue
			}
			v := change.Value{Reads: x.Reads}
			if i < len(x.Values) {
				v = x.Values[i]
			}
			var reads []string
			for _, r := range v.Reads {
				// a table the model only knows from statements about it
				// may have columns it has not seen
				if !strings.EqualFold(r, name) && (t.Column(r) != nil || t.Origin.Base) {
					reads = append(reads, r)
				}
			}
			if len(reads) == 0 && len(x.From) == 0 {
				continue
			}
			col.Backfill = &Backfill{Origin: at, Columns: reads, Tables: slices.Clone(x.From), Copy: v.Copy && len(reads) == 1}
			c.recordFill(x.From, t)
		}
	case "INSERT":
		var from []change.QName
		for _, q := range x.From {
			if Key(q) != Key(x.Table) {
				from = append(from, q)
			}
		}
		if len(from) == 0 {
			return
		}
		if t, _ := c.tables.mut(Key(x.Table)); t != nil {
			t.Filled = &Backfill{Origin: at, Tables: from}
			c.recordFill(from, t)
		}
	}
}

// dropColumnFromIndexes takes a dropped column out of the table's indexes:
// an index left without columns, or whose expressions or predicate read
// the column, is dropped with it (both servers drop it; MySQL keeps a
// multi-column index on its other columns, PostgreSQL drops that too, which
// the model does not tell apart). Without this, a table whose columns come
// and go collects indexes for ever, and a column added again under an old
// name counts as indexed.
func (c *Catalog) dropColumnFromIndexes(t *Table, col string) {
	is := func(n string) bool { return strings.EqualFold(n, col) }
	var gone []string
	for _, key := range t.Indexes {
		ix, _ := c.indexes.get(key)
		if ix == nil || !slices.ContainsFunc(ix.Columns, is) && !slices.ContainsFunc(ix.Reads, is) {
			continue
		}
		ix, _ = c.indexes.mut(key)
		ix.Columns = slices.DeleteFunc(slices.Clone(ix.Columns), is) // the slice may be the statement's
		if len(ix.Columns) == 0 || slices.ContainsFunc(ix.Reads, is) {
			gone = append(gone, key)
			if ix.Kind == change.IndexFulltext {
				t.fulltext--
			}
		}
	}
	for _, key := range gone {
		c.indexes.del(key)
	}
	if len(gone) > 0 {
		t.Indexes = slices.DeleteFunc(t.Indexes, func(k string) bool { return slices.Contains(gone, k) })
	}
}

// renameColumn renames a column and its mentions in the table's
// constraints and indexes.
func (c *Catalog) renameColumn(t *Table, col *Column, name string) {
	old := col.Name
	col.Name = name
	for _, k := range t.Constraints {
		for i, n := range k.Columns {
			if strings.EqualFold(n, old) {
				k.Columns[i] = name
			}
		}
	}
	for _, key := range t.Indexes {
		ix, _ := c.indexes.get(key)
		if ix == nil || !slices.ContainsFunc(ix.Columns, func(n string) bool { return strings.EqualFold(n, old) }) {
			continue
		}
		ix, _ = c.indexes.mut(key)
		for i, n := range ix.Columns {
			if strings.EqualFold(n, old) {
				ix.Columns[i] = name
			}
		}
	}
}
