package rules

import (
	"cmp"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// CharsetConversion flags CONVERT TO CHARACTER SET and column character set
// changes on existing tables.
var CharsetConversion = &analyzer.Rule{
	Code:     "MY103",
	Name:     "charset-conversion",
	Summary:  "Converting a table's or column's character set copies the table while writes wait",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `CONVERT TO CHARACTER SET re-encodes every text column of every row: the server
copies the table (ALGORITHM=COPY) and blocks writes for the whole copy. Indexes on
the converted columns are rebuilt, and a utf8mb4 index can exceed the key length
limit and fail half-way on a large production table that passed in development.`,
		Recipe: `On a large table convert with an online schema change tool (gh-ost,
pt-online-schema-change), or column by column through expand-contract: add a
column in the new character set, keep both in step, backfill in batches, switch
reads, drop the old column in a later deploy. Changing only the table's default
(ALTER TABLE t DEFAULT CHARACTER SET utf8mb4) touches no row and is not flagged.`,
		Help: "convert with an online schema change tool, or column by column through expand-contract",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE comments CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
			Good:    "ALTER TABLE comments DEFAULT CHARACTER SET utf8mb4;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.ConvertCharset) {
			if p.IsNew(x.Table) || x.Unchanged {
				return
			}
			at(p, x, sentence("Converting "+x.Table.String()+" to "+x.Charset+" re-encodes every text column of every row", x), x.Table.String())
		})
		each(p, func(x *change.AlterColumnType) {
			if p.IsNew(x.Table) || newColumn(p, x.Table, x.Column) || x.NewType.Charset == "" {
				return
			}
			t := p.Catalog.Table(x.Table)
			if t == nil {
				return
			}
			col := t.Column(x.Column)
			for _, ch := range p.Stmt.Changes {
				if r, ok := ch.(*change.RenameColumn); ok && col == nil && strings.EqualFold(r.New, x.Column) {
					col = t.Column(r.Old) // CHANGE old new
				}
			}
			if col == nil {
				return
			}
			from, assumed := cmp.Or(col.Type.Charset, t.Charset), "" // else the table's default
			if from == "" {
				from, assumed = serverCharset(p.Target), " (assumed: the server's default, as the history gives no character set)"
			}
			if strings.EqualFold(from, x.NewType.Charset) || x.Effect.Algorithm == "INSTANT" {
				return // (MariaDB widens utf8mb3 to utf8mb4 instantly)
			}
			at(p, x, sentence("Changing "+x.Table.String()+"."+x.Column+" from "+from+assumed+" to "+x.NewType.Charset+" re-encodes the column in every row", x),
				x.Table.String()+"."+x.Column)
		})
	},
}
