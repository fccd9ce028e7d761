package rules

import (
	"github.com/migsafe/migsafe/analyzer"
)

// CopyAlgorithm flags an explicit ALGORITHM=COPY, LOCK=SHARED or
// LOCK=EXCLUSIVE on MySQL and MariaDB.
var CopyAlgorithm = &analyzer.Rule{
	Code:     "MY101",
	Name:     "copy-algorithm",
	Summary:  "ALGORITHM=COPY, LOCK=SHARED or LOCK=EXCLUSIVE makes the ALTER block writes on purpose",
	Dialects: myOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `ALGORITHM=COPY rebuilds the table row by row into a new copy while writes wait
for the whole copy (minutes to hours on a large table). LOCK=SHARED blocks writes
for the whole operation even when the server could let them through, and
LOCK=EXCLUSIVE blocks reads too. These options are usually left over from an old
server version or copied from a tutorial; the server would have chosen a cheaper
path by itself.`,
		Recipe: `Remove the option and ask for the cheap path instead, so that the server fails
fast rather than silently copying:

~~~sql
ALTER TABLE users ADD COLUMN nickname VARCHAR(30), ALGORITHM=INSTANT;
ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=INPLACE, LOCK=NONE;
~~~

(never ALGORITHM=INSTANT together with LOCK=: MySQL refuses it). When only a
copy can do the change, use an online schema change tool (gh-ost,
pt-online-schema-change) on large tables.`,
		Help: "remove ALGORITHM=COPY/LOCK=SHARED/LOCK=EXCLUSIVE; request ALGORITHM=INSTANT, or ALGORITHM=INPLACE, LOCK=NONE",
		Examples: []analyzer.Example{{
			Dialect: analyzer.MySQL,
			Bad:     "ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=COPY;",
			Good:    "ALTER TABLE users ADD INDEX idx_email (email), ALGORITHM=INPLACE, LOCK=NONE;",
		}},
	},
	Check: func(p *analyzer.Pass) {
		o := stmtOptions(p.Stmt)
		if o == nil || p.IsNew(o.Table) {
			return
		}
		what := ""
		switch {
		case o.Algorithm == "COPY":
			what = "ALGORITHM=COPY copies the whole table while writes wait"
		case o.Lock == "EXCLUSIVE":
			what = "LOCK=EXCLUSIVE blocks reads and writes for the whole operation"
		case o.Lock == "SHARED":
			what = "LOCK=SHARED blocks writes for the whole operation"
		default:
			return
		}
		msg := "Explicit " + what + " on " + o.Table.String()
		if r := o.Effect.Request; r != "" {
			msg += "; the server could run this statement with " + r
		}
		at(p, o, sentence(msg, o), o.Table.String())
	},
}
