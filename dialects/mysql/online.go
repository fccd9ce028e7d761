package mysql

// The InnoDB Online DDL tables, as one table: for each operation, what the
// server can do on each version (MySQL: "Online DDL Operations" of the 5.7,
// 8.0 and 8.4 reference manuals; MariaDB: "InnoDB Online DDL Operations with
// ALGORITHM=INSTANT / NOCOPY / INPLACE"). A row holds from its version on,
// until a later row of the same operation and flavor replaces it.
//
// The MariaDB rows for 10.11 are checked against a real MariaDB 10.11 by
// server_test.go: for every operation in the MySQL fixtures it asks the
// server for ALGORITHM=INSTANT, then ALGORITHM=INPLACE, LOCK=NONE, and
// compares the answers with this table. Where they disagreed, the server
// won; the rows it corrected say so.

type op int

const (
	opAddColumn             op = iota + 1 // ADD COLUMN, last position
	opAddColumnPositioned                 // ADD COLUMN … FIRST / AFTER
	opAddColumnAutoInc                    // ADD COLUMN … AUTO_INCREMENT
	opAddColumnStored                     // ADD COLUMN … AS (…) STORED
	opAddColumnVirtual                    // ADD COLUMN … AS (…) VIRTUAL
	opAddColumnExprDefault                // ADD COLUMN … DEFAULT (expr), deterministic
	opAddColumnVolatileDflt               // ADD COLUMN … DEFAULT (uuid()), (rand()): a value per row
	opDropColumn                          // DROP COLUMN
	opDropColumnVirtual                   // DROP COLUMN of a VIRTUAL generated column
	opRenameColumn                        // RENAME COLUMN, CHANGE old new with the same type
	opReorderColumn                       // MODIFY/CHANGE … FIRST / AFTER with the same type
	opChangeType                          // MODIFY/CHANGE to another type
	opCharsetUtf8mb4                      // MODIFY/CHANGE from utf8mb3 to utf8mb4, the type otherwise kept
	opExtendVarchar                       // VARCHAR(n) → VARCHAR(m > n), same length-byte class
	opEnumAppend                          // ENUM/SET members appended, same storage size
	opSetDefault                          // ALTER COLUMN SET/DROP DEFAULT, MODIFY with a new default only
	opMakeNull                            // NOT NULL → NULL
	opMakeNotNull                         // NULL → NOT NULL
	opAddIndex                            // ADD INDEX / UNIQUE / CREATE INDEX
	opDropIndex                           // DROP INDEX
	opRenameIndex                         // RENAME INDEX
	opAddFulltext                         // ADD FULLTEXT INDEX
	opAddSpatial                          // ADD SPATIAL INDEX
	opAddPrimaryKey                       // ADD PRIMARY KEY
	opDropPrimaryKey                      // DROP PRIMARY KEY (alone)
	opReplacePrimaryKey                   // DROP PRIMARY KEY, ADD PRIMARY KEY in one statement
	opAddForeignKey                       // ADD FOREIGN KEY with foreign_key_checks on
	opAddForeignKeyNoCheck                // ADD FOREIGN KEY with foreign_key_checks=0
	opDropForeignKey                      // DROP FOREIGN KEY
	opAddCheck                            // ADD CHECK
	opDropCheck                           // DROP CHECK / DROP CONSTRAINT
	opConvertCharset                      // CONVERT TO CHARACTER SET
	opTableCharset                        // DEFAULT CHARACTER SET / COLLATE
	opRebuild                             // FORCE, ENGINE=, OPTIMIZE TABLE, ORDER BY
	opRowFormat                           // ROW_FORMAT=, KEY_BLOCK_SIZE=
	opRenameTable                         // RENAME TO
	opAutoIncrement                       // AUTO_INCREMENT=
	opTableMetadata                       // COMMENT=, index visibility, other options
	opCollation                           // MODIFY/CONVERT changing only the collation, no index on the column
	opCollationIndexed                    // the same, with a secondary index on the column
)

