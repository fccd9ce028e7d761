// Package catalog is the schema model migsafe replays migrations into. It is
// lenient: a statement about an object the model has never seen (created
// outside the migrations, by an extension, by hand) creates a placeholder that
// counts as pre-existing, and the replay goes on.
package catalog

import (
	"maps"
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer/change"
)

// Origin says where an object came from.
type Origin struct {
	Path   string
	Deploy int
	Stmt   int
	Tx     int  // transaction id of the creating statement, 0 for autocommit
	Base   bool // existed before any migration we saw (placeholder)
	Line   int  // line of the statement (or marker) in Path, from 1
}

// Backfill records a statement that filled a column or a table from
// another: UPDATE t SET new = old, INSERT INTO new SELECT … FROM old, or a
// -- migsafe:backfill marker (expand-contract step 3).
type Backfill struct {
	Origin  Origin
	Columns []string       // columns of the same table the values came from
	Tables  []change.QName // other tables read
	Marker  bool           // recorded by a -- migsafe:backfill comment
	Copy    bool           // the value is one column as is, or cast: a replacement
}

// Copies reports whether the backfill copied col as is (or cast), or a
// marker said it was filled from col: the mark of a replacement.
func (b *Backfill) Copies(col string) bool {
	return b != nil && (b.Copy || b.Marker) && b.Reads(col)
}

// Reads reports whether the backfill read a column of its own table.
func (b *Backfill) Reads(col string) bool {
	return b != nil && slices.ContainsFunc(b.Columns, func(c string) bool { return strings.EqualFold(c, col) })
}

// ReadsTable reports whether the backfill read another table.
func (b *Backfill) ReadsTable(q change.QName) bool {
	return b != nil && slices.ContainsFunc(b.Tables, func(t change.QName) bool { return Key(t) == Key(q) })
}

// Column is a column of a table.
type Column struct {
	Name      string
	Type      change.Type
	NotNull   bool
	Default   *change.Expr
	Generated string
	Identity  string
	// AutoIncrement is MySQL's AUTO_INCREMENT attribute.
	AutoIncrement bool
	Origin        Origin
	// Deprecated is set by a migsafe:deprecate marker (expand-contract step 5).
	Deprecated *Origin
	// Backfill is the last statement that filled the column from other
	// columns (expand-contract step 3), nil when none did.
	Backfill *Backfill
}

// Constraint is a table constraint.
type Constraint struct {
	change.Constraint
	Validated bool
	Origin    Origin
	// ValidatedAt is where a VALIDATE CONSTRAINT ran, when it did.
	ValidatedAt *Origin
}

// Index is an index.
type Index struct {
	Name    string
	Table   change.QName
	Columns []string
	Unique  bool
	Kind    change.IndexKind // MySQL FULLTEXT / SPATIAL
	Origin  Origin
	// Reads are the columns its expressions and predicate read.
	Reads []string
}

// Table is a table, view or materialized view.
type Table struct {
	Name        change.QName
	Columns     []*Column
	Constraints []*Constraint
	Indexes     []string // index names
	// Charset is a MySQL table's default character set (lower case), ""
	// when the history does not say (the database's default).
	Charset string
	// Collation is a MySQL table's default collation (lower case), ""
	// when the history does not say (the character set's default).
	Collation   string
	View        bool
	Partitioned bool // PostgreSQL: PARTITION BY
	Origin      Origin
	Deprecated  *Origin
	// Filled is the last INSERT … SELECT that filled the table from other
	// tables (the backfill of a replacement table), nil when none did.
	Filled *Backfill
	// fulltext counts the table's FULLTEXT indexes (HasFulltext)
	fulltext int
}

// HasFulltext reports whether the table has a FULLTEXT index (MySQL),
// without looking at each index: a statement asks it for each of its
// clauses.
func (t *Table) HasFulltext() bool { return t.fulltext > 0 }

// Column returns the named column or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// InPrimaryKey reports whether a column is part of the table's primary key.
func (t *Table) InPrimaryKey(col string) bool {
	for _, k := range t.Constraints {
		if k.Kind == change.ConstraintPrimaryKey && slices.ContainsFunc(k.Columns, func(c string) bool { return strings.EqualFold(c, col) }) {
			return true
		}
	}
	return false
}

