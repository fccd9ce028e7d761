package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// NonConcurrentRefresh flags REFRESH MATERIALIZED VIEW without CONCURRENTLY.
var NonConcurrentRefresh = &analyzer.Rule{
	Code:     "PG104",
	Name:     "non-concurrent-refresh",
	Summary:  "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `A plain refresh takes an ACCESS EXCLUSIVE lock on the materialized view and
recomputes it: every query of the view waits until the refresh finishes.`,
		Recipe: `Give the view a unique index (once), then refresh it CONCURRENTLY, which only
blocks other refreshes:

~~~sql
CREATE UNIQUE INDEX CONCURRENTLY sales_summary_key ON sales_summary (day);
REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;
~~~`,
		Help: "add a unique index to the view and use REFRESH MATERIALIZED VIEW CONCURRENTLY",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "REFRESH MATERIALIZED VIEW sales_summary;",
			Good:    "REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;",
		}},
		Notes: "A materialized view created earlier in the same deploy is not flagged, and neither is WITH NO DATA.",
	},
	Check: func(p *analyzer.Pass) {
		each(p, func(x *change.RefreshMatView) {
			if x.Concurrently || p.IsNew(x.Name) {
				return
			}
			at(p, x, "Refreshing materialized view "+x.Name.String()+" without CONCURRENTLY "+lockPhrase(x.Effect), x.Name.String())
		})
	},
}
