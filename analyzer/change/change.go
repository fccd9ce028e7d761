// Package change is migsafe's dialect-neutral model of what a statement does
// to a schema. Dialect adapters translate their syntax trees into these
// values; rules and the catalog read only these values.
//
// The model is deliberately narrow: it carries what the rules and the schema
// replay need, and nothing is dropped silently. A construct a dialect does not
// translate becomes an [Unknown] change with the reason, so gaps are visible.
package change

import "strings"

// Span is a half-open byte range [Start, End) in a file's source.
type Span struct {
	Start, End int
}

// Valid reports whether the span points into a file.
func (s Span) Valid() bool { return s.End > s.Start || s.Start > 0 }

// QName is a possibly schema-qualified object name, already normalised by the
// dialect (PostgreSQL folds unquoted identifiers to lower case).
type QName struct {
	Schema, Name string
}

func (q QName) String() string {
	if q.Schema == "" {
		return q.Name
	}
	return q.Schema + "." + q.Name
}

// Blocks says which concurrent work a lock blocks.
type Blocks int

const (
	BlocksNothing Blocks = iota
	BlocksWrites
	BlocksReadsAndWrites
)

func (b Blocks) String() string {
	switch b {
	case BlocksWrites:
		return "writes"
	case BlocksReadsAndWrites:
		return "reads and writes"
	default:
		return "nothing"
	}
}

// Work is what an operation does to the rows of a table while it holds its lock.
type Work int

const (
	WorkNone       Work = iota // catalog-only change
	WorkScan                   // reads every row (validation)
	WorkIndexBuild             // builds an index
	WorkRewrite                // rewrites the whole table (and its indexes)
)

func (w Work) String() string {
	switch w {
	case WorkScan:
		return "scans the whole table"
	case WorkIndexBuild:
		return "builds an index over the whole table"
	case WorkRewrite:
		return "rewrites the whole table and its indexes"
	default:
		return "changes only the catalog"
	}
}

// Effect is the physics of one change on the target server version: which
// lock it takes, what that lock blocks, and what work it does while holding
// it. Dialect adapters fill it in; rules only read it.
type Effect struct {
	Lock      string // dialect wording: "ACCESS EXCLUSIVE", "SHARE", "metadata lock (exclusive, brief)"
	On        string // object the lock is taken on, for messages
	Blocks    Blocks
	Work      Work
	Algorithm string // MySQL/MariaDB: INSTANT, INPLACE, COPY, NOCOPY; empty for PostgreSQL
	Note      string // extra physics worth saying, e.g. "no rewrite: binary-coercible"
	// Request (MySQL/MariaDB) is the option that makes the server take the
	// cheapest path or fail fast instead of silently copying:
	// "ALGORITHM=INSTANT" or "ALGORITHM=INPLACE, LOCK=NONE"; empty when the
	// operation has no online path on the target version.
	Request string
	// Clause (MySQL/MariaDB) is the cheapest algorithm of this clause on its
	// own when another clause of the same ALTER makes the statement (whose
	// algorithm is Algorithm) more expensive; empty otherwise.
	Clause string
}

// Known reports whether the dialect filled the effect in.
func (e Effect) Known() bool { return e.Lock != "" || e.Algorithm != "" }

// Change is one thing a statement does. The set of implementations is closed.
type Change interface {
	Base() *Meta
}

// Meta is embedded in every change.
type Meta struct {
	Span   Span   // the clause in the source; zero means "the statement"
	Effect Effect // physics, filled by the dialect
}

func (m *Meta) Base() *Meta { return m }

// Type is a column type as written, with enough structure for the
// compatibility questions rules ask.
type Type struct {
	Name     string // canonical lower-case base name: "varchar", "int4", "text", "numeric", "timestamptz", …
	Mods     []int  // type modifiers: varchar(50) → [50], numeric(10,2) → [10 2]
	Array    bool
	Text     string // as displayed: "varchar(50)"
	Serial   bool   // serial/bigserial/smallserial (PostgreSQL) — an integer column with a sequence default
	Unsigned bool   // MySQL
	Charset  string // MySQL column charset, if stated
	// Collation is a MySQL column's collation (lower case), if stated.
	Collation string
	Values    []string // MySQL ENUM/SET members
}