// Constraint returns the named constraint or nil.
func (t *Table) Constraint(name string) *Constraint {
	for _, c := range t.Constraints {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// Enum is an enum type.
type Enum struct {
	Name   change.QName
	Values []string
	Origin Origin
}

// Function is a user-defined function with its declared volatility.
type Function struct {
	Name       change.QName
	Volatility string
	Inline     *change.Expr // see change.CreateFunction
	Origin     Origin
}

// Unmodeled records a statement or clause the model did not understand.
type Unmodeled struct {
	Origin Origin
	Kind   string
	Reason string
}

// Catalog is the whole schema model.
type Catalog struct {
	tables    *layer[*Table]
	indexes   *layer[*Index]
	enums     *layer[*Enum]
	functions *layer[*Function]
	schemas   *layer[Origin]
	fills     *layer[[]string] // table key → keys of the tables filled from it
	// goneWith: index key → the table whose drop took the index with it
	goneWith  *layer[change.QName]
	Unmodeled []Unmodeled
	// visits counts the tables EachTable has visited, for the catalog and
	// its overlays together (maxVisits)
	visits *int
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{
		tables:    newLayer(cloneTable),
		indexes:   newLayer(func(i *Index) *Index { c := *i; c.Columns = slices.Clone(i.Columns); return &c }),
		enums:     newLayer(func(e *Enum) *Enum { c := *e; c.Values = slices.Clone(e.Values); return &c }),
		functions: newLayer(func(f *Function) *Function { c := *f; return &c }),
		schemas:   newLayer(func(o Origin) Origin { return o }),
		fills:     newLayer(func(s []string) []string { return slices.Clone(s) }),
		goneWith:  newLayer(func(q change.QName) change.QName { return q }),
		visits:    new(int),
	}
}

// Overlay returns a catalog that starts as a view of c: changes applied to
// it do not touch c. c must not change while the overlay is in use.
func (c *Catalog) Overlay() *Catalog {
	return &Catalog{
		tables:    c.tables.child(),
		indexes:   c.indexes.child(),
		enums:     c.enums.child(),
		functions: c.functions.child(),
		schemas:   c.schemas.child(),
		fills:     c.fills.child(),
		goneWith:  c.goneWith.child(),
		visits:    c.visits,
	}
}

// FilledFrom returns the tables that a backfill filled (rows or columns)
// from table q, without scanning the schema.
func (c *Catalog) FilledFrom(q change.QName) []*Table {
	keys, _ := c.fills.get(Key(q))
	var out []*Table
	for _, k := range keys {
		if t, _ := c.tables.get(k); t != nil {
			out = append(out, t)
		}
	}
	return out
}

func (c *Catalog) recordFill(from []change.QName, into *Table) {
	k := Key(into.Name)
	for _, q := range from {
		fk := Key(q)
		if fk == k {
			continue
		}
		keys, _ := c.fills.mut(fk)
		if !slices.Contains(keys, k) {
			c.fills.set(fk, append(keys, k))
		}
	}
}

func cloneTable(t *Table) *Table {
	c := *t
	c.Columns = make([]*Column, len(t.Columns))
	for i, col := range t.Columns {
		cc := *col
		c.Columns[i] = &cc
	}
	c.Constraints = make([]*Constraint, len(t.Constraints))
	for i, k := range t.Constraints {
		kk := *k
		kk.Columns = slices.Clone(k.Columns)
		c.Constraints[i] = &kk
	}
	c.Indexes = slices.Clone(t.Indexes)
	return &c
}

// Deprecate records a -- migsafe:deprecate marker: the application no
// longer writes the column (or, with column "", the table). An object the
// model has never seen gets a placeholder, so that the drop that follows
// still finds the deprecation.
func (c *Catalog) Deprecate(table change.QName, column string, at Origin) {
	t := c.ensureTable(table)
	if column == "" {
		o := at
		t.Deprecated = &o
		return
	}
	col := t.ensureColumn(column)
	o := at
	col.Deprecated = &o
}

// RecordBackfill records a -- migsafe:backfill marker: column of table was
// filled from the columns from (of the same table). It stands for a
// backfill the model cannot read (a DO block, a batch job).
func (c *Catalog) RecordBackfill(table change.QName, column string, from []string, at Origin) {
	t := c.ensureTable(table)
	t.ensureColumn(column).Backfill = &Backfill{Origin: at, Columns: slices.Clone(from), Marker: true}
}

// Key normalises a name for lookups: the default schema is implied.
func Key(q change.QName) string {
	n := strings.ToLower(q.Name)
	s := strings.ToLower(q.Schema)
	if s == "" || s == "public" {
		return n
	}
	return s + "." + n
}

// Table returns a table, view or materialized view, or nil.
func (c *Catalog) Table(q change.QName) *Table { t, _ := c.tables.get(Key(q)); return t }

// GoneWith returns the table whose drop removed index q (an index
// dropped with its table), if that is how q went away.
func (c *Catalog) GoneWith(q change.QName) (change.QName, bool) {
	if c.Index(q) != nil {
		return change.QName{}, false
	}
	return c.goneWith.get(Key(q))
}

// Index returns an index or nil.
func (c *Catalog) Index(q change.QName) *Index { i, _ := c.indexes.get(Key(q)); return i }

// Enum returns an enum type or nil.
func (c *Catalog) Enum(q change.QName) *Enum { e, _ := c.enums.get(Key(q)); return e }

// Function returns a user-defined function or nil.
func (c *Catalog) Function(q change.QName) *Function { f, _ := c.functions.get(Key(q)); return f }

// Tables returns all tables sorted by name.
func (c *Catalog) Tables() []*Table {
	all := c.tables.all()
	keys := slices.Sorted(maps.Keys(all)) // the keys are Key(name)
	out := make([]*Table, len(keys))
	for i, k := range keys {
		out[i] = all[k]
	}
	return out
}

// maxVisits bounds the tables EachTable visits over a history: questions
// about every table (which reference this one, which have a column of this
// type) asked by each of thousands of statements over thousands of tables
// would make a hostile file take time that grows with the square of its
// size. 2 million visits take about a third of a second at worst; a real history asks
// a few such questions.
const maxVisits = 2_000_000

// EachTable calls f for every table, in no particular order (callers sort
// what they keep), and reports whether it did: it does nothing and
// returns false once the history's questions have visited maxVisits
// tables.
func (c *Catalog) EachTable(f func(*Table)) bool {
	all := c.tables.all()
	if *c.visits+len(all) > maxVisits {
		return false
	}
	*c.visits += len(all)
	for _, t := range all {
		f(t)
	}
	return true
}

// Enums returns all enum types sorted by name.
func (c *Catalog) Enums() []*Enum {
	all := c.enums.all()
	out := make([]*Enum, 0, len(all))
	for _, e := range all {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Enum) int { return strings.Compare(Key(a.Name), Key(b.Name)) })
	return out
}

// IndexesOf returns the indexes of a table in the order they were created
// (sorting them cost a statement time that grew with the square of the
// indexes: 4,000 indexes and 4,000 MySQL MODIFYs on one table took 5.8 s).
func (c *Catalog) IndexesOf(t *Table) []*Index {
	var out []*Index
	for _, n := range t.Indexes {
		if ix, _ := c.indexes.get(n); ix != nil {
			out = append(out, ix)
		}
	}
	return out
}

// ensureTable returns the table, creating a pre-existing placeholder if the
// model has never seen it.
func (c *Catalog) ensureTable(q change.QName) *Table {
	k := Key(q)
	t, _ := c.tables.mut(k)
	if t == nil {
		t = &Table{Name: q, Origin: Origin{Base: true}}
		c.tables.set(k, t)
	}
	return t
}

// ensureColumn returns the column, creating a pre-existing placeholder.
func (t *Table) ensureColumn(name string) *Column {
	col := t.Column(name)
	if col == nil {
		col = &Column{Name: name, Origin: Origin{Base: true}}
		t.Columns = append(t.Columns, col)
	}
	return col
}

func (t *Table) dropColumn(name string) {
	t.Columns = slices.DeleteFunc(t.Columns, func(c *Column) bool { return strings.EqualFold(c.Name, name) })
	t.Constraints = slices.DeleteFunc(t.Constraints, func(k *Constraint) bool {
		return len(k.Columns) == 1 && strings.EqualFold(k.Columns[0], name)
	})
}

// Schema returns where a schema the migrations created came from, or nil.
func (c *Catalog) Schema(name string) *Origin {
	if o, ok := c.schemas.get(strings.ToLower(name)); ok {
		return &o
	}
	return nil
}