var opNames = map[op]string{
	opAddColumn: "ADD COLUMN", opAddColumnPositioned: "ADD COLUMN … FIRST/AFTER",
	opAddColumnAutoInc: "ADD COLUMN … AUTO_INCREMENT", opAddColumnStored: "ADD COLUMN … STORED",
	opAddColumnVirtual: "ADD COLUMN … VIRTUAL", opAddColumnExprDefault: "ADD COLUMN with an expression default",
	opAddColumnVolatileDflt: "ADD COLUMN with a nondeterministic expression default", opDropColumn: "DROP COLUMN",
	opDropColumnVirtual: "DROP COLUMN of a VIRTUAL column",
	opRenameColumn:      "RENAME COLUMN", opReorderColumn: "reordering a column (FIRST/AFTER)",
	opChangeType: "changing a column's type", opCharsetUtf8mb4: "changing a column from utf8mb3 to utf8mb4",
	opExtendVarchar: "extending a VARCHAR",
	opEnumAppend:    "appending ENUM/SET members", opSetDefault: "changing a column default",
	opMakeNull: "making a column NULL", opMakeNotNull: "making a column NOT NULL", opAddIndex: "ADD INDEX",
	opDropIndex: "DROP INDEX", opRenameIndex: "RENAME INDEX", opAddFulltext: "ADD FULLTEXT INDEX",
	opAddSpatial: "ADD SPATIAL INDEX", opAddPrimaryKey: "ADD PRIMARY KEY", opDropPrimaryKey: "DROP PRIMARY KEY",
	opReplacePrimaryKey: "DROP PRIMARY KEY, ADD PRIMARY KEY", opAddForeignKey: "ADD FOREIGN KEY",
	opAddForeignKeyNoCheck: "ADD FOREIGN KEY with foreign_key_checks=0", opDropForeignKey: "DROP FOREIGN KEY",
	opAddCheck: "ADD CHECK", opDropCheck: "DROP CHECK", opConvertCharset: "CONVERT TO CHARACTER SET",
	opTableCharset: "changing the table's default character set", opRebuild: "rebuilding the table",
	opRowFormat: "changing ROW_FORMAT", opRenameTable: "RENAME TO", opAutoIncrement: "AUTO_INCREMENT=",
	opTableMetadata: "changing table metadata",
	opCollation:     "changing a column's collation", opCollationIndexed: "changing an indexed column's collation",
}

// Algorithms, from the cheapest.
const (
	instant = "INSTANT"
	inplace = "INPLACE"
	copyAlg = "COPY"
)

// capability is what the server can do for an operation.
type capability struct {
	alg     string // the cheapest algorithm the server allows
	rebuild bool   // INPLACE: the table is rebuilt (COPY always is)
	dml     bool   // concurrent DML permitted (LOCK=NONE allowed)
}

// level orders capabilities: INSTANT < INPLACE < INPLACE with rebuild < COPY.
func (c capability) level() int {
	switch {
	case c.alg == instant:
		return 0
	case c.alg == inplace && !c.rebuild:
		return 1
	case c.alg == inplace:
		return 2
	}
	return 3
}

type ver [3]int

type row struct {
	op      op
	flavor  string
	since   ver
	alg     string
	rebuild bool
	dml     bool
	note    string
}

const (
	my = FlavorMySQL
	ma = FlavorMariaDB
)