func (t Type) String() string {
	if t.Text != "" {
		return t.Text
	}
	return t.Name
}

// Expr summarises an expression (a default, a generated column).
type Expr struct {
	Text     string
	Volatile bool     // calls a volatile function (a new value per row)
	Funcs    []string // functions called, lower-case, schema-qualified only when written so
	Const    bool     // a literal or a cast of a literal
	Null     bool     // the literal NULL
}

// Column is a column definition.
type Column struct {
	Name          string
	Type          Type
	NotNull       bool
	Default       *Expr
	Generated     string // "stored", "virtual" or ""
	GenExpr       *Expr
	Identity      string // "always", "by default" or ""
	AutoIncrement bool   // MySQL
	PrimaryKey    bool   // inline PRIMARY KEY
	Unique        bool   // inline UNIQUE
	References    *QName // inline REFERENCES
	Check         bool   // inline CHECK
	Position      string // MySQL: "FIRST" or "AFTER x"
	Span          Span
}

// ConstraintKind is the kind of a table constraint.
type ConstraintKind int

const (
	ConstraintCheck ConstraintKind = iota + 1
	ConstraintUnique
	ConstraintPrimaryKey
	ConstraintForeignKey
	ConstraintExclusion
	ConstraintNotNull
)

func (k ConstraintKind) String() string {
	switch k {
	case ConstraintCheck:
		return "CHECK"
	case ConstraintUnique:
		return "UNIQUE"
	case ConstraintPrimaryKey:
		return "PRIMARY KEY"
	case ConstraintForeignKey:
		return "FOREIGN KEY"
	case ConstraintExclusion:
		return "EXCLUDE"
	case ConstraintNotNull:
		return "NOT NULL"
	default:
		return "constraint"
	}
}

// Constraint is a table constraint.
type Constraint struct {
	Name       string
	Kind       ConstraintKind
	Columns    []string
	RefTable   *QName   // foreign keys
	RefColumns []string // foreign keys: the referenced columns, when known
	NotValid   bool     // PostgreSQL NOT VALID
	UsingIndex string   // PostgreSQL ... USING INDEX name
	NotNullOf  string   // CHECK (col IS NOT NULL): the column
	Expr       string
	Span       Span
}

// IndexKind distinguishes special MySQL index types.
type IndexKind int

const (
	IndexPlain IndexKind = iota
	IndexFulltext
	IndexSpatial
)

// --- statements that create things ---

type CreateTable struct {
	Meta
	Table       QName
	Columns     []Column
	Constraints []Constraint
	IfNotExists bool
	AsSelect    bool
	PartitionOf *QName
	Charset     string // MySQL: the table's default character set, lower case, if stated
	Collation   string // MySQL: the table's default collation, lower case, if stated
	Partitioned bool   // PostgreSQL PARTITION BY: a partitioned table
	Temporary   bool
}

type CreateIndex struct {
	Meta
	Table        QName
	Name         string
	Columns      []string
	Unique       bool
	Concurrently bool
	IfNotExists  bool
	Kind         IndexKind
	Partial      bool
	Only         bool // PostgreSQL ON ONLY: not on the partitions
	// Reads are the columns the index's expressions and WHERE predicate
	// read (PostgreSQL).
	Reads []string
}

type CreateSchema struct {
	Meta
	Name string
}

type CreateEnum struct {
	Meta
	Name   QName
	Values []string
}

type CreateFunction struct {
	Meta
	Name       QName
	Volatility string // "volatile", "stable", "immutable"
	// Inline is the body of a function PostgreSQL inlines into the
	// expressions that call it (a LANGUAGE sql function whose body is one
	// SELECT or RETURN of an expression): its volatility is then the body's.
	Inline *Expr
}

type CreateView struct {
	Meta
	Name         QName
	Materialized bool
	Replace      bool
}

// --- statements that remove things ---

type DropTable struct {
	Meta
	Table    QName
	IfExists bool
	Cascade  bool
}

type DropIndex struct {
	Meta
	Name         QName
	Table        *QName // MySQL DROP INDEX ... ON t; resolved from the catalog for PostgreSQL
	Concurrently bool
	IfExists     bool
	Cascade      bool
}

type DropSchema struct {
	Meta
	Name     string
	IfExists bool
	Cascade  bool
}

