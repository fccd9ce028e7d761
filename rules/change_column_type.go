package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ChangeColumnType flags a column type change that rewrites the table or
// changes what running code may write.
var ChangeColumnType = &analyzer.Rule{
	Code:     "MS303",
	Name:     "change-column-type",
	Summary:  "Changing a column's type rewrites the table under an exclusive lock",
	Dialects: both,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Most type changes rewrite every row and rebuild every index of the table while
an ACCESS EXCLUSIVE lock blocks all reads and writes — minutes to hours on a large
table. Narrowing changes (shorter varchar, smaller integer) can also reject values
that running code still writes.`,
		Recipe: `Change the type with expand-contract (\'migsafe scaffold change-column-type TABLE COLUMN TYPE\'):
add a new column of the new type, keep both in step (trigger or application),
backfill in batches, switch reads, stop writing the old column, drop it in a later
deploy. Changes that need no rewrite are not flagged when migsafe knows the
column's current type: varchar(n) → varchar(m ≥ n) or text, text → varchar,
numeric(p,s) → numeric(p' ≥ p, s), cidr → inet.

MySQL and MariaDB (MODIFY, CHANGE): a type change copies the table
(ALGORITHM=COPY), blocking writes for the whole copy. Not flagged: a MODIFY
that restates the current type (to change only NULL, the default or the
position; other rules cover those), a VARCHAR that grows within its
length-byte class (up to 255 bytes: 63 characters in utf8mb4, 85 in utf8mb3,
255 in latin1; beyond 255 bytes on both sides; on MariaDB 10.4 and later also
from at most 127 bytes to any length, since such values keep a one-byte length
prefix), ENUM and SET members appended
at the end without changing the storage size. The column's character set is
taken as utf8mb4 when the migrations do not say.`,
		Help: "add a column of the new type, keep both in step, backfill, switch reads and drop the old column later (migsafe scaffold change-column-type)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "ALTER TABLE events ALTER COLUMN id TYPE bigint;",
			Good:    "CREATE TABLE notes (body varchar(50));\n-- in a later migration:\nALTER TABLE notes ALTER COLUMN body TYPE text;",
		}, {
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE events MODIFY id BIGINT NOT NULL;",
			Good:    "CREATE TABLE notes (body VARCHAR(50));\n-- in a later migration:\nALTER TABLE notes MODIFY body VARCHAR(60);",
		}},
		Notes: "migsafe only knows a column's current type when the migrations it reads created it; otherwise it assumes a rewrite. A column added earlier in the same deploy is exempt only when its table is new too: on an existing table the type change rewrites (PostgreSQL) or copies (MySQL) the whole table, whoever reads the column.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.AlterColumnType) {
			if p.IsNew(x.Table) {
				return
			}
			e := x.Base().Effect
			if isMySQL(p) && x.SameType {
				return // MODIFY restating the type, VARCHAR growth in its class, ENUM/SET append
			}
			if !isMySQL(p) && e.Known() && e.Work == change.WorkNone {
				return
			}
			if newColumn(p, x.Table, x.Column) {
				// nobody reads the column yet, but the table is old: the
				// server rewrites (or copies) it all the same
				atHelp(p, x, sentence("Changing the type of "+x.Table.String()+"."+x.Column+", a column added earlier in this deploy to an existing table", x),
					"or, as this column is new, give it its final type in the ADD COLUMN instead", x.Table.String()+"."+x.Column)
				return
			}
			atHelp(p, x, sentence("Changing the type of "+x.Table.String()+"."+x.Column+" to "+x.NewType.String()+" breaks the running application's expectations of the column", x),
				"'migsafe scaffold change-column-type "+x.Table.String()+" "+x.Column+" "+x.NewType.String()+"' writes the migrations",
				x.Table.String()+"."+x.Column)
		})
	},
}