// onlineDDL is the table. Columns: operation, flavor, since, cheapest
// algorithm, rebuilds the table, concurrent DML permitted, note.
var onlineDDL = []row{
	// operation               flavor since        algorithm rebuild DML    note
	{opAddColumn, my, ver{5, 6, 0}, inplace, true, true, ""},
	{opAddColumn, my, ver{8, 0, 12}, instant, false, true, "INSTANT since MySQL 8.0.12"},
	{opAddColumn, ma, ver{10, 0, 0}, inplace, true, true, ""},
	{opAddColumn, ma, ver{10, 3, 0}, instant, false, true, "INSTANT since MariaDB 10.3"},

	{opAddColumnPositioned, my, ver{5, 6, 0}, inplace, true, true, "INSTANT only from MySQL 8.0.29"},
	{opAddColumnPositioned, my, ver{8, 0, 29}, instant, false, true, "INSTANT at any position since MySQL 8.0.29"},
	{opAddColumnPositioned, ma, ver{10, 0, 0}, inplace, true, true, "INSTANT only from MariaDB 10.4"},
	{opAddColumnPositioned, ma, ver{10, 4, 0}, instant, false, true, "INSTANT at any position since MariaDB 10.4"},

	{opAddColumnAutoInc, my, ver{5, 6, 0}, inplace, true, false, "every existing row gets its value while writes wait"},
	{opAddColumnAutoInc, ma, ver{10, 0, 0}, inplace, true, false, "every existing row gets its value while writes wait"},

	{opAddColumnStored, my, ver{5, 7, 0}, copyAlg, true, false, "a STORED generated column is computed for every row"},
	{opAddColumnStored, ma, ver{10, 2, 0}, copyAlg, true, false, "a STORED generated column is computed for every row"},

	{opAddColumnVirtual, my, ver{5, 7, 0}, inplace, false, true, ""},
	{opAddColumnVirtual, my, ver{8, 0, 12}, instant, false, true, ""},
	{opAddColumnVirtual, ma, ver{10, 2, 0}, inplace, false, true, ""},
	{opAddColumnVirtual, ma, ver{10, 3, 0}, instant, false, true, ""},

	{opAddColumnExprDefault, my, ver{8, 0, 13}, inplace, true, true, "an expression default is computed for every existing row"},
	{opAddColumnExprDefault, ma, ver{10, 2, 0}, inplace, true, true, "an expression default is computed for every existing row"},
	// server: MariaDB 10.11 adds a column with DEFAULT (UPPER('x')) or
	// DEFAULT (CURRENT_DATE) instantly (evaluated once for the statement)
	{opAddColumnExprDefault, ma, ver{10, 3, 0}, instant, false, true, ""},

	{opAddColumnVolatileDflt, my, ver{8, 0, 13}, copyAlg, true, false, "a nondeterministic default is computed for every existing row"},
	{opAddColumnVolatileDflt, ma, ver{10, 2, 0}, copyAlg, true, false, "a nondeterministic default is computed for every existing row"},

	{opDropColumn, my, ver{5, 6, 0}, inplace, true, true, "INSTANT only from MySQL 8.0.29"},
	{opDropColumn, my, ver{8, 0, 29}, instant, false, true, "INSTANT since MySQL 8.0.29"},
	{opDropColumn, ma, ver{10, 0, 0}, inplace, true, true, "INSTANT only from MariaDB 10.4"},
	{opDropColumn, ma, ver{10, 4, 0}, instant, false, true, "INSTANT since MariaDB 10.4"},

	// a VIRTUAL column has no data in the rows
	{opDropColumnVirtual, my, ver{5, 7, 0}, inplace, false, true, ""},
	{opDropColumnVirtual, my, ver{8, 0, 12}, instant, false, true, ""},
	{opDropColumnVirtual, ma, ver{10, 2, 0}, inplace, false, true, ""},
	{opDropColumnVirtual, ma, ver{10, 4, 0}, instant, false, true, ""},

	{opRenameColumn, my, ver{5, 6, 0}, inplace, false, true, "INSTANT only from MySQL 8.0.28"},
	{opRenameColumn, my, ver{8, 0, 28}, instant, false, true, "INSTANT since MySQL 8.0.28"},
	{opRenameColumn, ma, ver{10, 0, 0}, inplace, false, true, ""},
	{opRenameColumn, ma, ver{10, 3, 0}, instant, false, true, ""},

	{opReorderColumn, my, ver{5, 6, 0}, inplace, true, true, "INSTANT only from MySQL 8.0.29"},
	{opReorderColumn, my, ver{8, 0, 29}, instant, false, true, "INSTANT since MySQL 8.0.29"},
	{opReorderColumn, ma, ver{10, 0, 0}, inplace, true, true, "INSTANT only from MariaDB 10.4"},
	{opReorderColumn, ma, ver{10, 4, 0}, instant, false, true, "INSTANT since MariaDB 10.4"},

	{opChangeType, my, ver{5, 6, 0}, copyAlg, true, false, "every row is converted"},
	{opChangeType, ma, ver{10, 0, 0}, copyAlg, true, false, "every row is converted"},

	{opCharsetUtf8mb4, my, ver{5, 6, 0}, copyAlg, true, false, "every row is converted"},
	{opCharsetUtf8mb4, ma, ver{10, 0, 0}, copyAlg, true, false, "every row is converted"},
	// server: MariaDB 10.11 widens utf8mb3 to utf8mb4 instantly (MDEV-15564)
	{opCharsetUtf8mb4, ma, ver{10, 4, 0}, instant, false, true, "utf8mb4 is a superset of utf8mb3: the rows stay as they are"},

	{opExtendVarchar, my, ver{5, 6, 0}, copyAlg, true, false, ""},
	{opExtendVarchar, my, ver{5, 7, 0}, inplace, false, true, "a VARCHAR grows in place within its length-byte class"},
	{opExtendVarchar, ma, ver{10, 0, 0}, inplace, false, true, "a VARCHAR grows in place within its length-byte class"},
	{opExtendVarchar, ma, ver{10, 4, 0}, instant, false, true, "a VARCHAR grows instantly within its length-byte class"},

	{opEnumAppend, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opEnumAppend, my, ver{8, 0, 12}, instant, false, true, ""},
	{opEnumAppend, ma, ver{10, 0, 0}, inplace, false, true, ""},
	{opEnumAppend, ma, ver{10, 3, 0}, instant, false, true, ""},

	{opSetDefault, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opSetDefault, my, ver{8, 0, 12}, instant, false, true, ""},
	{opSetDefault, ma, ver{10, 0, 0}, inplace, false, true, ""},
	{opSetDefault, ma, ver{10, 3, 0}, instant, false, true, ""},

	{opMakeNull, my, ver{5, 6, 0}, inplace, true, true, ""},
	// server: MariaDB 10.11 refuses ALGORITHM=INSTANT for NOT NULL → NULL
	{opMakeNull, ma, ver{10, 0, 0}, inplace, true, true, ""},

	{opMakeNotNull, my, ver{5, 6, 0}, inplace, true, true, "fails if a row holds NULL (strict mode)"},
	{opMakeNotNull, ma, ver{10, 0, 0}, inplace, true, true, "fails if a row holds NULL (strict mode)"},

	{opAddIndex, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opAddIndex, ma, ver{10, 0, 0}, inplace, false, true, ""},

	{opDropIndex, my, ver{5, 6, 0}, inplace, false, true, ""},
	// server: MariaDB 10.11 refuses ALGORITHM=INSTANT for DROP INDEX
	{opDropIndex, ma, ver{10, 0, 0}, inplace, false, true, ""},

	{opRenameIndex, my, ver{5, 7, 0}, inplace, false, true, ""},
	{opRenameIndex, ma, ver{10, 5, 2}, instant, false, true, ""},

	{opAddFulltext, my, ver{5, 6, 0}, inplace, true, false, "the table's first FULLTEXT index rebuilds it; writes wait for the whole build"},
	{opAddFulltext, ma, ver{10, 0, 0}, inplace, true, false, "the table's first FULLTEXT index rebuilds it; writes wait for the whole build"},

	{opAddSpatial, my, ver{5, 7, 0}, inplace, false, false, "writes wait for the whole index build"},
	{opAddSpatial, ma, ver{10, 2, 0}, inplace, false, false, "writes wait for the whole index build"},

	{opAddPrimaryKey, my, ver{5, 6, 0}, inplace, true, true, ""},
	{opAddPrimaryKey, ma, ver{10, 0, 0}, inplace, true, true, ""},

	{opDropPrimaryKey, my, ver{5, 6, 0}, copyAlg, true, false, "only a table copy can drop the primary key without adding another"},
	{opDropPrimaryKey, ma, ver{10, 0, 0}, copyAlg, true, false, "only a table copy can drop the primary key without adding another"},

	{opReplacePrimaryKey, my, ver{5, 6, 0}, inplace, true, true, ""},
	{opReplacePrimaryKey, ma, ver{10, 0, 0}, inplace, true, true, ""},

	{opAddForeignKey, my, ver{5, 6, 0}, copyAlg, true, false, "with foreign_key_checks on, every row is checked during a table copy"},
	{opAddForeignKey, ma, ver{10, 0, 0}, copyAlg, true, false, "with foreign_key_checks on, every row is checked during a table copy"},

	{opAddForeignKeyNoCheck, my, ver{5, 6, 0}, inplace, false, true, "foreign_key_checks=0: existing rows are not checked"},
	{opAddForeignKeyNoCheck, ma, ver{10, 0, 0}, inplace, false, true, "foreign_key_checks=0: existing rows are not checked"},
	// server: MariaDB 10.11 adds the key instantly with foreign_key_checks=0
	{opAddForeignKeyNoCheck, ma, ver{10, 3, 0}, instant, false, true, "foreign_key_checks=0: existing rows are not checked"},

	{opDropForeignKey, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opDropForeignKey, ma, ver{10, 0, 0}, inplace, false, true, ""},
	{opDropForeignKey, ma, ver{10, 3, 0}, instant, false, true, ""},

	{opAddCheck, my, ver{8, 0, 16}, copyAlg, true, false, "every row is checked during a table copy"},
	{opAddCheck, ma, ver{10, 2, 0}, copyAlg, true, false, "every row is checked during a table copy"},

	{opDropCheck, my, ver{8, 0, 16}, inplace, false, true, ""},
	{opDropCheck, ma, ver{10, 2, 0}, instant, false, true, ""},

	{opConvertCharset, my, ver{5, 6, 0}, copyAlg, true, false, "every text column is re-encoded"},
	{opConvertCharset, ma, ver{10, 0, 0}, copyAlg, true, false, "every text column is re-encoded"},

	{opTableCharset, my, ver{5, 6, 0}, inplace, true, true, ""},
	{opTableCharset, ma, ver{10, 0, 0}, instant, false, true, "only the default for new columns changes"},

	{opRebuild, my, ver{5, 6, 17}, inplace, true, true, ""},
	{opRebuild, ma, ver{10, 0, 0}, inplace, true, true, ""},

	{opRowFormat, my, ver{5, 6, 0}, inplace, true, true, ""},
	{opRowFormat, ma, ver{10, 0, 0}, inplace, true, true, ""},

	{opRenameTable, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opRenameTable, my, ver{8, 0, 12}, instant, false, true, ""},
	// server: MariaDB 10.11 renames instantly but refuses LOCK=NONE for it
	{opRenameTable, ma, ver{10, 0, 0}, instant, false, false, "MariaDB refuses LOCK=NONE for a rename, which is instant anyway"},

	{opAutoIncrement, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opAutoIncrement, ma, ver{10, 0, 0}, inplace, false, true, ""},
	// server: MariaDB 10.11 changes AUTO_INCREMENT= instantly
	{opAutoIncrement, ma, ver{10, 3, 0}, instant, false, true, ""},

	// MySQL's manual lists no in-place collation change (not checked on a
	// server); MariaDB 10.4+ changes it in the metadata (MDEV-15564) and
	// rebuilds the secondary indexes on the column (checked on 10.11)
	{opCollation, my, ver{5, 6, 0}, copyAlg, true, false, "every row is converted"},
	{opCollation, ma, ver{10, 0, 0}, copyAlg, true, false, "every row is converted"},
	{opCollation, ma, ver{10, 4, 0}, instant, false, true, "only the collation changes: the rows stay as they are"},
	{opCollationIndexed, my, ver{5, 6, 0}, copyAlg, true, false, "every row is converted"},
	{opCollationIndexed, ma, ver{10, 0, 0}, copyAlg, true, false, "every row is converted"},
	{opCollationIndexed, ma, ver{10, 4, 0}, inplace, false, true, "the indexes on the column are rebuilt"},

	{opTableMetadata, my, ver{5, 6, 0}, inplace, false, true, ""},
	{opTableMetadata, ma, ver{10, 0, 0}, instant, false, true, ""},
}

func (v ver) le(major, minor, patch int) bool {
	if v[0] != major {
		return v[0] < major
	}
	if v[1] != minor {
		return v[1] < minor
	}
	return v[2] <= patch
}

// lookup returns the row of an operation on the target, and the last row
// before it that is not INSTANT (what an explicit ALGORITHM=INPLACE or a
// LOCK= clause makes MySQL use instead).
func (d *Dialect) lookup(o op) (r row, fallback row, ok bool) {
	t := d.target
	for _, x := range onlineDDL {
		if x.op != o || x.flavor != t.Flavor || !x.since.le(t.Major, t.Minor, t.Patch) {
			continue
		}
		r, ok = x, true
		if x.alg != instant {
			fallback = x
		}
	}
	if ok && fallback.op == 0 {
		fallback = r
		fallback.alg = inplace
	}
	return r, fallback, ok
}