type DropView struct {
	Meta
	Name         QName
	Materialized bool
	Cascade      bool
}

// DropOther is a DROP of an object kind the rules do not single out
// (function, type, sequence, trigger, …). Cascade is kept for cascade-drop.
type DropOther struct {
	Meta
	Kind    string // "FUNCTION", "TYPE", …
	Names   []string
	Cascade bool
	// Table is the table of an object dropped ON a table (PostgreSQL DROP
	// TRIGGER, DROP POLICY, DROP RULE … ON t), which the drop locks.
	Table *QName
}

type Truncate struct {
	Meta
	Tables  []QName
	Cascade bool
}

// --- ALTER TABLE actions ---

type AddColumn struct {
	Meta
	Table       QName
	Column      Column
	IfNotExists bool
}

type DropColumn struct {
	Meta
	Table    QName
	Column   string
	IfExists bool
	Cascade  bool
}

type RenameColumn struct {
	Meta
	Table    QName
	Old, New string
}

type RenameTable struct {
	Meta
	Table QName
	New   QName
}

// RenameIndex, RenameConstraint and the like are harmless for rolling deploys.
type RenameOther struct {
	Meta
	Kind     string
	Old, New string
	Table    *QName
}

type AlterColumnType struct {
	Meta
	Table   QName
	Column  string
	NewType Type
	Using   bool
	Collate string // PostgreSQL: the COLLATE clause, if any
	// MySQL MODIFY/CHANGE restate the whole column definition.
	NewColumn *Column
	// SameType is set by the MySQL dialect's Analyze when MODIFY/CHANGE
	// restates the column's current type (it changes only nullability,
	// default, position or name), or changes it in place (VARCHAR growth
	// within its length-byte class, ENUM/SET members appended).
	SameType bool
}

type SetNotNull struct {
	Meta
	Table  QName
	Column string
}

type DropNotNull struct {
	Meta
	Table  QName
	Column string
}

type SetDefault struct {
	Meta
	Table   QName
	Column  string
	Default *Expr // nil means DROP DEFAULT
}

type AddConstraint struct {
	Meta
	Table      QName
	Constraint Constraint
}

type ValidateConstraint struct {
	Meta
	Table QName
	Name  string
}

type DropConstraint struct {
	Meta
	Table    QName
	Name     string
	Kind     ConstraintKind // when the syntax says (MySQL DROP PRIMARY KEY / DROP FOREIGN KEY)
	IfExists bool
	Cascade  bool
}

type AttachPartition struct {
	Meta
	Table     QName
	Partition QName
}

type DetachPartition struct {
	Meta
	Table        QName
	Partition    QName
	Concurrently bool
	Finalize     bool
}

// TableRewrite is an action that rebuilds the table without changing its
// logical shape: SET TABLESPACE, SET LOGGED, MySQL FORCE / ENGINE= / OPTIMIZE.
type TableRewrite struct {
	Meta
	Table  QName
	Action string // "SET TABLESPACE", "FORCE", "OPTIMIZE TABLE", …
}

// ConvertCharset is MySQL CONVERT TO CHARACTER SET / column charset changes.
type ConvertCharset struct {
	Meta
	Table   QName
	Column  string // empty for the whole table
	Charset string
	// Collation is the COLLATE of CONVERT TO, lower case, "" for the
	// character set's default.
	Collation string
	// Unchanged is set by the dialect when the table already has that
	// character set and collation: nothing is converted.
	Unchanged bool
}

// AlterOptions records MySQL ALTER TABLE options that steer the server:
// ALGORITHM= and LOCK=. The MySQL dialect emits one for every ALTER TABLE,
// CREATE INDEX and DROP INDEX, last in the statement's changes, even
// without options: its Effect is the statement's as a whole (the most
// expensive algorithm of its clauses), which is what the server runs.
type AlterOptions struct {
	Meta
	Table     QName
	Algorithm string // upper case, "" when not given
	Lock      string
	// Refused says why the server refuses the explicit options on the
	// target version (ALGORITHM=INSTANT for an operation that is not
	// instant, INSTANT with LOCK=, …); filled by the dialect's Analyze.
	Refused string
}

