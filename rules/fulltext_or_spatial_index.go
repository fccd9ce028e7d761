package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// FulltextOrSpatialIndex flags FULLTEXT and SPATIAL indexes on existing
// tables: InnoDB builds them without letting writes through.
var FulltextOrSpatialIndex = &analyzer.Rule{
	Code:     "MY105",
	Name:     "fulltext-or-spatial-index",
	Summary:  "A FULLTEXT or SPATIAL index is built while writes to the table wait",
	Dialects: myOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `Ordinary secondary indexes are built in place with concurrent writes
(LOCK=NONE). FULLTEXT and SPATIAL indexes are not: InnoDB builds them under a
shared lock that blocks every write for the whole build, and the first FULLTEXT
index of a table also rebuilds the table to add its hidden FTS_DOC_ID column.`,
		Recipe: `Build the index off-peak with an online schema change tool (gh-ost,
pt-online-schema-change), or create it on a new table kept in step and swap the
tables. For FULLTEXT, adding an FTS_DOC_ID column (BIGINT UNSIGNED NOT NULL
AUTO_INCREMENT with a unique index FTS_DOC_ID_INDEX) when the table is created
avoids the rebuild later.`,
		Help: "build the index with an online schema change tool, or off-peak on a small table",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE articles ADD FULLTEXT INDEX ft_body (body);",
			Good:    "ALTER TABLE articles ADD INDEX idx_title (title), ALGORITHM=INPLACE, LOCK=NONE;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.CreateIndex) {
			if x.Kind == change.IndexPlain || p.IsNew(x.Table) || createdHere(p, x.Table) {
				return
			}
			kind := "FULLTEXT"
			if x.Kind == change.IndexSpatial {
				kind = "SPATIAL"
			}
			at(p, x, sentence("Building the "+kind+" index "+x.Name+" on "+x.Table.String()+" blocks writes for the whole build", x), x.Table.String())
		})
	},
}
