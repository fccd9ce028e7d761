package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// TableRebuild flags OPTIMIZE TABLE, ALTER TABLE … FORCE, ENGINE= and
// ROW_FORMAT= on existing tables.
var TableRebuild = &analyzer.Rule{
	Code:     "MY107",
	Name:     "table-rebuild",
	Summary:  "OPTIMIZE TABLE, FORCE, ENGINE= and ROW_FORMAT= rebuild the whole table",
	Dialects: myOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `These statements change nothing the application sees but rewrite every row and
index: hours of I/O on a large table, replicas that lag behind while they apply the
same rebuild serially, and a metadata lock at the start and the end that queues
every query behind any long transaction. InnoDB does most of it in place with
concurrent writes, but it is maintenance, not a migration.`,
		Recipe: `Run rebuilds as planned maintenance outside the deploy, off-peak, with an online
schema change tool on large tables (gh-ost, pt-online-schema-change), and request
ALGORITHM=INPLACE, LOCK=NONE so that the server never falls back to a copy.`,
		Help: "rebuild tables as planned maintenance, off-peak, with ALGORITHM=INPLACE, LOCK=NONE or an online schema change tool",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "OPTIMIZE TABLE events;",
			Good:    "ANALYZE TABLE events;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.TableRewrite) {
			if p.IsNew(x.Table) {
				return
			}
			at(p, x, sentence(x.Action+" rebuilds the whole table "+x.Table.String(), x), x.Table.String())
		})
	},
}