// AlterTableOther is an ALTER TABLE action that is understood and harmless for
// the rules (owner, statistics, comments, RLS, triggers enable/disable, …).
type AlterTableOther struct {
	Meta
	Table  QName
	Action string
	// Charset is the new default character set of MySQL's DEFAULT
	// CHARACTER SET / COLLATE (lower case), "" for other actions.
	Charset string
	// Collation is the new default collation of DEFAULT COLLATE, "" for
	// the character set's default.
	Collation string
}

// --- maintenance and locking ---

type Reindex struct {
	Meta
	Target       string // "TABLE users", "INDEX users_email_idx"
	Table        *QName
	Concurrently bool
}

type RefreshMatView struct {
	Meta
	Name         QName
	Concurrently bool
}

type Vacuum struct {
	Meta
	Tables []QName
	Full   bool
}

type Cluster struct {
	Meta
	Table *QName
}

type LockTable struct {
	Meta
	Tables []QName
	Mode   string // "ACCESS EXCLUSIVE", …
}

// AlterSequence is ALTER SEQUENCE (PostgreSQL): it locks the sequence
// against nextval() while it runs.
type AlterSequence struct {
	Meta
	Name    QName
	Restart bool
}

// AlterDomain is PostgreSQL's ALTER DOMAIN. Checks is set when the server
// checks every stored value of the domain, in each table with a column of
// it: ADD CONSTRAINT without NOT VALID, SET NOT NULL, VALIDATE CONSTRAINT.
type AlterDomain struct {
	Meta
	Domain QName
	Action string // "ADD CONSTRAINT", "SET NOT NULL", "VALIDATE CONSTRAINT", "DROP CONSTRAINT", …
	Checks bool
}

// --- enums ---

type AddEnumValue struct {
	Meta
	Type  QName
	Value string
}

type RenameEnumValue struct {
	Meta
	Type     QName
	Old, New string
}

// --- session and transactions ---

// SetParam is SET [LOCAL|SESSION] name = value (PostgreSQL) or
// SET [SESSION] name = value (MySQL).
type SetParam struct {
	Meta
	Name  string // lower case
	Value string // as written, unquoted
	Local bool
	Reset bool
}

// TxKind classifies transaction-control statements.
type TxKind int

const (
	TxBegin TxKind = iota + 1
	TxCommit
	TxRollback
	TxSavepoint
	TxOther
)

type Transaction struct {
	Meta
	Kind TxKind
}

// --- data ---

// DML is a data-changing statement: a backfill, a purge, seed data.
type DML struct {
	Meta
	Verb     string // "UPDATE", "DELETE", "INSERT", "MERGE", "COPY"
	Table    QName
	HasWhere bool
	// Columns are the columns written: UPDATE's SET targets, INSERT's
	// column list. Empty when the statement does not say.
	Columns []string
	// Values[i] says what UPDATE sets Columns[i] from; From are the other
	// tables read (INSERT INTO t SELECT … FROM old, UPDATE … FROM, a
	// subquery). A backfill is a DML whose Columns are filled from other
	// columns or tables.
	Values []Value
	From   []QName
	// Reads are all the columns of Table the written values are computed
	// from, when a dialect does not give Values.
	Reads []string
}

// Value is what an UPDATE assigns to a column.
type Value struct {
	Reads []string // the columns of the table the value is computed from
	Copy  bool     // the value is one column as is, or cast (SET new = old::bigint)
}

// Other is a statement that is understood and has no effect on the schema
// model that any rule reads (SELECT, GRANT, COMMENT, CREATE EXTENSION, …).
type Other struct {
	Meta
	Kind string
	// Object is what it names, when a rule or the physics reads it: the
	// database of a PostgreSQL DROP DATABASE, the table of COMMENT ON
	// TABLE or COLUMN, the first table a SELECT reads
	Object QName
	// Writes is set when the statement that EXPLAIN or PREPARE plans
	// writes Object.
	Writes bool
}

// Unknown is a statement or clause the dialect does not translate. It is kept
// so that gaps in the model are visible, never silently dropped.
type Unknown struct {
	Meta
	Kind   string
	Reason string
}

// TypeIs reports whether t's base name is one of names.
func TypeIs(t Type, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(t.Name, n) {
			return true
		}
	}
	return false
}
